//! Webhooks (#17): a post that calls a bot reaches its receiver signed and
//! keyed, is retried until answered, survives a restart, may be answered
//! with a reply the bot posts, and never goes where the policy refuses.
//!
//! The receiver is a small axum server on 127.0.0.1 that records what it
//! gets and answers as the test says.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use natter::chat::Username;
use natter_kit::{spawn_app_with, Backend, TestApp, User};
use serde_json::Value;
use sha2::Sha256;
use sqlx::Connection;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::helpers::eventually;

natter_kit::on_both_backends!(
    a_mention_reaches_the_receiver_signed_and_keyed,
    a_bot_that_wants_every_post_gets_all_but_its_own,
    a_failed_delivery_is_retried_until_the_receiver_recovers,
    a_queued_delivery_survives_a_restart,
    a_plain_text_or_json_answer_is_posted_as_the_bot,
    refused_addresses_are_never_sent_and_the_status_says_why,
    a_delivery_that_keeps_failing_is_given_up,
    redirects_are_checked_and_bounded,
);

mod cases {
    natter_kit::postgres_only!(two_instances_send_each_delivery_once);
}

/// Deliveries are polled every second and retried with backoff: generous.
const WAIT: Duration = Duration::from_secs(20);

/// What the receiver got: one request.
#[derive(Debug, Clone)]
struct Received {
    headers: HeaderMap,
    body: Bytes,
    /// The status the receiver answered with.
    answered: u16,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON payload")
    }
}

/// How the receiver answers: status, content type and body (for a 3xx,
/// the `Location`).
type Answer = (u16, &'static str, &'static str);

#[derive(Clone, Default)]
struct Shared {
    got: Arc<Mutex<Vec<Received>>>,
    answer: Arc<Mutex<Option<Answer>>>,
}

/// A webhook receiver on 127.0.0.1.
struct Receiver {
    addr: SocketAddr,
    shared: Shared,
    server: JoinHandle<()>,
}

impl Receiver {
    /// A receiver on a free port answering `answer`.
    async fn start(answer: Answer) -> Self {
        Self::start_on(0, Shared::default(), answer).await
    }

    async fn start_on(port: u16, shared: Shared, answer: Answer) -> Self {
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

    fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    fn answer(&self, answer: Answer) {
        *self.shared.answer.lock().expect("lock") = Some(answer);
    }

    fn got(&self) -> Vec<Received> {
        self.shared.got.lock().expect("lock").clone()
    }

    /// Waits for at least `count` requests.
    async fn wait_for(&self, count: usize) -> Vec<Received> {
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
    async fn stop(self) -> Shared {
        self.server.abort();
        let _ = self.server.await;
        self.shared
    }
}

async fn receive(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
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
struct Bot {
    id: i64,
    secret: String,
}

/// Creates bot `name` in `room` (where `owner` is a member) with a
/// webhook to `url`, as a member does: `POST /rooms/{room}/bots`.
async fn create_bot(
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
async fn insert_bot(app: &TestApp, room: &str, name: &str, url: &str, all: bool) -> Bot {
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
async fn text(app: &TestApp, sql: &str) -> Option<String> {
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
async fn status_where(app: &TestApp, bot: &Bot, wanted: impl Fn(&str) -> bool) -> String {
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
fn expected_signature(secret: &str, body: &[u8]) -> String {
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
async fn app_with_alice(backend: Backend, give_up_secs: u64) -> (TestApp, User) {
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
async fn bot_posts(app: &TestApp, bot: &Bot) -> usize {
    usize::try_from(
        app.count(&format!(
            "SELECT COUNT(*) FROM messages WHERE author_id = {} AND bot = 1",
            bot.id
        ))
        .await,
    )
    .expect("a count")
}

/// `@deploy` reaches the receiver with the message JSON, the HMAC of the
/// body, the room:seq key twice and natter's user agent; a post that does
/// not mention it, posted just before, is never sent.
async fn a_mention_reaches_the_receiver_signed_and_keyed(backend: Backend) {
    let (app, alice) = app_with_alice(backend, 3600).await;
    let receiver = Receiver::start((200, "text/plain", "")).await;
    let bot = create_bot(&app, &alice, "lobby", "deploy", &receiver.url(), false).await;
    alice.say_json("lobby", "nothing for bots here").await;
    let seq = alice.say_json("lobby", "@deploy ship it").await;
    let got = receiver.wait_for(1).await;
    // The quiet post came first: once the mention is sent, it was skipped.
    assert_eq!(got.len(), 1, "{got:?}");
    let request = &got[0];
    assert_eq!(request.header("content-type"), "application/json");
    assert_eq!(request.header("user-agent"), "natter-webhook");
    assert_eq!(request.header("idempotency-key"), format!("lobby:{seq}"));
    assert_eq!(request.header("x-natter-delivery"), format!("lobby:{seq}"));
    assert_eq!(
        request.header("x-natter-signature"),
        expected_signature(&bot.secret, &request.body)
    );
    let json = request.json();
    assert_eq!(json["room"], "lobby");
    assert_eq!(json["message"]["seq"], seq);
    assert_eq!(json["message"]["author"], "alice");
    assert_eq!(json["message"]["body"], "@deploy ship it");
    assert_eq!(
        json["reply_url"],
        format!("{}/rooms/lobby/messages", app.addr)
    );
    status_where(&app, &bot, |s| s == "delivered (200)").await;
    let (_, listed) = alice.get_json("/rooms/lobby/bots").await;
    assert_eq!(listed[0]["name"], "deploy");
    assert_eq!(listed[0]["last_delivery"]["status"], "delivered (200)");
    let queued = app
        .count(&format!(
            "SELECT COUNT(*) FROM webhook_deliveries WHERE bot_id = {}",
            bot.id
        ))
        .await;
    assert_eq!(queued, 1);
}

/// A bot created with `all` gets every post, and not its own reply.
async fn a_bot_that_wants_every_post_gets_all_but_its_own(backend: Backend) {
    let (app, alice) = app_with_alice(backend, 3600).await;
    let receiver = Receiver::start((200, "text/plain", "heard")).await;
    let bot = create_bot(&app, &alice, "lobby", "echo", &receiver.url(), true).await;
    let first = alice.say_json("lobby", "one").await;
    receiver.wait_for(1).await;
    eventually("the bot's reply", WAIT, || async {
        match bot_posts(&app, &bot).await {
            1 => Ok(()),
            n => Err(format!("{n} posts")),
        }
    })
    .await;
    let second = alice.say_json("lobby", "two").await;
    assert_eq!(second, first + 2, "the reply is between them");
    let got = receiver.wait_for(2).await;
    let seqs: Vec<Value> = got
        .iter()
        .map(|r| r.json()["message"]["seq"].clone())
        .collect();
    assert_eq!(seqs, [first, second]);
    let queued = app
        .count(&format!(
            "SELECT COUNT(*) FROM webhook_deliveries WHERE bot_id = {}",
            bot.id
        ))
        .await;
    assert_eq!(queued, 2, "the bot's own reply is not queued");
}

/// A 500 is retried with the same bytes and key until the receiver
/// answers 200; then it is delivered, once.
async fn a_failed_delivery_is_retried_until_the_receiver_recovers(backend: Backend) {
    let (app, alice) = app_with_alice(backend, 3600).await;
    let receiver = Receiver::start((500, "text/plain", "down")).await;
    let bot = create_bot(&app, &alice, "lobby", "deploy", &receiver.url(), false).await;
    alice.say_json("lobby", "@deploy go").await;
    receiver.wait_for(2).await;
    status_where(&app, &bot, |s| s == "failed (500), retrying").await;
    receiver.answer((200, "text/plain", ""));
    status_where(&app, &bot, |s| s == "delivered (200)").await;
    let got = receiver.got();
    let delivered: Vec<&Received> = got.iter().filter(|r| r.answered == 200).collect();
    assert_eq!(delivered.len(), 1, "{got:?}");
    assert!(got.iter().all(|r| r.body == got[0].body));
    assert!(got
        .iter()
        .all(|r| r.header("idempotency-key") == got[0].header("idempotency-key")));
    let attempts = app
        .count(&format!(
            "SELECT attempts FROM webhook_deliveries WHERE bot_id = {} AND done_at IS NOT NULL",
            bot.id
        ))
        .await;
    assert_eq!(usize::try_from(attempts).expect("attempts"), got.len());
}

/// A delivery whose receiver is down is still queued after a restart, and
/// delivered once the receiver is up.
async fn a_queued_delivery_survives_a_restart(backend: Backend) {
    let (mut app, alice) = app_with_alice(backend, 3600).await;
    let receiver = Receiver::start((200, "text/plain", "")).await;
    let port = receiver.addr.port();
    let url = receiver.url();
    let shared = receiver.stop().await;
    let bot = create_bot(&app, &alice, "lobby", "deploy", &url, false).await;
    let seq = alice.say_json("lobby", "@deploy after the restart").await;
    status_where(&app, &bot, |s| s.contains("connection refused")).await;
    app.stop().await;
    let receiver = Receiver::start_on(port, shared, (200, "text/plain", "")).await;
    app.restart().await;
    let got = receiver.wait_for(1).await;
    assert_eq!(got[0].header("idempotency-key"), format!("lobby:{seq}"));
    status_where(&app, &bot, |s| s == "delivered (200)").await;
}

/// The receiver's `text/plain` answer, and then its JSON `{"body"}`, are
/// posted into the room as the bot; a body that cannot be a message is
/// recorded instead.
async fn a_plain_text_or_json_answer_is_posted_as_the_bot(backend: Backend) {
    let (app, alice) = app_with_alice(backend, 3600).await;
    let receiver = Receiver::start((200, "text/plain; charset=utf-8", "  pong\n")).await;
    let bot = create_bot(&app, &alice, "lobby", "pinger", &receiver.url(), false).await;
    // The bot's posts, as the read API shows them to alice.
    let replies = |count: usize| {
        let alice = &alice;
        async move {
            eventually("the bot's replies", WAIT, || async {
                let (_, json) = alice.get_json("/rooms/lobby/messages?after=0").await;
                let bodies: Vec<String> = json["messages"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|m| m["author"] == "pinger" && m["bot"] == true)
                    .filter_map(|m| m["body"].as_str().map(str::to_owned))
                    .collect();
                if bodies.len() >= count {
                    Ok(bodies)
                } else {
                    Err(format!("{json}"))
                }
            })
            .await
        }
    };
    alice.say_json("lobby", "@pinger ping").await;
    assert_eq!(replies(1).await, ["pong"]);
    receiver.answer((200, "application/json", r#"{"body": "pong in **JSON**"}"#));
    alice.say_json("lobby", "@pinger again").await;
    assert_eq!(replies(2).await, ["pong", "pong in **JSON**"]);
    receiver.answer((200, "application/json", r#"{"body": "   "}"#));
    alice.say_json("lobby", "@pinger blank").await;
    let status = status_where(&app, &bot, |s| s.contains("not posted")).await;
    assert_eq!(
        status,
        "delivered (200); the reply was not posted: A message cannot be empty."
    );
    assert_eq!(bot_posts(&app, &bot).await, 2);
}

/// With no allow list, webhooks to the metadata address, a private
/// address or a name that resolves to loopback are refused before any
/// connection, and each bot's status says why.
async fn refused_addresses_are_never_sent_and_the_status_says_why(backend: Backend) {
    let app = spawn_app_with(backend, |_| {}).await;
    let alice = app.user();
    alice.join("alice", "lobby").await;
    let receiver = Receiver::start((200, "text/plain", "")).await;
    let local = format!("http://localhost:{}/hook", receiver.addr.port());
    let cases = [
        (
            "meta",
            "http://169.254.169.254/latest/meta-data",
            "169.254.169.254 is a link-local address",
        ),
        (
            "inside",
            "http://10.0.0.1/hook",
            "10.0.0.1 is a private address",
        ),
        ("local", local.as_str(), "is a loopback address"),
    ];
    let mut bots = Vec::new();
    for (name, url, _) in &cases {
        bots.push(insert_bot(&app, "lobby", name, url, false).await);
    }
    alice.say_json("lobby", "@meta @inside @local hello").await;
    for (bot, (_, _, why)) in bots.iter().zip(&cases) {
        let status = status_where(&app, bot, |s| s.contains("not allowed")).await;
        assert!(
            status.starts_with("failed: the address is not allowed: "),
            "{status}"
        );
        assert!(status.contains(why), "{status}");
    }
    assert!(receiver.got().is_empty(), "nothing reached loopback");
}

/// With `--webhook-give-up-secs 2`, a receiver that keeps failing is given
/// up, and the bot's status and the delivery say so.
async fn a_delivery_that_keeps_failing_is_given_up(backend: Backend) {
    let (app, alice) = app_with_alice(backend, 2).await;
    let receiver = Receiver::start((503, "text/plain", "busy")).await;
    let bot = create_bot(&app, &alice, "lobby", "deploy", &receiver.url(), false).await;
    alice.say_json("lobby", "@deploy are you there").await;
    let status = status_where(&app, &bot, |s| s.starts_with("gave up")).await;
    let attempts = receiver.got().len();
    assert!(attempts >= 2, "retried before giving up: {attempts}");
    assert_eq!(
        status,
        format!("gave up after {attempts} attempts: answered 503")
    );
    let outcome = text(
        &app,
        &format!(
            "SELECT outcome FROM webhook_deliveries WHERE bot_id = {} AND done_at IS NOT NULL",
            bot.id
        ),
    )
    .await;
    assert_eq!(outcome.as_deref(), Some(status.as_str()));
}

/// A redirect to an inside address is refused like the address itself,
/// and a redirect loop stops after three.
async fn redirects_are_checked_and_bounded(backend: Backend) {
    let (app, alice) = app_with_alice(backend, 3600).await;
    let inside = Receiver::start((307, "", "http://10.0.0.1/hook")).await;
    let looping = Receiver::start((307, "", "/again")).await;
    let to_inside = create_bot(&app, &alice, "lobby", "inside", &inside.url(), false).await;
    let to_loop = create_bot(&app, &alice, "lobby", "looping", &looping.url(), false).await;
    alice.say_json("lobby", "@inside @looping hello").await;
    let status = status_where(&app, &to_inside, |s| s.starts_with("failed:")).await;
    assert_eq!(
        status,
        "failed: the address is not allowed: 10.0.0.1 is a private address, retrying"
    );
    let status = status_where(&app, &to_loop, |s| s.starts_with("failed:")).await;
    assert_eq!(status, "failed: too many redirects, retrying");
    // The first request and three redirects, then the error.
    assert!(looping.got().len() >= 4, "{}", looping.got().len());
}

/// Two instances on one PostgreSQL database scan and claim the same queue:
/// every post reaches an `all` bot's receiver once.
async fn two_instances_send_each_delivery_once(backend: Backend) {
    let (a, alice) = app_with_alice(backend, 3600).await;
    let b = a.peer().await;
    let receiver = Receiver::start((200, "text/plain", "")).await;
    let bot = create_bot(&a, &alice, "lobby", "all", &receiver.url(), true).await;
    let mut seqs = Vec::new();
    for n in 0..20 {
        seqs.push(alice.say_json("lobby", &format!("post {n}")).await);
    }
    let got = receiver.wait_for(seqs.len()).await;
    status_where(&a, &bot, |s| s == "delivered (200)").await;
    let done = a
        .count(&format!(
            "SELECT COUNT(*) FROM webhook_deliveries WHERE bot_id = {} AND done_at IS NOT NULL",
            bot.id
        ))
        .await;
    assert_eq!(done, 20);
    let mut keys: Vec<String> = receiver
        .got()
        .iter()
        .map(|r| r.header("idempotency-key").to_owned())
        .collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), receiver.got().len(), "no key twice");
    assert_eq!(got.len(), 20);
    drop(b);
}
