//! No catch-up storms (#18): on two instances sharing PostgreSQL, with
//! posters on both, the database reads for delivery do not grow with the
//! subscribers. Each instance is a process of its own, so its metrics
//! (`natter_catch_up_reads_total`) count only its own reads.

use std::time::Duration;

use natter_kit::{Backend, TestDb};

use crate::client::{assert_exactly_once, http, join, Member};
use crate::process::Server;

/// Subscribers per instance.
const SUBSCRIBERS: usize = 20;

/// Posts per poster; one poster on each instance.
const POSTS: usize = 60;

const WAIT: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catch_up_reads_do_not_grow_with_subscribers() {
    let Some(backend) = Backend::postgres().await else {
        return;
    };
    let db = TestDb::new(backend).await;
    let (metrics_a, metrics_b) = (free_port(), free_port());
    let a = Server::start_with(&db.url, &metrics_flag(metrics_a));
    let b = Server::start_with(&db.url, &metrics_flag(metrics_b));
    let http = http();

    // Subscribers on both instances, each its own member (the session
    // store is shared, so a cookie from a join on A works on B).
    let mut streams = Vec::new();
    for i in 0..SUBSCRIBERS * 2 {
        let mut member = join(&http, &a.base, &format!("s{i}"), "lobby").await;
        if i % 2 == 1 {
            member.base.clone_from(&b.base);
        }
        let stream = member.events(None).await;
        streams.push((member, stream));
    }
    let on_a = join(&http, &a.base, "poster-a", "lobby").await;
    let mut on_b = join(&http, &a.base, "poster-b", "lobby").await;
    on_b.base.clone_from(&b.base);

    // Both post at once: each instance's own posts interleave with the
    // other's arriving through the relay, the race that made every
    // subscriber read the store by itself.
    let post_all = |poster: Member, label: &'static str| {
        let http = http.clone();
        async move {
            for n in 0..POSTS {
                poster.say(&http, &format!("{label} {n}")).await;
            }
        }
    };
    tokio::join!(post_all(on_a, "a"), post_all(on_b, "b"));
    let total = POSTS * 2;
    for (member, stream) in streams {
        let (events, _, _) = member.follow(stream, total, WAIT).await;
        let seqs: Vec<i64> = events.iter().map(|e| e.seq()).collect();
        assert_exactly_once(&seqs, total as i64, &member.base);
    }

    for (name, port) in [("A", metrics_a), ("B", metrics_b)] {
        let text = scrape(&http, port).await;
        let feed = sample(&text, r#"natter_catch_up_reads_total{by="feed"}"#);
        let shared = sample(&text, r#"natter_catch_up_reads_total{by="relay"}"#);
        eprintln!("instance {name}: {feed} reads by feeds, {shared} shared reads, {total} posts");
        // Each gap is read once for all the instance's subscribers, never
        // by each of them: the subscribers' own reads stay at zero, and
        // the shared ones stay below the number of posts.
        assert_eq!(
            feed, 0,
            "instance {name}: subscribers read the store themselves"
        );
        assert!(
            shared <= total as u64,
            "instance {name}: {shared} shared reads for {total} posts"
        );
    }
}

fn metrics_flag(port: u16) -> Vec<String> {
    vec!["--metrics-bind".into(), format!("127.0.0.1:{port}")]
}

/// A port nobody listens on now (a small race with other programs).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free port")
}

async fn scrape(http: &reqwest::Client, port: u16) -> String {
    http.get(format!("http://127.0.0.1:{port}/metrics"))
        .send()
        .await
        .expect("metrics answer")
        .text()
        .await
        .expect("metrics text")
}

/// The value of one sample line, 0 if the series is not there yet.
fn sample(text: &str, series: &str) -> u64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse::<f64>().ok())
        .map_or(0, |value| value as u64)
}
