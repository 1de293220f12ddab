//! A rolling restart under load (#18): two real natter instances on one
//! PostgreSQL database behind a TCP proxy (`proxy`), posters and 100
//! subscribers going through it, and each instance in turn stopped with
//! SIGTERM, waited for, and started again on the same port while the load
//! goes on. No post fails, every subscriber ends with every acknowledged
//! message exactly once in seq order, and the database holds exactly the
//! acknowledged messages.
//!
//! How a poster gets through a restart. A draining instance closes its
//! listener at once (the proxy's connect is refused and goes on to the
//! other instance), answers every request it has begun, and closes
//! connections that have not sent a whole request yet, and idle ones. A
//! request sent on an idle keep-alive connection just as the server
//! closes it gets no answer through no fault of the server: that is why
//! HTTP clients only send an idempotent request again in that case, and a
//! post is not idempotent. So each post here goes over a connection of its
//! own (`Member::post_fresh`): no idle connection is ever reused. Such a
//! connection can still close before any byte of an answer, in two ways:
//! the proxy connected while the instance's listener was closing (the
//! connection sat in the kernel's accept queue and is reset with it), or
//! the instance closed it before reading its whole request head. In
//! neither did the request reach a handler, so the poster sends it again,
//! and only then. That it is safe is checked, not assumed: the database
//! must hold each acknowledged body once and nothing else. Anything else
//! (an error status, a connection cut after part of an answer) fails.
//!
//! Subscribers reconnect with `Last-Event-ID` whenever their stream ends
//! (an instance ends its streams as it drains) or breaks, and open again
//! after an answer that is not a 200, as htmx 4 does.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use natter_kit::{Backend, TestDb};

use crate::client::{assert_exactly_once, http, join, Member, Posted};
use crate::process::{stored_messages, Server};
use crate::proxy::Proxy;

const POSTERS: usize = 4;
const SUBSCRIBERS: usize = 100;
const ROOM: &str = "rolling";

/// Posts per poster at most: bounds the run whatever the timing.
const MAX_POSTS: usize = 1_000;

/// One poster's pause between posts: steady load that leaves the two
/// cores room to restart an instance.
const PACE: Duration = Duration::from_millis(20);

/// Times each instance is restarted.
const ROUNDS: usize = 2;

/// How long load runs with both instances up, before, between and after
/// the restarts (pacing, not an assertion).
const STEADY: Duration = Duration::from_secs(2);

/// How many times a post is sent again after a connection closed before
/// any byte of an answer, before the poster gives up.
const RESENDS: usize = 20;

/// What one poster came to.
#[derive(Default)]
struct Posts {
    /// (seq, body) of each acknowledged post.
    acked: Vec<(i64, String)>,
    /// Posts sent again after a connection closed before any answer.
    resent: usize,
    /// Posts that were not acknowledged, and why.
    failed: Vec<String>,
}

/// Posts through the proxy until `stop`, each post on a connection of its
/// own (see the module doc), counting acknowledgements in `count`.
async fn post(member: Member, tag: usize, stop: Arc<AtomicBool>, count: Arc<AtomicUsize>) -> Posts {
    let mut posts = Posts::default();
    for n in 0..MAX_POSTS {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let body = format!("p{tag}-{n}");
        let mut resends = 0;
        loop {
            match member.post_fresh(&body).await {
                Some(Posted::Acked(seq)) => {
                    posts.acked.push((seq, body));
                    count.fetch_add(1, Ordering::Relaxed);
                }
                None if resends < RESENDS => {
                    resends += 1;
                    posts.resent += 1;
                    continue;
                }
                other => posts.failed.push(format!("{body}: {other:?}")),
            }
            break;
        }
        tokio::time::sleep(PACE).await;
    }
    posts
}

/// What one subscriber saw.
#[derive(Default)]
struct Seen {
    seqs: Vec<i64>,
    /// Streams opened again after one ended or broke.
    reconnects: usize,
    /// Opens answered with something else than a 200, or not at all.
    refused: usize,
}

impl Seen {
    /// Whether it is done: it has seen seq `target` (0 while the posters
    /// still post), or has had [`WAIT`] since the target was known.
    fn done(&self, target: &AtomicI64, give_up: &mut Option<Instant>) -> bool {
        let target = target.load(Ordering::Relaxed);
        if target == 0 {
            return false;
        }
        let give_up = *give_up.get_or_insert_with(|| Instant::now() + WAIT);
        self.seqs.last().copied().unwrap_or(0) >= target || Instant::now() > give_up
    }
}

/// How long subscribers have to catch up once the posters stop.
const WAIT: Duration = Duration::from_secs(60);

/// Follows the room through the proxy, resuming with `Last-Event-ID`,
/// until it is done (see [`Seen::done`]); counts its first open in
/// `opened`.
async fn subscribe(member: Member, target: Arc<AtomicI64>, opened: Arc<AtomicUsize>) -> Seen {
    let (mut seen, mut give_up, mut counted) = (Seen::default(), None, false);
    while !seen.done(&target, &mut give_up) {
        let last = seen.seqs.last().copied().unwrap_or(0);
        let mut stream = match member.try_events(Some(last)).await {
            Ok(stream) => stream,
            Err(status) => {
                seen.refused += 1;
                // A browser waits a moment before it tries again, longer
                // after an error answer than after a closed connection.
                let pause = if status == 0 { 20 } else { 200 };
                tokio::time::sleep(Duration::from_millis(pause)).await;
                continue;
            }
        };
        if !counted {
            counted = true;
            opened.fetch_add(1, Ordering::Relaxed);
        }
        while !seen.done(&target, &mut give_up) {
            match stream.next_within(Duration::from_millis(250)).await {
                Some(event) => seen.seqs.push(event.seq()),
                None if stream.ended() => break,
                None => {}
            }
        }
        if stream.ended() {
            seen.reconnects += 1;
        }
    }
    seen
}

/// Two instances behind the proxy, 4 posters and 100 subscribers through
/// it, each instance restarted in turn, twice over (SIGTERM, exit, start
/// on the same port): no post fails, nothing acknowledged is lost or
/// repeated on any stream, and the database holds exactly the
/// acknowledged messages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_restart_under_load_loses_and_repeats_nothing() {
    let Some(backend) = Backend::postgres().await else {
        return;
    };
    let db = TestDb::new(backend).await;
    let mut instances = [
        Server::start_with(&db.url, &[]),
        Server::start_with(&db.url, &[]),
    ];
    let proxy = Proxy::start(instances.iter().map(Server::addr).collect()).await;
    let http = http();

    let target = Arc::new(AtomicI64::new(0));
    let opened = Arc::new(AtomicUsize::new(0));
    let mut subscribers = Vec::new();
    for i in 0..SUBSCRIBERS {
        let member = join(&http, &proxy.base, &format!("reader{i}"), ROOM).await;
        subscribers.push(tokio::spawn(subscribe(
            member,
            target.clone(),
            opened.clone(),
        )));
    }
    // Every stream is open on one of the instances before the roll, so
    // each subscriber must come through at least one stream's end.
    let deadline = Instant::now() + Duration::from_secs(30);
    while opened.load(Ordering::Relaxed) < SUBSCRIBERS {
        assert!(Instant::now() < deadline, "streams did not open in 30 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let (stop, count) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicUsize::new(0)),
    );
    let mut posters = Vec::new();
    for i in 0..POSTERS {
        let member = join(&http, &proxy.base, &format!("poster{i}"), ROOM).await;
        posters.push(tokio::spawn(post(member, i, stop.clone(), count.clone())));
    }
    let started = Instant::now();
    tokio::time::sleep(STEADY).await;
    for round in 1..=ROUNDS {
        for (name, server) in ["A", "B"].into_iter().zip(instances.iter_mut()) {
            let (signalled, before) = (Instant::now(), count.load(Ordering::Relaxed));
            server.terminate();
            let status = server
                .exited_within(Duration::from_secs(20))
                .await
                .expect("a draining instance exits within 20 s of SIGTERM");
            assert!(
                status.success(),
                "instance {name} exits cleanly: {status:?}"
            );
            let exited = signalled.elapsed();
            server.restart();
            server.answers(&http).await;
            eprintln!(
                "rolling: round {round}, instance {name}: exited {exited:?} after SIGTERM, \
                 answered again after {:?}; {} posts acknowledged meanwhile",
                signalled.elapsed(),
                count.load(Ordering::Relaxed) - before,
            );
            tokio::time::sleep(STEADY).await;
        }
    }
    stop.store(true, Ordering::Relaxed);

    let mut acked = Vec::new();
    let (mut resent, mut failed) = (0, Vec::new());
    for poster in posters {
        let posts = poster.await.expect("poster");
        acked.extend(posts.acked);
        resent += posts.resent;
        failed.extend(posts.failed);
    }
    assert!(failed.is_empty(), "posts failed: {failed:?}");
    acked.sort();
    let total = acked.len() as i64;
    let seqs: Vec<i64> = acked.iter().map(|(seq, _)| *seq).collect();
    // A gap here is a post stored and never acknowledged: sent again, it
    // was stored twice.
    assert_exactly_once(&seqs, total, "acknowledged seqs");
    target.store(total, Ordering::Relaxed);

    let (mut reconnects, mut refused) = (0, 0);
    for (i, subscriber) in subscribers.into_iter().enumerate() {
        let seen = subscriber.await.expect("subscriber");
        assert_exactly_once(&seen.seqs, total, &format!("reader{i}"));
        assert!(
            seen.reconnects > 0,
            "reader{i} never saw its stream end: the restarts did not reach it"
        );
        reconnects += seen.reconnects;
        refused += seen.refused;
    }
    let stored = stored_messages(&db.url, ROOM).await;
    assert_eq!(
        stored, acked,
        "the database holds exactly the acknowledged posts"
    );
    assert_eq!(
        proxy.unavailable(),
        0,
        "connections no instance took: both were down at once"
    );
    eprintln!(
        "rolling: {total} posts acknowledged in {:?} ({resent} sent again after a connection closed \
         unanswered), {SUBSCRIBERS} subscribers each got all {total} once ({reconnects} reconnects, \
         {refused} opens refused); proxy: {} connections, {} connects refused and retried",
        started.elapsed(),
        proxy.accepted(),
        proxy.retried(),
    );
}
