//! The stream on the wire. natter writes every event stream itself (no
//! hyper buffers): on a connection that opens with the events request, and
//! on one that already served another request, which hyper hands back
//! (`src/serve/handoff.rs`). Both must look the same to a client as a
//! stream hyper writes, end the same way at shutdown, and a closed stream
//! must free its place at once.

use std::time::Duration;

use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use natter::chat::RoomName;
use natter::paths;

use natter_kit::{session_cookie, spawn_app, spawn_app_with, Backend, TestApp};

natter_kit::on_both_backends!(
    a_fresh_and_a_reused_connection_stream_alike,
    a_closed_stream_frees_its_place_at_once,
    a_stranger_gets_a_sentence_and_the_connection_ends,
    an_http_1_0_client_gets_its_stream_unchunked,
    a_connection_that_sent_nothing_does_not_hold_up_shutdown,
    both_paths_end_a_stream_with_its_last_chunk_at_shutdown,
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
    let path = paths::events(&RoomName::parse(room).expect("a room name"));
    format!("GET {path} HTTP/1.1\r\nHost: natter\r\nCookie: {cookie}\r\n\r\n")
}

/// The response head's header lines, names lowercased, in order.
fn header_lines(text: &str) -> Vec<(String, String)> {
    let head = text.split("\r\n\r\n").next().unwrap_or_default();
    head.split("\r\n")
        .skip(1)
        .filter_map(|line| line.split_once(": "))
        .map(|(name, value)| (name.to_ascii_lowercase(), value.to_owned()))
        .collect()
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
/// events request, on one that served `/healthz` first (as a browser's
/// stream follows its page) and on one hyper writes (a `GET` with a body,
/// which natter leaves to hyper). natter writes the first two itself
/// (`connection: close`, so a route the hand-off no longer follows shows
/// here), with the headers hyper writes for the third and the same values,
/// `date` included, and no `content-length`.
async fn a_fresh_and_a_reused_connection_stream_alike(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user();
    alice.join("alice", "lobby").await;
    let bob = cookie(&app, "bob", "lobby").await;

    let mut fresh = open(&app, events_request("lobby", &bob).as_bytes()).await;
    let mut reused = open(&app, b"GET /healthz HTTP/1.1\r\nHost: natter\r\n\r\n").await;
    let mut reused_seen = Vec::new();
    read_until(&mut reused, &mut reused_seen, "ok\n").await;
    reused_seen.clear();
    reused
        .write_all(events_request("lobby", &bob).as_bytes())
        .await
        .expect("write");
    let with_body =
        events_request("lobby", &bob).replace("\r\n\r\n", "\r\nContent-Length: 1\r\n\r\nx");
    let mut hypers = open(&app, with_body.as_bytes()).await;
    let mut seen = [Vec::new(), Vec::new(), Vec::new()];
    for (stream, seen) in [&mut fresh, &mut reused, &mut hypers]
        .into_iter()
        .zip(&mut seen)
    {
        read_until(stream, seen, ": natter").await;
    }

    alice.say("lobby", "hello <all>").await;
    let mut heads = Vec::new();
    for (stream, seen) in [&mut fresh, &mut reused, &mut hypers]
        .into_iter()
        .zip(&mut seen)
    {
        let text = read_until(stream, seen, "hello &lt;all&gt;").await;
        assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
        assert!(text.contains("id: 1\n"), "{text}");
        heads.push(header_lines(&text));
    }
    let connection = ("connection".to_owned(), "close".to_owned());
    let hyper_head = heads.pop().expect("hyper's head");
    assert!(
        !hyper_head.contains(&connection),
        "hyper wrote {hyper_head:?}"
    );
    for head in &mut heads {
        assert!(head.contains(&connection), "natter wrote {head:?}");
        head.retain(|line| *line != connection);
    }
    // The date differs by the second at most; its shape is hyper's.
    let date = |head: &[(String, String)]| {
        let dates: Vec<String> = head
            .iter()
            .filter(|(name, _)| name == "date")
            .map(|(_, value)| value.clone())
            .collect();
        assert_eq!(dates.len(), 1, "one date in {head:?}");
        dates[0].clone()
    };
    for head in heads.iter().chain([&hyper_head]) {
        let date = date(head);
        assert_eq!(date.len(), "Sun, 06 Nov 1994 08:49:37 GMT".len(), "{date}");
        assert!(date.ends_with(" GMT"), "{date}");
    }
    let without_date = |head: &[(String, String)]| {
        let mut lines: Vec<(String, String)> = head
            .iter()
            .filter(|(name, _)| name != "date")
            .cloned()
            .collect();
        lines.sort();
        lines
    };
    for head in &heads {
        assert_eq!(without_date(head), without_date(&hyper_head));
    }
    let names: Vec<&str> = hyper_head.iter().map(|(name, _)| name.as_str()).collect();
    for expected in [
        "content-type",
        "cache-control",
        "transfer-encoding",
        "content-security-policy",
        "x-content-type-options",
        "date",
    ] {
        assert!(names.contains(&expected), "{expected} in {names:?}");
    }
    assert!(!names.contains(&"content-length"), "{names:?}");
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
    let text = read_until(&mut stream, &mut seen, "plain</div>").await;
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

/// At shutdown a stream ends cleanly, with its last chunk, whichever path
/// writes it, so its client resumes with `Last-Event-ID`.
async fn both_paths_end_a_stream_with_its_last_chunk_at_shutdown(backend: Backend) {
    let mut app = spawn_app(backend).await;
    let bob = cookie(&app, "bob", "lobby").await;
    let mut fresh = open(&app, events_request("lobby", &bob).as_bytes()).await;
    let mut reused = open(&app, b"GET /healthz HTTP/1.1\r\nHost: natter\r\n\r\n").await;
    let (mut fresh_seen, mut reused_seen) = (Vec::new(), Vec::new());
    read_until(&mut reused, &mut reused_seen, "ok\n").await;
    reused
        .write_all(events_request("lobby", &bob).as_bytes())
        .await
        .expect("write");
    read_until(&mut fresh, &mut fresh_seen, ": natter").await;
    read_until(&mut reused, &mut reused_seen, ": natter").await;
    app.stop().await;
    for (stream, seen) in [(&mut fresh, fresh_seen), (&mut reused, reused_seen)] {
        let mut rest = Vec::new();
        let ended = tokio::time::timeout(WAIT, stream.read_to_end(&mut rest)).await;
        assert!(ended.is_ok(), "the stream ends");
        let text = String::from_utf8_lossy(&[seen, rest].concat()).into_owned();
        assert!(text.ends_with("\r\n0\r\n\r\n"), "{text}");
    }
}
