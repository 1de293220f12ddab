//! The accept loop: HTTP/1.1 connections with bounded request heads, in
//! time and in size, and a graceful shutdown that waits for in-flight
//! requests and event streams only.
//!
//! `axum::serve` gives no way to set hyper's header read timeout, so a
//! client sending its headers a byte a minute would hold a connection
//! forever (slowloris). Here every connection must finish its request head
//! within `header_timeout`, and a head may be at most [`MAX_HEAD`] bytes
//! (hyper answers 431 to a longer one).
//!
//! Only HTTP/1.1 (and 1.0) is spoken: natter sits behind a TLS-terminating
//! proxy, which speaks HTTP/1.1 to it. hyper-util's auto builder would also
//! speak HTTP/2 in cleartext to a client opening with the HTTP/2 preface,
//! and the header read timeout does not cover HTTP/2, so such a client
//! could hold its connection forever. hyper's `http1` builder refuses the
//! preface and closes the connection.
//!
//! Event streams are natter's to write, not hyper's (see `stream`): a
//! connection that opens with one skips hyper (`head`), and one asked for
//! on a connection hyper serves is handed back to natter (`handoff`). An
//! idle stream then costs about 4 KB instead of 20–28.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1::Builder;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

mod handoff;
mod head;
mod rewind;
mod stream;

use handoff::Handoff;
pub use head::MAX_HEAD;
use rewind::Rewind;
use stream::{Drain, First};

/// How long shutdown waits for in-flight requests and streams before
/// giving up on them.
const DRAIN: Duration = Duration::from_secs(10);

/// Serves `router` on `listener` until `stop` resolves, then stops
/// accepting and waits (up to 10 s) for open connections to finish. Event
/// streams written here end when `stop` resolves; those hyper writes must
/// be ended by the caller then (the router's handler).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    header_timeout: Duration,
    stop: impl Future<Output = ()>,
) {
    let mut builder = Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .max_header_size(MAX_HEAD);
    // Configured once and shared by every connection's task.
    let builder = Arc::new(builder);
    let graceful = GracefulShutdown::new();
    let stopping = CancellationToken::new();
    tokio::pin!(stop);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Usually out of file descriptors: back off, keep serving.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        // Messages are small and latency matters more than packet count.
        let _ = stream.set_nodelay(true);
        let (router, builder) = (router.clone(), Arc::clone(&builder));
        let opening = Opening {
            watcher: graceful.watcher(),
            stopping: stopping.clone(),
            header_timeout,
        };
        tokio::spawn(connection(stream, peer, router, builder, opening));
    }
    drop(listener);
    stopping.cancel();
    if tokio::time::timeout(DRAIN, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after {DRAIN:?}; stopping anyway");
    }
}

/// What a new connection needs to know while it opens.
struct Opening {
    /// Holds shutdown until the connection ends, whichever path serves it.
    watcher: Watcher,
    /// Cancelled when shutdown starts.
    stopping: CancellationToken,
    /// How long the first request head may take.
    header_timeout: Duration,
}

/// Serves one connection: an event stream natter writes itself, or hyper.
async fn connection(
    mut stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    builder: Arc<Builder>,
    opening: Opening,
) {
    let first = tokio::time::timeout(
        opening.header_timeout,
        stream::read_first(&mut stream, peer),
    );
    let read = tokio::select! {
        first = first => match first {
            Ok(First::Events(request)) => {
                let drain = Drain { watcher: opening.watcher, stopping: opening.stopping };
                return stream::respond(stream, router, request, drain).await;
            }
            Ok(First::Other(read)) => read,
            // Closed, or too slow to send its first request (slowloris).
            Ok(First::Closed) | Err(_) => return,
        },
        // A connection that has sent nothing yet (an HTTP client's spare,
        // say) must not hold up shutdown.
        () = opening.stopping.cancelled() => return,
    };
    let (service, mut handed) = Handoff::new(router.clone(), peer);
    let io = TokioIo::new(Rewind::new(read, stream));
    let mut connection = builder.serve_connection(io, service);
    // As hyper-util's graceful watcher does: once shutdown starts, hyper
    // finishes the request in hand and closes; the watcher is held until
    // this task ends, so the drain waits for it.
    let Opening {
        watcher, stopping, ..
    } = opening;
    let mut shutting_down = false;
    let request = loop {
        tokio::select! {
            ended = &mut connection => {
                if let Err(error) = ended {
                    tracing::debug!(%error, %peer, "connection ended with an error");
                }
                return;
            }
            // The sender lives in hyper's service: it is not dropped while
            // the connection runs, so this resolves only with a request.
            Ok(request) = &mut handed => break request,
            () = stopping.cancelled(), if !shutting_down => {
                shutting_down = true;
                Pin::new(&mut connection).graceful_shutdown();
            }
        }
    };
    // One more turn lets hyper flush what it may still hold for a client
    // that pipelined; the service's answer stays pending for good.
    let flushed = std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut connection).poll(cx))).await;
    if flushed.is_ready() {
        // hyper is done with the connection (the client went away).
        return;
    }
    let parts = connection.into_parts();
    let stream = parts.io.into_inner().into_inner();
    let drain = Drain { watcher, stopping };
    stream::respond(stream, router, request, drain).await;
}

#[cfg(test)]
mod tests;
