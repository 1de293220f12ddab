//! The chat domain, free of HTTP: names and bodies that can only hold valid
//! values, the message record, the live hub and presence.

mod hub;
mod message;
mod names;
mod presence;
mod relay;

pub use hub::{Frame, Handed, Hub, Subscription, KEEP_ALIVE_EVERY, KEEP_ALIVE_SEQ};
pub use message::{Message, MessageBody};
pub use names::{RoomName, Username};
pub use presence::{Presence, PresenceGuard};
pub use relay::{Relay, RelayEvent};

/// The current time in milliseconds since the Unix epoch: the one clock
/// natter stores (portable between SQLite and PostgreSQL as a plain integer).
pub fn now_millis() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(now.as_millis()).unwrap_or(i64::MAX)
}
