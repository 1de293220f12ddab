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
pub(crate) mod support;

use support::*;

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
