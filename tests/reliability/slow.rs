//! Subscribers that read slowly, or not at all.

use std::time::Duration;

use crate::client::{assert_exactly_once, http, join, Member};
use natter_kit::presets::unlimited;
use natter_kit::Sse;
use natter_kit::{spawn_app_with, Backend};

natter_kit::on_both_backends!(
    a_subscriber_that_never_reads_does_not_delay_the_others,
    a_lagging_subscriber_is_caught_up_from_the_database,
);

/// Messages this big fill the socket buffers of a non-reader quickly.
fn big_body(poster: usize, n: usize) -> String {
    format!("p{poster}-{n} {}", "x".repeat(1500))
}

/// Posts `per_poster` big messages from each of `posters` members at once.
async fn post_big(app_addr: &str, room: &str, posters: usize, per_poster: usize) {
    let http = http();
    let mut tasks = Vec::new();
    for i in 0..posters {
        let member = join(&http, app_addr, &format!("poster{i}"), room).await;
        let http = http.clone();
        tasks.push(tokio::spawn(async move {
            for n in 0..per_poster {
                member.say(&http, &big_body(i, n)).await;
            }
        }));
    }
    for task in tasks {
        task.await.expect("poster");
    }
}

/// One subscriber never reads its socket while 2,000 large messages
/// (about 3 MB of frames, far more than the 256-frame channel) are posted:
/// five others still receive every message, once, in order, each within
/// seconds of the last.
async fn a_subscriber_that_never_reads_does_not_delay_the_others(backend: Backend) {
    const TOTAL: i64 = 2000;
    let app = spawn_app_with(backend, unlimited).await;
    let http = http();
    let stuck: Member = join(&http, &app.addr, "stuck", "slow").await;
    let _stuck = stuck.stuck_events(Some(0)).await;
    let mut readers = Vec::new();
    for i in 0..5 {
        let member = join(&http, &app.addr, &format!("reader{i}"), "slow").await;
        let mut stream = member.events(Some(0)).await;
        readers.push(tokio::spawn(async move {
            let events = stream.take(TOTAL as usize, Duration::from_secs(30)).await;
            events.iter().map(|e| e.seq()).collect::<Vec<_>>()
        }));
    }
    post_big(&app.addr, "slow", 4, (TOTAL / 4) as usize).await;
    for (i, reader) in readers.into_iter().enumerate() {
        let seqs = reader.await.expect("reader");
        assert_exactly_once(&seqs, TOTAL, &format!("reader{i} beside a stuck one"));
    }
}

/// A subscriber stops reading (its receive buffer is tiny) while 2,000
/// large messages are posted, so it falls far behind the broadcast channel
/// (`Lagged`); when it reads again it gets every message from the
/// database, once, in order: caught up, not skipped.
async fn a_lagging_subscriber_is_caught_up_from_the_database(backend: Backend) {
    const TOTAL: i64 = 2000;
    let app = spawn_app_with(backend, unlimited).await;
    let http = http();
    let slow = join(&http, &app.addr, "slow", "lag").await;
    let socket = slow.stuck_events(Some(0)).await;
    post_big(&app.addr, "lag", 4, (TOTAL / 4) as usize).await;
    let mut stream = Sse::resume(socket).await;
    let seqs: Vec<i64> = stream
        .take(TOTAL as usize, Duration::from_secs(30))
        .await
        .iter()
        .map(|e| e.seq())
        .collect();
    assert_exactly_once(&seqs, TOTAL, "the lagging subscriber");
    assert!(stream
        .next_within(Duration::from_millis(300))
        .await
        .is_none());
}

/// Twenty subscribers of the real binary stop reading while 4,000 messages
/// of 2,000 two-byte characters are posted (about 17 MB of frames each,
/// 340 MB for all if the server buffered per subscriber): the server's
/// RSS grows by less than 64 MB over the last 3,000, another subscriber
/// gets everything, and a stuck one that reads again is caught up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stuck_subscribers_cost_the_server_bounded_memory() {
    const STUCK: usize = 20;
    let dir = tempfile::tempdir().expect("temp dir");
    let server = crate::process::Server::start(&dir.path().join("natter.db"));
    let http = http();
    let mut stuck = Vec::new();
    for i in 0..STUCK {
        let member = join(&http, &server.base, &format!("stuck{i}"), "mem").await;
        stuck.push(member.stuck_events(Some(0)).await);
    }
    let reader = join(&http, &server.base, "reader", "mem").await;
    let mut stream = reader.events(Some(0)).await;
    let reading = tokio::spawn(async move {
        let events = stream.take(4000, Duration::from_secs(60)).await;
        events.iter().map(|e| e.seq()).collect::<Vec<_>>()
    });
    let mut posters: Vec<Member> = Vec::new();
    for i in 0..4 {
        posters.push(join(&http, &server.base, &format!("poster{i}"), "mem").await);
    }
    let body = "é".repeat(2000);
    let post = |count: usize| {
        futures_util::future::join_all(posters.iter().map(|member| {
            let (http, body) = (http.clone(), body.clone());
            async move {
                for _ in 0..count {
                    member.say(&http, &body).await;
                }
            }
        }))
    };
    post(250).await;
    let before = server.rss_kib();
    post(750).await;
    let after = server.rss_kib();
    eprintln!("server RSS with {STUCK} stuck subscribers: {before} KiB after 1,000 messages, {after} KiB after 4,000");
    assert!(
        after.saturating_sub(before) < 64 * 1024,
        "server memory grew by {} KiB while subscribers were stuck",
        after.saturating_sub(before)
    );
    assert_exactly_once(
        &reading.await.expect("reader"),
        4000,
        "the reader beside them",
    );
    let mut late = Sse::resume(stuck.pop().expect("a stuck socket")).await;
    let seqs: Vec<i64> = late
        .take(4000, Duration::from_secs(30))
        .await
        .iter()
        .map(|e| e.seq())
        .collect();
    assert_exactly_once(&seqs, 4000, "a stuck subscriber that reads again");
}
