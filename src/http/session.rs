//! Identity: the cookie session remembers which member (a name in a room)
//! this browser is, per room. Identity comes only from here, never from a
//! form field.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use super::{AppError, AppState};
use crate::chat::Member;
use crate::chat::{now_millis, RoomName, Username};

/// Room → member id, for every room this session is in now.
pub(super) const ROOMS_KEY: &str = "rooms";

/// Room → the seat this session last held there (now, or before it exited).
const SEATS_KEY: &str = "seats";

/// When the session was last renewed (ms since the epoch).
const RENEWED_KEY: &str = "renewed";

/// How often a member's session is saved again to push its expiry forward
/// (or, for sessions shorter than two days, each half lifetime).
const RENEW_EVERY_MS: i64 = 24 * 60 * 60 * 1000;

/// Room name → member id, for every room this session is in.
pub type Memberships = BTreeMap<String, i64>;

/// A name this session held in a room, and the member it was.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Seat {
    /// The member id.
    pub id: i64,
    /// The name as typed.
    pub name: String,
    /// Its comparison key.
    pub key: String,
}

/// What the session is to a room.
#[derive(Debug)]
pub enum Membership {
    /// Holds a name in the room.
    Member(Member),
    /// Was never in the room (or exited).
    Stranger,
    /// Was in the room, but the membership ended without the person
    /// exiting; the name it had, if known.
    Lost(Option<String>),
}

/// The rooms this session is in.
pub async fn memberships(session: &Session) -> Result<Memberships, AppError> {
    Ok(session.get(ROOMS_KEY).await?.unwrap_or_default())
}

async fn seats(session: &Session) -> Result<BTreeMap<String, Seat>, AppError> {
    Ok(session.get(SEATS_KEY).await?.unwrap_or_default())
}

/// Records that this session is `member` in `room`.
pub async fn remember(session: &Session, room: &RoomName, member: &Member) -> Result<(), AppError> {
    let mut rooms = memberships(session).await?;
    let mut seats = seats(session).await?;
    // Every join is a new identity: a new session id, so a session id
    // planted before (session fixation) is worth nothing after. (Deleting
    // the old id ends the streams opened with it: see `sessions`.)
    session.cycle_id().await?;
    rooms.insert(room.as_str().to_owned(), member.id);
    seats.insert(
        room.as_str().to_owned(),
        Seat {
            id: member.id,
            name: member.name.to_string(),
            key: member.name.key().to_owned(),
        },
    );
    session.insert(ROOMS_KEY, rooms).await?;
    session.insert(SEATS_KEY, seats).await?;
    session.insert(RENEWED_KEY, now_millis()).await?;
    Ok(())
}

/// Keeps a member's session alive while it is used. tower-sessions moves a
/// session's expiry (and the cookie's) only when it saves the session, and
/// it saves only a changed session: without this, someone who chats every
/// day would still be signed out `--session-idle-days` after joining. At
/// most one write a day per session.
async fn renew(state: &AppState, session: &Session) -> Result<(), AppError> {
    let now = now_millis();
    let renewed: Option<i64> = session.get(RENEWED_KEY).await?;
    if renew_due(renewed, now, state.session_idle_millis()) {
        session.insert(RENEWED_KEY, now).await?;
    }
    Ok(())
}

/// When this session expires if it is not used again (ms since the
/// epoch): the moment its streams must end.
pub async fn expires_at(state: &AppState, session: &Session) -> Result<i64, AppError> {
    let renewed: i64 = session.get(RENEWED_KEY).await?.unwrap_or_else(now_millis);
    Ok(renewed.saturating_add(state.session_idle_millis()))
}

/// The member this session last was in `room` under `name`, if it exited
/// since: joining again under that name makes the person that member again.
pub async fn returning(
    session: &Session,
    room: &RoomName,
    name: &Username,
) -> Result<Option<i64>, AppError> {
    Ok(seats(session)
        .await?
        .remove(room.as_str())
        .filter(|seat| seat.key == name.key())
        .map(|seat| seat.id))
}

/// Ends a membership: releases the name and ends the member's streams, here
/// at once and on the other instances through the store.
pub async fn release(state: &AppState, member_id: i64) -> Result<(), AppError> {
    state.store.leave(member_id).await?;
    state.live.evict(member_id);
    Ok(())
}

fn renew_due(renewed: Option<i64>, now: i64, lifetime: i64) -> bool {
    let every = RENEW_EVERY_MS.min(lifetime / 2);
    renewed.is_none_or(|at| now.saturating_sub(at) >= every)
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
        Some(member) if member.room == *room => {
            renew(state, session).await?;
            Ok(Membership::Member(member))
        }
        _ => {
            forget(session, room).await?;
            let name = seats(session)
                .await?
                .remove(room.as_str())
                .map(|seat| seat.name);
            Ok(Membership::Lost(name))
        }
    }
}

/// The member, or a 403 for anyone else (API-style routes).
pub async fn require_member(
    state: &AppState,
    session: &Session,
    room: &RoomName,
) -> Result<Member, AppError> {
    match membership(state, session, room).await? {
        Membership::Member(member) => Ok(member),
        Membership::Stranger | Membership::Lost(_) => {
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
        let month = 30 * RENEW_EVERY_MS;
        assert!(renew_due(None, now, month), "sessions from before renewal");
        assert!(!renew_due(Some(now), now, month));
        assert!(!renew_due(Some(now - RENEW_EVERY_MS + 1), now, month));
        assert!(renew_due(Some(now - RENEW_EVERY_MS), now, month));
        // A short-lived session is renewed each half lifetime.
        assert!(renew_due(Some(now - 1_000), now, 2_000));
        assert!(!renew_due(Some(now - 999), now, 2_000));
    }
}
