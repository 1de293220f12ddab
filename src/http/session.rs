//! Identity: the cookie session remembers which member (a name in a room)
//! this browser is, per room. Identity comes only from here, never from a
//! form field.

use std::collections::BTreeMap;

use tower_sessions::Session;

use super::{AppError, AppState};
use crate::chat::{now_millis, RoomName};
use crate::store::MemberRow;

const ROOMS_KEY: &str = "rooms";

/// When the session was last renewed (ms since the epoch).
const RENEWED_KEY: &str = "renewed";

/// How often a member's session is saved again to push its expiry forward.
const RENEW_EVERY_MS: i64 = 24 * 60 * 60 * 1000;

/// Room name → member id, for every room this session is in.
pub type Memberships = BTreeMap<String, i64>;

/// What the session is to a room.
#[derive(Debug)]
pub enum Membership {
    /// Holds a name in the room.
    Member(MemberRow),
    /// Was never in the room (or exited).
    Stranger,
    /// Was in the room, but someone else took the name after it went idle.
    Lost,
}

/// The rooms this session is in.
pub async fn memberships(session: &Session) -> Result<Memberships, AppError> {
    Ok(session.get(ROOMS_KEY).await?.unwrap_or_default())
}

/// Records that this session is `member_id` in `room`.
pub async fn remember(session: &Session, room: &RoomName, member_id: i64) -> Result<(), AppError> {
    let mut rooms = memberships(session).await?;
    // Every join is a new identity: a new session id, so a session id
    // planted before (session fixation) is worth nothing after.
    session.cycle_id().await?;
    rooms.insert(room.as_str().to_owned(), member_id);
    session.insert(ROOMS_KEY, rooms).await?;
    session.insert(RENEWED_KEY, now_millis()).await?;
    Ok(())
}

/// Keeps a member's session alive while it is used. tower-sessions moves a
/// session's expiry (and the cookie's) only when it saves the session, and
/// it saves only a changed session: without this, someone who chats every
/// day would still be signed out `--session-idle-days` after joining. At
/// most one write a day per session.
async fn renew(session: &Session) -> Result<(), AppError> {
    let now = now_millis();
    let renewed: Option<i64> = session.get(RENEWED_KEY).await?;
    if renew_due(renewed, now) {
        session.insert(RENEWED_KEY, now).await?;
    }
    Ok(())
}

fn renew_due(renewed: Option<i64>, now: i64) -> bool {
    renewed.is_none_or(|at| now.saturating_sub(at) >= RENEW_EVERY_MS)
}

/// Forgets this session's membership of `room`.
pub async fn forget(session: &Session, room: &RoomName) -> Result<(), AppError> {
    let mut rooms = memberships(session).await?;
    if rooms.remove(room.as_str()).is_some() {
        session.insert(ROOMS_KEY, rooms).await?;
    }
    Ok(())
}

/// Looks the session up in a room. Authorisation is by this scoping: a
/// room's content is only reached through the session's own membership.
pub async fn membership(
    state: &AppState,
    session: &Session,
    room: &RoomName,
) -> Result<Membership, AppError> {
    let Some(&member_id) = memberships(session).await?.get(room.as_str()) else {
        return Ok(Membership::Stranger);
    };
    match state.store.member(member_id).await? {
        Some(member) if member.room == room.as_str() => {
            renew(session).await?;
            Ok(Membership::Member(member))
        }
        _ => {
            forget(session, room).await?;
            Ok(Membership::Lost)
        }
    }
}

/// The member, or a 403 for anyone else (API-style routes).
pub async fn require_member(
    state: &AppState,
    session: &Session,
    room: &RoomName,
) -> Result<MemberRow, AppError> {
    match membership(state, session, room).await? {
        Membership::Member(member) => Ok(member),
        Membership::Stranger | Membership::Lost => {
            Err(AppError::Forbidden("Join this room first."))
        }
    }
}

/// Parses a room from a path segment; a malformed one is simply not found.
pub fn room_from_path(room: &str) -> Result<RoomName, AppError> {
    RoomName::parse(room).map_err(|_| AppError::NotFound("There is no such room."))
}

#[cfg(test)]
mod tests {
    use super::{renew_due, RENEW_EVERY_MS};

    #[test]
    fn a_session_is_renewed_at_most_once_a_day() {
        let now = 1_000 * RENEW_EVERY_MS;
        assert!(renew_due(None, now), "sessions from before renewal");
        assert!(!renew_due(Some(now), now));
        assert!(!renew_due(Some(now - RENEW_EVERY_MS + 1), now));
        assert!(renew_due(Some(now - RENEW_EVERY_MS), now));
    }
}
