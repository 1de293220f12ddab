//! Group commit: posts waiting for the database are stored together, in
//! one transaction.
//!
//! A post's own work is a few microseconds; what costs is around it. On
//! SQLite: `BEGIN IMMEDIATE`, `COMMIT` and every statement is a round trip
//! to sqlx's connection thread (two thread wake-ups each), under the one
//! write lock. On PostgreSQL: five round trips under the room's row lock
//! (taken by `UPDATE rooms … RETURNING`, held to `COMMIT`), and a commit
//! that waits for the disk, so a room took one post at a time across all
//! instances. One task per instance (on SQLite, on the writer runtime)
//! takes every post that is waiting (up to [`BATCH`]), stores them with one
//! statement per kind, commits once, queues the messages for publishing in
//! seq order and only then answers each post: every acknowledged post is
//! as durable as before, and under load the fixed costs, the lock and the
//! disk flush are shared by the whole batch.

use tokio::sync::{mpsc, oneshot};

use super::{Store, StoreError};
use crate::chat::{Member, Message, MessageBody};

/// At most this many posts in one transaction (9 values each stays far
/// below SQLite's 32,766 bound parameters).
pub(super) const BATCH: usize = 256;

/// Posts waiting for the writer beyond this are refused with 503 rather
/// than queued without bound.
pub(super) const QUEUE: usize = 4096;

/// One post to store.
#[derive(Debug)]
pub(super) struct Post {
    pub member: Member,
    pub body: MessageBody,
    pub now: i64,
}

/// A post waiting in the queue, with where its answer goes.
pub(super) struct Queued {
    post: Post,
    reply: oneshot::Sender<Result<Option<Message>, StoreError>>,
}

/// The sending end of the queue, held by every clone of the [`Store`].
pub(super) type Queue = mpsc::Sender<Queued>;

/// A new queue, and its receiving end for [`start`].
pub(super) fn queue() -> (Queue, mpsc::Receiver<Queued>) {
    mpsc::channel(QUEUE)
}

/// Starts the group-commit task for `store` on `writer`: it takes what
/// waits in `receiver` until the writer stops.
pub(super) fn start(
    store: Store,
    mut receiver: mpsc::Receiver<Queued>,
    writer: &tokio::runtime::Handle,
) {
    writer.spawn(async move {
        let mut waiting = Vec::with_capacity(BATCH);
        while receiver.recv_many(&mut waiting, BATCH).await > 0 {
            store.commit_waiting(&mut waiting).await;
        }
    });
}

/// Queues `post` and waits for it to be committed.
pub(super) async fn submit(queue: &Queue, post: Post) -> Result<Option<Message>, StoreError> {
    let (reply, answer) = oneshot::channel();
    if let Err(error) = queue.try_send(Queued { post, reply }) {
        tracing::warn!(%error, "post queue full; refusing a post");
        return Err(StoreError::Busy);
    }
    answer.await.map_err(|_| StoreError::Stopped)?
}

impl Store {
    /// Stores every waiting post in one transaction and answers them. If
    /// the batch fails for anything but an unavailable database, each post
    /// is tried alone, so that one bad post fails nobody else.
    async fn commit_waiting(&self, waiting: &mut Vec<Queued>) {
        // Moved apart, not copied: the batch reads the posts, the answers
        // go to the replies.
        let (posts, replies): (Vec<Post>, Vec<_>) = waiting
            .drain(..)
            .map(|queued| (queued.post, queued.reply))
            .unzip();
        match self.insert_batch(&posts).await {
            Ok(messages) => {
                for (reply, message) in replies.into_iter().zip(messages) {
                    // A post whose request went away is stored all the same.
                    let _ = reply.send(Ok(message));
                }
            }
            Err(error) if replies.len() == 1 => {
                if let Some(reply) = replies.into_iter().next() {
                    let _ = reply.send(Err(error));
                }
            }
            // Locked or unreachable: it would fail each post alone too,
            // after as long a wait each. Everyone is told to try again.
            Err(error) if error.is_transient() => {
                tracing::warn!(%error, posts = posts.len(), "database unavailable; refusing a batch");
                for reply in replies {
                    let _ = reply.send(Err(StoreError::Busy));
                }
            }
            Err(error) => {
                tracing::warn!(%error, posts = posts.len(), "batch failed; storing its posts one by one");
                for (post, reply) in posts.iter().zip(replies) {
                    let result = self
                        .insert_batch(std::slice::from_ref(post))
                        .await
                        .map(|mut messages| messages.pop().flatten());
                    let _ = reply.send(result);
                }
            }
        }
    }
}
