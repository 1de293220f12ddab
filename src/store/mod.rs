//! Storage: every SQL statement natter runs, written once and executed on
//! SQLite (the embedded default) or PostgreSQL.
//!
//! Statements use `$1, $2, …` placeholders, numbered in order of first use,
//! which both drivers accept, and only types both map the same way (`TEXT`,
//! 64-bit integers; times are milliseconds since the epoch).

mod batch;
mod cache;
mod listen;
mod members;
mod messages;
mod writer;

use std::str::FromStr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};

use crate::chat::{Member, Message};

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::SqliteSynchronous;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

pub use cache::SessionCache;
pub use listen::{PgRelay, LISTENER_APPLICATION_NAME};
pub use members::JoinOutcome;

/// Runs `$body` with `$pool` bound to the concrete pool and `$db` to its
/// database type, so each statement is written once for both backends.
macro_rules! with_pool {
    ($store:expr, |$pool:ident, $db:ident| $body:expr) => {
        match &$store.pool {
            $crate::store::Pool::Sqlite($pool) => {
                #[allow(dead_code)]
                type $db = sqlx::Sqlite;
                $body
            }
            $crate::store::Pool::Postgres($pool) => {
                #[allow(dead_code)]
                type $db = sqlx::Postgres;
                $body
            }
        }
    };
}
pub(crate) use with_pool;

/// How long a request waits for a database connection before it is told
/// the database is unavailable (503) rather than hanging.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// How many members a SQLite instance keeps in memory (about 100 bytes
/// each).
const MEMBER_CACHE: usize = 100_000;

/// A handle to natter's database: cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: Pool,
    /// This instance's id in notifications to the others.
    instance: Arc<str>,
    /// SQLite only: one write transaction at a time from this process (see
    /// [`Store::begin_write`]).
    write_gate: Option<Arc<Semaphore>>,
    /// SQLite only: the group commit's queue (see `batch`).
    posts: Option<batch::Queue>,
    /// Where each commit's messages go, in seq order (see
    /// [`Store::commits`]).
    committed: Arc<OnceLock<mpsc::Sender<Vec<Message>>>>,
    /// SQLite only: members by id (see `cache`). A post reads its member
    /// on every request; the row changes only when the name is released.
    members: Option<Arc<cache::Bounded<i64, Member>>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("pool", &self.pool)
            .field("instance", &self.instance)
            .finish_non_exhaustive()
    }
}

/// How many commits may wait for [`Store::commits`]' reader before the
/// writer waits for it.
const COMMITS_QUEUE: usize = 1024;

/// The connection pool of one backend.
#[derive(Debug, Clone)]
pub enum Pool {
    /// The embedded default: one SQLite file.
    Sqlite(SqlitePool),
    /// The shared database for several instances.
    Postgres(PgPool),
}

/// A storage failure, split by what the user should be told.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached, or is locked or restarting: try later.
    #[error("the database is unavailable")]
    Unavailable(#[source] sqlx::Error),
    /// More writes are waiting than the store takes (the post queue is
    /// full, or this write's turn did not come in time): try later.
    #[error("too many writes are waiting")]
    Busy,
    /// The writer has stopped (the server is shutting down): try later,
    /// elsewhere.
    #[error("the writer has stopped")]
    Stopped,
    /// Anything else: a bug or corruption, logged and shown as a 500.
    #[error("database error")]
    Failed(#[source] sqlx::Error),
}

impl StoreError {
    /// Whether trying again later may succeed (503 rather than 500).
    pub fn is_transient(&self) -> bool {
        !matches!(self, Self::Failed(_))
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        use sqlx::Error as E;
        let unavailable = match &error {
            E::PoolTimedOut | E::PoolClosed | E::Io(_) | E::Tls(_) | E::WorkerCrashed => true,
            E::Database(db) => {
                let code = db.code().unwrap_or_default();
                // SQLite: 5 BUSY, 6 LOCKED (and extended codes of those);
                // PostgreSQL: class 08 connection, 57P0x shutdown, 53
                // resources, and refusals to connect (database not
                // accepting connections, gone, or not letting us in).
                let sqlite_busy = code.parse::<i64>().is_ok_and(|c| matches!(c & 0xff, 5 | 6));
                sqlite_busy
                    || ["08", "57P", "53", "55000", "3D000", "28"]
                        .iter()
                        .any(|prefix| code.starts_with(prefix))
            }
            _ => false,
        };
        if unavailable {
            Self::Unavailable(error)
        } else {
            Self::Failed(error)
        }
    }
}

impl Store {
    fn new(pool: Pool) -> Self {
        let sqlite = matches!(pool, Pool::Sqlite(_));
        let mut store = Self {
            pool,
            instance: listen::new_instance_id().into(),
            write_gate: sqlite.then(|| Arc::new(Semaphore::new(1))),
            posts: None,
            committed: Arc::default(),
            members: sqlite.then(|| Arc::new(cache::Bounded::new(MEMBER_CACHE))),
        };
        if let (true, Some(writer)) = (sqlite, writer::writer()) {
            // The task's own copy holds no sender, so it ends with the last
            // of this store's clones.
            store.posts = Some(batch::start(store.clone(), writer));
        }
        store
    }

    /// The messages of every commit from now on, in seq order, each
    /// commit's queued before its posts are answered (the live hub
    /// publishes them). For one reader: a second call gets a receiver that
    /// never yields.
    pub fn commits(&self) -> mpsc::Receiver<Vec<Message>> {
        let (sender, receiver) = mpsc::channel(COMMITS_QUEUE);
        let _ = self.committed.set(sender);
        receiver
    }

    /// The connection pool.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// This instance's id, unique per `Store::connect`.
    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// Connects to the database named by `url` (`sqlite:…` or `postgres://…`),
    /// creating a SQLite file if it does not exist yet.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .connect(url)
                .await?;
            return Ok(Self::new(Pool::Postgres(pool)));
        }
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // With WAL, NORMAL still survives a crash of the process; only a
            // power loss can take the last commits.
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(2))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await?;
        Ok(Self::new(Pool::Sqlite(pool)))
    }

    /// Brings the schema up to date. Safe to run from several instances at
    /// once: sqlx takes a lock around PostgreSQL migrations.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        match &self.pool {
            Pool::Sqlite(pool) => sqlx::migrate!("migrations/sqlite").run(pool).await?,
            Pool::Postgres(pool) => sqlx::migrate!("migrations/postgres").run(pool).await?,
        }
        Ok(())
    }

    /// Answers whether the database can store a message now (for
    /// `/healthz`). On SQLite a reader passes `SELECT 1` even while another
    /// process holds the write lock and every post fails, so the check
    /// takes the write lock (waiting its turn and the busy timeout, like a
    /// post) and lets it go.
    pub async fn ping(&self) -> Result<(), StoreError> {
        match &self.pool {
            Pool::Sqlite(pool) => {
                let (begin, _writing) = self.begin_write().await?;
                pool.begin_with(begin).await?.rollback().await?;
            }
            Pool::Postgres(pool) => {
                sqlx::query("SELECT 1").execute(pool).await?;
            }
        }
        Ok(())
    }

    /// Closes every connection (on shutdown, so SQLite checkpoints cleanly).
    pub async fn close(&self) {
        with_pool!(self, |pool, Db| pool.close().await)
    }

    /// Waits for this process's turn to write, and gives the statement that
    /// opens the write transaction; hold the permit until it commits (and,
    /// for posts, until the commit is queued for publishing).
    ///
    /// SQLite must take the write lock up front (`BEGIN IMMEDIATE`) or a
    /// read-then-write transaction can fail with `SQLITE_BUSY` instead of
    /// waiting. And SQLite has one writer at a time: left to its busy
    /// handler, which polls with growing sleeps and is not fair, a burst
    /// of posts (50 posters at once in the reliability suite) starved some
    /// past the busy timeout into 503s. So writers queue here, first come
    /// first served, and the busy timeout is left for other processes.
    /// Waiting longer than a connection would be is "unavailable" (503).
    async fn begin_write(
        &self,
    ) -> Result<(&'static str, Option<OwnedSemaphorePermit>), StoreError> {
        let Some(gate) = &self.write_gate else {
            return Ok(("BEGIN", None));
        };
        match tokio::time::timeout(ACQUIRE_TIMEOUT, gate.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(("BEGIN IMMEDIATE", Some(permit))),
            Ok(Err(_)) => Err(StoreError::Stopped),
            Err(_) => Err(StoreError::Busy),
        }
    }
}
