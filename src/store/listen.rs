//! PostgreSQL `LISTEN/NOTIFY`: the relay between natter instances.
//!
//! The notification is sent by `insert_message` inside the insert
//! transaction, so PostgreSQL delivers it if and only if the message
//! commits, in commit order. Its payload is `"{instance} {seq} {room}"`:
//! ids, never HTML (payloads are limited to 8 KB).

use std::time::Duration;

use sqlx::postgres::{PgListener, PgPool, PgPoolOptions};

use crate::chat::{Relay, RelayEvent};

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

/// The notification payload for a committed message.
pub(crate) fn payload(instance: &str, room: &str, seq: i64) -> String {
    format!("{instance} {seq} {room}")
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
                Ok(Some(notification)) => {
                    let mut parts = notification.payload().splitn(3, ' ');
                    let (Some(instance), Some(seq), Some(room)) =
                        (parts.next(), parts.next(), parts.next())
                    else {
                        continue;
                    };
                    if instance == self.instance {
                        continue;
                    }
                    if let Ok(seq) = seq.parse() {
                        return RelayEvent::Committed {
                            room: room.to_owned(),
                            seq,
                        };
                    }
                }
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
