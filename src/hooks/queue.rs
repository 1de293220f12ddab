//! What the webhook queue holds, as the worker and the store pass it: the
//! bots to scan for, the deliveries waiting, and what an attempt came to.

use crate::chat::{Member, RoomName};

/// A bot with a webhook whose room has posts the bot has not considered
/// yet.
#[derive(Debug, Clone)]
pub struct Watcher {
    /// The bot's member (its name is what a mention calls).
    pub bot: Member,
    /// The posts up to this seq were considered.
    pub scanned_seq: i64,
    /// Whether every post calls it, not only those that mention it.
    pub all: bool,
}

/// A delivery to queue: the post's seq and the exact bytes every attempt
/// sends.
#[derive(Debug, Clone)]
pub struct Queued {
    /// The post's seq in the bot's room.
    pub seq: i64,
    /// The JSON body (`{"room","message","reply_url"}`).
    pub payload: String,
}

/// A delivery claimed for one attempt.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The row's id.
    pub id: i64,
    /// The bot's member id.
    pub bot_id: i64,
    /// The room the post is in.
    pub room: RoomName,
    /// The post's seq: with the room, the idempotency key.
    pub seq: i64,
    /// The bytes to send.
    pub payload: String,
    /// When it was queued (ms): it is given up a while after.
    pub created_at: i64,
    /// Attempts so far, this one included.
    pub attempts: i64,
}

impl Delivery {
    /// `room:seq`: the same on every attempt, so a receiver can tell a
    /// repeat.
    pub fn key(&self) -> String {
        format!("{}:{}", self.room.as_str(), self.seq)
    }
}

/// Where a bot's deliveries go and how they are signed.
#[derive(Clone)]
pub struct Target {
    /// The webhook URL as the bot was created with it.
    pub url: String,
    /// The key of the HMAC signature.
    pub secret: String,
}

impl std::fmt::Debug for Target {
    // The secret never reaches a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// What an attempt came to, for the delivery and the bot's last status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// A sentence: "delivered (200)", "failed (500), retrying", …
    pub status: String,
    /// Whether and when it is tried again.
    pub next: Next,
}

/// What becomes of a delivery after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Delivered, given up or cancelled: never tried again.
    Done,
    /// Tried again from this time (ms).
    RetryAt(i64),
}

/// What the worker has to do, read in one query each round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Work {
    /// Some bot's room has posts the bot has not considered.
    pub unscanned: bool,
    /// When the earliest waiting delivery may be claimed (ms), if any waits.
    pub due_at: Option<i64>,
}
