//! Typing (#15): `POST /rooms/{room}/typing` passes at most one signal per
//! member per 2 s to every stream of the room as an id-less `typing`
//! event; it is never stored, never replayed, and shows in the members
//! list for 5 s.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;
use reqwest::StatusCode;

use crate::helpers::{
    attr, events_during, eventually, header, is_signal, listed, members, next_where, text_of,
    whoami, SOON,
};
use natter_kit::{spawn_app, spawn_pair, Backend, Event, Sse, TestApp, User};

natter_kit::on_both_backends!(
    a_typing_signal_reaches_every_stream_of_the_room_without_an_id,
    only_members_may_signal_typing,
    typing_is_never_stored,
    typing_is_never_replayed_and_takes_no_cursor,
    typing_is_bounded_per_member,
    typing_shows_in_the_members_list_for_five_seconds,
);

mod cases {
    natter_kit::postgres_only!(typing_on_one_instance_reaches_streams_on_the_other);
}

/// At most one signal per member is passed on in this long.
const RATE: Duration = Duration::from_secs(2);

/// How long a signal counts as typing.
const EXPIRY: Duration = Duration::from_secs(5);

/// `POST /rooms/{room}/typing` with no body: the status.
async fn typing(user: &User, room: &str) -> StatusCode {
    user.client
        .post(user.url(&format!("/rooms/{room}/typing")))
        .send()
        .await
        .expect("POST typing")
        .status()
}

/// The member id a `typing` event names; asserts its shape: no id, and
/// `<span class="typist" data-member="{id}">{name}</span>`.
fn typist(event: &Event) -> (i64, String) {
    assert_eq!(event.id, None, "typing carries no id: {event:?}");
    let data = event.data.trim();
    assert!(data.starts_with("<span"), "{data}");
    assert_eq!(attr(data, "<span", "class").as_deref(), Some("typist"));
    let member = attr(data, "<span", "data-member")
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("data-member: {data}"));
    (member, text_of(data))
}

/// The next `typing` event on `stream`.
async fn next_typing(stream: &mut Sse, what: &str) -> (i64, String) {
    typist(&next_where(stream, SOON, what, |e| is_signal(e, "typing")).await)
}

/// Every table's row count, the room's cursor and the newest message's,
/// once two looks a moment apart agree (streams opening write presence).
async fn settled(app: &TestApp) -> (BTreeMap<String, i64>, i64, i64) {
    let look = || async {
        (
            app.row_counts().await,
            app.count("SELECT last_cursor FROM rooms WHERE name = 'lobby'")
                .await,
            app.count("SELECT COALESCE(MAX(cursor), 0) FROM messages")
                .await,
        )
    };
    eventually("the database settles", SOON, || async {
        let first = look().await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let second = look().await;
        if first == second {
            Ok(second)
        } else {
            Err(format!("{first:?} then {second:?}"))
        }
    })
    .await
}

/// alice types: her stream and bob's each get one id-less `typing` event
/// naming her (the client hides its own).
async fn a_typing_signal_reaches_every_stream_of_the_room_without_an_id(backend: Backend) {
    let app = spawn_app(backend).await;
    let (alice, bob) = (app.user(), app.user());
    alice.join("alice", "lobby").await;
    bob.join("bob", "lobby").await;
    let (alice_id, _) = whoami(&alice, "lobby").await;
    let mut alices = alice.events("lobby", HeaderMap::new()).await.with_signals();
    let mut bobs = bob.events("lobby", HeaderMap::new()).await.with_signals();
    assert_eq!(typing(&alice, "lobby").await, StatusCode::NO_CONTENT);
    for stream in [&mut alices, &mut bobs] {
        let got = next_typing(stream, "alice typing").await;
        assert_eq!(got, (alice_id, "alice".to_owned()));
    }
}

/// Strangers, members of another room and those who left get 403, and
/// nothing of theirs reaches the room: the first signal there is alice's.
async fn only_members_may_signal_typing(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user();
    alice.join("alice", "lobby").await;
    let (alice_id, _) = whoami(&alice, "lobby").await;
    let mut alices = alice.events("lobby", HeaderMap::new()).await.with_signals();
    let elsewhere = app.user();
    elsewhere.join("eve", "other").await;
    let leaver = app.user();
    leaver.join("leaver", "lobby").await;
    leaver.post_form("/rooms/lobby/exit", &[]).await;
    for (who, user) in [
        ("stranger", app.user()),
        ("other room", elsewhere),
        ("left", leaver),
    ] {
        assert_eq!(typing(&user, "lobby").await, StatusCode::FORBIDDEN, "{who}");
    }
    assert_eq!(typing(&alice, "lobby").await, StatusCode::NO_CONTENT);
    let (first, _) = next_typing(&mut alices, "alice typing").await;
    assert_eq!(first, alice_id, "no signal from non-members");
}

/// Signals pass through to the streams and leave every table, the room's
/// cursor and the messages as they were.
async fn typing_is_never_stored(backend: Backend) {
    let app = spawn_app(backend).await;
    let (alice, bob) = (app.user(), app.user());
    alice.join("alice", "lobby").await;
    bob.join("bob", "lobby").await;
    bob.say_json("lobby", "hello").await;
    let mut alices = alice.events("lobby", HeaderMap::new()).await.with_signals();
    let _bobs = bob.events("lobby", HeaderMap::new()).await.with_signals();
    eventually("both here", SOON, || async {
        let now = members(&alice, "lobby").await;
        match now.iter().all(|m| m.here) {
            true => Ok(()),
            false => Err(format!("{now:?}")),
        }
    })
    .await;
    let before = settled(&app).await;
    for user in [&bob, &alice] {
        assert_eq!(typing(user, "lobby").await, StatusCode::NO_CONTENT);
        next_typing(&mut alices, "a typing event").await;
    }
    let after = settled(&app).await;
    assert_eq!(after, before, "(row counts, room cursor, newest cursor)");
}

/// A stream resumed with `Last-Event-ID` after a signal gets no `typing`
/// event before the next message, whose id is the one after the last
/// message: typing took no cursor.
async fn typing_is_never_replayed_and_takes_no_cursor(backend: Backend) {
    let app = spawn_app(backend).await;
    let (alice, bob) = (app.user(), app.user());
    alice.join("alice", "lobby").await;
    bob.join("bob", "lobby").await;
    let mut alices = alice.events("lobby", HeaderMap::new()).await.with_signals();
    assert_eq!(bob.say_json("lobby", "one").await, 1);
    let one = next_where(&mut alices, SOON, "message 1", |e| e.id.is_some()).await;
    assert_eq!(one.seq(), 1);
    assert_eq!(typing(&bob, "lobby").await, StatusCode::NO_CONTENT);
    next_typing(&mut alices, "bob typing").await;
    drop(alices);

    let mut resumed = alice
        .events("lobby", header("last-event-id", "1"))
        .await
        .with_signals();
    let mut replayed = alice
        .events("lobby", header("last-event-id", "0"))
        .await
        .with_signals();
    assert_eq!(bob.say_json("lobby", "two").await, 2);
    for (stream, first) in [(&mut resumed, 2), (&mut replayed, 1)] {
        let mut seen = Vec::new();
        loop {
            let event = next_where(stream, SOON, "message 2", |e| {
                e.id.is_some() || is_signal(e, "typing")
            })
            .await;
            assert!(!is_signal(&event, "typing"), "replayed: {event:?}");
            seen.push(event.seq());
            if event.seq() == 2 {
                break;
            }
        }
        assert_eq!(seen, (first..=2).collect::<Vec<i64>>());
    }
    assert_eq!(
        app.count("SELECT last_cursor FROM rooms WHERE name = 'lobby'")
            .await,
        2
    );
}

/// Five signals at once from bob pass as one; alice's own passes beside
/// it; bob's next, 2 s later, passes again.
async fn typing_is_bounded_per_member(backend: Backend) {
    let app = spawn_app(backend).await;
    let (alice, bob, carol) = (app.user(), app.user(), app.user());
    alice.join("alice", "lobby").await;
    bob.join("bob", "lobby").await;
    carol.join("carol", "lobby").await;
    let (alice_id, _) = whoami(&alice, "lobby").await;
    let (bob_id, _) = whoami(&bob, "lobby").await;
    let mut carols = carol.events("lobby", HeaderMap::new()).await.with_signals();

    let burst = Instant::now();
    for _ in 0..5 {
        assert_eq!(typing(&bob, "lobby").await, StatusCode::NO_CONTENT);
    }
    assert_eq!(typing(&alice, "lobby").await, StatusCode::NO_CONTENT);
    let window = events_during(&mut carols, Duration::from_millis(1500)).await;
    let mut typists: Vec<i64> = window
        .iter()
        .filter(|e| is_signal(e, "typing"))
        .map(|e| typist(e).0)
        .collect();
    typists.sort();
    assert_eq!(typists, [alice_id, bob_id], "one each: {window:?}");

    tokio::time::sleep(
        (burst + RATE + Duration::from_millis(200)).saturating_duration_since(Instant::now()),
    )
    .await;
    assert_eq!(typing(&bob, "lobby").await, StatusCode::NO_CONTENT);
    assert_eq!(next_typing(&mut carols, "bob again").await.0, bob_id);
}

/// `typing` in the members list is true after a passed signal and false
/// again no sooner than 5 s after it, or as soon as the typist sends;
/// alice, silent, is never typing.
async fn typing_shows_in_the_members_list_for_five_seconds(backend: Backend) {
    let app = spawn_app(backend).await;
    let (alice, bob) = (app.user(), app.user());
    alice.join("alice", "lobby").await;
    bob.join("bob", "lobby").await;
    let now = members(&alice, "lobby").await;
    assert!(now.iter().all(|m| !m.typing), "{now:?}");

    let signalled = Instant::now();
    assert_eq!(typing(&bob, "lobby").await, StatusCode::NO_CONTENT);
    let typing_now = |wanted: bool| {
        let alice = alice.clone();
        move || {
            let alice = alice.clone();
            async move {
                let now = members(&alice, "lobby").await;
                assert!(!listed(&now, "alice").expect("alice").typing, "{now:?}");
                match listed(&now, "bob") {
                    Some(bob) if bob.typing == wanted => Ok(()),
                    _ => Err(format!("{now:?}")),
                }
            }
        }
    };
    eventually("bob typing", SOON, typing_now(true)).await;
    eventually("bob no longer typing", SOON, typing_now(false)).await;
    // A lower bound only: a slow machine makes it later, never sooner.
    assert!(
        signalled.elapsed() >= EXPIRY - Duration::from_millis(500),
        "typing ended {:?} after the signal",
        signalled.elapsed()
    );
    // Sending ends it at once.
    assert_eq!(typing(&bob, "lobby").await, StatusCode::NO_CONTENT);
    eventually("bob typing again", SOON, typing_now(true)).await;
    bob.say_json("lobby", "done typing").await;
    let now = members(&alice, "lobby").await;
    assert!(!listed(&now, "bob").expect("bob").typing, "sent: {now:?}");
}

/// bob types on B: alice's stream on A gets it, and A's members list says
/// bob is typing (a chat user expects every instance to agree).
async fn typing_on_one_instance_reaches_streams_on_the_other(backend: Backend) {
    let (a, b) = spawn_pair(backend).await;
    let (alice, bob) = (a.user(), a.user());
    alice.join("alice", "lobby").await;
    bob.join("bob", "lobby").await;
    let (bob_id, _) = whoami(&bob, "lobby").await;
    let mut alices = alice.events("lobby", HeaderMap::new()).await.with_signals();
    assert_eq!(typing(&bob.on(&b), "lobby").await, StatusCode::NO_CONTENT);
    assert_eq!(
        next_typing(&mut alices, "bob's typing from B").await,
        (bob_id, "bob".to_owned())
    );
    eventually("bob typing in A's list", SOON, || async {
        let now = members(&alice, "lobby").await;
        match listed(&now, "bob") {
            Some(bob) if bob.typing => Ok(()),
            _ => Err(format!("{now:?}")),
        }
    })
    .await;
}
