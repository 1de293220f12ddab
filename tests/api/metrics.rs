//! Metrics: Prometheus text on an address of its own, never on the app's.

use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::StatusCode;

use crate::helpers::{eventually, SOON};
use natter_kit::{spawn_app, spawn_app_with, Backend, TestApp};

natter_kit::on_both_backends!(posts_streams_and_deliveries_show_on_the_metrics_address_only);

mod cases {
    natter_kit::postgres_only!(the_relay_counts_its_reads_and_lag_where_it_delivers);
}

const WAIT: Duration = Duration::from_secs(10);

/// A free loopback address: bound, read and let go (the launcher has no
/// way to hand back a port 0 it did not choose).
fn free_address() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address")
}

/// One sample's value: `name` alone on its line, no labels.
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

async fn scrape(metrics: SocketAddr) -> String {
    let response = reqwest::get(format!("http://{metrics}/metrics"))
        .await
        .expect("metrics answer");
    assert_eq!(response.status(), StatusCode::OK);
    response.text().await.expect("metrics text")
}

/// Three posts with one stream open: the posts and deliveries counters
/// move (at least: the recorder is shared by every app in this process),
/// open streams is exactly this app's one stream, then none once it is
/// closed; `/metrics` on the app's own port is not found.
async fn posts_streams_and_deliveries_show_on_the_metrics_address_only(backend: Backend) {
    let metrics = free_address();
    let app = spawn_app_with(backend, |c| c.metrics_bind = Some(metrics)).await;
    let alice = app.user();
    alice.join("alice", "lobby").await;
    let mut stream = alice.events("lobby", HeaderMap::new()).await;
    for i in 1..=3 {
        alice.say_json("lobby", &format!("m{i}")).await;
    }
    assert_eq!(stream.take_seqs(3, WAIT).await, vec![1, 2, 3]);

    let text = scrape(metrics).await;
    for counter in ["natter_posts_committed_total", "natter_deliveries_total"] {
        let value = sample(&text, counter).unwrap_or_default();
        assert!(value >= 3.0, "{counter} = {value}:\n{text}");
    }
    assert_eq!(sample(&text, "natter_open_streams"), Some(1.0), "{text}");
    for series in [
        "natter_catch_up_reads_total{by=\"feed\"}",
        "natter_commit_seconds_count",
        "natter_db_connections_idle",
    ] {
        assert!(text.contains(series), "{series} missing:\n{text}");
    }

    drop(stream);
    eventually("no stream open after it closed", SOON, || async {
        match sample(&scrape(metrics).await, "natter_open_streams") {
            Some(0.0) => Ok(()),
            seen => Err(format!("{seen:?}")),
        }
    })
    .await;

    let (status, _) = alice.text("/metrics").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "not on the app's port");
}

/// A post on A reaches a stream on B through the relay: B counts the
/// relay's read of the store and how long it took to handle the
/// notification (at least: counters are shared in this process).
async fn the_relay_counts_its_reads_and_lag_where_it_delivers(backend: Backend) {
    let a = spawn_app(backend).await;
    let metrics = free_address();
    let mut config = a.config.clone();
    config.metrics_bind = Some(metrics);
    let b = TestApp::start(a.db.shared(), config).await;
    let alice = a.user();
    alice.join("alice", "lobby").await;
    let mut on_b = alice.on(&b).events("lobby", HeaderMap::new()).await;
    alice.say_json("lobby", "through the relay").await;
    assert_eq!(on_b.take_seqs(1, WAIT).await, vec![1]);

    let text = scrape(metrics).await;
    let reads = text
        .lines()
        .find_map(|line| line.strip_prefix("natter_catch_up_reads_total{by=\"relay\"} "))
        .and_then(|value| value.parse::<f64>().ok())
        .unwrap_or_default();
    assert!(reads >= 1.0, "relay reads = {reads}:\n{text}");
    let handled = sample(&text, "natter_relay_lag_seconds_count").unwrap_or_default();
    assert!(handled >= 1.0, "relay lag samples = {handled}:\n{text}");
}
