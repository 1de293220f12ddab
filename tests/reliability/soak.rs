//! The soak, run by hand through `scripts/soak.sh` (ignored by `cargo
//! test`): the real binary on a SQLite file, thousands of raw SSE
//! subscribers over several rooms, a steady post rate, server RSS printed
//! over time, and at the end how many deliveries were lost or duplicated.
//! Only 127.0.0.1, bounded in subscribers (≤ 5,000) and time (≤ 1 hour).

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::client::{http, join, Member, Posted};
use crate::process::Server;

fn setting(name: &str, default: u64, max: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
        .min(max)
}

#[derive(Default)]
struct Tally {
    delivered: AtomicU64,
    lost: AtomicU64,
    duplicated: AtomicU64,
    reconnects: AtomicU64,
}

/// One subscriber for the whole soak: counts gaps and repeats, and resumes
/// with `Last-Event-ID` if the server ends its stream.
async fn subscribe(
    member: Member,
    tally: Arc<Tally>,
    finals: Arc<Vec<AtomicI64>>,
    room: usize,
    stop: Arc<AtomicI64>,
) -> i64 {
    let mut last = 0;
    loop {
        let mut stream = member.events(Some(last)).await;
        loop {
            if stop.load(Ordering::Relaxed) == 1 && last >= finals[room].load(Ordering::Relaxed) {
                return last;
            }
            match stream.next_within(Duration::from_secs(1)).await {
                Some(event) if event.seq() == last + 1 => {
                    last = event.seq();
                    tally.delivered.fetch_add(1, Ordering::Relaxed);
                }
                Some(event) if event.seq() <= last => {
                    tally.duplicated.fetch_add(1, Ordering::Relaxed);
                }
                Some(event) => {
                    tally
                        .lost
                        .fetch_add((event.seq() - last - 1) as u64, Ordering::Relaxed);
                    last = event.seq();
                }
                None if stream.ended() => break,
                None if stop.load(Ordering::Relaxed) == 2 => return last,
                None => {}
            }
        }
        tally.reconnects.fetch_add(1, Ordering::Relaxed);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a soak: run scripts/soak.sh"]
async fn soak() {
    let secs = setting("SOAK_SECS", 60, 3600);
    let subscribers = setting("SOAK_SUBSCRIBERS", 2000, 5000) as usize;
    let rooms = setting("SOAK_ROOMS", 10, 100).max(1) as usize;
    let rate = setting("SOAK_RATE", 20, 500).max(1);
    let sample = setting("SOAK_SAMPLE_SECS", 30, 600).max(1);
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(&dir.path().join("soak.db"));
    let http = http();
    println!(
        "soak: {secs} s, {subscribers} subscribers in {rooms} rooms, {rate} posts/s, server pid {}",
        server.pid()
    );
    let rss_start = server.rss_kib();

    let tally = Arc::new(Tally::default());
    let finals: Arc<Vec<AtomicI64>> = Arc::new((0..rooms).map(|_| AtomicI64::new(0)).collect());
    let stop = Arc::new(AtomicI64::new(0));
    let mut readers = Vec::new();
    for n in 0..subscribers {
        let room = n % rooms;
        let member = join(
            &http,
            &server.base,
            &format!("reader{n}"),
            &format!("soak{room}"),
        )
        .await;
        readers.push(tokio::spawn(subscribe(
            member,
            tally.clone(),
            finals.clone(),
            room,
            stop.clone(),
        )));
    }
    println!(
        "soak: {} streams open, server RSS {} KiB",
        readers.len(),
        server.rss_kib()
    );

    let mut posters = Vec::new();
    for room in 0..rooms {
        posters.push(join(&http, &server.base, "poster", &format!("soak{room}")).await);
    }
    let started = Instant::now();
    let mut ticks = tokio::time::interval(Duration::from_micros(1_000_000 / rate));
    let mut next_sample = Duration::from_secs(sample);
    let (mut posted, mut failed, mut rss_peak) = (0u64, 0u64, rss_start);
    while started.elapsed() < Duration::from_secs(secs) {
        ticks.tick().await;
        let room = (posted + failed) as usize % rooms;
        match posters[room]
            .post(&http, &format!("soak message {posted}"))
            .await
        {
            Posted::Acked(seq) => {
                finals[room].fetch_max(seq, Ordering::Relaxed);
                posted += 1;
            }
            other => {
                failed += 1;
                eprintln!("soak: a post failed: {other:?}");
            }
        }
        if started.elapsed() >= next_sample {
            next_sample += Duration::from_secs(sample);
            let rss = server.rss_kib();
            rss_peak = rss_peak.max(rss);
            println!(
                "soak: t={:>5}s rss={rss:>7} KiB posted={posted} delivered={} lost={} duplicated={} reconnects={}",
                started.elapsed().as_secs(),
                tally.delivered.load(Ordering::Relaxed),
                tally.lost.load(Ordering::Relaxed),
                tally.duplicated.load(Ordering::Relaxed),
                tally.reconnects.load(Ordering::Relaxed),
            );
        }
    }
    // Let every subscriber reach its room's last message, then count.
    stop.store(1, Ordering::Relaxed);
    let drain = Instant::now();
    let mut short = 0u64;
    for (n, reader) in readers.into_iter().enumerate() {
        let left = Duration::from_secs(60).saturating_sub(drain.elapsed());
        match tokio::time::timeout(left, reader).await {
            Ok(Ok(_)) => {}
            _ => {
                stop.store(2, Ordering::Relaxed);
                short += 1;
                eprintln!("soak: subscriber {n} did not reach the end");
            }
        }
    }
    let rss_end = server.rss_kib();
    let expected: u64 = (0..rooms)
        .map(|room| {
            finals[room].load(Ordering::Relaxed) as u64
                * (subscribers / rooms + usize::from(room < subscribers % rooms)) as u64
        })
        .sum();
    let delivered = tally.delivered.load(Ordering::Relaxed);
    let lost = tally.lost.load(Ordering::Relaxed)
        + expected.saturating_sub(delivered + tally.lost.load(Ordering::Relaxed));
    let duplicated = tally.duplicated.load(Ordering::Relaxed);
    println!(
        "soak: done in {:?}: {posted} posts acknowledged ({failed} failed), {subscribers} subscribers, \
         {delivered} of {expected} deliveries, lost={lost} duplicated={duplicated} \
         reconnects={} unfinished={short}; server RSS start={rss_start} KiB peak={} KiB end={rss_end} KiB",
        started.elapsed(),
        tally.reconnects.load(Ordering::Relaxed),
        rss_peak.max(rss_end),
    );
    assert_eq!(
        (lost, duplicated, short),
        (0, 0, 0),
        "nothing lost, nothing twice"
    );
}
