//! The webhook tests' receiver (a small axum server on 127.0.0.1 that
//! records what it gets and answers as the test says) and their bots.

use super::*;

pub(crate) const WAIT: Duration = Duration::from_secs(20);

/// What the receiver got: one request.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
    /// The status the receiver answered with.
    pub(crate) answered: u16,
}

impl Received {
    pub(crate) fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON payload")
    }
}

/// How the receiver answers: status, content type and body (for a 3xx,
/// the `Location`).
type Answer = (u16, &'static str, &'static str);

#[derive(Clone, Default)]
pub(crate) struct Shared {
    pub(crate) got: Arc<Mutex<Vec<Received>>>,
    pub(crate) answer: Arc<Mutex<Option<Answer>>>,
}

/// A webhook receiver on 127.0.0.1.
pub(crate) struct Receiver {
    pub(crate) addr: SocketAddr,
    pub(crate) shared: Shared,
    pub(crate) server: JoinHandle<()>,
}

impl Receiver {
    /// A receiver on a free port answering `answer`.
    pub(crate) async fn start(answer: Answer) -> Self {
        Self::start_on(0, Shared::default(), answer).await
    }

    pub(crate) async fn start_on(port: u16, shared: Shared, answer: Answer) -> Self {
        *shared.answer.lock().expect("lock") = Some(answer);
        let listener = TcpListener::bind(("127.0.0.1", port)).await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let app = axum::Router::new()
            .fallback(receive)
            .with_state(shared.clone());
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("receiver");
        });
        Self {
            addr,
            shared,
            server,
        }
    }

    pub(crate) fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    pub(crate) fn answer(&self, answer: Answer) {
        *self.shared.answer.lock().expect("lock") = Some(answer);
    }

    pub(crate) fn got(&self) -> Vec<Received> {
        self.shared.got.lock().expect("lock").clone()
    }

    /// Waits for at least `count` requests.
    pub(crate) async fn wait_for(&self, count: usize) -> Vec<Received> {
        eventually(&format!("{count} webhook requests"), WAIT, || async {
            let got = self.got();
            if got.len() >= count {
                Ok(got)
            } else {
                Err(format!("{} so far", got.len()))
            }
        })
        .await
    }

    /// Stops listening: connections are refused from now on.
    pub(crate) async fn stop(self) -> Shared {
        self.server.abort();
        let _ = self.server.await;
        self.shared
    }
}

pub(crate) async fn receive(
    State(shared): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (status, content_type, text) =
        shared
            .answer
            .lock()
            .expect("lock")
            .unwrap_or((200, "text/plain", ""));
    shared.got.lock().expect("lock").push(Received {
        headers,
        body,
        answered: status,
    });
    let status = StatusCode::from_u16(status).expect("a status");
    if status.is_redirection() {
        return (status, [("location", text)]).into_response();
    }
    (status, [("content-type", content_type)], text).into_response()
}

/// A bot as the tests need it.
pub(crate) struct Bot {
    pub(crate) id: i64,
    pub(crate) secret: String,
}

/// Creates bot `name` in `room` (where `owner` is a member) with a
/// webhook to `url`, as a member does: `POST /rooms/{room}/bots`.
pub(crate) async fn create_bot(
    app: &TestApp,
    owner: &User,
    room: &str,
    name: &str,
    url: &str,
    all: bool,
) -> Bot {
    let response = owner
        .client
        .post(owner.url(&format!("/rooms/{room}/bots")))
        .header("accept", "application/json")
        .json(&serde_json::json!({"name": name, "webhook_url": url, "all": all}))
        .send()
        .await
        .expect("POST bots");
    let status = response.status();
    let json: Value = response.json().await.expect("json");
    assert_eq!(status, StatusCode::CREATED, "{json}");
    let secret = json["webhook_secret"]
        .as_str()
        .expect("a secret")
        .to_owned();
    let id = app
        .count(&format!(
            "SELECT member_id FROM bots WHERE room = '{room}' AND name = '{name}' \
             AND revoked_at IS NULL"
        ))
        .await;
    Bot { id, secret }
}

/// A bot created by SQL, with a webhook URL the routes would refuse.
pub(crate) async fn insert_bot(app: &TestApp, room: &str, name: &str, url: &str, all: bool) -> Bot {
    let key = Username::parse(name).expect("a name").key().to_owned();
    app.run_sql(&format!(
        "INSERT INTO members (room, name, name_key, joined_at, last_seen, bot) \
         VALUES ('{room}', '{name}', '{key}', 0, 0, 1)"
    ))
    .await;
    let id = app
        .count(&format!(
            "SELECT id FROM members WHERE room = '{room}' AND name_key = '{key}'"
        ))
        .await;
    let secret = format!("whsec_test_{name}");
    app.run_sql(&format!(
        "INSERT INTO bots (member_id, room, name, token_hash, secret, webhook_url, all_messages, \
         created_by, created_at, scanned_seq) VALUES ({id}, '{room}', '{name}', 'hash-{id}', \
         '{secret}', '{url}', {}, 'test', 0, (SELECT last_seq FROM rooms WHERE name = '{room}'))",
        i64::from(all)
    ))
    .await;
    Bot { id, secret }
}

/// A text from the test database, straight from SQL.
pub(crate) async fn text(app: &TestApp, sql: &str) -> Option<String> {
    if app.db.is_sqlite() {
        let mut connection = sqlx::SqliteConnection::connect(&app.db.url)
            .await
            .expect("sqlite");
        sqlx::query_scalar(sql)
            .fetch_optional(&mut connection)
            .await
            .expect("query")
            .flatten()
    } else {
        let mut connection = sqlx::PgConnection::connect(&app.db.url)
            .await
            .expect("postgres");
        sqlx::query_scalar(sql)
            .fetch_optional(&mut connection)
            .await
            .expect("query")
            .flatten()
    }
}

/// Waits until the bot's last status satisfies `wanted`; returns it.
pub(crate) async fn status_where(
    app: &TestApp,
    bot: &Bot,
    wanted: impl Fn(&str) -> bool,
) -> String {
    let sql = format!("SELECT last_status FROM bots WHERE member_id = {}", bot.id);
    eventually("the bot's status", WAIT, || async {
        match text(app, &sql).await {
            Some(status) if wanted(&status) => Ok(status),
            other => Err(format!("{other:?}")),
        }
    })
    .await
}

/// The HMAC the receiver expects, computed here from the secret.
pub(crate) fn expected_signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("a key");
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256={hex}")
}

/// natter allowing webhooks to 127.0.0.1, with a member `alice` in lobby.
pub(crate) async fn app_with_alice(backend: Backend, give_up_secs: u64) -> (TestApp, User) {
    let app = spawn_app_with(backend, |config| {
        config.webhook_allow = vec!["127.0.0.1".into()];
        config.webhook_give_up_secs = give_up_secs;
    })
    .await;
    let alice = app.user();
    alice.join("alice", "lobby").await;
    (app, alice)
}

/// The bot's posts, by SQL: (author, body, bot flag).
pub(crate) async fn bot_posts(app: &TestApp, bot: &Bot) -> usize {
    usize::try_from(
        app.count(&format!(
            "SELECT COUNT(*) FROM messages WHERE author_id = {} AND bot = 1",
            bot.id
        ))
        .await,
    )
    .expect("a count")
}
