//! Members: a session's hold on a name in a room.

use super::{RoomName, Username};

/// A member: who a session is in one room. The id is never given to anyone
/// else, so a stale session can never point at another person (a person
/// who exits and joins again under the same name gets their id back).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The member's id: the author id of their messages.
    pub id: i64,
    /// The room.
    pub room: RoomName,
    /// The name, as typed, with its comparison key.
    pub name: Username,
    /// Whether this member is a bot (it has a token, not a session; its
    /// name is held until it is revoked).
    pub bot: bool,
}
