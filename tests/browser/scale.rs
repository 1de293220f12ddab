//! Two natter instances on one PostgreSQL, two browsers on two ports: one
//! conversation (issue 5, tried as a new user would).

use std::time::Duration;

use natter::config::Config;
use natter::startup::App;
use sqlx::Connection;
use tokio::sync::oneshot;

use super::support::*;

const PG_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A fresh PostgreSQL database, or `None` (skipped) when PostgreSQL is not
/// reachable, except under `CI=true`.
async fn fresh_database() -> Option<(String, String)> {
    let mut admin = match sqlx::PgConnection::connect(PG_ADMIN_URL).await {
        Ok(admin) => admin,
        Err(error) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("PostgreSQL is required under CI=true: {error}")
        }
        Err(error) => {
            eprintln!("SKIPPED: browser scale-out test: PostgreSQL not reachable ({error})");
            return None;
        }
    };
    let name = format!("natter_browser_{}", std::process::id());
    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut admin)
        .await;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .expect("create database");
    Some((format!("postgres://postgres@127.0.0.1:5432/{name}"), name))
}

/// Starts one natter instance; it stops when the sender is dropped.
async fn instance(url: &str) -> (String, oneshot::Sender<()>) {
    let app = App::build(Config::for_tests(url))
        .await
        .expect("natter starts");
    let base = format!("http://{}", app.addr());
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(app.run(async move {
        let _ = stopped.await;
    }));
    (base, stop)
}

/// Alice's browser talks to instance A, Bob's to instance B: each sees the
/// other's messages live, in the same order; Alice's session works on B.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_browsers_on_two_instances_share_one_conversation() {
    let Some(rig) = rig().await else { return };
    let Some((url, name)) = fresh_database().await else {
        return;
    };
    let (a, stop_a) = instance(&url).await;
    let (b, stop_b) = instance(&url).await;
    let alice = rig.browser_at(&a, Options::default()).await;
    let bob = rig.browser_at(&b, Options::default()).await;
    alice.join("alice", "lobby").await;
    bob.join("bob", "lobby").await;
    for (who, text) in [
        (&alice, "Hello from instance A"),
        (&bob, "Hello from instance B"),
        (&alice, "One conversation"),
    ] {
        who.say(text).await;
        alice.sees_last(text).await;
        bob.sees_last(text).await;
    }
    assert_eq!(alice.messages().await, bob.messages().await);
    // Alice's cookie is good on B too: sessions live in PostgreSQL.
    let alice_on_b = format!("{b}/rooms/lobby");
    alice.client.goto(&alice_on_b).await.expect("open B");
    eventually("alice is in the room on B", || async {
        alice.bodies().await.last().map(String::as_str) == Some("One conversation")
    })
    .await;
    alice.close().await;
    bob.close().await;
    drop((stop_a, stop_b));
    tokio::time::sleep(Duration::from_millis(200)).await;
    if let Ok(mut admin) = sqlx::PgConnection::connect(PG_ADMIN_URL).await {
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut admin)
            .await;
    }
}
