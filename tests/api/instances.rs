//! Two instances on one PostgreSQL: what one instance does reaches the
//! other's streams, and nothing stored is held back from anyone.

use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use tokio::io::AsyncWriteExt;

use crate::helpers::header;
use natter_kit::{session_cookie, spawn_app, Backend, TestApp};

const WAIT: Duration = Duration::from_secs(10);

mod cases {
    natter_kit::postgres_only!(
        an_exit_on_one_instance_ends_the_stream_on_the_other,
        a_rotation_on_one_instance_ends_the_old_cookies_stream_on_the_other,
        streams_opening_on_one_instance_hold_back_nothing_posted_on_the_other,
        a_client_that_hangs_up_mid_post_holds_nothing_back,
    );
}

/// alice's stream is on B; she exits through A. The stream ends within a
/// second, and the post made on A right after the exit never reaches it.
async fn an_exit_on_one_instance_ends_the_stream_on_the_other(backend: Backend) {
    let a = spawn_app(backend).await;
    let b = a.peer().await;
    let alice = a.user();
    alice.join("alice", "lobby").await;
    let bob = a.user();
    bob.join("bob", "lobby").await;
    let mut on_b = alice.on(&b).events("lobby", HeaderMap::new()).await;
    bob.say_json("lobby", "before").await;
    assert_eq!(on_b.take_seqs(1, WAIT).await, vec![1]);
    let exit = alice.post_form("/rooms/lobby/exit", &[]).await;
    assert_eq!(exit.status(), StatusCode::SEE_OTHER);
    bob.say_json("lobby", "after").await;
    let rest = on_b
        .until_end(Duration::from_millis(1500))
        .await
        .expect("the stream on B ended");
    assert!(rest.is_empty(), "nothing after the exit: {rest:?}");
    let again = alice
        .on(&b)
        .open_events("/rooms/lobby/events", HeaderMap::new())
        .await;
    assert_eq!(again.status(), StatusCode::FORBIDDEN);
}

/// A copy of alice's cookie follows the room on B; alice joins another
/// room on A, which rotates her session id: the copy's stream ends.
async fn a_rotation_on_one_instance_ends_the_old_cookies_stream_on_the_other(backend: Backend) {
    let a = spawn_app(backend).await;
    let b = a.peer().await;
    let alice = a.user();
    let joined = alice.try_join("alice", "lobby").await;
    let old = header(
        "cookie",
        &format!("natter={}", session_cookie(&joined).expect("cookie")),
    );
    let response = b.user().open_events("/rooms/lobby/events", old).await;
    assert_eq!(response.status(), StatusCode::OK);
    let mut copy = natter_kit::Sse::new(response);
    alice.join("alice", "other").await;
    let rest = copy
        .until_end(Duration::from_millis(1500))
        .await
        .expect("the copy's stream on B ended");
    assert!(rest.is_empty(), "{rest:?}");
}

/// A reader follows the room on B while other members keep opening and
/// closing streams there (page loads, a rolling restart's reconnects).
/// Each post made on A reaches the reader without waiting for the next.
async fn streams_opening_on_one_instance_hold_back_nothing_posted_on_the_other(backend: Backend) {
    let a = spawn_app(backend).await;
    let b = a.peer().await;
    let reader = b.user();
    reader.join("reader", "lobby").await;
    let mut stream = reader.events("lobby", HeaderMap::new()).await;
    let mut churners = Vec::new();
    for i in 0..4 {
        let user = b.user();
        user.join(&format!("churn{i}"), "lobby").await;
        churners.push(tokio::spawn(async move {
            loop {
                let response = user
                    .open_events("/rooms/lobby/events", HeaderMap::new())
                    .await;
                assert_eq!(response.status(), StatusCode::OK);
                drop(response);
            }
        }));
    }
    let poster = a.user();
    poster.join("poster", "lobby").await;
    for expected in 1..=30 {
        assert_eq!(poster.say_json("lobby", "hello").await, expected);
        let got = stream.take_seqs(1, Duration::from_secs(3)).await;
        assert_eq!(got, vec![expected], "held back on B");
    }
    for churner in churners {
        churner.abort();
    }
}

/// Clients post on A and hang up at once, some while the commit is in
/// flight. Every message that was stored reaches the subscribers on A and
/// on B, with no later post to reveal it.
async fn a_client_that_hangs_up_mid_post_holds_nothing_back(backend: Backend) {
    let a = spawn_app(backend).await;
    let b = a.peer().await;
    let mut streams = Vec::new();
    for app in [&a, &b] {
        let reader = app.user();
        reader
            .join(&format!("reader{}", streams.len()), "lobby")
            .await;
        streams.push(reader.events("lobby", HeaderMap::new()).await);
    }
    let poster = a.user();
    let joined = poster.try_join("poster", "lobby").await;
    let cookie = session_cookie(&joined).expect("cookie");
    let mut seen = 0;
    for round in 0..40u64 {
        // Spread over the time a post takes, so some land mid-commit.
        post_and_hang_up(&a, &cookie, Duration::from_micros(round % 20 * 1000)).await;
        tokio::time::sleep(Duration::from_millis(150)).await;
        let stored = a.count("SELECT COUNT(*) FROM messages").await;
        if stored > seen {
            let expected: Vec<i64> = (seen + 1..=stored).collect();
            for stream in &mut streams {
                let got = stream
                    .take_seqs(expected.len(), Duration::from_secs(3))
                    .await;
                assert_eq!(got, expected, "round {round}");
            }
            seen = stored;
        }
    }
    assert!(seen > 0, "some aborted posts were stored");
}

/// Sends a complete post and closes the connection `after` later, without
/// reading the answer.
async fn post_and_hang_up(app: &TestApp, cookie: &str, after: Duration) {
    let addr = app.addr.trim_start_matches("http://");
    let mut socket = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let body = "body=hung+up";
    let request = format!(
        "POST /rooms/lobby/messages HTTP/1.1\r\nHost: {addr}\r\nCookie: natter={cookie}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    socket.write_all(request.as_bytes()).await.expect("write");
    tokio::time::sleep(after).await;
    drop(socket);
}
