//! Scale-out on PostgreSQL: several instances, one conversation.

use std::collections::HashSet;
use std::time::Duration;

use reqwest::StatusCode;

use crate::helpers::header;
use natter_kit::{spawn_app, spawn_pair, Backend, TestApp};

const WAIT: Duration = Duration::from_secs(15);

mod cases {
    natter_kit::postgres_only!(
        two_instances_share_sessions_and_one_conversation,
        a_killed_listener_resyncs_and_misses_nothing,
        terminated_connections_fail_cleanly_and_recover,
        one_name_wins_a_race_across_instances,
        two_instances_can_start_at_once_on_a_new_database,
    );
}

/// Sessions work on either instance; subscribers on both see every post
/// from both, exactly once and in seq order.
async fn two_instances_share_sessions_and_one_conversation(backend: Backend) {
    let a = spawn_app(backend).await;
    let b = a.peer().await;
    let alice = a.user();
    alice.join("alice", "lobby").await;
    let (status, page) = alice.on(&b).text("/rooms/lobby").await;
    assert_eq!(status, StatusCode::OK, "signed in on B with A's cookie");
    assert!(page.contains(r#"<span class="whoami" title="alice">alice</span>"#));
    let mut streams = Vec::new();
    for (i, app) in [&a, &b, &a, &b].into_iter().enumerate() {
        let reader = app.user();
        reader.join(&format!("reader{i}"), "lobby").await;
        streams.push(reader.events("lobby", header("last-event-id", "0")).await);
    }
    let mut posters = Vec::new();
    for (i, app) in [&a, &b, &a, &b].into_iter().enumerate() {
        let user = app.user();
        user.join(&format!("poster{i}"), "lobby").await;
        posters.push(tokio::spawn(async move {
            for j in 0..15 {
                user.say_json("lobby", &format!("{i}-{j}")).await;
            }
        }));
    }
    for poster in posters {
        poster.await.expect("poster");
    }
    let expected: Vec<i64> = (1..=60).collect();
    for stream in &mut streams {
        let seqs: Vec<i64> = stream.take_seqs(60, WAIT).await;
        assert_eq!(seqs, expected);
        assert!(
            stream
                .next_within(Duration::from_millis(300))
                .await
                .is_none(),
            "no duplicates"
        );
    }
}

/// Posts to lobby as JSON: the stored body on 201, `None` on a 503 (which
/// must carry a sentence); anything else fails the test.
async fn post_or_503(user: &natter_kit::User, body: &str) -> Option<String> {
    let response = user
        .client
        .post(user.url("/rooms/lobby/messages"))
        .header("accept", "application/json")
        .form(&[("body", body)])
        .send()
        .await
        .expect("post");
    match response.status() {
        StatusCode::CREATED => {
            let json: serde_json::Value = response.json().await.expect("json");
            Some(json["body"].as_str().unwrap_or_default().to_owned())
        }
        StatusCode::SERVICE_UNAVAILABLE => {
            let text = response.text().await.unwrap_or_default();
            assert!(text.contains("database"), "a sentence: {text}");
            None
        }
        other => panic!("post answered {other}"),
    }
}

async fn kill_listeners(app: &TestApp) {
    app.admin(&format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE application_name = '{}' AND datname = '{{db}}'",
        natter::store::LISTENER_APPLICATION_NAME
    ))
    .await;
}

/// The listeners' connections are killed and cannot come back for a while
/// (once before B has handed out anything in the room, once after);
/// A posts meanwhile. Once B listens again it resyncs from the database:
/// its subscriber gets every message once, in order, with no further post.
async fn a_killed_listener_resyncs_and_misses_nothing(backend: Backend) {
    let a = spawn_app(backend).await;
    let b = a.peer().await;
    let reader = b.user();
    reader.join("reader", "lobby").await;
    let mut stream = reader.events("lobby", header("last-event-id", "0")).await;
    let poster = a.user();
    poster.join("poster", "lobby").await;
    let mut total = 0;
    // Round 0 goes deaf before B has handed anything out in the room (B
    // can only nudge its subscriber); round 1 after live messages.
    for round in 0..2 {
        let live = if round == 0 { 0 } else { 5 };
        for i in 0..live {
            poster.say_json("lobby", &format!("{round}-live-{i}")).await;
        }
        a.admin("ALTER DATABASE {db} ALLOW_CONNECTIONS false").await;
        kill_listeners(&a).await;
        // Posts need no new connection, but may get one: a 503 is fine.
        let mut acknowledged = 0;
        for i in 0..10 {
            if post_or_503(&poster, &format!("{round}-deaf-{i}"))
                .await
                .is_some()
            {
                acknowledged += 1;
            }
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        a.admin("ALTER DATABASE {db} ALLOW_CONNECTIONS true").await;
        assert!(acknowledged > 0, "round {round}: some posts while deaf");
        let first = total + 1;
        total += live + acknowledged;
        let count = (total - first + 1) as usize;
        let seqs: Vec<i64> = stream.take_seqs(count, WAIT).await;
        assert_eq!(seqs, (first..=total).collect::<Vec<_>>(), "round {round}");
    }
    assert!(
        stream
            .next_within(Duration::from_millis(300))
            .await
            .is_none(),
        "no duplicates"
    );
    poster.say_json("lobby", "after").await;
    assert_eq!(
        stream.next_within(WAIT).await.map(|e| e.seq()),
        Some(total + 1)
    );
}

/// Every natter connection is terminated mid-traffic: posts answer 201 or
/// a clean 503, every acknowledged message is stored, and streams recover.
async fn terminated_connections_fail_cleanly_and_recover(backend: Backend) {
    let a = spawn_app(backend).await;
    let b = a.peer().await;
    let reader = b.user();
    reader.join("reader", "lobby").await;
    let mut stream = reader.events("lobby", header("last-event-id", "0")).await;
    let poster = a.user();
    poster.join("poster", "lobby").await;
    let mut acknowledged = HashSet::new();
    for i in 0..40 {
        if i % 10 == 5 {
            a.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = current_database() AND pid <> pg_backend_pid()",
            )
            .await;
        }
        if let Some(body) = post_or_503(&poster, &format!("m{i}")).await {
            acknowledged.insert(body);
        }
    }
    assert!(
        acknowledged.len() >= 30,
        "recovers by itself: {} of 40",
        acknowledged.len()
    );
    let stored = a.count("SELECT COUNT(*) FROM messages").await;
    assert_eq!(
        stored as usize,
        acknowledged.len(),
        "nothing half-stored, nothing lost"
    );
    assert_eq!(
        a.count("SELECT MAX(seq) FROM messages").await,
        stored,
        "no gaps"
    );
    let events = stream.take(stored as usize, WAIT).await;
    let seqs: Vec<i64> = events.iter().map(|e| e.seq()).collect();
    assert_eq!(seqs, (1..=stored).collect::<Vec<_>>());
    assert_eq!(a.user().get("/healthz").await.status(), StatusCode::OK);
}

/// Two sessions claim one name at the same moment on A and B: one wins.
async fn one_name_wins_a_race_across_instances(backend: Backend) {
    let a = spawn_app(backend).await;
    let b = a.peer().await;
    for round in 0..10 {
        let name = format!("racer{round}");
        let (first, second) = (a.user(), b.user());
        let (one, two) = tokio::join!(
            first.try_join(&name, "lobby"),
            second.try_join(&name, "lobby")
        );
        let mut statuses = [one.status(), two.status()];
        statuses.sort();
        assert_eq!(
            statuses,
            [StatusCode::SEE_OTHER, StatusCode::CONFLICT],
            "round {round}"
        );
    }
    assert_eq!(a.count("SELECT COUNT(*) FROM members").await, 10);
}

/// Migrations run once each even when two instances start together.
async fn two_instances_can_start_at_once_on_a_new_database(backend: Backend) {
    let migrations = std::fs::read_dir("migrations/postgres").map_or(0, |dir| dir.count());
    assert!(migrations > 0, "the migrations are where the test looks");
    for _ in 0..3 {
        let (a, b) = spawn_pair(backend).await;
        assert_eq!(
            a.count("SELECT COUNT(*) FROM _sqlx_migrations").await,
            migrations as i64
        );
        let alice = a.user();
        alice.join("alice", "lobby").await;
        assert_eq!(
            alice.on(&b).get("/rooms/lobby").await.status(),
            StatusCode::OK
        );
    }
}
