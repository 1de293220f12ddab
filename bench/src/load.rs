//! Request-rate modes: many posters as fast as acknowledgements come back
//! (optionally with subscribers listening), and the room page.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use serde_json::json;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::fanout::subscribe;
use super::http::Conn;
use super::procfs::sample;
use super::report::{percentile, Run};
use super::sse::{self, message_text, Shared};
use super::target::{Cookie, Target};

/// The post-throughput workload.
#[derive(Debug, Clone, clap::Args)]
pub struct PostArgs {
    /// Concurrent posters, each a member on its own connection.
    #[arg(long, default_value_t = 32)]
    pub posters: usize,
    /// Subscribers listening meanwhile.
    #[arg(long, default_value_t = 0)]
    pub subscribers: usize,
    /// The subscribers listen in another room: the posts are not fanned
    /// out to them (measures posting next to idle streams).
    #[arg(long)]
    pub elsewhere: bool,
    /// Seconds of posting.
    #[arg(long, default_value_t = 10)]
    pub secs: u64,
    /// Bytes of message text.
    #[arg(long, default_value_t = 300)]
    pub size: usize,
    /// Percent of requests that toggle a reaction instead of posting
    /// (the mixed workload: `--reactions 15 --edits 5`).
    #[arg(long, default_value_t = 0)]
    pub reactions: usize,
    /// Percent of requests that edit the poster's own message.
    #[arg(long, default_value_t = 0)]
    pub edits: usize,
    /// Put before the posters' and subscribers' names, so that several
    /// bench processes can share one room (one per instance).
    #[arg(long, default_value = "")]
    pub names: String,
}

/// The page workload.
#[derive(Debug, Clone, clap::Args)]
pub struct PageArgs {
    /// Concurrent connections asking for the page.
    #[arg(long, default_value_t = 16)]
    pub conns: usize,
    /// Seconds of asking.
    #[arg(long, default_value_t = 10)]
    pub secs: u64,
}

/// Runs `conns` loops of `request` for `secs`; returns each acknowledged
/// request's latency in µs, and the failures.
async fn hammer<F>(
    target: &Target,
    cookies: Vec<Cookie>,
    secs: u64,
    request: F,
) -> Result<(Vec<u32>, u64)>
where
    F: Fn(&Cookie, usize) -> Vec<u8> + Send + Sync + 'static,
{
    let request = Arc::new(request);
    let stop = Instant::now() + Duration::from_secs(secs);
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = JoinSet::new();
    for cookie in cookies {
        let (target, request, next) = (target.clone(), request.clone(), next.clone());
        tasks.spawn(async move {
            let mut conn = Conn::connect(target.addr).await?;
            let (mut latencies, mut failed) = (Vec::new(), 0u64);
            while Instant::now() < stop {
                let seq = next.fetch_add(1, Ordering::Relaxed) as usize;
                let started = Instant::now();
                let (head, _) = conn.roundtrip(&request(&cookie, seq)).await?;
                if (200..300).contains(&head.status) {
                    latencies.push(started.elapsed().as_micros() as u32);
                } else {
                    failed += 1;
                }
            }
            anyhow::Ok((latencies, failed))
        });
    }
    let (mut all, mut failed) = (Vec::new(), 0);
    while let Some(done) = tasks.join_next().await {
        let (latencies, fails) = done??;
        all.extend(latencies);
        failed += fails;
    }
    all.sort_unstable();
    Ok((all, failed))
}

/// Many posters, each posting as soon as its last post was acknowledged.
pub async fn posts(target: &Target, pid: Option<u32>, args: &PostArgs) -> Result<Run> {
    let shared = Arc::new(Shared {
        epoch: Instant::now(),
        messages: 0,
        delivered: AtomicU64::new(0),
        duplicates: AtomicU64::new(0),
        broken: AtomicU64::new(0),
        events: AtomicU64::new(0),
        stop: CancellationToken::new(),
    });
    let mut listening = target.clone();
    if args.elsewhere {
        listening.room = format!("{}-elsewhere", target.room);
    }
    let (streams, _, _) =
        subscribe(&listening, &format!("{}s", args.names), args.subscribers).await?;
    let listeners: Vec<_> = streams
        .into_iter()
        .map(|stream| tokio::spawn(sse::listen(stream, shared.clone())))
        .collect();
    let cookies = target
        .join_many(&format!("{}p", args.names), args.posters, 16)
        .await?;
    // Each poster's own message, for edits and reactions to change.
    let own = if args.reactions + args.edits > 0 {
        own_messages(target, &cookies).await?
    } else {
        HashMap::new()
    };
    let setup_posts = own.len() as u64;
    let (size, publisher, clock) = (args.size, target.clone(), shared.clone());
    let (reactions, edits) = (args.reactions, args.edits);
    let (gen_start, server_start) = (sample(None)?, sample(pid)?);
    let (latencies, failed) = hammer(target, cookies, args.secs, move |cookie, n| {
        let text = message_text(n, clock.now_us(), size);
        let mine = cookie
            .as_deref()
            .and_then(|cookie| own.get(cookie))
            .copied();
        match (n % 100, mine) {
            (roll, Some(seq)) if roll < edits => publisher.edit_request(cookie, seq, &text),
            (roll, Some(seq)) if roll < edits + reactions => {
                publisher.react_request(cookie, seq, EMOJI[n % EMOJI.len()])
            }
            _ => publisher.publish_request(cookie, &text),
        }
    })
    .await?;
    let (server_end, gen_end) = (sample(pid)?, sample(None)?);
    let acked = latencies.len() as u64;
    // The setup's own messages reach the subscribers too.
    let expected = if args.elsewhere {
        0
    } else {
        (acked + setup_posts) * args.subscribers as u64
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while shared.delivered.load(Ordering::Relaxed) < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    shared.stop.cancel();
    for listener in listeners {
        listener.await?;
    }
    let window = server_end.at.duration_since(server_start.at).as_secs_f64();
    let metrics = json!({
        "posts_acked": acked,
        "posts_failed": failed,
        "posts_per_s": acked as f64 / window,
        "post_p50_ms": f64::from(percentile(&latencies, 50.0)) / 1000.0,
        "post_p99_ms": f64::from(percentile(&latencies, 99.0)) / 1000.0,
        "server_cpu_us_per_post": server_end.cpu_since(&server_start) as f64 / acked.max(1) as f64,
        "server_core_load": server_end.load_since(&server_start),
        "generator_core_load": gen_end.load_since(&gen_start),
        "delivered": shared.delivered.load(Ordering::Relaxed),
        "expected_deliveries": expected,
    });
    let config = json!({
        "posters": args.posters,
        "subscribers": args.subscribers,
        "elsewhere": args.elsewhere,
        "size": size,
        "reactions_pct": args.reactions,
        "edits_pct": args.edits,
    });
    Ok(Run::new("posts", target, config, metrics))
}

/// Reactions the mixed workload toggles (short names: plain ASCII forms).
const EMOJI: [&str; 6] = ["+1", "heart", "joy", "tada", "open_mouth", "eyes"];

/// Posts one message per poster; returns each poster's message seq.
async fn own_messages(target: &Target, cookies: &[Cookie]) -> Result<HashMap<Arc<str>, i64>> {
    let mut conn = Conn::connect(target.addr).await?;
    let mut own = HashMap::new();
    for (i, cookie) in cookies.iter().enumerate() {
        let (head, body) = conn
            .roundtrip(&target.publish_request(cookie, &message_text(i, 0, 64)))
            .await?;
        let seq = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|json| json["seq"].as_i64());
        match (head.status, seq, cookie) {
            (201, Some(seq), Some(cookie)) => {
                own.insert(cookie.clone(), seq);
            }
            _ => bail!("mixed setup: post status {}", head.status),
        }
    }
    Ok(own)
}

/// The room page with 50 messages, asked for over and over.
pub async fn page(target: &Target, pid: Option<u32>, args: &PageArgs) -> Result<Run> {
    let mut conn = Conn::connect(target.addr).await?;
    let cookie = target.join(&mut conn, "reader").await?;
    for seq in 0..50 {
        let (head, _) = conn
            .roundtrip(&target.publish_request(&cookie, &message_text(seq, 0, 300)))
            .await?;
        if !target.published(head.status) {
            bail!("page setup: post status {}", head.status);
        }
    }
    let (head, body) = conn.roundtrip(&target.page_request(&cookie)).await?;
    if head.status != 200 {
        bail!("page: status {}", head.status);
    }
    let (gen_start, server_start) = (sample(None)?, sample(pid)?);
    let publisher = target.clone();
    let cookies = vec![cookie; args.conns];
    let (latencies, failed) = hammer(target, cookies, args.secs, move |cookie, _| {
        publisher.page_request(cookie)
    })
    .await?;
    let (server_end, gen_end) = (sample(pid)?, sample(None)?);
    let pages = latencies.len() as u64;
    let window = server_end.at.duration_since(server_start.at).as_secs_f64();
    let metrics = json!({
        "pages": pages,
        "failed": failed,
        "page_bytes": body.len(),
        "pages_per_s": pages as f64 / window,
        "page_p50_ms": f64::from(percentile(&latencies, 50.0)) / 1000.0,
        "page_p99_ms": f64::from(percentile(&latencies, 99.0)) / 1000.0,
        "server_cpu_us_per_page": server_end.cpu_since(&server_start) as f64 / pages.max(1) as f64,
        "server_core_load": server_end.load_since(&server_start),
        "generator_core_load": gen_end.load_since(&gen_start),
    });
    Ok(Run::new(
        "page",
        target,
        json!({"conns": args.conns}),
        metrics,
    ))
}
