//! The accept loop with a router of its own: streams natter writes itself
//! take part in graceful shutdown.

use std::convert::Infallible;
use std::time::Duration;

use axum::body::Body;
use axum::routing::get;
use axum::Router;
use bytes::Bytes;
use futures_util::{stream, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::serve;
use crate::paths::route::EVENTS as EVENTS_ROUTE;

const REQUEST: &[u8] = b"GET /rooms/lobby/events HTTP/1.1\r\nHost: x\r\n\r\n";

/// Serves a router whose event stream is `frames`, forever; returns its
/// address, the stop switch and the server's task.
async fn start<S>(frames: fn() -> S) -> (String, oneshot::Sender<()>, JoinHandle<()>)
where
    S: futures_util::Stream<Item = Result<Bytes, Infallible>> + Send + 'static,
{
    let router = Router::new().route(
        EVENTS_ROUTE,
        get(move || async move { Body::from_stream(frames().chain(stream::pending())) }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address").to_string();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, router, Duration::from_secs(5), async {
        let _ = stopped.await;
    }));
    (addr, stop, server)
}

/// Reads until the connection ends, at most 5 s.
async fn read_to_end(client: &mut TcpStream) -> Option<String> {
    let mut seen = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), client.read_to_end(&mut seen)).await;
    read.is_ok()
        .then(|| String::from_utf8_lossy(&seen).into_owned())
}

/// A stream whose body never ends is ended at shutdown with its last
/// chunk, and the server stops once it has been written.
#[tokio::test]
async fn a_stream_ends_with_its_last_chunk_when_shutdown_starts() {
    let (addr, stop, server) =
        start(|| stream::iter([Ok(Bytes::from_static(b"data: hi\n\n"))])).await;
    let mut client = TcpStream::connect(&addr).await.expect("connect");
    client.write_all(REQUEST).await.expect("write");
    let mut seen = vec![0u8; 4096];
    let mut len = 0;
    while !String::from_utf8_lossy(&seen[..len]).contains("data: hi") {
        let n = client.read(&mut seen[len..]).await.expect("read");
        assert!(n > 0, "the stream ended early");
        len += n;
    }
    let head = String::from_utf8_lossy(&seen[..len]).to_ascii_lowercase();
    assert!(
        head.contains("connection: close\r\n"),
        "natter wrote it: {head}"
    );
    let _ = stop.send(());
    let rest = read_to_end(&mut client).await.expect("the stream ends");
    let all = format!("{head}{rest}");
    assert!(all.ends_with("data: hi\n\n\r\n0\r\n\r\n"), "{all:?}");
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("the server stops")
        .expect("server task");
}

/// A stream whose body always has a frame ready also ends at shutdown,
/// with its last chunk: the writer does not need the body to pause to see
/// that shutdown has started.
#[tokio::test]
async fn a_stream_that_never_pauses_ends_when_shutdown_starts() {
    let (addr, stop, server) =
        start(|| stream::repeat(Ok(Bytes::from_static(b"data: hi\n\n")))).await;
    let mut client = TcpStream::connect(&addr).await.expect("connect");
    client.write_all(REQUEST).await.expect("write");
    let mut seen = vec![0u8; 4096];
    let n = client.read(&mut seen).await.expect("read");
    assert!(n > 0, "the stream ended early");
    let _ = stop.send(());
    let rest = read_to_end(&mut client).await.expect("the stream ends");
    assert!(
        rest.ends_with("\r\n0\r\n\r\n"),
        "{:?}",
        &rest[rest.len().saturating_sub(20)..]
    );
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("the server stops")
        .expect("server task");
}

/// A stream still writing to a client that does not read holds the drain
/// until it is done: the server does not stop under it, and stops once the
/// client has read its last chunk.
#[tokio::test]
async fn the_drain_waits_for_a_stream_still_writing() {
    let (addr, stop, server) =
        start(|| stream::repeat(Ok(Bytes::from(vec![b'x'; 64 * 1024]))).take(256)).await;
    let socket = TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("small buffer");
    let mut client = socket
        .connect(addr.parse().expect("address"))
        .await
        .expect("connect");
    client.write_all(REQUEST).await.expect("write");
    // Time for the stream to fill the socket's buffers and block.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _ = stop.send(());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!server.is_finished(), "the server stopped under the stream");
    let rest = read_to_end(&mut client).await.expect("the stream ends");
    assert!(
        rest.ends_with("\r\n0\r\n\r\n"),
        "{:?}",
        &rest[rest.len().saturating_sub(20)..]
    );
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("the server stops")
        .expect("server task");
}
