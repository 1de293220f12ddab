//! The soak, run by hand through `scripts/soak.sh` (ignored by `cargo
//! test`): the real binary on a SQLite file, or several instances on one
//! PostgreSQL database (`SOAK_INSTANCES`), thousands of raw SSE
//! subscribers spread over them and over several rooms, a steady post rate
//! (each room's posts going to each instance in turn, so half of what a
//! subscriber gets comes through the relay), each instance's RSS and the
//! delivery latency (p50/p99 per interval) printed over time, and at the
//! end how many deliveries were lost or duplicated. Only 127.0.0.1,
//! bounded in subscribers (≤ 5,000), instances (≤ 4) and time (≤ 1 hour).

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use natter_kit::{Backend, TestDb};

use crate::client::{http, join, Member, Posted};
use crate::process::Server;

/// What a soak message says before the microseconds (since the soak's
/// start) at which it was sent, for the latency.
const SENT: &str = " sent ";

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
    /// Microseconds from send to delivery, since the last sample.
    latencies: Mutex<Vec<u64>>,
}

impl Tally {
    /// The p50 and p99 latencies since the last call, in ms, and how many.
    fn latency(&self) -> (f64, f64, usize) {
        let mut taken = std::mem::take(&mut *self.latencies.lock().expect("lock"));
        taken.sort_unstable();
        let at = |q: f64| {
            let index = ((taken.len() as f64 * q) as usize).min(taken.len().saturating_sub(1));
            taken.get(index).map_or(0.0, |&us| us as f64 / 1000.0)
        };
        (at(0.50), at(0.99), taken.len())
    }
}

/// The machine's 1-minute load average (the soak shares the machine, and
/// its latencies mean little without it).
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next().map(str::to_owned))
        .unwrap_or_default()
}

/// When the message in `data` was sent, in microseconds since the start.
fn sent_at(data: &str) -> Option<u64> {
    let rest = &data[data.find(SENT)? + SENT.len()..];
    rest.split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

/// One subscriber for the whole soak: counts gaps and repeats, and resumes
/// with `Last-Event-ID` if the server ends its stream.
async fn subscribe(
    member: Member,
    tally: Arc<Tally>,
    finals: Arc<Vec<AtomicI64>>,
    room: usize,
    stop: Arc<AtomicI64>,
    start: Instant,
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
                    if let Some(sent) = sent_at(&event.data) {
                        let now = start.elapsed().as_micros() as u64;
                        let mut latencies = tally.latencies.lock().expect("lock");
                        latencies.push(now.saturating_sub(sent));
                    }
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
    let instances = setting("SOAK_INSTANCES", 1, 4).max(1) as usize;
    // Instances share a database only on PostgreSQL.
    let backend = if instances > 1 {
        let Some(backend) = Backend::postgres().await else {
            return;
        };
        backend
    } else {
        Backend::Sqlite
    };
    let db = TestDb::new(backend).await;
    let servers: Vec<Server> = (0..instances)
        .map(|_| Server::start_with(&db.url, &[]))
        .collect();
    let rss = || {
        let each: Vec<String> = servers.iter().map(|s| s.rss_kib().to_string()).collect();
        each.join("/")
    };
    let http = http();
    let pids: Vec<u32> = servers.iter().map(Server::pid).collect();
    println!(
        "soak: {secs} s, {subscribers} subscribers in {rooms} rooms, {rate} posts/s, \
         {instances} instance(s) on {backend:?}, pids {pids:?}"
    );
    let rss_start = rss();

    let tally = Arc::new(Tally::default());
    let finals: Arc<Vec<AtomicI64>> = Arc::new((0..rooms).map(|_| AtomicI64::new(0)).collect());
    let stop = Arc::new(AtomicI64::new(0));
    let mut readers = Vec::new();
    let start = Instant::now();
    for n in 0..subscribers {
        let room = n % rooms;
        let on = &servers[n % instances].base;
        // The session store is shared: a join on one instance is good on all.
        let mut member = join(&http, on, &format!("reader{n}"), &format!("soak{room}")).await;
        member.base.clone_from(on);
        readers.push(tokio::spawn(subscribe(
            member,
            tally.clone(),
            finals.clone(),
            room,
            stop.clone(),
            start,
        )));
    }
    println!("soak: {} streams open, RSS {} KiB", readers.len(), rss());

    // posters[room][instance]: each room's poster, on each instance.
    let mut posters = Vec::new();
    for room in 0..rooms {
        let poster = join(&http, &servers[0].base, "poster", &format!("soak{room}")).await;
        let each = servers.iter().map(|server| Member {
            base: server.base.clone(),
            ..poster.clone()
        });
        posters.push(each.collect::<Vec<_>>());
    }
    let started = Instant::now();
    let mut ticks = tokio::time::interval(Duration::from_micros(1_000_000 / rate));
    let mut next_sample = Duration::from_secs(sample);
    let (mut posted, mut failed) = (0u64, 0u64);
    while started.elapsed() < Duration::from_secs(secs) {
        ticks.tick().await;
        let turn = (posted + failed) as usize;
        let (room, on) = (turn % rooms, turn / rooms % instances);
        let sent = start.elapsed().as_micros();
        match posters[room][on]
            .post(&http, &format!("soak message {posted}{SENT}{sent}"))
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
            let (p50, p99, n) = tally.latency();
            println!(
                "soak: t={:>5}s rss={} KiB latency p50={p50:.1}ms p99={p99:.1}ms ({n}) \
                 posted={posted} delivered={} lost={} duplicated={} reconnects={} load={}",
                started.elapsed().as_secs(),
                rss(),
                tally.delivered.load(Ordering::Relaxed),
                tally.lost.load(Ordering::Relaxed),
                tally.duplicated.load(Ordering::Relaxed),
                tally.reconnects.load(Ordering::Relaxed),
                load_average(),
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
    let rss_end = rss();
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
         reconnects={} unfinished={short}; RSS start={rss_start} KiB end={rss_end} KiB",
        started.elapsed(),
        tally.reconnects.load(Ordering::Relaxed),
    );
    assert_eq!(
        (lost, duplicated, short),
        (0, 0, 0),
        "nothing lost, nothing twice"
    );
}
