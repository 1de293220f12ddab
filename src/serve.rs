//! The accept loop: hyper connections with bounded header reads, and a
//! graceful shutdown that waits for in-flight requests only.
//!
//! `axum::serve` does the same but gives no way to set hyper's header read
//! timeout, so a client sending its headers a byte a minute would hold a
//! connection forever (slowloris). Here every connection must finish its
//! headers within `header_timeout`.
//!
//! A connection that opens with an event stream request skips hyper (see
//! `stream`): an idle stream then costs about 3 KB instead of 20.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request};
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

mod rewind;
mod stream;

use rewind::Rewind;
use stream::First;

/// How long shutdown waits for in-flight requests before giving up on them.
const DRAIN: Duration = Duration::from_secs(10);

/// Serves `router` on `listener` until `stop` resolves, then stops
/// accepting and waits (up to 10 s) for open connections to finish. Event
/// streams must be ended by the caller when `stop` resolves.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    header_timeout: Duration,
    stop: impl Future<Output = ()>,
) {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
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
    /// Holds shutdown until the connection ends (once hyper serves it).
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
    builder: Arc<Builder<TokioExecutor>>,
    opening: Opening,
) {
    let first = tokio::time::timeout(
        opening.header_timeout,
        stream::read_first(&mut stream, peer),
    );
    let read = tokio::select! {
        first = first => match first {
            Ok(First::Events(request)) => return stream::respond(stream, router, request).await,
            Ok(First::Other(read)) => read,
            // Closed, or too slow to send its first request (slowloris).
            Ok(First::Closed) | Err(_) => return,
        },
        // A connection that has sent nothing yet (an HTTP client's spare,
        // say) must not hold up shutdown.
        () = opening.stopping.cancelled() => return,
    };
    let service = router.map_request(move |mut request: Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        request
    });
    let io = TokioIo::new(Rewind::new(read, stream));
    let connection = builder
        .serve_connection(io, TowerToHyperService::new(service))
        .into_owned();
    if let Err(error) = opening.watcher.watch(connection).await {
        tracing::debug!(%error, %peer, "connection ended with an error");
    }
}
