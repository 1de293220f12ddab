//! The chat domain, free of HTTP and SQL: names and bodies that can only
//! hold valid values, members and messages. These are what crosses the
//! store's boundary.

mod member;
mod mention;
mod message;
mod names;
mod reaction;
mod search;

pub use member::Member;
pub use mention::{mentions, MentionId};
pub use message::{Message, MessageBody};
pub use names::{RoomName, Username};
pub use reaction::{Change, Emoji, Reaction, Refusal, EMOJI};
pub use search::SearchQuery;

/// The current time in milliseconds since the Unix epoch: the one clock
/// natter stores (portable between SQLite and PostgreSQL as a plain integer).
pub fn now_millis() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(now.as_millis()).unwrap_or(i64::MAX)
}
