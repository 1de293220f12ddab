//! Many posters and many subscribers at once.

use std::collections::BTreeSet;
use std::time::Duration;

use tokio::sync::watch;

use crate::client::{assert_exactly_once, http, join};
use natter_kit::presets::unlimited;
use natter_kit::{spawn_app_with, Backend};

natter_kit::on_both_backends!(
    fifty_posters_and_two_hundred_subscribers_see_all_messages_once_in_order,
    twenty_busy_rooms_at_once_leak_nothing_into_each_other,
);

/// Generous: a 2-core machine running a debug build and 200 readers.
const WAIT: Duration = Duration::from_secs(60);

/// 50 posters × 20 messages and 200 subscribers in one room: every
/// subscriber receives all 1,000 exactly once, in seq order, and the
/// database holds 1,000 gapless seqs.
async fn fifty_posters_and_two_hundred_subscribers_see_all_messages_once_in_order(
    backend: Backend,
) {
    const POSTERS: usize = 50;
    const PER_POSTER: usize = 20;
    const SUBSCRIBERS: usize = 200;
    const TOTAL: i64 = (POSTERS * PER_POSTER) as i64;
    let app = spawn_app_with(backend, unlimited).await;
    let http = http();
    // Readers start their clocks when posting starts, not while hundreds
    // of others are still joining.
    let (go, started) = watch::channel(false);
    let mut readers = Vec::new();
    for i in 0..SUBSCRIBERS {
        let member = join(&http, &app.addr, &format!("reader{i}"), "busy").await;
        let stream = member.events(Some(0)).await;
        let mut started = started.clone();
        readers.push(tokio::spawn(async move {
            let _ = started.wait_for(|go| *go).await;
            let (events, reconnects, mut stream) =
                member.follow(stream, TOTAL as usize, WAIT).await;
            let seqs: Vec<i64> = events.iter().map(|e| e.seq()).collect();
            // Anything more would be a duplicate.
            let extra = stream.next_within(Duration::from_millis(500)).await;
            (seqs, extra.map(|e| e.seq()), reconnects)
        }));
    }
    let mut posters = Vec::new();
    for i in 0..POSTERS {
        let member = join(&http, &app.addr, &format!("poster{i}"), "busy").await;
        let http = http.clone();
        posters.push(tokio::spawn(async move {
            for j in 0..PER_POSTER {
                member.say(&http, &format!("p{i}-m{j}")).await;
            }
        }));
    }
    let _ = go.send(true);
    for poster in posters {
        poster.await.expect("poster");
    }
    let mut reconnects = 0;
    for (i, reader) in readers.into_iter().enumerate() {
        let (seqs, extra, again) = reader.await.expect("reader");
        reconnects += again;
        assert_exactly_once(&seqs, TOTAL, &format!("reader{i}"));
        assert_eq!(extra, None, "reader{i} got a message twice");
    }
    eprintln!("{SUBSCRIBERS} subscribers, {reconnects} reconnects after the server ended a stream");
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, TOTAL);
    assert_eq!(app.count("SELECT MAX(seq) FROM messages").await, TOTAL);
}

/// 20 rooms, each with 5 posters × 10 messages and 5 subscribers, all at
/// once: each subscriber gets exactly its own room's 50 messages.
async fn twenty_busy_rooms_at_once_leak_nothing_into_each_other(backend: Backend) {
    const ROOMS: usize = 20;
    const POSTERS: usize = 5;
    const PER_POSTER: usize = 10;
    const SUBSCRIBERS: usize = 5;
    const TOTAL: i64 = (POSTERS * PER_POSTER) as i64;
    let app = spawn_app_with(backend, unlimited).await;
    let http = http();
    let (go, started) = watch::channel(false);
    let body = |room: usize, poster: usize, n: usize| format!("room-{room:02}-p{poster}-m{n}");
    let mut readers = Vec::new();
    for room in 0..ROOMS {
        for i in 0..SUBSCRIBERS {
            let name = format!("reader{i}");
            let member = join(&http, &app.addr, &name, &format!("room{room}")).await;
            let stream = member.events(Some(0)).await;
            let mut started = started.clone();
            readers.push(tokio::spawn(async move {
                let _ = started.wait_for(|go| *go).await;
                let (events, _, mut stream) = member.follow(stream, TOTAL as usize, WAIT).await;
                let extra = stream.next_within(Duration::from_millis(500)).await;
                (room, events, extra.map(|e| e.seq()))
            }));
        }
    }
    let mut posters = Vec::new();
    for room in 0..ROOMS {
        for i in 0..POSTERS {
            let name = format!("poster{i}");
            let member = join(&http, &app.addr, &name, &format!("room{room}")).await;
            let http = http.clone();
            posters.push(tokio::spawn(async move {
                for n in 0..PER_POSTER {
                    member.say(&http, &body(room, i, n)).await;
                }
            }));
        }
    }
    let _ = go.send(true);
    for poster in posters {
        poster.await.expect("poster");
    }
    for reader in readers {
        let (room, events, extra) = reader.await.expect("reader");
        let seqs: Vec<i64> = events.iter().map(|e| e.seq()).collect();
        assert_exactly_once(&seqs, TOTAL, &format!("a reader of room{room}"));
        assert_eq!(extra, None, "a reader of room{room} got more");
        let expected: BTreeSet<String> = (0..POSTERS)
            .flat_map(|i| (0..PER_POSTER).map(move |n| body(room, i, n)))
            .collect();
        let got: BTreeSet<String> = events
            .iter()
            .filter_map(|e| {
                let at = e.data.find("room-")?;
                let rest = &e.data[at..];
                Some(rest[..rest.find('<')?].to_owned())
            })
            .collect();
        assert_eq!(got, expected, "room{room} saw another room's messages");
    }
    let rooms = ROOMS as i64;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM messages").await,
        rooms * TOTAL
    );
}
