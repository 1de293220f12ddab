//! Streams cut at random points and resumed with `Last-Event-ID`.

use std::time::{Duration, Instant};

use crate::client::{assert_exactly_once, http, join, Rng};
use natter_kit::presets::unlimited;
use natter_kit::{spawn_app_with, Backend};

natter_kit::on_both_backends!(streams_cut_at_random_points_and_resumed_lose_and_repeat_nothing);

/// Four posters post 400 messages while five readers keep dropping their
/// connection after a random number of events (often with a half-read
/// event in the buffer, which a client never counts) and reconnecting with
/// `Last-Event-ID`: each reader ends with 1..=400, once each, in order.
async fn streams_cut_at_random_points_and_resumed_lose_and_repeat_nothing(backend: Backend) {
    const POSTERS: usize = 4;
    const PER_POSTER: usize = 100;
    const TOTAL: i64 = (POSTERS * PER_POSTER) as i64;
    let app = spawn_app_with(backend, unlimited).await;
    let http = http();
    let mut readers = Vec::new();
    for i in 0..5 {
        let member = join(&http, &app.addr, &format!("reader{i}"), "flaky").await;
        let mut rng = Rng::seeded(&format!("reader{i}"));
        readers.push(tokio::spawn(async move {
            let mut seqs: Vec<i64> = Vec::new();
            let mut cycles = 0;
            let deadline = Instant::now() + Duration::from_secs(120);
            while seqs.last().copied().unwrap_or(0) < TOTAL {
                assert!(
                    Instant::now() < deadline,
                    "reader{i} stuck at {:?}",
                    seqs.last()
                );
                let resume = seqs.last().copied().unwrap_or(0);
                let mut stream = member.events(Some(resume)).await;
                cycles += 1;
                for _ in 0..rng.below(25) {
                    match stream.next_within(Duration::from_secs(10)).await {
                        Some(event) => seqs.push(event.seq()),
                        None => break,
                    }
                }
                // Dropping the stream cuts the TCP connection, wherever the
                // server was in writing.
            }
            (seqs, cycles)
        }));
    }
    let mut posters = Vec::new();
    for i in 0..POSTERS {
        let member = join(&http, &app.addr, &format!("poster{i}"), "flaky").await;
        let http = http.clone();
        let mut rng = Rng::seeded(&format!("poster{i}"));
        posters.push(tokio::spawn(async move {
            for n in 0..PER_POSTER {
                member.say(&http, &format!("p{i}-{n}")).await;
                tokio::time::sleep(Duration::from_millis(rng.below(8))).await;
            }
        }));
    }
    for poster in posters {
        poster.await.expect("poster");
    }
    let mut total_cycles = 0;
    for (i, reader) in readers.into_iter().enumerate() {
        let (seqs, cycles) = reader.await.expect("reader");
        assert_exactly_once(
            &seqs,
            TOTAL,
            &format!("reader{i} after {cycles} reconnects"),
        );
        total_cycles += cycles;
    }
    eprintln!("{total_cycles} connections cut and resumed");
    assert!(
        total_cycles >= 100,
        "enough cuts to mean something: {total_cycles}"
    );
}
