//! Bad input: property tests of the parsers, and malformed requests that
//! must get a 4xx (never a 5xx, never a crash, nothing stored).

use std::time::Duration;

use natter::chat::{MessageBody, RoomName, Username};
use proptest::prelude::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::client::{http, join};
use natter_kit::presets::unlimited;
use natter_kit::{spawn_app_with, Backend};

/// Any Unicode, control characters and huge inputs; and inputs built from
/// the characters each parser cares about, so acceptance is common too.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[ \t\r\n\u{0}-\u{1f}\u{7f}-\u{9f}a-zA-Z0-9_.\\-éß\u{130}\u{212a}Ωя\u{200b}\u{feff}\u{3000}]{0,80}",
        prop::collection::vec(any::<char>(), 0..5000).prop_map(|c| c.into_iter().collect()),
        "[a-z \\-]{1,3000}",
        "[ a-zA-Z0-9_.\\-éÉ\u{3000}]{0,40}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, failure_persistence: None, ..ProptestConfig::default() })]

    /// Never panics; an accepted name parses again to itself.
    #[test]
    fn room_names_never_panic_and_round_trip(input in text()) {
        if let Ok(room) = RoomName::parse(&input) {
            prop_assert_eq!(RoomName::parse(room.as_str()), Ok(room.clone()));
            prop_assert!(!room.as_str().is_empty() && room.as_str().len() <= 64);
        }
    }

    /// Never panics; an accepted name parses again to itself.
    #[test]
    fn usernames_never_panic_and_round_trip(input in text()) {
        if let Ok(name) = Username::parse(&input) {
            let again = Username::parse(name.as_str());
            prop_assert_eq!(again.as_ref().map(Username::as_str), Ok(name.as_str()));
            prop_assert_eq!(again.map(|n| n.key().to_owned()), Ok(name.key().to_owned()));
        }
    }

    /// Never panics; an accepted body parses again to itself and holds no
    /// character that could break an SSE frame.
    #[test]
    fn message_bodies_never_panic_and_round_trip(input in text()) {
        if let Ok(body) = MessageBody::parse(&input) {
            prop_assert_eq!(MessageBody::parse(body.as_str()), Ok(body.clone()));
            prop_assert!(!body.as_str().contains('\r'));
            prop_assert!(!body.as_str().is_empty());
        }
    }
}

/// Sends raw bytes and returns the response's status code (`None` if the
/// server closed the connection without answering). The request is written
/// in the background, so a server that answers early is seen answering.
async fn raw_status(addr: &str, request: Vec<u8>) -> Option<u16> {
    let stream = TcpStream::connect(addr.trim_start_matches("http://"))
        .await
        .expect("connect");
    let (mut read, mut write) = stream.into_split();
    // The write half is handed back, not dropped: dropping it would
    // half-close the connection, and hyper drops a request whose client
    // has hung up.
    let writer = tokio::spawn(async move {
        for chunk in request.chunks(64 * 1024) {
            if write.write_all(chunk).await.is_err() {
                break;
            }
        }
        write
    });
    let mut response = Vec::new();
    let mut buf = [0u8; 4096];
    let read_head = async {
        loop {
            match read.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => response.extend_from_slice(&buf[..n]),
            }
            if response.windows(2).any(|w| w == b"\r\n") {
                break;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), read_head)
        .await
        .expect("an answer within 30 s");
    writer.abort();
    let line = String::from_utf8_lossy(&response);
    line.split_whitespace().nth(1)?.parse().ok()
}

fn request(path: &str, cookie: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\n\
         Content-Type: {content_type}\r\nContent-Length: {}\r\nAccept: application/json\r\n\
         Connection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    request
}

const FORM: &str = "application/x-www-form-urlencoded";

/// Table of malformed requests: each gets a 4xx, nothing is stored, and
/// the server still answers afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_get_a_4xx_and_store_nothing() {
    let app = spawn_app_with(Backend::Sqlite, unlimited).await;
    let http = http();
    let alice = join(&http, &app.addr, "alice", "lobby").await;
    let post = "/rooms/lobby/messages";
    let big = vec![b'a'; 50 * 1024 * 1024];
    let mut big_form = b"body=".to_vec();
    big_form.extend_from_slice(&big);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "text/plain",
            request(post, &alice.cookie, "text/plain", b"body=hello"),
        ),
        (
            "JSON",
            request(post, &alice.cookie, "application/json", br#"{"body":"hi"}"#),
        ),
        (
            "multipart",
            request(
                post,
                &alice.cookie,
                "multipart/form-data; boundary=x",
                b"--x--",
            ),
        ),
        ("no content type", {
            let r = format!(
                "POST {post} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {}\r\nContent-Length: 10\r\n\
                 Connection: close\r\n\r\nbody=hello",
                alice.cookie
            );
            r.into_bytes()
        }),
        (
            "missing field",
            request(post, &alice.cookie, FORM, b"other=1"),
        ),
        ("empty form", request(post, &alice.cookie, FORM, b"")),
        (
            "duplicate field",
            request(post, &alice.cookie, FORM, b"body=a&body=b"),
        ),
        (
            "a 50 MB body",
            request(post, &alice.cookie, FORM, &big_form),
        ),
        (
            "join: duplicate",
            request("/join-room", "", FORM, b"username=a&username=b&room=x"),
        ),
        (
            "join: missing room",
            request("/join-room", "", FORM, b"username=zed"),
        ),
        (
            "join: JSON",
            request("/join-room", "", "application/json", b"{}"),
        ),
        ("join: 50 MB", request("/join-room", "", FORM, &big)),
        ("10,000 headers", {
            let mut r = format!("POST {post} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
            for i in 0..10_000 {
                r.push_str(&format!("X-Filler-{i}: {i}\r\n"));
            }
            r.push_str("Content-Length: 0\r\nConnection: close\r\n\r\n");
            r.into_bytes()
        }),
        ("a 1 MB header", {
            let mut r = String::from("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ");
            r.push_str(&"a".repeat(1024 * 1024));
            r.push_str("\r\nConnection: close\r\n\r\n");
            r.into_bytes()
        }),
        (
            "a bad request line",
            b"POST /rooms/lobby/messages HTTP/9.9 what\r\n\r\n".to_vec(),
        ),
        ("a bad Last-Event-ID", {
            let r = format!(
                "GET /rooms/lobby/events HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {}\r\n\
                 Last-Event-ID: \u{1}nope\r\nConnection: close\r\n\r\n",
                alice.cookie
            );
            r.into_bytes()
        }),
    ];
    for (what, bytes) in cases {
        let status = raw_status(&app.addr, bytes).await;
        // A request hyper cannot parse at all may be closed unanswered;
        // anything answered must be a client error.
        eprintln!("{what}: {status:?}");
        match status {
            Some(status) => assert!((400..500).contains(&status), "{what}: got {status}"),
            None => eprintln!("{what}: connection closed without an answer"),
        }
        let health = http.get(format!("{}/healthz", app.addr)).send().await;
        assert_eq!(
            health.map(|r| r.status().as_u16()).ok(),
            Some(200),
            "alive after {what}"
        );
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM messages").await,
        0,
        "nothing stored"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM members").await,
        1,
        "no one else joined"
    );
}

/// Invalid UTF-8 in a form, percent-encoded or raw, is refused with 422
/// (a strict check before axum's lossy form parser) and nothing is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_utf8_in_a_form_is_refused() {
    let app = spawn_app_with(Backend::Sqlite, unlimited).await;
    let http = http();
    let alice = join(&http, &app.addr, "alice", "lobby").await;
    let post = "/rooms/lobby/messages";
    let cases: [(&str, Vec<u8>); 3] = [
        (
            "percent-encoded",
            request(post, &alice.cookie, FORM, b"body=%FF%FE%C3"),
        ),
        (
            "raw bytes",
            request(post, &alice.cookie, FORM, b"body=\xff\xfe\xc3("),
        ),
        (
            "a join",
            request("/join-room", "", FORM, b"username=%FF%FE&room=lobby"),
        ),
    ];
    for (what, bytes) in cases {
        let status = raw_status(&app.addr, bytes).await;
        assert_eq!(status, Some(422), "{what}");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM members").await,
        1,
        "only alice"
    );
}
