//! The live stream: delivery, replay, exactly once and in order.

use std::time::Duration;

use reqwest::header::HeaderMap;

use crate::helpers::header;
use natter_kit::{spawn_app, Backend};

natter_kit::on_both_backends!(
    a_post_reaches_every_member_stream_as_a_fragment,
    last_event_id_replays_what_was_missed_without_duplicates,
    the_header_wins_over_the_after_parameter,
    concurrent_posters_and_subscribers_see_every_message_once_in_order,
    shutdown_ends_open_streams,
);

const WAIT: Duration = Duration::from_secs(10);

/// Everyone in the room, the sender included, gets the rendered message.
async fn a_post_reaches_every_member_stream_as_a_fragment(backend: Backend) {
    let app = spawn_app(backend).await;
    let (alice, bob) = (app.user(), app.user());
    alice.join("alice", "lobby").await;
    bob.join("bob", "lobby").await;
    let mut bobs = bob.events("lobby", HeaderMap::new()).await;
    let mut alices = alice.events("lobby", HeaderMap::new()).await;
    alice.say("lobby", "two\nlines").await;
    for stream in [&mut bobs, &mut alices] {
        let event = stream.next_within(WAIT).await.expect("event arrives");
        assert_eq!(event.id.as_deref(), Some("1"));
        assert_eq!(event.event, None, "unnamed: htmx 4 swaps it in");
        assert!(
            event
                .data
                .starts_with(r#"<article class="msg" id="message-1""#),
            "{}",
            event.data
        );
        assert!(
            event.data.contains("two\nlines"),
            "multi-line data rejoined"
        );
        assert!(event.data.contains(r#"<span class="author">alice</span>"#));
    }
}

/// A stream opened with `Last-Event-ID: N` replays every seq > N, then
/// continues live, with no gap and no duplicate.
async fn last_event_id_replays_what_was_missed_without_duplicates(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user();
    alice.join("alice", "lobby").await;
    for i in 1..=5 {
        alice.say_json("lobby", &format!("m{i}")).await;
    }
    let mut stream = alice.events("lobby", header("last-event-id", "2")).await;
    let replayed: Vec<i64> = stream.take_seqs(3, WAIT).await;
    assert_eq!(replayed, vec![3, 4, 5]);
    alice.say_json("lobby", "m6").await;
    assert_eq!(stream.next_within(WAIT).await.map(|e| e.seq()), Some(6));
    assert!(
        stream
            .next_within(Duration::from_millis(300))
            .await
            .is_none(),
        "nothing twice"
    );

    // ?after= does the same for a page whose stream opens after rendering.
    let response = alice
        .open_events("/rooms/lobby/events?after=4", HeaderMap::new())
        .await;
    let mut stream = natter_kit::Sse::new(response);
    let seqs: Vec<i64> = stream.take_seqs(2, WAIT).await;
    assert_eq!(seqs, vec![5, 6]);

    // Without either, the stream starts live.
    let mut live = alice.events("lobby", HeaderMap::new()).await;
    alice.say_json("lobby", "m7").await;
    assert_eq!(live.next_within(WAIT).await.map(|e| e.seq()), Some(7));
}

/// On reconnect the header says what the client really has.
async fn the_header_wins_over_the_after_parameter(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user();
    alice.join("alice", "lobby").await;
    for i in 1..=4 {
        alice.say_json("lobby", &format!("m{i}")).await;
    }
    let response = alice
        .open_events("/rooms/lobby/events?after=1", header("last-event-id", "3"))
        .await;
    let mut stream = natter_kit::Sse::new(response);
    assert_eq!(stream.next_within(WAIT).await.map(|e| e.seq()), Some(4));
    let response = alice
        .open_events("/rooms/lobby/events?after=zero", HeaderMap::new())
        .await;
    assert_eq!(response.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY);
}

/// 20 posters and 20 subscribers: every subscriber gets every message
/// exactly once, in seq order, and the seqs have no gap.
async fn concurrent_posters_and_subscribers_see_every_message_once_in_order(backend: Backend) {
    const POSTERS: usize = 20;
    const PER_POSTER: usize = 10;
    let app = spawn_app(backend).await;
    let mut streams = Vec::new();
    for i in 0..20 {
        let user = app.user();
        user.join(&format!("reader{i}"), "busy").await;
        streams.push(user.events("busy", header("last-event-id", "0")).await);
    }
    let mut posters = Vec::new();
    for i in 0..POSTERS {
        let user = app.user();
        user.join(&format!("poster{i}"), "busy").await;
        posters.push(tokio::spawn(async move {
            for j in 0..PER_POSTER {
                user.say_json("busy", &format!("{i}-{j}")).await;
            }
        }));
    }
    for poster in posters {
        poster.await.expect("poster");
    }
    let total = POSTERS * PER_POSTER;
    let expected: Vec<i64> = (1..=total as i64).collect();
    for stream in &mut streams {
        let seqs: Vec<i64> = stream.take_seqs(total, WAIT).await;
        assert_eq!(seqs, expected);
        assert!(
            stream
                .next_within(Duration::from_millis(100))
                .await
                .is_none(),
            "no duplicates"
        );
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM messages").await,
        total as i64
    );
    assert_eq!(
        app.count("SELECT MAX(seq) FROM messages").await,
        total as i64
    );
}

/// Graceful shutdown does not wait on open streams.
async fn shutdown_ends_open_streams(backend: Backend) {
    let mut app = spawn_app(backend).await;
    let alice = app.user();
    alice.join("alice", "lobby").await;
    let mut stream = alice.events("lobby", HeaderMap::new()).await;
    app.stop().await; // asserts the server stops within 10 s
    assert!(stream.next_within(WAIT).await.is_none(), "stream ended");
}
