//! Which database a test runs on, and a fresh one per test: a temp SQLite
//! file, or a new PostgreSQL database on `127.0.0.1:5432` (user `postgres`,
//! trust auth), dropped when the test ends.

use sqlx::Connection;

/// The PostgreSQL server tests create their databases on.
pub const PG_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Which database a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A temp SQLite file.
    Sqlite,
    /// A new database on the local PostgreSQL.
    Postgres,
}

impl Backend {
    /// PostgreSQL if it is reachable. Otherwise the test is skipped, loudly,
    /// except under `CI=true`, where a missing service is a failure.
    pub async fn postgres() -> Option<Self> {
        match sqlx::PgConnection::connect(PG_ADMIN_URL).await {
            Ok(connection) => {
                let _ = connection.close().await;
                Some(Self::Postgres)
            }
            Err(error) if std::env::var("CI").as_deref() == Ok("true") => {
                panic!("PostgreSQL at {PG_ADMIN_URL} is required under CI=true: {error}")
            }
            Err(error) => {
                eprintln!("SKIPPED: PostgreSQL not reachable at {PG_ADMIN_URL} ({error})");
                None
            }
        }
    }
}

/// Declares each async test fn (taking a `Backend`) once per backend:
/// `sqlite::name` and `postgres::name`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(backend) = $crate::Backend::postgres().await {
                        super::$name(backend).await
                    }
                }
            )*
        }
    };
}

/// Runs a PostgreSQL-only test when PostgreSQL is there (see `Backend`).
#[macro_export]
macro_rules! postgres_only {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if let Some(backend) = $crate::Backend::postgres().await {
                        super::super::$name(backend).await
                    }
                }
            }
        )*
    };
}

/// A fresh database, removed when dropped (unless it is a [`TestDb::shared`]
/// handle).
pub struct TestDb {
    /// The URL natter connects to.
    pub url: String,
    pg_name: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// Creates a fresh, empty database on `backend`.
    pub async fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite:{}", dir.path().join("natter.db").display());
                Self {
                    url,
                    pg_name: None,
                    _dir: Some(dir),
                }
            }
            Backend::Postgres => {
                let name = format!("natter_test_{:016x}", rand_u64());
                let mut admin = sqlx::PgConnection::connect(PG_ADMIN_URL)
                    .await
                    .expect("postgres");
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .await
                    .expect("create test database");
                let url = format!("postgres://postgres@127.0.0.1:5432/{name}");
                Self {
                    url,
                    pg_name: Some(name),
                    _dir: None,
                }
            }
        }
    }

    /// Another handle on the same database that does not remove it (the
    /// owner outlives it).
    pub fn shared(&self) -> Self {
        Self {
            url: self.url.clone(),
            pg_name: None,
            _dir: None,
        }
    }

    /// Whether this is a SQLite database.
    pub fn is_sqlite(&self) -> bool {
        self.url.starts_with("sqlite:")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(name) = self.pg_name.take() else {
            return;
        };
        // Drop runs outside async: use a short-lived runtime on its own thread.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime
                .block_on(async {
                    let mut admin = sqlx::PgConnection::connect(PG_ADMIN_URL).await?;
                    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut admin)
                        .await?;
                    Ok::<_, sqlx::Error>(())
                })
                .map_err(std::io::Error::other)
        })
        .join();
    }
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    hasher.finish()
}
