//! What operators see inside: Prometheus metrics on an address of their
//! own (`--metrics-bind`, off by default), for docs/OPERATIONS.md.
//!
//! Every measurement is a named function here, so a call site elsewhere is
//! one line that says what happened (`metrics::lagged()`), not how it is
//! counted. Two kinds of number:
//! - **events and timings** (posts, deliveries, catch-up reads, lags,
//!   refused requests; commit latency, relay lag) are counted where they
//!   happen, into the process-wide recorder of the `metrics` crate;
//! - **levels** (open streams, pool connections, live rooms) are read from
//!   the instance's own state at each scrape: they cannot drift from the
//!   truth the way a gauge moved up and down at call sites can, and cost
//!   nothing between scrapes.
//!
//! Why `metrics` + `metrics-exporter-prometheus`: they are the
//! `metrics-rs` project's facade and exporter, maintained together. The
//! handles are plain atomics, and the exporter, with its default features
//! off, only renders the text format: no HTTP stack of its own. natter
//! serves it with axum, already here, on a listener bound in `App::build`
//! like the app's (so port 0 works for tests, and a bad address fails the
//! start, not a background thread).
//!
//! Off costs next to nothing: until [`serve`] installs the recorder, the
//! handles below are unset and every function is one atomic load and a
//! branch. On, a counter is one atomic add (the handles are looked up
//! once, not per call). The recorder is per process: several apps in one
//! process (tests) share the counters, never the levels.

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use metrics::{Counter, Histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::http::AppState;
use crate::live::{Kind, RelayEvent};
use crate::store::Pool;

mod names;

use names::{
    describe, COMMIT, COMMIT_BUCKETS, DELIVERIES, LAGGED, LAG_BUCKETS, LIMIT_KINDS, LIVE_ROOMS,
    LIVE_ROOMS_HELP, OPEN_STREAMS, OPEN_STREAMS_HELP, POOL_IDLE, POOL_IDLE_HELP, POOL_IN_USE,
    POOL_IN_USE_HELP, POSTS, RATE_LIMITED, READS, RELAY_LAG, ROWS,
};

/// Who read the store to deliver changes.
#[derive(Debug, Clone, Copy)]
pub enum Reader {
    /// A subscriber's own feed, catching up after a gap, a lag or a
    /// reconnect.
    Feed,
    /// A read made once for every subscriber of a room here
    /// (`Live::fill`): other instances' commits reported by the relay, a
    /// gap the publisher fills before this instance's own commit, a room's
    /// first stream.
    Relay,
}

/// Which flood limit refused a request (see `http::limit`).
#[derive(Debug, Clone, Copy)]
pub enum Limited {
    /// A post, over the member's or the address's rate.
    Post,
    /// A join, over the address's rate.
    Join,
    /// A typing signal dropped (one per member every two seconds).
    Typing,
    /// A stream over the member's cap in a room (429).
    MemberStreams,
    /// A stream over the instance's cap (503).
    InstanceStreams,
}

/// The recorder's handles, registered once.
struct Handles {
    posts: Counter,
    deliveries: Counter,
    reads: [Counter; 2],
    rows: [Counter; 2],
    lagged: Counter,
    limited: [Counter; 5],
    commit: Histogram,
    relay_lag: Histogram,
}

static HANDLES: OnceLock<Handles> = OnceLock::new();

/// The installed exporter, or why it could not be installed.
static EXPORTER: OnceLock<Result<PrometheusHandle, String>> = OnceLock::new();

/// `n` posts were committed (one transaction: a group commit holds many).
pub fn post_committed(n: usize) {
    if let Some(handles) = HANDLES.get() {
        handles.posts.increment(n as u64);
    }
}

/// A feed handed a frame of this kind to its stream. Keep-alives are not
/// deliveries.
pub fn delivered(kind: Kind) {
    if kind == Kind::KeepAlive {
        return;
    }
    if let Some(handles) = HANDLES.get() {
        handles.deliveries.increment(1);
    }
}

/// `reader` read `rows` changed messages from the store to deliver them.
pub fn catch_up_read(reader: Reader, rows: usize) {
    if let Some(handles) = HANDLES.get() {
        handles.reads[reader as usize].increment(1);
        handles.rows[reader as usize].increment(rows as u64);
    }
}

/// A subscriber fell behind its room's channel and catches up from the
/// store.
pub fn lagged() {
    if let Some(handles) = HANDLES.get() {
        handles.lagged.increment(1);
    }
}

/// A flood limit refused a request.
pub fn rate_limited(kind: Limited) {
    if let Some(handles) = HANDLES.get() {
        handles.limited[kind as usize].increment(1);
    }
}

/// A post's transaction took this long, from its start to its commit.
pub fn commit_latency(took: Duration) {
    if let Some(handles) = HANDLES.get() {
        handles.commit.record(took.as_secs_f64());
    }
}

/// Another instance's notification was handled this long after it was
/// received here.
pub fn relay_lag(took: Duration) {
    if let Some(handles) = HANDLES.get() {
        handles.relay_lag.record(took.as_secs_f64());
    }
}

/// Times a relay event from its receipt until it is dropped (handled):
/// notifications only, not the resync after a lost connection.
pub struct RelayTimer(Option<Instant>);

impl RelayTimer {
    /// Starts timing `event` if metrics are on and it is a notification.
    pub fn start(event: &RelayEvent) -> Self {
        let timed = HANDLES.get().is_some() && !matches!(event, RelayEvent::Resync);
        Self(timed.then(Instant::now))
    }
}

impl Drop for RelayTimer {
    fn drop(&mut self) {
        if let Some(received) = self.0 {
            relay_lag(received.elapsed());
        }
    }
}

/// Installs the recorder (once per process; later calls share it), binds
/// `bind` and serves `GET /metrics` there until the app shuts down.
/// Returns the bound address and the serving task.
pub async fn serve(
    bind: SocketAddr,
    state: &AppState,
) -> anyhow::Result<(SocketAddr, JoinHandle<()>)> {
    let exporter = EXPORTER
        .get_or_init(install)
        .clone()
        .map_err(|error| anyhow::anyhow!("cannot install the metrics recorder: {error}"))?;
    let listener = TcpListener::bind(bind).await?;
    let addr = listener.local_addr()?;
    let shutdown = state.shutdown.clone();
    let router = Router::new()
        .route("/metrics", get(scrape))
        .with_state((exporter.clone(), state.clone()));
    let task = tokio::spawn(async move {
        // Histogram samples wait in the recorder until drained: upkeep
        // drains them when nobody scrapes, so memory stays bounded.
        let upkeep = async {
            let mut every = tokio::time::interval(UPKEEP);
            loop {
                every.tick().await;
                exporter.run_upkeep();
            }
        };
        let server =
            axum::serve(listener, router).with_graceful_shutdown(shutdown.cancelled_owned());
        tokio::select! {
            result = server => if let Err(error) = result {
                tracing::error!(%error, "metrics listener failed");
            },
            () = upkeep => {},
        }
    });
    Ok((addr, task))
}

/// How often histogram samples are drained when nobody scrapes.
const UPKEEP: Duration = Duration::from_secs(5);

/// Builds and installs the recorder, and registers every handle.
fn install() -> Result<PrometheusHandle, String> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(COMMIT.into()), COMMIT_BUCKETS)
        .and_then(|b| b.set_buckets_for_metric(Matcher::Full(RELAY_LAG.into()), LAG_BUCKETS))
        .and_then(PrometheusBuilder::install_recorder)
        .map_err(|error| error.to_string())?;
    describe();
    let reader = |name: &'static str, by: &'static str| metrics::counter!(name, "by" => by);
    let limited = |kind: &'static str| metrics::counter!(RATE_LIMITED, "kind" => kind);
    let handles = Handles {
        posts: metrics::counter!(POSTS),
        deliveries: metrics::counter!(DELIVERIES),
        reads: [reader(READS, "feed"), reader(READS, "relay")],
        rows: [reader(ROWS, "feed"), reader(ROWS, "relay")],
        lagged: metrics::counter!(LAGGED),
        limited: LIMIT_KINDS.map(limited),
        commit: metrics::histogram!(COMMIT),
        relay_lag: metrics::histogram!(RELAY_LAG),
    };
    // Registered here, every series is rendered from the start, at 0: a
    // rate over a series that appears late misses its first increments.
    let _ = HANDLES.set(handles);
    Ok(handle)
}

/// `GET /metrics`: the recorder's counters and histograms, then this
/// instance's levels.
async fn scrape(
    State((exporter, state)): State<(PrometheusHandle, AppState)>,
) -> impl IntoResponse {
    let mut text = exporter.render();
    let (size, idle) = match state.store.pool() {
        Pool::Sqlite(pool) => (pool.size(), pool.num_idle()),
        Pool::Postgres(pool) => (pool.size(), pool.num_idle()),
    };
    let idle = u32::try_from(idle).unwrap_or(u32::MAX);
    let levels = [
        (
            OPEN_STREAMS,
            OPEN_STREAMS_HELP,
            state.limits.open_streams() as u64,
        ),
        (
            POOL_IN_USE,
            POOL_IN_USE_HELP,
            u64::from(size.saturating_sub(idle)),
        ),
        (POOL_IDLE, POOL_IDLE_HELP, u64::from(idle)),
        (
            LIVE_ROOMS,
            LIVE_ROOMS_HELP,
            state.live.hub().room_count() as u64,
        ),
    ];
    for (name, help, value) in levels {
        text.push_str(&format!(
            "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}\n"
        ));
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
}
