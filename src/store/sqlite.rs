//! What only the SQLite backend needs: its writer runtime, one write
//! transaction at a time from this process, group commit and the member
//! cache.
//!
//! A SQLite write transaction holds the database's one write lock across
//! several awaits (`BEGIN IMMEDIATE`, the statements, `COMMIT`). On the main
//! runtime each of those wake-ups queues behind whatever else was woken,
//! and a fan-out to 10,000 streams wakes 10,000 tasks: the lock was held for
//! several fan-out rounds and the next post's `BEGIN IMMEDIATE` ran out of
//! busy timeout (503s under load, measured in docs/BENCHMARKS.md). On a
//! runtime of their own ([`Writer`], which startup starts and hands in) the
//! transactions hold the lock for milliseconds. (PostgreSQL waits on row
//! locks without a timeout; its writes stay on the caller's runtime.)

use std::future::Future;
use std::sync::Arc;

use sqlx::sqlite::SqlitePool;
use tokio::runtime::{Builder, Handle};
use tokio::sync::{mpsc, oneshot, Semaphore};

use super::{batch, cache, Backend, Store, StoreError};
use crate::chat::{Member, Message};

/// How many members a SQLite instance keeps in memory (about 100 bytes
/// each).
pub(super) const MEMBER_CACHE: usize = 100_000;

/// A thread running a runtime of its own for SQLite's write transactions.
/// It stops, with whatever it still runs, when this is dropped.
#[derive(Debug)]
pub struct Writer {
    handle: Handle,
    _stop: oneshot::Sender<()>,
}

impl Writer {
    /// Starts the writer's thread.
    pub fn start() -> std::io::Result<Self> {
        let runtime = Builder::new_current_thread().enable_all().build()?;
        let handle = runtime.handle().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        std::thread::Builder::new()
            .name("natter-writer".into())
            .spawn(move || {
                // Ends when the sender is dropped; dropping the runtime then
                // ends its tasks.
                let _ = runtime.block_on(stopped);
            })?;
        Ok(Self {
            handle,
            _stop: stop,
        })
    }
}

/// A SQLite store's own parts.
pub(crate) struct Local {
    pub(super) pool: SqlitePool,
    /// The writer's runtime.
    writer: Handle,
    /// One write transaction at a time from this process (see
    /// `Store::begin_write`).
    pub(super) gate: Arc<Semaphore>,
    /// The group commit's queue (see `batch`).
    pub(super) posts: batch::Queue,
    /// Members by id (see `cache`): a post reads its member on every
    /// request, and the row changes only when the name is released. This
    /// process makes every change to it, so the cache stays true.
    pub(super) members: cache::Bounded<i64, Member>,
}

impl Local {
    /// A store over `pool`, writing on `writer`, with group commit running.
    pub(super) fn store(
        pool: SqlitePool,
        writer: &Writer,
        committed: mpsc::Sender<Vec<Message>>,
    ) -> Store {
        let (posts, waiting) = batch::queue();
        let local = Local {
            pool,
            writer: writer.handle.clone(),
            gate: Arc::new(Semaphore::new(1)),
            posts,
            members: cache::Bounded::new(MEMBER_CACHE),
        };
        let store = Store {
            backend: Backend::Sqlite(Arc::new(local)),
            committed,
        };
        batch::start(store.clone(), waiting, &writer.handle);
        store
    }
}

impl Store {
    /// Runs a write transaction: for SQLite on the writer runtime, for
    /// PostgreSQL right here.
    pub(super) async fn write<T, F, Fut>(&self, work: F) -> Result<T, StoreError>
    where
        F: FnOnce(Store) -> Fut,
        Fut: Future<Output = Result<T, StoreError>> + Send + 'static,
        T: Send + 'static,
    {
        let job = work(self.clone());
        match &self.backend {
            Backend::Sqlite(local) => local
                .writer
                .spawn(job)
                .await
                .map_err(|_| StoreError::Stopped)?,
            Backend::Postgres(_) => job.await,
        }
    }

    /// The member cache.
    pub(super) fn member_cache(&self) -> Option<&cache::Bounded<i64, Member>> {
        match &self.backend {
            Backend::Sqlite(local) => Some(&local.members),
            Backend::Postgres(shared) => Some(&shared.members),
        }
    }
}
