//! Publishing: the one path by which a change, rendered once, reaches the
//! subscribers here; and the timers every stream shares.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::hub::{Handed, KEEP_ALIVE_EVERY};
use super::relay::Relay;
use super::{driver, Live};
use crate::chat::{now_millis, Message};

/// How many changed messages one read of the store for delivery takes.
const BATCH: i64 = 200;

impl Live {
    /// Renders each message of this instance's commits once and hands the
    /// frame to its room's subscribers here, in the order given: each
    /// change follows the cursor before it.
    ///
    /// On PostgreSQL another instance's change can commit just before one
    /// of ours and still be on its way through the relay: published as it
    /// is, ours would follow a change nobody here was handed, and every
    /// subscriber of the room would see the gap and read the store on its
    /// own (a catch-up storm). So where the room's subscribers were handed
    /// less than our change follows, the publisher reads what is missing
    /// once, for all of them, and publishes it in order with ours.
    pub async fn publish(&self, messages: &[Message]) {
        for message in messages {
            match self.hub.handed(&message.room) {
                // Nobody here follows the room; or a read for the gap
                // below already handed this change out.
                None => {}
                Some(Handed::UpTo(handed)) if handed >= message.cursor => {}
                Some(Handed::UpTo(handed)) if handed < message.cursor - 1 => {
                    self.fill(&message.room, handed).await;
                }
                Some(_) => self.publish_one(message.cursor - 1, message),
            }
        }
    }

    /// Publishes every message of `room` that changed after cursor `after`,
    /// in its current state, batch after batch until there is nothing
    /// newer: one read of the store for all the room's subscribers here.
    /// Reading the store (not trusting one notification) also fills any
    /// gap, e.g. from notifications lost while the relay was down.
    pub(super) async fn fill(&self, room: &crate::chat::RoomName, mut after: i64) {
        loop {
            let messages = match self.store.changes_after(room, after, BATCH).await {
                Ok(messages) => messages,
                Err(error) => {
                    // Subscribers catch up by themselves at the next change.
                    tracing::warn!(%error, %room, "cannot read changes to publish");
                    return;
                }
            };
            crate::metrics::catch_up_read(crate::metrics::Reader::Relay, messages.len());
            let full = messages.len() as i64 == BATCH;
            self.publish_read(after, &messages);
            match messages.last() {
                Some(newest) if full => after = newest.cursor,
                _ => return,
            }
        }
    }

    /// Publishes what a read of `room`'s "changes after `after`" returned:
    /// each frame follows the one before, the first follows `after`.
    pub(super) fn publish_read(&self, after: i64, messages: &[Message]) {
        let mut after = after;
        for message in messages {
            self.publish_one(after, message);
            after = message.cursor;
        }
    }

    /// Renders `message` once (a room without subscribers here costs no
    /// rendering) and publishes it as the change following `after`. A
    /// message that cannot be rendered is stored all the same: subscribers
    /// read it from the store when they see the gap at the next change.
    fn publish_one(&self, after: i64, message: &Message) {
        // Nobody here follows the room: nothing to render. Whoever
        // subscribes later reads the store, which has it already.
        if self.hub.handed(&message.room).is_none() {
            return;
        }
        let json = self.hub.wants_json(&message.room);
        match self.frame(after, message, json) {
            Ok(frame) => {
                self.hub.publish(&message.room, frame);
            }
            Err(error) => tracing::error!(%error, cursor = message.cursor, "cannot render message"),
        }
    }

    /// Starts what delivery runs in the background: the publisher of this
    /// instance's commits, the keep-alive timer, the session expiry sweep
    /// and who is here.
    pub fn spawn(&self, commits: mpsc::Receiver<Vec<Message>>) -> Vec<JoinHandle<()>> {
        vec![
            tokio::spawn(publish_commits(self.clone(), commits)),
            tokio::spawn(keep_alive(self.clone())),
            tokio::spawn(sweep_expired(self.clone())),
            tokio::spawn(super::panel::run(self.clone())),
        ]
    }

    /// Starts acting on what other instances report through `relay`, until
    /// `shutdown`.
    pub fn spawn_relay(&self, relay: impl Relay, shutdown: CancellationToken) -> JoinHandle<()> {
        tokio::spawn(driver::run(relay, self.clone(), shutdown))
    }
}

/// Publishes this instance's commits, in commit order. On the main runtime,
/// not the SQLite writer's thread: waking a stream's task from another
/// thread costs a system call (and a lock) per subscriber, waking it from
/// here costs neither.
async fn publish_commits(live: Live, mut commits: mpsc::Receiver<Vec<Message>>) {
    while let Some(messages) = commits.recv().await {
        live.publish(&messages).await;
    }
}

/// Sends every stream a keep-alive comment now and then.
async fn keep_alive(live: Live) {
    let mut ticks = tokio::time::interval(KEEP_ALIVE_EVERY);
    loop {
        ticks.tick().await;
        live.hub.keep_alive();
    }
}

/// Ends the streams of sessions that expired, within a second.
async fn sweep_expired(live: Live) {
    let mut ticks = tokio::time::interval(Duration::from_secs(1));
    loop {
        ticks.tick().await;
        live.presence.evict_expired(now_millis());
    }
}
