//! PostgreSQL `LISTEN/NOTIFY`: the relay between natter instances.
//!
//! A notification is sent inside the transaction that makes the change, so
//! PostgreSQL delivers it if and only if the change commits, in commit
//! order. Payloads carry ids, never HTML (they are limited to 8 KB):
//! - `m {instance} {first} {last} {room}`: the changes at cursors
//!   `first..=last` of `room` were stored (posts by `insert_message`,
//!   edits, deletes and reactions by `change_message`);
//! - `x {instance} {member_id}`: a membership ended (exit, a released
//!   name, a deleted session), so its streams must end everywhere;
//! - `p {instance} {room}`: who is here in `room` changed (the `presence`
//!   table says who);
//! - `t {instance} {room} {member_id} {name}`: a typing signal, never
//!   stored.

use std::time::Duration;

use sqlx::postgres::{PgListener, PgPool, PgPoolOptions};

use crate::chat::RoomName;
use crate::live::{Relay, RelayEvent};

/// The channel natter notifies on.
pub(crate) const CHANNEL: &str = "natter_messages";

/// The `application_name` of the listener's connection (so operators and
/// tests can find it in `pg_stat_activity`).
pub const LISTENER_APPLICATION_NAME: &str = "natter-listener";

/// A fresh instance id: an instance skips its own notifications, whose
/// messages it already delivered locally.
pub(crate) fn new_instance_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    format!("{:016x}", hasher.finish())
}

/// The notification payload for a commit of the changes at cursors
/// `first..=last`.
pub(crate) fn committed(instance: &str, room: &str, first: i64, last: i64) -> String {
    format!("m {instance} {first} {last} {room}")
}

/// The notification payload for an ended membership.
pub(crate) fn left(instance: &str, member_id: i64) -> String {
    format!("x {instance} {member_id}")
}

/// The notification payload for a change in who is here in `room`.
pub(crate) fn presence(instance: &str, room: &str) -> String {
    format!("p {instance} {room}")
}

/// The notification payload for a typing signal (the name last: it may
/// hold spaces).
pub(crate) fn typing(instance: &str, room: &str, member_id: i64, name: &str) -> String {
    format!("t {instance} {room} {member_id} {name}")
}

/// Reads a payload: the instance that sent it and what it reports.
fn parse(payload: &str) -> Option<(&str, RelayEvent)> {
    let mut parts = payload.splitn(5, ' ');
    let (kind, instance) = (parts.next()?, parts.next()?);
    let event = match kind {
        "m" => {
            let first = parts.next()?.parse().ok()?;
            let last = parts.next()?.parse().ok()?;
            let room = RoomName::parse(parts.next()?).ok()?;
            RelayEvent::Committed { room, first, last }
        }
        "x" => RelayEvent::Left {
            member_id: parts.next()?.parse().ok()?,
        },
        "p" => RelayEvent::Presence {
            room: RoomName::parse(parts.next()?).ok()?,
        },
        "t" => RelayEvent::Typing {
            room: RoomName::parse(parts.next()?).ok()?,
            member_id: parts.next()?.parse().ok()?,
            name: parts.next()?.to_owned(),
        },
        _ => return None,
    };
    Some((instance, event))
}

/// Listens for other instances' messages on PostgreSQL.
pub struct PgRelay {
    pool: PgPool,
    instance: String,
    listener: Option<PgListener>,
}

impl PgRelay {
    /// A relay over a dedicated one-connection pool to the same database,
    /// skipping the notifications of `instance` (this one).
    pub fn new(pool: &PgPool, instance: &str) -> Self {
        let options = (*pool.connect_options())
            .clone()
            .application_name(LISTENER_APPLICATION_NAME);
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .min_connections(0)
            .connect_lazy_with(options);
        Self {
            pool,
            instance: instance.to_owned(),
            listener: None,
        }
    }

    async fn connect(&self) -> Result<PgListener, sqlx::Error> {
        let mut listener = PgListener::connect_with(&self.pool).await?;
        listener.listen(CHANNEL).await?;
        Ok(listener)
    }
}

impl Relay for PgRelay {
    async fn next(&mut self) -> RelayEvent {
        let mut backoff = Duration::from_millis(100);
        loop {
            let Some(listener) = self.listener.as_mut() else {
                match self.connect().await {
                    Ok(listener) => {
                        self.listener = Some(listener);
                        // Whatever was committed while deaf must be fetched.
                        return RelayEvent::Resync;
                    }
                    Err(error) => {
                        tracing::warn!(%error, "cannot listen for notifications; retrying");
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(Duration::from_secs(5));
                        continue;
                    }
                }
            };
            match listener.try_recv().await {
                Ok(Some(notification)) => match parse(notification.payload()) {
                    // This instance acted on its own changes already.
                    Some((instance, _)) if instance == self.instance => {}
                    Some((_, event)) => return event,
                    None => tracing::warn!("unreadable notification ignored"),
                },
                // The connection dropped and sqlx has already reconnected
                // and listens again: notifications in between are lost.
                Ok(None) => {
                    tracing::warn!("notification connection was lost; resyncing");
                    return RelayEvent::Resync;
                }
                Err(error) => {
                    tracing::warn!(%error, "notification connection failed; reconnecting");
                    self.listener = None;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_read_back_as_what_they_report() {
        let commit = committed("a1", "team-chat", 4, 6);
        assert_eq!(
            parse(&commit),
            Some((
                "a1",
                RelayEvent::Committed {
                    room: RoomName::stored("team-chat".into()),
                    first: 4,
                    last: 6
                }
            ))
        );
        assert_eq!(
            parse(&left("b2", 17)),
            Some(("b2", RelayEvent::Left { member_id: 17 }))
        );
        assert_eq!(parse("m a1 x 6 lobby"), None);
        assert_eq!(parse("? a1"), None);
    }
}
