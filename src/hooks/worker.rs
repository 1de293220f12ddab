//! The background task that queues and sends webhooks, away from the post
//! path: a post never waits for any of it.
//!
//! Every [`TICK`] it asks the store one question (is there anything to
//! scan, and when is the next delivery due?), which costs one small query
//! when a server has no bots. When bots have unread posts it scans them:
//! reads each bot's room from its `scanned_seq` on, in bounded batches,
//! and queues a delivery per post that calls the bot, moving the scan on
//! in the same transaction. Due deliveries are claimed with a lease and
//! sent by their own tasks, at most [`IN_FLIGHT`] at a time: a slow
//! receiver holds one of those, never the scan. At shutdown the tasks in
//! flight are stopped and their leases let go, so a restart (or another
//! instance) sends them again at once.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::{Id, JoinSet};
use tokio_util::sync::CancellationToken;

use crate::chat::{now_millis, RoomName};
use crate::live::Render;
use crate::store::{Store, StoreError};

use super::outcome::{self, Reply};
use super::queue::{Delivery, Next, Queued, Record, Watcher};
use super::scan;
use super::send::{Sender, Sent, TIMEOUT};

/// How often the worker looks for work.
pub const TICK: Duration = Duration::from_secs(1);

/// Deliveries sent at the same time, at most.
pub const IN_FLIGHT: usize = 8;

/// Posts read per scan batch.
const SCAN_BATCH: i64 = 100;

/// Batches one bot is scanned for per tick, so a busy room cannot keep
/// the worker from the rest.
const SCAN_ROUNDS: usize = 10;

/// How long a claimed delivery is this instance's: well past an attempt's
/// timeout, so a live instance never loses one it is still sending.
const LEASE: Duration = Duration::from_secs(60);
const _: () = assert!(LEASE.as_secs() >= 3 * TIMEOUT.as_secs());

/// What the worker needs, shared with its delivery tasks.
pub struct Worker {
    store: Store,
    sender: Sender,
    /// The message JSON the read API shows (the web layer's, handed in).
    message_json: Render,
    /// Where natter is reached: the base of the reply URL.
    public_url: String,
    give_up_ms: i64,
}

impl Worker {
    /// A worker over `store`, sending with `sender`; `public_url` without
    /// a trailing slash.
    pub fn new(
        store: Store,
        sender: Sender,
        message_json: Render,
        public_url: &str,
        give_up: Duration,
    ) -> Self {
        Self {
            store,
            sender,
            message_json,
            public_url: public_url.trim_end_matches('/').to_owned(),
            give_up_ms: i64::try_from(give_up.as_millis()).unwrap_or(i64::MAX),
        }
    }

    /// Runs until `shutdown` is cancelled.
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut flying: JoinSet<()> = JoinSet::new();
        // Which delivery each task sends, to let its lease go at shutdown.
        let mut leased: HashMap<Id, i64> = HashMap::new();
        loop {
            // A finished delivery frees a place: claim again, but scan only
            // on the tick.
            let scan = tokio::select! {
                () = shutdown.cancelled() => break,
                _ = tick.tick() => true,
                Some(done) = flying.join_next_with_id(), if !flying.is_empty() => {
                    let id = match done {
                        Ok((id, ())) => id,
                        Err(error) => error.id(),
                    };
                    leased.remove(&id);
                    false
                }
            };
            let work = match self.store.hooks_work().await {
                Ok(work) => work,
                Err(error) => {
                    tracing::warn!(%error, "webhooks: cannot read the queue");
                    continue;
                }
            };
            let mut due = work.due_at.is_some_and(|at| at <= now_millis());
            if scan && work.unscanned {
                due |= self.scan().await > 0;
            }
            let room = IN_FLIGHT.saturating_sub(flying.len());
            if !due || room == 0 {
                continue;
            }
            let now = now_millis();
            let lease_until = now.saturating_add(i64::try_from(LEASE.as_millis()).unwrap_or(0));
            let claimed = match self
                .store
                .claim_deliveries(now, lease_until, i64::try_from(room).unwrap_or(1))
                .await
            {
                Ok(claimed) => claimed,
                Err(error) => {
                    tracing::warn!(%error, "webhooks: cannot claim deliveries");
                    continue;
                }
            };
            for delivery in claimed {
                let id = delivery.id;
                let worker = self.clone();
                let task = flying.spawn(async move { worker.attempt(delivery).await });
                leased.insert(task.id(), id);
            }
        }
        flying.abort_all();
        let ids: Vec<i64> = leased.into_values().collect();
        if let Err(error) = self.store.release_deliveries(ids).await {
            tracing::debug!(%error, "webhooks: leases left to expire");
        }
    }

    /// Scans every bot with unread posts; returns how many deliveries were
    /// queued. A bot whose scan fails is tried again next tick; the others
    /// go on.
    async fn scan(&self) -> usize {
        let watchers = match self.store.hook_watchers().await {
            Ok(watchers) => watchers,
            Err(error) => {
                tracing::warn!(%error, "webhooks: cannot read the bots");
                return 0;
            }
        };
        let mut queued = 0;
        for watcher in watchers {
            match self.scan_bot(&watcher).await {
                Ok(count) => queued += count,
                Err(error) => tracing::warn!(%error, bot = watcher.bot.id, "webhooks: scan failed"),
            }
        }
        queued
    }

    /// Queues the deliveries of one bot's unread posts, batch by batch.
    async fn scan_bot(&self, watcher: &Watcher) -> Result<usize, StoreError> {
        let room = &watcher.bot.room;
        let reply_url = format!("{}{}", self.public_url, crate::paths::messages(room));
        let mut from = watcher.scanned_seq;
        let mut queued = 0;
        for _ in 0..SCAN_ROUNDS {
            let posts = self.store.messages_from(room, from + 1, SCAN_BATCH).await?;
            let Some(last) = posts.last().map(|post| post.seq) else {
                break;
            };
            let deliveries: Vec<Queued> = posts
                .iter()
                .filter(|post| scan::calls(watcher, post))
                .filter_map(|post| self.queued(room, post, &reply_url))
                .collect();
            let count = deliveries.len();
            let now = now_millis();
            if !self
                .store
                .queue_deliveries(&watcher.bot, from, last, deliveries, now)
                .await?
            {
                // Another instance scanned these first.
                break;
            }
            queued += count;
            from = last;
            if posts.len() < usize::try_from(SCAN_BATCH).unwrap_or(0) {
                break;
            }
        }
        Ok(queued)
    }

    /// The delivery of `post`, or `None` (logged) if it cannot be rendered:
    /// one bad message must not stop the bot's scan for good.
    fn queued(
        &self,
        room: &RoomName,
        post: &crate::chat::Message,
        reply_url: &str,
    ) -> Option<Queued> {
        let json = (self.message_json)(post)
            .map_err(|error| error.to_string())
            .and_then(|json| scan::payload(room, &json, reply_url).map_err(|e| e.to_string()));
        match json {
            Ok(payload) => Some(Queued {
                seq: post.seq,
                payload,
            }),
            Err(error) => {
                tracing::error!(%error, seq = post.seq, "webhooks: cannot render a message");
                None
            }
        }
    }

    /// One attempt at a claimed delivery, and its record. A failure to
    /// record leaves the lease to expire: the delivery is tried again then.
    async fn attempt(&self, delivery: Delivery) {
        let record = match self.store.hook_target(delivery.bot_id).await {
            Err(error) => {
                tracing::warn!(%error, "webhooks: cannot read the bot");
                return;
            }
            Ok(None) => Record {
                status: "bot revoked".into(),
                next: Next::Done,
            },
            Ok(Some(target)) => match self.sender.send(&target, &delivery).await {
                Sent::Delivered {
                    status,
                    content_type,
                    body,
                } => {
                    let reply = outcome::reply(
                        content_type.as_deref(),
                        body.as_deref().map_err(|why| *why),
                    );
                    Record {
                        status: self.answer(&delivery, status, reply).await,
                        next: Next::Done,
                    }
                }
                Sent::Failed(failure) => {
                    outcome::after_failure(&delivery, &failure, now_millis(), self.give_up_ms)
                }
            },
        };
        tracing::info!(key = %delivery.key(), status = %record.status, "webhook attempt");
        if let Err(error) = self
            .store
            .record_attempt(&delivery, record, now_millis())
            .await
        {
            tracing::warn!(%error, "webhooks: cannot record an attempt");
        }
    }

    /// Posts the receiver's reply as the bot, if it gave one; returns the
    /// delivery's status.
    async fn answer(&self, delivery: &Delivery, status: u16, reply: Reply) -> String {
        let delivered = format!("delivered ({status})");
        let body = match reply {
            Reply::Nothing => return delivered,
            Reply::Bad(why) => return format!("{delivered}; the reply was not posted: {why}"),
            Reply::Post(body) => body,
        };
        let posted = match self.store.member(delivery.bot_id).await {
            Ok(Some(bot)) if bot.bot => self.store.insert_message(&bot, &body, now_millis()).await,
            // Revoked since: the bot has no voice any more.
            Ok(_) => return format!("{delivered}; the reply was not posted: the bot was revoked"),
            Err(error) => Err(error),
        };
        match posted {
            Ok(Some(_)) => delivered,
            Ok(None) => format!("{delivered}; the reply was not posted: the room is gone"),
            Err(error) => {
                tracing::warn!(%error, "webhooks: cannot post a reply");
                format!("{delivered}; the reply was not posted: {error}")
            }
        }
    }
}

/// Starts the worker on this runtime until `shutdown`.
pub fn spawn(worker: Worker, shutdown: CancellationToken) -> tokio::task::JoinHandle<()> {
    tokio::spawn(Arc::new(worker).run(shutdown))
}
