//! The in-process launcher: the real natter (`App::build` + `run`) on a
//! random loopback port with a fresh database of its own. It stops
//! gracefully, restarts on the same port and database, and starts peers
//! (more instances on the same database, for scale-out).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use natter::config::Config;
use natter::startup::App;
use sqlx::Connection;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::db::{Backend, TestDb, PG_ADMIN_URL};
use crate::user::User;

/// A running natter. Dropping it stops the server (without waiting).
pub struct TestApp {
    /// The base URL, e.g. `http://127.0.0.1:41234`.
    pub addr: String,
    /// The address it listens on.
    pub socket: SocketAddr,
    /// Its database.
    pub db: TestDb,
    /// The configuration it was started with (`bind` as asked, port 0).
    pub config: Config,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<anyhow::Result<()>>>,
}

/// Starts natter on a fresh database with [`Config::for_tests`].
pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

/// Starts natter on a fresh database with a tweaked configuration (e.g.
/// [`crate::presets::unlimited`]).
pub async fn spawn_app_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> TestApp {
    let db = TestDb::new(backend).await;
    let mut config = Config::for_tests(db.url.clone());
    tweak(&mut config);
    TestApp::start(db, config).await
}

/// Starts two instances on one fresh database at the same moment.
pub async fn spawn_pair(backend: Backend) -> (TestApp, TestApp) {
    let db = TestDb::new(backend).await;
    let shared = db.shared();
    let config = Config::for_tests(db.url.clone());
    tokio::join!(
        TestApp::start(db, config.clone()),
        TestApp::start(shared, config)
    )
}

impl TestApp {
    /// Starts natter with `config` on `db`.
    pub async fn start(db: TestDb, config: Config) -> Self {
        let mut app = Self {
            addr: String::new(),
            socket: config.bind,
            db,
            config,
            stop: None,
            server: None,
        };
        let config = app.config.clone();
        app.run(config).await;
        app
    }

    async fn run(&mut self, config: Config) {
        let app = App::build(config).await.expect("natter starts");
        self.socket = app.addr();
        self.addr = format!("http://{}", self.socket);
        let (stop, stopped) = oneshot::channel::<()>();
        self.stop = Some(stop);
        self.server = Some(tokio::spawn(app.run(async move {
            let _ = stopped.await;
        })));
    }

    /// A new person with an empty cookie jar.
    pub fn user(&self) -> User {
        User::new(&self.addr)
    }

    /// Stops the server gracefully (event streams end) and waits for it.
    pub async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            tokio::time::timeout(Duration::from_secs(10), server)
                .await
                .expect("server stops within 10 s")
                .expect("server task")
                .expect("server ran cleanly");
        }
    }

    /// Stops gracefully and starts again on the same port and database.
    pub async fn restart(&mut self) {
        self.stop().await;
        let mut config = self.config.clone();
        config.bind = self.socket;
        self.run(config).await;
    }

    /// Another natter instance on the same database (for scale-out tests).
    pub async fn peer(&self) -> TestApp {
        TestApp::start(self.db.shared(), self.config.clone()).await
    }

    /// Runs one SQL statement on the test database as an administrator.
    pub async fn execute(&self, sql: &str) {
        let mut connection = sqlx::PgConnection::connect(&self.db.url)
            .await
            .expect("postgres");
        sqlx::query(sql)
            .execute(&mut connection)
            .await
            .expect("statement");
    }

    /// Runs one statement on the `postgres` database, with `{db}` replaced by
    /// the test database's name (for what cannot run inside it).
    pub async fn admin(&self, sql: &str) {
        let name = self.db.url.rsplit('/').next().unwrap_or_default();
        let mut connection = sqlx::PgConnection::connect(PG_ADMIN_URL)
            .await
            .expect("postgres");
        sqlx::query(&sql.replace("{db}", name))
            .execute(&mut connection)
            .await
            .expect("statement");
    }

    /// Runs one statement on the test database, either backend.
    pub async fn run_sql(&self, sql: &str) {
        if self.db.is_sqlite() {
            let mut connection = sqlx::SqliteConnection::connect(&self.db.url)
                .await
                .expect("sqlite");
            sqlx::query(sql)
                .execute(&mut connection)
                .await
                .expect("statement");
        } else {
            self.execute(sql).await;
        }
    }

    /// A number from the database, straight from SQL (for "nothing stored").
    pub async fn count(&self, sql: &str) -> i64 {
        if self.db.is_sqlite() {
            let mut connection = sqlx::SqliteConnection::connect(&self.db.url)
                .await
                .expect("sqlite");
            sqlx::query_scalar(sql)
                .fetch_one(&mut connection)
                .await
                .expect("count")
        } else {
            let mut connection = sqlx::PgConnection::connect(&self.db.url)
                .await
                .expect("postgres");
            sqlx::query_scalar(sql)
                .fetch_one(&mut connection)
                .await
                .expect("count")
        }
    }
}

impl TestApp {
    /// The number of rows in every table of the test database, by table
    /// name (`schema.table` on PostgreSQL): for "nothing was stored" without
    /// knowing which tables there are.
    pub async fn row_counts(&self) -> BTreeMap<String, i64> {
        let mut counts = BTreeMap::new();
        if self.db.is_sqlite() {
            let mut connection = sqlx::SqliteConnection::connect(&self.db.url)
                .await
                .expect("sqlite");
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT name FROM sqlite_master \
                 WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            )
            .fetch_all(&mut connection)
            .await
            .expect("tables");
            for table in tables {
                let count = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM \"{table}\""))
                    .fetch_one(&mut connection)
                    .await
                    .expect("count");
                counts.insert(table, count);
            }
        } else {
            let mut connection = sqlx::PgConnection::connect(&self.db.url)
                .await
                .expect("postgres");
            let tables: Vec<(String, String)> = sqlx::query_as(
                "SELECT schemaname::text, tablename::text FROM pg_tables \
                 WHERE schemaname NOT IN ('pg_catalog', 'information_schema')",
            )
            .fetch_all(&mut connection)
            .await
            .expect("tables");
            for (schema, table) in tables {
                let sql = format!("SELECT COUNT(*) FROM \"{schema}\".\"{table}\"");
                let count = sqlx::query_scalar(&sql)
                    .fetch_one(&mut connection)
                    .await
                    .expect("count");
                counts.insert(format!("{schema}.{table}"), count);
            }
        }
        counts
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
