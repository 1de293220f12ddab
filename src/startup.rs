//! Building and running the server: database, migrations, session store,
//! listener, background tasks and graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::http::HeaderName;
use axum::Router;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tower_sessions::{CachingSessionStore, ExpiredDeletion};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

use crate::config::Config;
use crate::hooks;
use crate::http::{self, views, AppState, Evicting, Limits};
use crate::live::{self, Live};
use crate::serve;
use crate::store::{Pool, SessionCache, Store, Writer};

/// How often expired sessions are deleted.
const SESSION_CLEANUP: Duration = Duration::from_secs(3600);

/// How many sessions a SQLite instance keeps in memory (a few hundred
/// bytes each).
const SESSION_CACHE: usize = 100_000;

/// A built server, bound and ready to run.
pub struct App {
    listener: TcpListener,
    addr: SocketAddr,
    /// Where `GET /metrics` is served, if `--metrics-bind` asks.
    metrics_addr: Option<SocketAddr>,
    router: Router,
    state: AppState,
    background: Vec<JoinHandle<()>>,
    header_timeout: Duration,
    /// Runs SQLite's writes; stops when the app is dropped, after `run`.
    _writer: Writer,
}

impl App {
    /// Connects to the database, brings the schema up to date and binds
    /// the listener (`--bind` with port 0 picks a free port).
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        // The thread SQLite's write transactions run on (see
        // `store::sqlite`); idle on PostgreSQL.
        let writer = Writer::start()?;
        let (store, commits) = Store::connect(&config.database_url, &writer).await?;
        store.migrate().await?;
        let shutdown = CancellationToken::new();
        let renders = live::Views {
            message: views::message_html,
            message_json: http::message_json,
            members: views::members_html,
            typist: views::typist_html,
        };
        let live = Live::new(store.clone(), renders, &shutdown);
        let state = AppState {
            store: store.clone(),
            live: live.clone(),
            session_idle: config.session_idle(),
            shutdown,
            limits: Arc::new(Limits::new(&config)),
            client_ip_header: config
                .client_ip_header
                .as_deref()
                .map(HeaderName::try_from)
                .transpose()?,
            webhooks: Arc::new(crate::hooks::Policy::new(&config.webhook_allow)?),
            public_url: config.public_url.clone(),
        };
        let mut background = Vec::new();
        let router = match store.pool() {
            Pool::Sqlite(pool) => {
                let sessions = SqliteStore::new(pool);
                sessions.migrate().await?;
                background.push(tokio::spawn(delete_expired(sessions.clone())));
                // This process makes every change to the session table, so
                // it may keep sessions in memory: no read per request.
                let sessions = CachingSessionStore::new(SessionCache::new(SESSION_CACHE), sessions);
                let sessions = Evicting::new(sessions, live.clone(), store.clone());
                http::router(state.clone(), sessions, &config)
            }
            Pool::Postgres(pool) => {
                let sessions = PostgresStore::new(pool);
                migrate_sessions(&sessions).await?;
                background.push(tokio::spawn(delete_expired(sessions.clone())));
                let sessions = Evicting::new(sessions, live.clone(), store.clone());
                http::router(state.clone(), sessions, &config)
            }
        };
        if let Some(relay) = store.relay() {
            background.push(live.spawn_relay(relay, state.shutdown.clone()));
        }
        background.extend(live.spawn(commits));
        let mut metrics_addr = None;
        if let Some(bind) = config.metrics_bind {
            let (addr, task) = crate::metrics::serve(bind, &state).await?;
            background.push(task);
            metrics_addr = Some(addr);
        }
        let listener = TcpListener::bind(config.bind).await?;
        let addr = listener.local_addr()?;
        // Webhooks go out from a task of their own (see `hooks::worker`).
        let public_url = config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{addr}"));
        let sender = hooks::Sender::new(hooks::Policy::new(&config.webhook_allow)?)?;
        let give_up = Duration::from_secs(config.webhook_give_up_secs);
        let worker = hooks::Worker::new(
            store.clone(),
            sender,
            http::message_json,
            &public_url,
            give_up,
        );
        background.push(hooks::worker::spawn(worker, state.shutdown.clone()));
        Ok(Self {
            listener,
            addr,
            metrics_addr,
            router,
            state,
            background,
            header_timeout: Duration::from_secs(config.header_timeout_secs.max(1)),
            _writer: writer,
        })
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The address `GET /metrics` is served on, if `--metrics-bind` asks.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// Serves until `shutdown` resolves, then stops accepting, ends every
    /// event stream, lets in-flight requests finish and closes the database.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let token = self.state.shutdown.clone();
        let stop = async move {
            shutdown.await;
            token.cancel();
        };
        serve::serve(self.listener, self.router, self.header_timeout, stop).await;
        self.state.shutdown.cancel();
        for task in &self.background {
            task.abort();
        }
        self.state.store.close().await;
        tracing::info!("natter stopped");
        Ok(())
    }
}

/// Creates the session table. Two instances starting at once can race on
/// `CREATE ... IF NOT EXISTS` (PostgreSQL reports a duplicate key); the
/// loser finds the table there on a second try.
async fn migrate_sessions(sessions: &PostgresStore) -> anyhow::Result<()> {
    let mut attempt = 0;
    loop {
        match sessions.migrate().await {
            Ok(()) => return Ok(()),
            Err(error) if attempt < 3 => {
                attempt += 1;
                tracing::info!(%error, attempt, "session table migration raced; retrying");
                tokio::time::sleep(Duration::from_millis(100 * attempt)).await;
            }
            Err(error) => return Err(error.into()),
        }
    }
}

async fn delete_expired<S: ExpiredDeletion>(sessions: S) {
    if let Err(error) = sessions.continuously_delete_expired(SESSION_CLEANUP).await {
        tracing::error!(%error, "expired session cleanup stopped");
    }
}
