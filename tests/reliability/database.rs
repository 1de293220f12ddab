//! SQLite locked by another connection for longer than the busy timeout.
//! (PostgreSQL going away is covered by tests/api/scale.rs.)

use std::time::{Duration, Instant};

use sqlx::Connection;

use crate::client::{http, join, Posted};
use natter_kit::presets::unlimited;
use natter_kit::{spawn_app_with, Backend};

/// Longer than the 2 s busy timeout in `store::Store::connect`.
const LOCK_HELD: Duration = Duration::from_secs(10);

/// Another connection holds the write lock for 10 s: posts get a 503 with a
/// sentence, `/healthz` says 503, nothing is half-stored (no seq burned),
/// streams stay open, and once the lock goes everything works again by
/// itself, the open streams included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_database_gives_503s_and_recovers_by_itself() {
    let app = spawn_app_with(Backend::Sqlite, unlimited).await;
    let http = http();
    let alice = join(&http, &app.addr, "alice", "lobby").await;
    let bob = join(&http, &app.addr, "bob", "lobby").await;
    let carol = join(&http, &app.addr, "carol", "lobby").await;
    let mut before = bob.events(Some(0)).await;
    assert_eq!(alice.say(&http, "before").await, 1);
    assert_eq!(
        before
            .next_within(Duration::from_secs(10))
            .await
            .map(|e| e.seq()),
        Some(1)
    );

    let mut locker = sqlx::SqliteConnection::connect(&app.db.url)
        .await
        .expect("sqlite");
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut locker)
        .await
        .expect("lock");
    let locked = Instant::now();

    let health = |http: reqwest::Client, base: String| async move {
        let response = http
            .get(format!("{base}/healthz"))
            .send()
            .await
            .expect("healthz");
        response.status().as_u16()
    };
    let (health_status, posts) = tokio::join!(
        health(http.clone(), app.addr.clone()),
        futures_util::future::join_all((0..3).map(|i| {
            let (alice, http) = (alice.clone(), http.clone());
            async move { alice.post(&http, &format!("during {i}")).await }
        }))
    );
    assert_eq!(
        health_status, 503,
        "/healthz while the database cannot take writes"
    );
    for posted in posts {
        match posted {
            Posted::Refused(503, sentence) => assert!(
                sentence.contains("try again"),
                "a sentence for the user: {sentence:?}"
            ),
            other => panic!("a post during the lock: {other:?}"),
        }
    }
    // Reads still work: a stream opens during the lock.
    let mut during = carol.events(Some(0)).await;
    assert_eq!(
        during
            .next_within(Duration::from_secs(10))
            .await
            .map(|e| e.seq()),
        Some(1)
    );
    assert!(
        locked.elapsed() < LOCK_HELD,
        "the checks ran while the lock was held"
    );
    tokio::time::sleep(LOCK_HELD.saturating_sub(locked.elapsed())).await;
    sqlx::query("ROLLBACK")
        .execute(&mut locker)
        .await
        .expect("unlock");
    drop(locker);

    // Recovery needs nobody's help.
    let deadline = Instant::now() + Duration::from_secs(10);
    while health(http.clone(), app.addr.clone()).await != 200 {
        assert!(Instant::now() < deadline, "/healthz recovers within 10 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        alice.say(&http, "after").await,
        2,
        "no seq was burned by the failed posts"
    );
    for stream in [&mut before, &mut during] {
        let next = stream.next_within(Duration::from_secs(10)).await;
        assert_eq!(next.map(|e| e.seq()), Some(2), "the open stream carries on");
        assert!(stream
            .next_within(Duration::from_millis(300))
            .await
            .is_none());
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 2);
    assert_eq!(app.count("SELECT last_seq FROM rooms").await, 2);
}
