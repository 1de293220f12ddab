//! A TCP proxy in front of several natter instances, the way a load
//! balancer stands in front of a rolling restart: each client connection
//! goes to the next upstream in turn, and a connect that fails (refused:
//! the instance is draining or restarting) goes on to the next one, as
//! nginx's `proxy_next_upstream error` does. Then it copies bytes both
//! ways until either side is done.
//!
//! It works at the TCP level and knows nothing of HTTP, so it never sends
//! a request again once a connect has succeeded: a connection an upstream
//! cuts after that reaches the client as a closed connection, for the
//! client to handle (see `rolling`). Real sockets, loopback only.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// What the proxy counted.
#[derive(Default)]
struct Counts {
    /// Client connections taken.
    accepted: AtomicU64,
    /// Connects to an upstream that failed and went on to the next one.
    retried: AtomicU64,
    /// Client connections closed because no upstream took the connect.
    unavailable: AtomicU64,
}

/// A running proxy; it stops accepting when dropped.
pub struct Proxy {
    /// `http://127.0.0.1:port`, where clients connect.
    pub base: String,
    counts: Arc<Counts>,
    accept: JoinHandle<()>,
}

impl Proxy {
    /// Listens on a free loopback port and spreads connections over
    /// `upstreams`.
    pub async fn start(upstreams: Vec<SocketAddr>) -> Self {
        assert!(!upstreams.is_empty(), "a proxy needs an upstream");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let counts = Arc::new(Counts::default());
        let accept = tokio::spawn(accept(listener, Arc::new(upstreams), counts.clone()));
        Self {
            base,
            counts,
            accept,
        }
    }

    /// Client connections taken so far.
    pub fn accepted(&self) -> u64 {
        self.counts.accepted.load(Ordering::Relaxed)
    }

    /// Upstream connects that failed and were tried on the next upstream.
    pub fn retried(&self) -> u64 {
        self.counts.retried.load(Ordering::Relaxed)
    }

    /// Client connections closed because every upstream refused.
    pub fn unavailable(&self) -> u64 {
        self.counts.unavailable.load(Ordering::Relaxed)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

async fn accept(listener: TcpListener, upstreams: Arc<Vec<SocketAddr>>, counts: Arc<Counts>) {
    let next = AtomicUsize::new(0);
    while let Ok((client, _)) = listener.accept().await {
        counts.accepted.fetch_add(1, Ordering::Relaxed);
        let first = next.fetch_add(1, Ordering::Relaxed);
        tokio::spawn(relay(client, upstreams.clone(), first, counts.clone()));
    }
}

/// Connects `client` to the first upstream, from `first` on, that takes
/// the connect, and copies bytes both ways.
async fn relay(
    mut client: TcpStream,
    upstreams: Arc<Vec<SocketAddr>>,
    first: usize,
    counts: Arc<Counts>,
) {
    let _ = client.set_nodelay(true);
    for n in 0..upstreams.len() {
        let upstream = upstreams[(first + n) % upstreams.len()];
        match TcpStream::connect(upstream).await {
            Ok(mut upstream) => {
                let _ = upstream.set_nodelay(true);
                // Either side closing or resetting ends the pair: the
                // other side sees its connection close, as through a real
                // proxy.
                let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                return;
            }
            Err(_) => {
                counts.retried.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    // Every upstream refused: like a proxy with no upstream left (nginx
    // answers 502), the client gets nothing. Counted: a rolling restart
    // must never get here.
    counts.unavailable.fetch_add(1, Ordering::Relaxed);
}
