//! Fan-out: N subscribers, one poster at a fixed rate, every delivery timed.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use serde_json::{json, Value};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::http::Conn;
use super::procfs::{sample, Sample};
use super::report::{percentile, Run};
use super::sse::{self, message_text, Path, Shared, Stream, MISSING};
use super::target::{setup_limit, Cookie, Target};

/// The fan-out workload.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Subscribers (event streams).
    #[arg(long, short = 'n', default_value_t = 1000)]
    pub subscribers: usize,
    /// Messages posted.
    #[arg(long, short = 'm', default_value_t = 100)]
    pub messages: usize,
    /// Messages per second.
    #[arg(long, default_value_t = 10.0)]
    pub rate: f64,
    /// Bytes of message text.
    #[arg(long, default_value_t = 300)]
    pub size: usize,
    /// Seconds to wait for stragglers after the last post.
    #[arg(long, default_value_t = 10)]
    pub drain_secs: u64,
    /// Seconds between the last stream opening and the idle reading.
    #[arg(long, default_value_t = 2)]
    pub settle_secs: u64,
    /// Typing signals per second while posting (natter only), from a few
    /// members in turn (one member's are passed on every 2 s at most).
    #[arg(long, default_value_t = 0.0)]
    pub typing: f64,
    /// How each stream reaches the server: after the page on the same
    /// connection (`browser`, what browsers and pooling proxies do), or
    /// on a connection of its own (`fresh`).
    #[arg(long, value_enum, default_value_t = Path::Browser)]
    pub path: Path,
}

/// Sends typing signals at `rate` per second, from `typists` in turn,
/// until `stop`; returns how many were sent.
async fn type_at_rate(
    target: Target,
    typists: Vec<Cookie>,
    rate: f64,
    stop: CancellationToken,
) -> Result<u64> {
    let mut conn = Conn::connect(target.addr).await?;
    let start = tokio::time::Instant::now();
    let mut sent = 0u64;
    while !stop.is_cancelled() && !typists.is_empty() {
        let at = start + Duration::from_secs_f64(sent as f64 / rate);
        tokio::select! {
            () = stop.cancelled() => break,
            () = tokio::time::sleep_until(at) => {}
        }
        let typist = &typists[sent as usize % typists.len()];
        let (head, _) = conn.roundtrip(&target.typing_request(typist)).await?;
        if head.status != 204 {
            bail!("typing: status {}", head.status);
        }
        sent += 1;
    }
    Ok(sent)
}

/// Joins `count` users and opens an event stream for each, each on a
/// connection of its own (the posting scenarios measure posts, not
/// streams); returns the streams and the seconds spent joining and connecting.
pub async fn subscribe(
    target: &Target,
    prefix: &str,
    count: usize,
) -> Result<(Vec<Stream>, f64, f64)> {
    let started = Instant::now();
    let cookies = target.join_many(prefix, count, 16).await?;
    let join_secs = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let streams = open_all(target, cookies, Path::Fresh).await?;
    Ok((streams, join_secs, started.elapsed().as_secs_f64()))
}

/// Opens an event stream per cookie along `path`, a bounded number at a
/// time.
pub async fn open_all(target: &Target, cookies: Vec<Cookie>, path: Path) -> Result<Vec<Stream>> {
    let count = cookies.len();
    let limit = setup_limit();
    let mut opening = JoinSet::new();
    for (i, cookie) in cookies.into_iter().enumerate() {
        let permit = limit.clone().acquire_owned().await?;
        let target = target.clone();
        opening.spawn(async move {
            let stream = sse::open(&target, &cookie, path).await;
            drop(permit);
            (i, stream)
        });
    }
    let mut streams = Vec::with_capacity(count);
    while let Some(opened) = opening.join_next().await {
        let (i, stream) = opened?;
        match stream {
            Ok(stream) => streams.push(stream),
            Err(error) => bail!("subscriber {i}: {error:#}"),
        }
    }
    Ok(streams)
}

/// Waits at least `secs`, then until no event has arrived for a second
/// (at most a minute more): opening thousands of streams sends presence
/// panels to every one of them, and the idle reading and the first post
/// must not find them still in flight. Returns the seconds waited.
async fn settle(shared: &Shared, secs: u64) -> f64 {
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(secs)).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = shared.events.load(Ordering::Relaxed);
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = shared.events.load(Ordering::Relaxed);
        if now == seen {
            break;
        }
        seen = now;
    }
    started.elapsed().as_secs_f64()
}

/// Posts `messages` at `rate` over a few keep-alive connections, stamping
/// each with its send time; returns (acknowledged, failed).
pub async fn post_at_rate(
    target: &Target,
    cookie: &Cookie,
    shared: &Arc<Shared>,
    messages: usize,
    rate: f64,
    size: usize,
) -> Result<(u64, u64)> {
    let (give_back, mut idle) = tokio::sync::mpsc::unbounded_channel::<Conn>();
    for _ in 0..4 {
        give_back.send(Conn::connect(target.addr).await?)?;
    }
    let acked = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let start = tokio::time::Instant::now();
    let mut tasks = JoinSet::new();
    for seq in 0..messages {
        tokio::time::sleep_until(start + Duration::from_secs_f64(seq as f64 / rate)).await;
        let Some(mut conn) = idle.recv().await else {
            break;
        };
        let (target, cookie, shared) = (target.clone(), cookie.clone(), shared.clone());
        let (give_back, acked, failed) = (give_back.clone(), acked.clone(), failed.clone());
        tasks.spawn(async move {
            let text = message_text(seq, shared.now_us(), size);
            let request = target.publish_request(&cookie, &text);
            match conn.roundtrip(&request).await {
                Ok((head, _)) if target.published(head.status) => {
                    acked.fetch_add(1, Ordering::Relaxed);
                    let _ = give_back.send(conn);
                }
                Ok((head, _)) => {
                    eprintln!("post {seq}: status {}", head.status);
                    failed.fetch_add(1, Ordering::Relaxed);
                    let _ = give_back.send(conn);
                }
                Err(error) => {
                    eprintln!("post {seq}: {error:#}");
                    failed.fetch_add(1, Ordering::Relaxed);
                    if let Ok(conn) = Conn::connect(target.addr).await {
                        let _ = give_back.send(conn);
                    }
                }
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    Ok((
        acked.load(Ordering::Relaxed),
        failed.load(Ordering::Relaxed),
    ))
}

/// Runs the fan-out workload against a server whose pid is `pid`.
pub async fn run(target: &Target, pid: Option<u32>, args: &Args) -> Result<Run> {
    let (n, m) = (args.subscribers, args.messages);
    let fresh = sample(pid)?;
    let mut poster_conn = Conn::connect(target.addr).await?;
    let poster = target.join(&mut poster_conn, "poster").await?;
    drop(poster_conn);
    let started = Instant::now();
    let cookies = target.join_many("u", n, 16).await?;
    let join_secs = started.elapsed().as_secs_f64();
    let before = sample(pid)?;
    let streams = open_all(target, cookies, args.path).await?;
    let connect_secs = before.at.elapsed().as_secs_f64();
    let shared = Arc::new(Shared {
        epoch: Instant::now(),
        messages: m,
        delivered: AtomicU64::new(0),
        duplicates: AtomicU64::new(0),
        broken: AtomicU64::new(0),
        events: AtomicU64::new(0),
        stop: CancellationToken::new(),
    });
    let listeners: Vec<_> = streams
        .into_iter()
        .map(|stream| tokio::spawn(sse::listen(stream, shared.clone())))
        .collect();
    let settle_secs = settle(&shared, args.settle_secs).await;
    let idle = sample(pid)?;

    let typists = if args.typing > 0.0 {
        target.join_many("typist", 4, 4).await?
    } else {
        Vec::new()
    };
    let typing_stop = CancellationToken::new();
    let typing = (args.typing > 0.0).then(|| {
        tokio::spawn(type_at_rate(
            target.clone(),
            typists,
            args.typing,
            typing_stop.clone(),
        ))
    });
    let (gen_start, server_start) = (sample(None)?, sample(pid)?);
    let (acked, failed) = post_at_rate(target, &poster, &shared, m, args.rate, args.size).await?;
    typing_stop.cancel();
    let typing_sent = match typing {
        Some(task) => task.await??,
        None => 0,
    };
    let expected = (n * m) as u64;
    let deadline = Instant::now() + Duration::from_secs(args.drain_secs);
    while shared.delivered.load(Ordering::Relaxed) < acked * n as u64 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let (server_end, gen_end): (Sample, Sample) = (sample(pid)?, sample(None)?);
    // Let duplicates, if any, arrive before counting them.
    tokio::time::sleep(Duration::from_millis(200)).await;
    shared.stop.cancel();
    let mut per_message_last = vec![0u32; m];
    let mut all = Vec::with_capacity(n * m);
    for listener in listeners {
        for (seq, &latency) in listener.await?.iter().enumerate() {
            if latency != MISSING {
                all.push(latency);
                per_message_last[seq] = per_message_last[seq].max(latency);
            }
        }
    }
    let after = sample(pid)?;
    all.sort_unstable();
    per_message_last.sort_unstable();
    let delivered = all.len() as u64;
    let window = server_end.at.duration_since(server_start.at).as_secs_f64();
    let cpu_us = server_end.cpu_since(&server_start);
    let per_delivery = cpu_us as f64 / delivered.max(1) as f64;
    let ms = |us: u32| f64::from(us) / 1000.0;
    let metrics = json!({
        "delivered": delivered,
        "expected": expected,
        "gaps": expected - delivered.min(expected),
        "duplicates": shared.duplicates.load(Ordering::Relaxed),
        "broken_streams": shared.broken.load(Ordering::Relaxed),
        "posts_acked": acked,
        "posts_failed": failed,
        "typing_signals": typing_sent,
        "p50_ms": ms(percentile(&all, 50.0)),
        "p99_ms": ms(percentile(&all, 99.0)),
        "max_ms": ms(all.last().copied().unwrap_or(0)),
        "last_subscriber_p50_ms": ms(percentile(&per_message_last, 50.0)),
        "last_subscriber_max_ms": ms(per_message_last.last().copied().unwrap_or(0)),
        "deliveries_per_s": delivered as f64 / window,
        "server_cpu_us_per_delivery": per_delivery,
        "deliveries_per_server_core_s": 1e6 / per_delivery.max(f64::MIN_POSITIVE),
        "server_core_load": server_end.load_since(&server_start),
        "generator_core_load": gen_end.load_since(&gen_start),
        "rss_fresh_kb": fresh.rss_kb,
        "rss_before_kb": before.rss_kb,
        "rss_idle_kb": idle.rss_kb,
        "rss_after_kb": after.rss_kb,
        "rss_per_idle_subscriber_kb": (idle.rss_kb as f64 - before.rss_kb as f64) / n as f64,
        "join_secs": join_secs,
        "connect_secs": connect_secs,
        "settle_secs": settle_secs,
        "window_secs": window,
    });
    Ok(Run::new("fanout", target, config(args), metrics))
}

fn config(args: &Args) -> Value {
    json!({
        "n": args.subscribers,
        "m": args.messages,
        "rate": args.rate,
        "size": args.size,
        "typing": args.typing,
        "path": format!("{:?}", args.path).to_lowercase(),
    })
}
