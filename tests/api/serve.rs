//! The accept loop's own defences, below the router: HTTP/1.1 only, a
//! bounded time to send a request head, a bounded head size. They are the
//! same whichever path a request takes (natter's own stream writer or
//! hyper), so SQLite alone is enough here.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use natter_kit::{spawn_app_with, Backend, TestApp};

/// The header timeout these tests run with.
const HEADER_TIMEOUT: Duration = Duration::from_secs(1);

/// Well above the header timeout, well below "forever".
const BOUND: Duration = Duration::from_secs(5);

/// The HTTP/2 client connection preface, then an empty SETTINGS frame.
const H2_PREFACE_AND_SETTINGS: &[u8] =
    b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00";

async fn app() -> TestApp {
    spawn_app_with(Backend::Sqlite, |config| {
        config.header_timeout_secs = HEADER_TIMEOUT.as_secs();
    })
    .await
}

/// Sends `request` on a new connection and reads until the server closes
/// it; `None` if it is still open after `BOUND`.
async fn answer(app: &TestApp, request: &[u8]) -> Option<Vec<u8>> {
    let mut stream = TcpStream::connect(app.addr.trim_start_matches("http://"))
        .await
        .expect("connect");
    stream.write_all(request).await.expect("write");
    let mut seen = Vec::new();
    let read = tokio::time::timeout(BOUND, async {
        let mut buf = [0u8; 4096];
        // A reset is a close too.
        while let Ok(n @ 1..) = stream.read(&mut buf).await {
            seen.extend_from_slice(&buf[..n]);
        }
    })
    .await;
    read.is_ok().then_some(seen)
}

/// A client speaking HTTP/2 in cleartext gets no HTTP/2 (no SETTINGS
/// frame back) and is not held open: the preface alone, or the preface and
/// a SETTINGS frame, is closed within the header timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_without_tls_is_not_spoken() {
    let app = app().await;
    for request in [&H2_PREFACE_AND_SETTINGS[..24], H2_PREFACE_AND_SETTINGS] {
        let started = Instant::now();
        let seen = answer(&app, request)
            .await
            .expect("the connection is closed");
        assert!(started.elapsed() < BOUND, "{:?}", started.elapsed());
        // A SETTINGS frame: a 3-byte length, then type 0x04.
        assert!(seen.get(3) != Some(&0x04), "answered with HTTP/2: {seen:?}");
        assert!(
            seen.is_empty() || seen.starts_with(b"HTTP/1.1 "),
            "{}",
            String::from_utf8_lossy(&seen)
        );
    }
}

/// Half a request head, for a page or for an event stream, is cut off
/// once the header timeout has passed (slowloris), on both paths.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_a_head_is_cut_off_at_the_header_timeout() {
    let app = app().await;
    for request in [
        &b"GET /healthz HTTP/1.1\r\nHost: x\r\n"[..],
        b"GET /rooms/lobby/events HTTP/1.1\r\nHost: x\r\n",
        b"GET /rooms/lobby/ev",
    ] {
        let started = Instant::now();
        let seen = answer(&app, request).await;
        let text = String::from_utf8_lossy(seen.as_deref().unwrap_or_default()).into_owned();
        assert!(seen.is_some(), "still open: {text}");
        assert!(
            started.elapsed() >= HEADER_TIMEOUT - Duration::from_millis(100),
            "closed after {:?}",
            started.elapsed()
        );
        assert!(
            text.is_empty() || text.starts_with("HTTP/1.1 408"),
            "{text}"
        );
    }
}

/// A request head over 16 KiB is refused (431, or a closed connection)
/// on the normal path and on an event stream request; one of 12 KiB is
/// served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_head_over_16_kib_is_refused_on_both_paths() {
    let app = app().await;
    for path in ["/healthz", "/rooms/lobby/events"] {
        let filler = "a".repeat(20 * 1024);
        let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nX-Filler: {filler}\r\n\r\n");
        let seen = answer(&app, request.as_bytes()).await.unwrap_or_default();
        let text = String::from_utf8_lossy(&seen);
        assert!(
            text.is_empty() || text.starts_with("HTTP/1.1 431"),
            "{path}: {text}"
        );
    }
    for (path, status) in [("/healthz", "200"), ("/rooms/lobby/events", "403")] {
        let filler = "a".repeat(12 * 1024);
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: x\r\nX-Filler: {filler}\r\nConnection: close\r\n\r\n"
        );
        let seen = answer(&app, request.as_bytes()).await.unwrap_or_default();
        let text = String::from_utf8_lossy(&seen);
        assert!(
            text.starts_with(&format!("HTTP/1.1 {status}")),
            "{path}: {text}"
        );
    }
}
