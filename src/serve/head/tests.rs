//! The head parser against hyper: what natter takes, hyper reads as the
//! same request; and the route matcher against axum's router.

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, Method, StatusCode, Uri, Version};
use axum::routing::get;
use axum::Router;
use http_body::Body as _;
use hyper_util::rt::TokioIo;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::BoxedStrategy;
use proptest::test_runner::{Config, TestRunner};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::ServiceExt;

use super::{is_events_path, parse, Parsed, EVENTS_ROUTE, MAX_HEAD};

fn peer() -> std::net::SocketAddr {
    ([127, 0, 0, 1], 1).into()
}

#[test]
fn only_a_complete_bodiless_events_get_is_taken() {
    let events = b"GET /rooms/lobby/events?after=3 HTTP/1.1\r\nHost: x\r\nCookie: a=b\r\n\r\n";
    match parse(events, peer()) {
        Parsed::Events(request) => {
            assert_eq!(request.uri(), "/rooms/lobby/events?after=3");
            assert_eq!(request.headers()["cookie"], "a=b");
        }
        _ => panic!("an events request was not taken"),
    }
    assert!(matches!(
        parse(b"GET /rooms/lobby/ev", peer()),
        Parsed::Partial
    ));
    assert!(matches!(parse(b"GE", peer()), Parsed::Partial));
    let long = format!(
        "GET /rooms/lobby/events HTTP/1.1\r\nX: {}\r\n\r\n",
        "a".repeat(MAX_HEAD)
    );
    for other in [
        &b"POST /rooms/lobby/messages HTTP/1.1\r\n\r\n"[..],
        b"GET /rooms/lobby HTTP/1.1\r\n",
        b"GET /rooms/lobby/events HTTP/1.1\r\nContent-Length: 4\r\n\r\n",
        b"GET /rooms/lobby/events HTTP/1.1\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n",
        b"GET /rooms/lobby/events HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n",
        b"GET /rooms/lobby/events HTTP/1.1\r\nbad header\r\n\r\n",
        long.as_bytes(),
        &long.as_bytes()[..MAX_HEAD],
    ] {
        assert!(
            matches!(parse(other, peer()), Parsed::NotEvents),
            "{}",
            String::from_utf8_lossy(&other[..other.len().min(80)])
        );
    }
}

/// The matcher reads [`EVENTS_ROUTE`] as axum does: for the same pattern,
/// the same paths match.
#[tokio::test]
async fn the_matcher_follows_axums_router_for_the_events_route() {
    let router = Router::new().route(EVENTS_ROUTE, get(|| async { "events" }));
    for path in [
        "/rooms/lobby/events",
        "/rooms/a%2Fb/events",
        "/rooms/lobby/events/",
        "/rooms//events",
        "/rooms/lobby/Events",
        "/rooms/lobby",
        "/rooms/lobby/events/x",
        "/rooms/a/b/events",
        "//rooms/lobby/events",
        "/",
    ] {
        let request = axum::http::Request::get(path)
            .body(axum::body::Body::empty())
            .expect("request");
        let Ok(response) = router.clone().oneshot(request).await;
        let routed = response.status() == StatusCode::OK;
        assert_eq!(is_events_path(path.as_bytes()), routed, "{path}");
    }
}

/// A request as hyper hands it to a service.
#[derive(Debug)]
struct Seen {
    method: Method,
    uri: Uri,
    version: Version,
    headers: HeaderMap,
    bodiless: bool,
}

/// The requests hyper reads from `bytes` (then the end of the input).
async fn hyper_reads(bytes: Vec<u8>) -> Vec<Seen> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (client, server) = tokio::io::duplex(64 * 1024);
    let record = Arc::clone(&seen);
    let service =
        hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
            let bodiless = request.body().is_end_stream();
            let (parts, _) = request.into_parts();
            if let Ok(mut seen) = record.lock() {
                seen.push(Seen {
                    method: parts.method,
                    uri: parts.uri,
                    version: parts.version,
                    headers: parts.headers,
                    bodiless,
                });
            }
            async { Ok::<_, Infallible>(hyper::Response::new(String::new())) }
        });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.half_close(true).max_header_size(MAX_HEAD);
    let connection = builder.serve_connection(TokioIo::new(server), service);
    let (mut reader, mut writer) = tokio::io::split(client);
    let talk = async move {
        let _ = writer.write_all(&bytes).await;
        let _ = writer.shutdown().await;
        let _ = reader.read_to_end(&mut Vec::new()).await;
    };
    let both = async { tokio::join!(connection, talk) };
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), both).await;
    let seen = std::mem::take(&mut *seen.lock().expect("not poisoned"));
    seen
}

/// Mostly `good`, sometimes one of `odd`.
fn mostly(good: &'static str, odd: Vec<&'static str>) -> BoxedStrategy<&'static str> {
    prop_oneof![6 => Just(good), 1 => select(odd)].boxed()
}

/// Request heads near the events request, with the odd bytes and forms
/// hyper refuses or reads differently.
fn heads() -> impl Strategy<Value = Vec<u8>> {
    let bytes = || prop::collection::vec(any::<u8>(), 0..4);
    let method = mostly("GET", vec!["get", "POST", "HEAD", "GET\0", "G", "PRI"]);
    let space = || mostly(" ", vec!["  ", "\t", "\r", ""]);
    let path = prop_oneof![
        select(vec!["/rooms/lobby/events", "/rooms/lobby/events?after=3"]),
        select(vec![
            "/rooms/a%20b/events",
            "/rooms//events",
            "/rooms/lobby/events/",
            "/rooms/lobby/Events",
            "http://x/rooms/lobby/events",
            "*",
            "/rooms/l\u{f6}/events",
            "/rooms/a b/events",
            "/rooms/lobby/events#top",
            "/rooms/{x}/events",
            "/rooms/lobby/events?a=\"<>\"",
            "/rooms/lobby/events?a=\x7f",
            "",
        ]),
    ];
    let version = mostly(
        "HTTP/1.1",
        vec![
            "HTTP/1.0",
            "HTTP/2.0",
            "HTTP/1.2",
            "http/1.1",
            "HTTP/1",
            "HTTP/1.1 ",
        ],
    );
    let end = || mostly("\r\n", vec!["\n", "\r", "", "\r\r\n"]);
    let good_line = select(vec![
        "Host: x",
        "Cookie: natter=abc",
        "Last-Event-ID: 7",
        "Content-Length: 0",
        "Connection: close",
        "Accept: text/event-stream",
        "X:",
        "X: a\tb",
        "X:  spaced  ",
        "X: \u{e9}",
    ]);
    let odd_line = select(vec![
        "Content-Length: 5",
        "Content-Length: 00",
        "Content-Length: +0",
        "Content-Length: 0, 0",
        "Transfer-Encoding: chunked",
        "Transfer-Encoding: identity",
        "Expect: 100-continue",
        "Upgrade: h2c",
        " folded",
        "\tfolded",
        "Host : x",
        "Ho st: x",
        ": x",
        "X\0: y",
        "X: \x7f",
    ]);
    let line = prop_oneof![
        4 => good_line.prop_map(|line| line.as_bytes().to_vec()),
        2 => odd_line.prop_map(|line| line.as_bytes().to_vec()),
        1 => (select(vec!["X", "Host", "Cookie", "X-\u{e9}"]), bytes())
            .prop_map(|(name, value)| [name.as_bytes(), b": ", &value].concat()),
    ];
    let lines = prop::collection::vec((line, end()), 0..5);
    let after = mostly("", vec!["x", "\r\n", "GET / HTTP/1.1\r\n\r\n"]);
    let first = (method, space(), path, bytes(), space(), version, end());
    (first, lines, end(), after).prop_map(
        |((method, sp1, path, junk, sp2, version, eol), lines, last, after)| {
            let mut head = [method, sp1, path].concat().into_bytes();
            // Odd bytes in the target, now and then.
            if junk.first().is_some_and(|&b| b % 8 == 0) {
                head.extend_from_slice(&junk);
            }
            head.extend_from_slice([sp2, version, eol].concat().as_bytes());
            for (line, end) in lines {
                head.extend_from_slice(&line);
                head.extend_from_slice(end.as_bytes());
            }
            head.extend_from_slice(last.as_bytes());
            head.extend_from_slice(after.as_bytes());
            head
        },
    )
}

/// natter takes only what hyper reads as the same request (method, target,
/// version, headers, no body) and nothing after it; everything else is
/// hyper's.
#[test]
fn natter_takes_only_what_hyper_reads_as_the_same_request() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let taken = AtomicUsize::new(0);
    let mut runner = TestRunner::new(Config {
        cases: 512,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&heads(), |head| {
        let Parsed::Events(request) = parse(&head, peer()) else {
            return Ok(());
        };
        taken.fetch_add(1, Ordering::Relaxed);
        let seen = runtime.block_on(hyper_reads(head.clone()));
        let text = String::from_utf8_lossy(&head);
        prop_assert_eq!(seen.len(), 1, "hyper read {:?} from {:?}", seen, text);
        let seen = &seen[0];
        prop_assert_eq!(&seen.method, request.method(), "{:?}", text);
        prop_assert_eq!(&seen.uri, request.uri(), "{:?}", text);
        prop_assert_eq!(seen.version, request.version(), "{:?}", text);
        prop_assert_eq!(&seen.headers, request.headers(), "{:?}", text);
        prop_assert!(seen.bodiless, "{:?}", text);
        Ok(())
    });
    if let Err(error) = result {
        panic!("{error}");
    }
    // The generator reaches the interesting case often enough.
    let taken = taken.load(Ordering::Relaxed);
    assert!(taken >= 20, "only {taken} of 512 heads were taken");
}
