//! `spawn_app`: the real server on a random port with a fresh database of
//! its own (a temp SQLite file, or a new PostgreSQL database), plus users
//! (each its own cookie jar) and an SSE reader.

use std::time::Duration;

use futures_util::StreamExt;
use natter::chat::RoomName;
use natter::config::Config;
use natter::paths;
use natter::startup::App;
use reqwest::header::HeaderMap;
use reqwest::{Client, Response, StatusCode};
use sqlx::Connection;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The PostgreSQL server tests create their databases on.
const PG_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Which database a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
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
                    super::$name($crate::helpers::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(backend) = $crate::helpers::Backend::postgres().await {
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
                    if let Some(backend) = $crate::helpers::Backend::postgres().await {
                        super::super::$name(backend).await
                    }
                }
            }
        )*
    };
}

/// A fresh database, removed when dropped.
pub struct TestDb {
    pub url: String,
    pg_name: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
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

/// A running natter.
pub struct TestApp {
    pub addr: String,
    pub db: TestDb,
    pub config: Config,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<anyhow::Result<()>>>,
}

/// Starts natter on a fresh database.
pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

/// Starts natter on a fresh database with a tweaked configuration.
pub async fn spawn_app_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> TestApp {
    let db = TestDb::new(backend).await;
    let mut config = Config::for_tests(db.url.clone());
    tweak(&mut config);
    start(db, config).await
}

/// Starts two instances on one fresh database at the same moment.
pub async fn spawn_pair(backend: Backend) -> (TestApp, TestApp) {
    let db = TestDb::new(backend).await;
    let shared = TestDb {
        url: db.url.clone(),
        pg_name: None,
        _dir: None,
    };
    let config = Config::for_tests(db.url.clone());
    tokio::join!(start(db, config.clone()), start(shared, config))
}

async fn start(db: TestDb, config: Config) -> TestApp {
    let app = App::build(config.clone()).await.expect("natter starts");
    let addr = format!("http://{}", app.addr());
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(app.run(async move {
        let _ = stopped.await;
    }));
    TestApp {
        addr,
        db,
        config,
        stop: Some(stop),
        server: Some(server),
    }
}

impl TestApp {
    /// A new person with an empty cookie jar.
    pub fn user(&self) -> User {
        let client = Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client");
        User {
            client,
            base: self.addr.clone(),
        }
    }

    /// Stops the server gracefully and waits for it.
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

    /// Another natter instance on the same database (for scale-out tests).
    pub async fn peer(&self) -> TestApp {
        let db = TestDb {
            url: self.db.url.clone(),
            pg_name: None,
            _dir: None,
        };
        start(db, self.config.clone()).await
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

    /// Stops this server and starts a new one on the same database.
    pub async fn restart(mut self) -> TestApp {
        self.stop().await;
        let db = std::mem::replace(
            &mut self.db,
            TestDb {
                url: String::new(),
                pg_name: None,
                _dir: None,
            },
        );
        start(db, self.config.clone()).await
    }

    /// Runs one statement on the test database, either backend.
    pub async fn run_sql(&self, sql: &str) {
        if self.db.url.starts_with("sqlite:") {
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
        if self.db.url.starts_with("sqlite:") {
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

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A person: a cookie jar talking to one server.
#[derive(Clone)]
pub struct User {
    pub client: Client,
    pub base: String,
}

impl User {
    /// The same person (same cookies) talking to another server.
    pub fn on(&self, app: &TestApp) -> User {
        User {
            client: self.client.clone(),
            base: app.addr.clone(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> Response {
        self.client
            .post(self.url(path))
            .form(form)
            .send()
            .await
            .expect("POST")
    }

    /// Posts a form with one extra request header (e.g. `Sec-Fetch-Site`).
    pub async fn post_form_with(
        &self,
        path: &str,
        header: (&str, &str),
        form: &[(&str, &str)],
    ) -> Response {
        self.client
            .post(self.url(path))
            .header(header.0, header.1)
            .form(form)
            .send()
            .await
            .expect("POST")
    }

    /// Joins a room; asserts it worked.
    pub async fn join(&self, username: &str, room: &str) {
        let response = self.try_join(username, room).await;
        assert_eq!(
            response.status(),
            StatusCode::SEE_OTHER,
            "join {username} in {room}"
        );
    }

    pub async fn try_join(&self, username: &str, room: &str) -> Response {
        self.post_form(paths::join(), &[("username", username), ("room", room)])
            .await
    }

    /// Posts a message as a plain client; returns the response.
    pub async fn say(&self, room: &str, body: &str) -> Response {
        self.post_form(&paths::messages(&room_name(room)), &[("body", body)])
            .await
    }

    /// Posts a message asking for JSON; asserts 201 and returns its seq.
    pub async fn say_json(&self, room: &str, body: &str) -> i64 {
        let response = self
            .client
            .post(self.url(&paths::messages(&room_name(room))))
            .header("accept", "application/json")
            .form(&[("body", body)])
            .send()
            .await
            .expect("POST");
        assert_eq!(response.status(), StatusCode::CREATED);
        let json: serde_json::Value = response.json().await.expect("json");
        json["seq"].as_i64().expect("seq")
    }

    /// Opens the room's event stream; asserts it is one.
    pub async fn events(&self, room: &str, headers: HeaderMap) -> Sse {
        let response = self
            .open_events(&paths::events(&room_name(room)), headers)
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap_or("")
            .to_owned();
        assert!(
            content_type.starts_with("text/event-stream"),
            "{content_type}"
        );
        Sse::new(response)
    }

    pub async fn open_events(&self, path: &str, headers: HeaderMap) -> Response {
        // No overall timeout: a stream lives as long as the test wants.
        let client = self.client.clone();
        client
            .get(self.url(path))
            .headers(headers)
            .timeout(Duration::from_secs(3600))
            .send()
            .await
            .expect("GET events")
    }

    pub async fn text(&self, path: &str) -> (StatusCode, String) {
        let response = self.get(path).await;
        let status = response.status();
        (status, response.text().await.expect("body"))
    }
}

/// One SSE event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub id: Option<String>,
    pub event: Option<String>,
    pub data: String,
}

impl Event {
    pub fn seq(&self) -> i64 {
        self.id
            .as_deref()
            .and_then(|id| id.parse().ok())
            .expect("event has a numeric id")
    }
}

/// A small SSE reader over a real response body.
pub struct Sse {
    stream:
        std::pin::Pin<Box<dyn futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    buffer: String,
}

impl Sse {
    pub fn new(response: Response) -> Self {
        Self {
            stream: Box::pin(response.bytes_stream()),
            buffer: String::new(),
        }
    }

    /// The next event, or `None` if none arrives within `wait` or the
    /// stream ends.
    pub async fn next_within(&mut self, wait: Duration) -> Option<Event> {
        tokio::time::timeout(wait, self.next_event())
            .await
            .ok()
            .flatten()
    }

    async fn next_event(&mut self) -> Option<Event> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut event = Event {
                    id: None,
                    event: None,
                    data: String::new(),
                };
                let mut has_data = false;
                for line in block.lines() {
                    if line.starts_with(':') || line.is_empty() {
                        continue;
                    }
                    let (field, value) = line.split_once(':').unwrap_or((line, ""));
                    let value = value.strip_prefix(' ').unwrap_or(value);
                    match field {
                        "id" => event.id = Some(value.to_owned()),
                        "event" => event.event = Some(value.to_owned()),
                        "data" => {
                            if has_data {
                                event.data.push('\n');
                            }
                            event.data.push_str(value);
                            has_data = true;
                        }
                        _ => {}
                    }
                }
                if has_data || event.id.is_some() {
                    return Some(event);
                }
                continue;
            }
            match self.stream.next().await {
                Some(Ok(chunk)) => self.buffer.push_str(&String::from_utf8_lossy(&chunk)),
                _ => return None,
            }
        }
    }

    /// Every event until the stream ends, or `None` if it is still open
    /// after `wait`.
    pub async fn until_end(&mut self, wait: Duration) -> Option<Vec<Event>> {
        tokio::time::timeout(wait, async {
            let mut events = Vec::new();
            while let Some(event) = self.next_event().await {
                events.push(event);
            }
            events
        })
        .await
        .ok()
    }

    /// The seqs of exactly `count` events, each within `wait` of the previous.
    pub async fn take_seqs(&mut self, count: usize, wait: Duration) -> Vec<i64> {
        self.take(count, wait)
            .await
            .iter()
            .map(Event::seq)
            .collect()
    }

    /// Exactly `count` events, each within `wait` of the previous.
    pub async fn take(&mut self, count: usize, wait: Duration) -> Vec<Event> {
        let mut events = Vec::with_capacity(count);
        while events.len() < count {
            match self.next_within(wait).await {
                Some(event) => events.push(event),
                None => panic!("only {} of {count} events arrived", events.len()),
            }
        }
        events
    }
}

/// Headers with one entry.
/// The session id the response sets, if it sets one (`natter=` stripped).
pub fn session_cookie(response: &Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .find_map(|value| {
            let value = value.to_str().ok()?;
            let pair = value.split(';').next()?;
            pair.strip_prefix("natter=").map(str::to_owned)
        })
}

pub fn header(name: &'static str, value: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(name, value.parse().expect("header value"));
    headers
}

/// `id="message-N"` occurrences in a page or fragment, in order.
pub fn message_seqs(html: &str) -> Vec<i64> {
    html.match_indices("id=\"message-")
        .filter_map(|(at, _)| {
            let rest = &html[at + 12..];
            rest[..rest.find('"')?].parse().ok()
        })
        .collect()
}

/// A room the tests name, as the paths take it.
fn room_name(room: &str) -> RoomName {
    RoomName::parse(room).expect("a room name")
}
