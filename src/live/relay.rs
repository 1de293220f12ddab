//! The relay: how an instance hears of messages committed by other
//! instances sharing its database.
//!
//! SQLite means one instance, which hears everything from its own posts and
//! needs no relay. PostgreSQL relays through `LISTEN/NOTIFY` (see
//! `store::listen`); another bus (NATS JetStream, say) would implement the
//! same trait, and nothing in the HTTP layer would change. `driver` acts
//! on what a relay reports. Notifications
//! carry coordinates, never HTML: each instance fetches and renders a
//! message once for its own subscribers.

use std::future::Future;

/// What the relay reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RelayEvent {
    /// Another instance committed the changes at cursors `first..=last`
    /// in `room`.
    Committed {
        /// The room.
        room: crate::chat::RoomName,
        /// The cursor of the commit's first change.
        first: i64,
        /// The cursor of the commit's last change.
        last: i64,
    },
    /// Another instance ended a membership (exit, a released name, a
    /// deleted session): the member's streams here must end.
    Left {
        /// The member.
        member_id: i64,
    },
    /// Who is here in `room` changed on another instance.
    Presence {
        /// The room.
        room: crate::chat::RoomName,
    },
    /// A member typing in `room`, on another instance.
    Typing {
        /// The room.
        room: crate::chat::RoomName,
        /// Who types.
        member_id: i64,
        /// Their name.
        name: String,
    },
    /// Notifications may have been lost (the connection dropped and came
    /// back): every room served here must catch up from the database.
    Resync,
}

/// A source of [`RelayEvent`]s.
pub trait Relay: Send + 'static {
    /// Waits for the next event. Reconnects by itself; reports `Resync`
    /// once listening again after any gap.
    fn next(&mut self) -> impl Future<Output = RelayEvent> + Send;
}
