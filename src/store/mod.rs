//! Storage: every SQL statement natter runs, written once and executed on
//! SQLite (the embedded default) or PostgreSQL.
//!
//! The rest of the app sees one face, [`Store`]: an enum over the two
//! backends rather than a trait, because nearly every statement is the
//! same text on both (the [`with_pool!`] macro runs it on whichever pool
//! the store has), and a trait would make each statement two methods or
//! drag sqlx's generic executor bounds everywhere. What only one backend
//! needs is its own:
//! - SQLite ([`sqlite`]): the writer runtime (startup hands it in), the
//!   fair write queue, group commit (`batch`) and the member cache (`cache`);
//! - PostgreSQL: the instance id its notifications carry, its relay
//!   (`LISTEN/NOTIFY`, see `listen`), group commit per instance, and a
//!   member cache that the relay's notifications keep true.
//!
//! Domain types cross the boundary: [`crate::chat::Member`],
//! [`crate::chat::Message`], room names and bodies, never rows and strings.
//! Store conditions get store errors ([`StoreError`]).
//!
//! Statements use `$1, $2, …` placeholders, numbered in order of first use,
//! which both drivers accept, and only types both map the same way (`TEXT`,
//! 64-bit integers; times are milliseconds since the epoch). Queries are
//! checked by the tests on both backends rather than at compile time:
//! sqlx's offline data would be two sets of files per query kept in step
//! with two schemas, and several statements are built at run time (batch
//! inserts of any size).

mod batch;
mod bots;
mod cache;
mod changes;
mod hooks;
mod listen;
mod members;
mod messages;
mod presence;
mod reactions;
mod search;
pub mod sqlite;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, OwnedSemaphorePermit};

use crate::chat::{Member, Message};

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::SqliteSynchronous;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

pub use bots::{Bot, NewBot};
pub use cache::SessionCache;
pub use listen::{PgRelay, LISTENER_APPLICATION_NAME};
pub use members::JoinOutcome;
pub use presence::{RoomMember, Unread, UNREAD_CAP};
pub use search::{Hit, MARK_END, MARK_START};
pub use sqlite::Writer;

/// Runs `$body` with `$pool` bound to the concrete pool and `$db` to its
/// database type, so each statement is written once for both backends.
macro_rules! with_pool {
    ($store:expr, |$pool:ident, $db:ident| $body:expr) => {
        match &$store.backend {
            $crate::store::Backend::Sqlite(local) => {
                #[allow(dead_code)]
                type $db = sqlx::Sqlite;
                let $pool = &local.pool;
                $body
            }
            $crate::store::Backend::Postgres(shared) => {
                #[allow(dead_code)]
                type $db = sqlx::Postgres;
                let $pool = &shared.pool;
                $body
            }
        }
    };
}
pub(crate) use with_pool;

/// How long a request waits for a database connection before it is told
/// the database is unavailable (503) rather than hanging.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// How many commits may wait for their publisher before the writer waits.
const COMMITS_QUEUE: usize = 1024;

/// The messages of every commit, in seq order: what [`Store::connect`]
/// hands to the one publisher.
pub type Commits = mpsc::Receiver<Vec<Message>>;

/// A handle to natter's database: cheap to clone.
#[derive(Clone)]
pub struct Store {
    backend: Backend,
    /// Where each commit's messages go, in seq order, before its posts are
    /// answered.
    committed: mpsc::Sender<Vec<Message>>,
}

/// One backend and what only it needs.
#[derive(Clone)]
pub(crate) enum Backend {
    /// The embedded default: one SQLite file, one instance.
    Sqlite(Arc<sqlite::Local>),
    /// The shared database for several instances.
    Postgres(Arc<Shared>),
}

/// What a PostgreSQL store has beside its pool.
pub(crate) struct Shared {
    pool: PgPool,
    /// This instance's id in notifications to the others.
    instance: String,
    /// This instance's group commit (see `batch`): posts waiting while a
    /// transaction runs share the next one, so a room's row lock is taken
    /// once per batch, not once per post.
    posts: batch::Queue,
    /// Members by id, as on SQLite (see `cache`). Other instances delete
    /// member rows too; each deletion notifies (`x`) in its transaction,
    /// and the relay drops the member here ([`Store::forget_member`]), or
    /// every member when notifications may have been lost.
    members: cache::Bounded<i64, Member>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let backend = match &self.backend {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
        };
        f.debug_struct("Store")
            .field("backend", &backend)
            .finish_non_exhaustive()
    }
}

/// A connection pool, for what shares natter's database (the session store).
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
    /// Connects to the database named by `url` (`sqlite:…` or `postgres://…`),
    /// creating a SQLite file if it does not exist yet. SQLite writes on
    /// `writer`'s runtime (see [`sqlite`]); PostgreSQL needs none. Returns
    /// the store and its commits, for the one publisher.
    pub async fn connect(url: &str, writer: &Writer) -> anyhow::Result<(Self, Commits)> {
        let (committed, commits) = mpsc::channel(COMMITS_QUEUE);
        if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .connect(url)
                .await?;
            let (posts, waiting) = batch::queue();
            let shared = Shared {
                pool,
                instance: listen::new_instance_id(),
                posts,
                members: cache::Bounded::new(sqlite::MEMBER_CACHE),
            };
            let backend = Backend::Postgres(Arc::new(shared));
            let store = Self { backend, committed };
            batch::start(store.clone(), waiting, &tokio::runtime::Handle::current());
            return Ok((store, commits));
        }
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // With WAL, NORMAL still survives a crash of the process; only a
            // power loss can take the last commits.
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(2))
            // The bytes a delete frees are overwritten with zeros when the
            // page is written back, not left in free space: a delete is a
            // delete (the WAL holds older copies until its checkpoint).
            .pragma("secure_delete", "on")
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await?;
        Ok((sqlite::Local::store(pool, writer, committed), commits))
    }

    /// The connection pool, for what shares the database.
    pub fn pool(&self) -> Pool {
        match &self.backend {
            Backend::Sqlite(local) => Pool::Sqlite(local.pool.clone()),
            Backend::Postgres(shared) => Pool::Postgres(shared.pool.clone()),
        }
    }

    /// How this instance hears the others: PostgreSQL's `LISTEN/NOTIFY`,
    /// or nothing (one SQLite file is one instance).
    pub fn relay(&self) -> Option<PgRelay> {
        match &self.backend {
            Backend::Sqlite(_) => None,
            Backend::Postgres(shared) => Some(PgRelay::new(&shared.pool, &shared.instance)),
        }
    }

    /// The instance id to sign notifications with, when other instances
    /// share the database and must hear of changes.
    fn notifier(&self) -> Option<&str> {
        match &self.backend {
            Backend::Sqlite(_) => None,
            Backend::Postgres(shared) => Some(&shared.instance),
        }
    }

    /// Brings the schema up to date. Safe to run from several instances at
    /// once: sqlx takes a lock around PostgreSQL migrations.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        match &self.backend {
            Backend::Sqlite(local) => sqlx::migrate!("migrations/sqlite").run(&local.pool).await?,
            Backend::Postgres(shared) => {
                sqlx::migrate!("migrations/postgres")
                    .run(&shared.pool)
                    .await?
            }
        }
        Ok(())
    }

    /// Answers whether the database can store a message now (for
    /// `/healthz`). On SQLite a reader passes `SELECT 1` even while another
    /// process holds the write lock and every post fails, so the check
    /// takes the write lock (waiting its turn and the busy timeout, like a
    /// post) and lets it go.
    pub async fn ping(&self) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Sqlite(local) => {
                let (begin, _writing) = self.begin_write().await?;
                local.pool.begin_with(begin).await?.rollback().await?;
            }
            Backend::Postgres(shared) => {
                sqlx::query("SELECT 1").execute(&shared.pool).await?;
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
        let Backend::Sqlite(local) = &self.backend else {
            return Ok(("BEGIN", None));
        };
        match tokio::time::timeout(ACQUIRE_TIMEOUT, local.gate.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(("BEGIN IMMEDIATE", Some(permit))),
            Ok(Err(_)) => Err(StoreError::Stopped),
            Err(_) => Err(StoreError::Busy),
        }
    }
}
