//! The real binary killed with SIGKILL under load, and stopped with
//! SIGTERM with streams open and posts in flight.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::client::{assert_exactly_once, http, join, Member, Posted, Rng};
use crate::process::{sqlite_count, stored_messages, Server};
use natter_kit::Sse;

const POSTERS: usize = 8;

/// Posts as fast as it can until the server stops answering (or `cap`
/// posts); returns what was acknowledged, as (seq, body).
async fn hammer(
    member: Member,
    http: reqwest::Client,
    tag: String,
    cap: usize,
) -> Vec<(i64, String)> {
    let mut acked = Vec::new();
    for n in 0..cap {
        let body = format!("{tag}-{n}");
        match member.post(&http, &body).await {
            Posted::Acked(seq) => acked.push((seq, body)),
            Posted::Refused(503, _) => {}
            Posted::Refused(status, text) => panic!("post refused with {status}: {text}"),
            Posted::NoAnswer(_) => break,
        }
    }
    acked
}

/// Three times: posters hammer the server, it is killed with SIGKILL at a
/// random moment and restarted on the same file. Every acknowledged
/// message is there with its body, seqs have no gap, and the restarted
/// server serves and numbers on from where it stopped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_under_load_loses_no_acknowledged_message() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("natter.db");
    let http = http();
    let mut rng = Rng::seeded("sigkill");
    let mut server = Server::start(&db);
    let mut members = Vec::new();
    for i in 0..POSTERS {
        members.push(join(&http, &server.base, &format!("poster{i}"), "crash").await);
    }
    let mut acked: Vec<(i64, String)> = Vec::new();
    for cycle in 0..3 {
        let mut posters = Vec::new();
        for (i, member) in members.iter_mut().enumerate() {
            member.base = server.base.clone();
            // A fresh client per cycle: no pooled connection to a dead server.
            let (member, http, tag) = (
                member.clone(),
                crate::client::http(),
                format!("c{cycle}-p{i}"),
            );
            posters.push(tokio::spawn(hammer(member, http, tag, 100_000)));
        }
        tokio::time::sleep(Duration::from_millis(800 + rng.below(1200))).await;
        server.kill();
        for poster in posters {
            acked.extend(poster.await.expect("poster"));
        }
        server = Server::start(&db);
        let health = http
            .get(format!("{}/healthz", server.base))
            .send()
            .await
            .expect("healthz");
        assert_eq!(
            health.status(),
            200,
            "starts cleanly after SIGKILL #{}",
            cycle + 1
        );
        let stored = stored_messages(&format!("sqlite:{}", db.display()), "crash").await;
        let seqs: Vec<i64> = stored.iter().map(|(seq, _)| *seq).collect();
        assert_exactly_once(&seqs, stored.len() as i64, "stored seqs after the crash");
        for (seq, body) in &acked {
            let found = stored.get((*seq - 1) as usize).map(|(_, b)| b.as_str());
            assert_eq!(
                found,
                Some(body.as_str()),
                "acknowledged seq {seq} lost in the crash"
            );
        }
        let last_seq = sqlite_count(&db, "SELECT last_seq FROM rooms WHERE name = 'crash'").await;
        assert_eq!(
            last_seq,
            stored.len() as i64,
            "the room's counter matches its messages"
        );
        eprintln!(
            "SIGKILL #{}: {} acknowledged so far, {} stored",
            cycle + 1,
            acked.len(),
            stored.len()
        );
    }
    assert!(
        acked.len() > 100,
        "the posters really hammered: {}",
        acked.len()
    );
    // Sessions survived too, and numbering goes on without a gap.
    members[0].base = server.base.clone();
    let next = members[0].say(&http, "after the crashes").await;
    let stored = sqlite_count(&db, "SELECT COUNT(*) FROM messages").await;
    assert_eq!(next, stored);
    // A stream replays the whole history exactly once.
    let mut stream = members[1].clone();
    stream.base = server.base.clone();
    let mut stream = stream.events(Some(0)).await;
    let seqs: Vec<i64> = stream
        .take(stored as usize, Duration::from_secs(30))
        .await
        .iter()
        .map(|e| e.seq())
        .collect();
    assert_exactly_once(&seqs, stored, "replay after the crashes");
}

/// SIGTERM while 4 streams are open, a fifth client has stopped reading
/// its stream, and 8 posters post: the streams end within 5 s with a
/// gapless prefix, the process exits by itself within 15 s (the stuck
/// connection may use the 10 s drain), every acknowledged post is stored
/// (the rest failed visibly), and after a restart each stream resumes
/// with `Last-Event-ID` and misses nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_with_streams_and_posts_in_flight_stops_cleanly() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("natter.db");
    let http = http();
    let mut server = Server::start(&db);
    let mut readers = Vec::new();
    let mut streams = Vec::new();
    for i in 0..4 {
        let member = join(&http, &server.base, &format!("reader{i}"), "term").await;
        streams.push(member.events(Some(0)).await);
        readers.push(member);
    }
    // And one whose client stopped reading: it must not hold shutdown up.
    let stuck = join(&http, &server.base, "stuck", "term").await;
    let _stuck = stuck.stuck_events(Some(0)).await;
    let received: Arc<Mutex<Vec<Vec<i64>>>> = Arc::new(Mutex::new(vec![Vec::new(); 4]));
    let mut stream_tasks = Vec::new();
    for (i, mut stream) in streams.into_iter().enumerate() {
        let received = received.clone();
        stream_tasks.push(tokio::spawn(async move {
            while let Some(event) = stream.next_within(Duration::from_secs(30)).await {
                received.lock().expect("lock")[i].push(event.seq());
            }
            (stream.ended(), Instant::now())
        }));
    }
    let mut posters = Vec::new();
    for i in 0..POSTERS {
        let member = join(&http, &server.base, &format!("poster{i}"), "term").await;
        posters.push(tokio::spawn(hammer(
            member,
            crate::client::http(),
            format!("p{i}"),
            100_000,
        )));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let signalled = Instant::now();
    server.terminate();
    // The stuck client may hold its connection for the 10 s drain.
    let status = server
        .exited_within(Duration::from_secs(15))
        .await
        .expect("natter exits within 15 s of SIGTERM");
    assert!(status.success(), "clean exit: {status:?}");
    eprintln!("SIGTERM: exited in {:?}", signalled.elapsed());
    for task in stream_tasks {
        let (ended, at) = task.await.expect("stream task");
        assert!(ended, "the stream was ended, not left hanging");
        let after = at.duration_since(signalled);
        eprintln!("SIGTERM: a stream ended {after:?} after the signal");
        assert!(
            after < Duration::from_secs(5),
            "streams end as shutdown starts, not at the drain deadline"
        );
    }
    let mut acked = Vec::new();
    for poster in posters {
        acked.extend(poster.await.expect("poster"));
    }
    let stored = stored_messages(&format!("sqlite:{}", db.display()), "term").await;
    let seqs: Vec<i64> = stored.iter().map(|(seq, _)| *seq).collect();
    assert_exactly_once(&seqs, stored.len() as i64, "stored seqs after SIGTERM");
    for (seq, body) in &acked {
        let found = stored.get((*seq - 1) as usize).map(|(_, b)| b.as_str());
        assert_eq!(
            found,
            Some(body.as_str()),
            "acknowledged seq {seq} lost in shutdown"
        );
    }
    let total = stored.len() as i64;
    eprintln!("SIGTERM: {} acknowledged, {total} stored", acked.len());
    assert!(
        acked.len() > 20,
        "posts were really in flight: {}",
        acked.len()
    );

    // Restarted, each reader resumes where its stream ended.
    let server = Server::start(&db);
    let received = received.lock().expect("lock").clone();
    for (i, (member, got)) in readers.iter_mut().zip(received).enumerate() {
        member.base = server.base.clone();
        let last = got.last().copied().unwrap_or(0);
        let mut stream: Sse = member.events(Some(last)).await;
        let rest = stream
            .take((total - last) as usize, Duration::from_secs(30))
            .await;
        let mut all = got;
        all.extend(rest.iter().map(|e| e.seq()));
        assert_exactly_once(&all, total, &format!("reader{i} across the restart"));
    }
}
