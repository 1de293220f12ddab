//! The stream on the wire. A connection that opens with the events request
//! is written by natter itself (no hyper buffers); the same request on a
//! connection that already served another goes through hyper. Both must
//! look the same to a client, and a closed stream must free its place at
//! once.

use std::time::Duration;

use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use natter::serve::EVENTS_ROUTE;

use crate::helpers::{session_cookie, spawn_app, spawn_app_with, Backend, TestApp};

crate::on_both_backends!(
    a_fresh_and_a_reused_connection_stream_alike,
    a_closed_stream_frees_its_place_at_once,
    a_stranger_gets_a_sentence_and_the_connection_ends,
    an_http_1_0_client_gets_its_stream_unchunked,
    a_connection_that_sent_nothing_does_not_hold_up_shutdown,
);

const WAIT: Duration = Duration::from_secs(10);

/// Joins over HTTP and returns the `natter=…` cookie.
async fn cookie(app: &TestApp, name: &str, room: &str) -> String {
    let response = app.user().try_join(name, room).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    format!(
        "natter={}",
        session_cookie(&response).expect("session cookie")
    )
}

/// The events request for `room`, at the route the router mounts the
/// handler at: if the route is renamed, these requests follow it.
fn events_request(room: &str, cookie: &str) -> String {
    let path = EVENTS_ROUTE.replace("{room}", room);
    format!("GET {path} HTTP/1.1\r\nHost: natter\r\nCookie: {cookie}\r\n\r\n")
}

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.addr.trim_start_matches("http://"))
        .await
        .expect("connect")
}

/// A new connection that has sent `request`.
async fn open(app: &TestApp, request: &[u8]) -> TcpStream {
    let mut stream = connect(app).await;
    stream.write_all(request).await.expect("write");
    stream
}

/// Reads until `needle` has arrived (or the connection ends); returns all.
async fn read_until(stream: &mut TcpStream, seen: &mut Vec<u8>, needle: &str) -> String {
    let found = tokio::time::timeout(WAIT, async {
        while !String::from_utf8_lossy(seen).contains(needle) {
            let mut buf = [0u8; 4096];
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    let text = String::from_utf8_lossy(seen).into_owned();
    assert!(found.is_ok(), "{needle:?} within {WAIT:?}, got {text:?}");
    text
}

/// The head and the first message, on a connection that opens with the
/// events request and on one that served `/healthz` first.
async fn a_fresh_and_a_reused_connection_stream_alike(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user();
    alice.join("alice", "lobby").await;
    let bob = cookie(&app, "bob", "lobby").await;

    let mut fresh = open(&app, events_request("lobby", &bob).as_bytes()).await;
    let mut reused = open(&app, b"GET /healthz HTTP/1.1\r\nHost: natter\r\n\r\n").await;
    let mut reused_seen = Vec::new();
    read_until(&mut reused, &mut reused_seen, "ok\n").await;
    reused
        .write_all(events_request("lobby", &bob).as_bytes())
        .await
        .expect("write");
    let (mut fresh_seen, mut later_seen) = (Vec::new(), Vec::new());
    read_until(&mut fresh, &mut fresh_seen, ": natter").await;
    read_until(&mut reused, &mut later_seen, ": natter").await;

    alice.say("lobby", "hello <both>").await;
    for (stream, seen) in [
        (&mut fresh, &mut fresh_seen),
        (&mut reused, &mut later_seen),
    ] {
        let text = read_until(stream, seen, "hello &#60;both&#62;").await;
        let head = text.to_ascii_lowercase();
        assert!(head.starts_with("http/1.1 200 ok\r\n"), "{head}");
        for expected in [
            "content-type: text/event-stream",
            "cache-control: no-store",
            "transfer-encoding: chunked",
            "content-security-policy: default-src 'self'",
            "x-content-type-options: nosniff",
        ] {
            assert!(head.contains(expected), "{expected} in {head}");
        }
        assert!(text.contains("id: 1\n"), "{text}");
    }
}

/// With one stream allowed per member, closing it lets the next one in
/// right away: the server sees the close without waiting to write.
async fn a_closed_stream_frees_its_place_at_once(backend: Backend) {
    let app = spawn_app_with(backend, |config| config.max_streams_per_member = 1).await;
    let bob = cookie(&app, "bob", "lobby").await;
    for round in 0..3 {
        let mut stream = open(&app, events_request("lobby", &bob).as_bytes()).await;
        let mut seen = Vec::new();
        let text = read_until(&mut stream, &mut seen, "\r\n\r\n").await;
        assert!(text.starts_with("HTTP/1.1 200"), "round {round}: {text}");
        drop(stream);
        // Well before the 15 s keep-alive that would find it otherwise.
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// Without a session the answer is a 403 with a sentence, of a stated
/// length, and the connection closes.
async fn a_stranger_gets_a_sentence_and_the_connection_ends(backend: Backend) {
    let app = spawn_app(backend).await;
    cookie(&app, "alice", "lobby").await;
    let mut stream = open(
        &app,
        b"GET /rooms/lobby/events HTTP/1.1\r\nHost: natter\r\n\r\n",
    )
    .await;
    let mut seen = Vec::new();
    let ended = tokio::time::timeout(WAIT, stream.read_to_end(&mut seen)).await;
    assert!(ended.is_ok(), "the connection closes");
    let text = String::from_utf8_lossy(&seen);
    assert!(text.starts_with("HTTP/1.1 403"), "{text}");
    assert!(
        text.to_ascii_lowercase().contains("content-length: "),
        "{text}"
    );
    assert!(text.contains("Join this room first."), "{text}");
}

/// HTTP/1.0 knows no chunks: the events come as they are, and the stream
/// ends with the connection.
async fn an_http_1_0_client_gets_its_stream_unchunked(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user();
    alice.join("alice", "lobby").await;
    let bob = cookie(&app, "bob", "lobby").await;
    let request = format!("GET /rooms/lobby/events HTTP/1.0\r\nCookie: {bob}\r\n\r\n");
    let mut stream = open(&app, request.as_bytes()).await;
    let mut seen = Vec::new();
    read_until(&mut stream, &mut seen, ": natter\n\n").await;
    alice.say("lobby", "plain").await;
    let text = read_until(&mut stream, &mut seen, "plain</p>").await;
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(
        !text.to_ascii_lowercase().contains("transfer-encoding"),
        "{text}"
    );
    assert!(text.contains("\r\n\r\n: natter\n\nid: 1\n"), "{text}");
}

/// HTTP clients open spare connections they may never use. Shutdown ends
/// them at once rather than waiting out its 10 s drain (hyper closes its
/// idle connections the same way).
async fn a_connection_that_sent_nothing_does_not_hold_up_shutdown(backend: Backend) {
    let mut app = spawn_app(backend).await;
    let _spare = connect(&app).await;
    // Time for the server to accept it (connect returns once the kernel
    // has queued it).
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = std::time::Instant::now();
    app.stop().await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "stopped after {:?}",
        started.elapsed()
    );
}
