//! The stream carries changes (#14): the event id is the room's change
//! cursor, a resumed stream converges on each changed message's current
//! state exactly once, and changes cross instances.

use std::time::Duration;

use reqwest::header::HeaderMap;

use crate::helpers::{cursor, delete, edit, header, message_seqs, react, read};
use natter_kit::{spawn_app, spawn_pair, Backend, Event, Sse, User};

natter_kit::on_both_backends!(
    a_client_offline_through_changes_gets_each_changed_message_once_in_its_final_state,
    a_live_subscriber_sees_each_change_as_it_happens,
    in_a_room_where_people_only_post_event_ids_are_seqs,
);

mod cases {
    natter_kit::postgres_only!(an_edit_on_one_instance_reaches_a_stream_on_the_other);
}

const WAIT: Duration = Duration::from_secs(10);

/// The seq of the one message an event carries.
fn seq_of(event: &Event) -> i64 {
    let seqs = message_seqs(&event.data);
    assert_eq!(seqs.len(), 1, "one message per event: {}", event.data);
    seqs[0]
}

/// Asserts the events are these (seq, cursor) pairs, in this order: the id
/// is the cursor, and the fragment says so too.
fn assert_changes(events: &[Event], expected: &[(i64, i64)]) {
    let got: Vec<(i64, i64)> = events.iter().map(|e| (seq_of(e), e.seq())).collect();
    assert_eq!(got, expected);
    for event in events {
        let attribute = format!(r#"data-cursor="{}""#, event.seq());
        assert!(event.data.contains(&attribute), "{}", event.data);
        assert_eq!(event.event, None, "no event name, like posts");
    }
}

/// The next event of `stream`, asserted to be message `seq` at `cursor`.
async fn next_change(stream: &mut Sse, seq: i64, cursor: i64) -> Event {
    let event = stream.take(1, WAIT).await.remove(0);
    assert_changes(std::slice::from_ref(&event), &[(seq, cursor)]);
    event
}

/// Opens the lobby's stream for `user` with `query` and `headers`,
/// reading only numbered events.
async fn open(user: &User, query: &str, headers: HeaderMap) -> Sse {
    let response = user
        .open_events(&format!("/rooms/lobby/events{query}"), headers)
        .await;
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    Sse::new(response)
}

/// A client at cursor 5 misses a post, three edits of one message, a
/// reaction to another and a delete: resuming (by `?after=` or
/// `Last-Event-ID`) it gets one fragment per changed message, in its final
/// state and cursor order, and nothing for the untouched ones.
async fn a_client_offline_through_changes_gets_each_changed_message_once_in_its_final_state(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let (alice, bob) = (app.user(), app.user());
    alice.join("alice", "lobby").await;
    bob.join("bob", "lobby").await;
    for word in ["one", "two", "three", "four", "five"] {
        alice.say_json("lobby", &format!("body {word}")).await;
    }
    // Offline from cursor 5.
    alice.say_json("lobby", "body six").await; // 6
    for version in ["two v1", "two v2", "two final"] {
        edit(&alice, "lobby", 2, version).await; // 7, 8, 9
    }
    react(&bob, "lobby", 4, "👀").await; // 10
    delete(&alice, "lobby", 5).await; // 11
    let cursors: Vec<i64> = {
        let mut cursors = Vec::new();
        for seq in 1..=6 {
            cursors.push(cursor(&read(&bob, "lobby", seq).await));
        }
        cursors
    };
    assert_eq!(cursors, vec![1, 9, 3, 10, 11, 6]);

    let mut streams = vec![
        open(&bob, "?after=5", HeaderMap::new()).await,
        open(&bob, "", header("last-event-id", "5")).await,
        open(&bob, "?after=1", header("last-event-id", "5")).await,
        open(&bob, "?after=8", HeaderMap::new()).await,
        open(&bob, "", header("last-event-id", "0")).await,
    ];
    let since_five = [(6, 6), (2, 9), (4, 10), (5, 11)];
    let expected: [&[(i64, i64)]; 5] = [
        &since_five,
        &since_five,
        &since_five,
        &[(2, 9), (4, 10), (5, 11)],
        &[(1, 1), (3, 3), (6, 6), (2, 9), (4, 10), (5, 11)],
    ];
    for (stream, expected) in streams.iter_mut().zip(expected) {
        let events = stream.take(expected.len(), WAIT).await;
        assert_changes(&events, expected);
        for event in &events {
            let html = &event.data;
            match seq_of(event) {
                2 => {
                    assert!(html.contains("two final"), "{html}");
                    assert!(!html.contains("two v"), "{html}");
                    assert!(html.contains(r#"class="edited""#), "{html}");
                }
                4 => {
                    assert!(html.contains("body four"), "{html}");
                    assert!(html.contains(r#"value="👀""#), "{html}");
                    assert!(html.contains(r#"<span class="count">1</span>"#));
                }
                5 => {
                    assert!(html.contains(r#"class="msg deleted""#), "{html}");
                    assert!(!html.contains("body five"), "{html}");
                }
                seq => {
                    assert!(!html.contains(r#"class="edited""#), "{seq}: {html}");
                    assert!(!html.contains(r#"class="reaction""#), "{seq}: {html}");
                }
            }
        }
    }
    // The next event on every stream is the next change: nothing else was
    // queued behind the replay.
    alice.say_json("lobby", "sentinel").await;
    for stream in &mut streams {
        let events = stream.take(1, WAIT).await;
        assert_changes(&events, &[(7, 12)]);
    }
}

/// A live stream gets every change as it happens, ids consecutive and each
/// the cursor the change's answer reports; every viewer gets the same
/// fragment.
async fn a_live_subscriber_sees_each_change_as_it_happens(backend: Backend) {
    let app = spawn_app(backend).await;
    let (alice, bob) = (app.user(), app.user());
    alice.join("alice", "lobby").await;
    bob.join("bob", "lobby").await;
    let mut bobs = bob.events("lobby", HeaderMap::new()).await;
    let mut alices = alice.events("lobby", HeaderMap::new()).await;
    let mut seen = Vec::new();

    let first = alice.say_json("lobby", "frist").await;
    let event = next_change(&mut bobs, first, 1).await;
    seen.push(event);

    let json = edit(&alice, "lobby", first, "first").await;
    let event = next_change(&mut bobs, first, cursor(&json)).await;
    assert!(event.data.contains(">first<") || event.data.contains("first</p>"));
    assert!(event.data.contains(r#"class="edited""#), "{}", event.data);
    seen.push(event);

    let json = react(&bob, "lobby", first, "😂").await;
    let event = next_change(&mut bobs, first, cursor(&json)).await;
    assert!(event.data.contains(r#"value="😂""#), "{}", event.data);
    seen.push(event);

    let second = alice.say_json("lobby", "second").await;
    let event = next_change(&mut bobs, second, 4).await;
    seen.push(event);

    let json = react(&bob, "lobby", first, "😂").await;
    let event = next_change(&mut bobs, first, cursor(&json)).await;
    assert!(
        !event.data.contains(r#"class="reaction""#),
        "{}",
        event.data
    );
    seen.push(event);

    let json = delete(&alice, "lobby", first).await;
    let event = next_change(&mut bobs, first, cursor(&json)).await;
    assert!(
        event.data.contains(r#"class="msg deleted""#),
        "{}",
        event.data
    );
    seen.push(event);

    let ids: Vec<i64> = seen.iter().map(Event::seq).collect();
    assert_eq!(ids, (1..=6).collect::<Vec<_>>(), "consecutive");
    assert_eq!(alices.take(6, WAIT).await, seen, "one rendering for all");
}

/// Posts only: ids are the seqs, the room's cursor is its last seq, and
/// changes in another room take that room's cursors, not this one's.
async fn in_a_room_where_people_only_post_event_ids_are_seqs(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut posters = Vec::new();
    for i in 0..3 {
        let user = app.user();
        user.join(&format!("poster{i}"), "lobby").await;
        user.join(&format!("poster{i}"), "side").await;
        posters.push(user);
    }
    let side = posters[0].say_json("side", "elsewhere").await;
    let tasks: Vec<_> = posters
        .iter()
        .cloned()
        .enumerate()
        .map(|(i, user)| {
            tokio::spawn(async move {
                for j in 0..10 {
                    user.say_json("lobby", &format!("{i}-{j}")).await;
                    react(&user, "side", side, "👍").await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("poster");
    }
    edit(&posters[0], "side", side, "elsewhere, edited").await;

    let mut stream = open(&posters[1], "?after=0", HeaderMap::new()).await;
    let events = stream.take(30, WAIT).await;
    let pairs: Vec<(i64, i64)> = (1..=30).map(|seq| (seq, seq)).collect();
    assert_changes(&events, &pairs);
    for seq in [1, 17, 30] {
        assert_eq!(cursor(&read(&posters[2], "lobby", seq).await), seq);
    }
    let lobby = "SELECT last_cursor FROM rooms WHERE name = 'lobby'";
    assert_eq!(app.count(lobby).await, 30);
    let side = "SELECT last_cursor FROM rooms WHERE name = 'side'";
    assert_eq!(app.count(side).await, 1 + 30 + 1, "post, reactions, edit");
}

/// An edit and reactions on A (and one on B) reach streams on both
/// instances with one gapless cursor; a stream resumed on B converges.
async fn an_edit_on_one_instance_reaches_a_stream_on_the_other(backend: Backend) {
    let (a, b) = spawn_pair(backend).await;
    let (alice, carol) = (a.user(), a.user());
    alice.join("alice", "lobby").await;
    carol.join("carol", "lobby").await;
    let bob = b.user();
    bob.join("bob", "lobby").await;
    let mut on_a = alice.events("lobby", HeaderMap::new()).await;
    let mut on_b = bob.events("lobby", HeaderMap::new()).await;

    let seq = alice.say_json("lobby", "hi tehre").await;
    assert_changes(&on_b.take(1, WAIT).await, &[(seq, 1)]);
    let json = edit(&alice, "lobby", seq, "hi there").await;
    let events = on_b.take(1, WAIT).await;
    assert_changes(&events, &[(seq, cursor(&json))]);
    assert!(events[0].data.contains("hi there"), "{}", events[0].data);
    assert!(events[0].data.contains(r#"class="edited""#));

    react(&carol, "lobby", seq, "🎉").await;
    let events = on_b.take(1, WAIT).await;
    assert_changes(&events, &[(seq, 3)]);
    assert!(
        events[0].data.contains(r#"value="🎉""#),
        "{}",
        events[0].data
    );
    react(&bob, "lobby", seq, "heart").await;
    let last = on_b.take(1, WAIT).await;
    assert_changes(&last, &[(seq, 4)]);

    let seen_on_a = on_a.take(4, WAIT).await;
    assert_eq!(
        seen_on_a.iter().map(Event::seq).collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    assert_eq!(seen_on_a[3], last[0], "both instances send the same");
    let mut resumed = open(&bob, "?after=1", HeaderMap::new()).await;
    let events = resumed.take(1, WAIT).await;
    assert_changes(&events, &[(seq, 4)]);
    let html = &events[0].data;
    assert!(
        html.contains("hi there") && html.contains(r#"value="🎉""#),
        "{html}"
    );
    assert!(html.contains("value=\"\u{2764}\u{FE0F}\""), "{html}");
    alice.say_json("lobby", "sentinel").await;
    assert_changes(&resumed.take(1, WAIT).await, &[(2, 5)]);
}
