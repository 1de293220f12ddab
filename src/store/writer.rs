//! SQLite write transactions run on a thread of their own.
//!
//! A SQLite write transaction holds the database's one write lock across
//! several awaits (`BEGIN IMMEDIATE`, the statements, `COMMIT`). On the main
//! runtime each of those wake-ups queues behind whatever else was woken,
//! and a fan-out to 10,000 streams wakes 10,000 tasks: the lock was held for
//! several fan-out rounds and the next post's `BEGIN IMMEDIATE` ran out of
//! busy timeout (503s under load, measured in docs/BENCHMARKS.md). On a
//! runtime of their own the transactions hold the lock for milliseconds.
//! (PostgreSQL waits on row locks without a timeout; its writes stay on the
//! caller's runtime.)

use std::future::Future;
use std::sync::OnceLock;

use tokio::runtime::{Builder, Handle};

use super::{Pool, Store, StoreError};

/// The writer runtime's handle, started on first use; `None` if no thread
/// could be started (then writes run where they are called).
pub(super) fn writer() -> Option<&'static Handle> {
    static WRITER: OnceLock<Option<Handle>> = OnceLock::new();
    WRITER
        .get_or_init(|| {
            let runtime = Builder::new_current_thread().enable_all().build().ok()?;
            let handle = runtime.handle().clone();
            std::thread::Builder::new()
                .name("natter-writer".into())
                .spawn(move || runtime.block_on(std::future::pending::<()>()))
                .ok()?;
            Some(handle)
        })
        .as_ref()
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
        match (&self.pool, writer()) {
            (Pool::Sqlite(_), Some(writer)) => {
                writer.spawn(job).await.map_err(|_| StoreError::Stopped)?
            }
            _ => job.await,
        }
    }
}
