//! Publishing: the one path by which a change, rendered once, reaches the
//! subscribers here; and the timers every stream shares.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::hub::KEEP_ALIVE_EVERY;
use super::relay::Relay;
use super::{driver, Live};
use crate::chat::{now_millis, Message};

impl Live {
    /// Renders each message of this instance's commits once and hands the
    /// frame to its room's subscribers here, in the order given: each
    /// change follows the cursor before it.
    pub fn publish(&self, messages: &[Message]) {
        for message in messages {
            self.publish_one(message.cursor - 1, message);
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
            tokio::spawn(super::here::run(self.clone())),
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
        live.publish(&messages);
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
