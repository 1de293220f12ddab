//! Permalinks: `GET /rooms/{room}/messages/{seq}` in a browser shows the
//! room around that message; a stranger joins and lands back on it.

use std::time::Duration;

use reqwest::StatusCode;

use crate::helpers::{header, message_seqs};
use natter_kit::{spawn_app, Backend, User};

natter_kit::on_both_backends!(
    a_permalink_shows_the_message_with_older_above_and_newer_below,
    a_recent_permalink_follows_the_room_live_without_a_gap,
    a_stranger_joins_and_lands_on_the_permalink,
    only_pages_of_the_room_are_gone_on_to_after_joining,
    scripts_still_get_the_message_json,
);

const WAIT: Duration = Duration::from_secs(10);

/// Alice in `lobby` with `count` messages posted.
async fn lobby_with(app: &natter_kit::TestApp, count: usize) -> User {
    let alice = app.user();
    alice.join("alice", "lobby").await;
    for i in 1..=count {
        alice.say_json("lobby", &format!("message {i}")).await;
    }
    alice
}

/// Far back: 25 older messages, the linked one, 49 newer, a link on to the
/// next newer ones, and no live stream (it would replay everything after).
async fn a_permalink_shows_the_message_with_older_above_and_newer_below(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = lobby_with(&app, 120).await;
    let (status, page) = alice.text("/rooms/lobby/messages/30").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(message_seqs(&page), (5..=79).collect::<Vec<_>>());
    assert!(page.contains(r#"data-linked="30""#));
    assert!(page.contains(r#"href="/rooms/lobby/messages/80#message-80""#));
    assert!(!page.contains("hx-sse:connect"));
    assert!(page.contains("Back to the newest messages"));
    // Older history loads as on the room page; each time links here.
    assert!(page.contains(r#"hx-get="/rooms/lobby/messages?before=5""#));
    assert!(page.contains(r#"class="when" href="/rooms/lobby/messages/30#message-30""#));
    // Near the start there is nothing older to load.
    let (_, page) = alice.text("/rooms/lobby/messages/2").await;
    assert_eq!(message_seqs(&page), (1..=51).collect::<Vec<_>>());
    assert!(page.contains("This is the start of lobby."));
    // No such message, or no number at all.
    assert_eq!(
        alice.get("/rooms/lobby/messages/999").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        alice.get("/rooms/lobby/messages/x").await.status(),
        StatusCode::NOT_FOUND
    );
}

/// Within a page of the newest, the permalink is live: its stream starts
/// after the cursor read before the messages, so what is posted next
/// arrives once, and nothing shown is missing.
async fn a_recent_permalink_follows_the_room_live_without_a_gap(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = lobby_with(&app, 60).await;
    let (_, page) = alice.text("/rooms/lobby/messages/40").await;
    assert_eq!(message_seqs(&page), (15..=60).collect::<Vec<_>>());
    let connect = r#"hx-sse:connect="/rooms/lobby/events?after=60""#;
    assert!(page.contains(connect), "live from the cursor read");
    let mut stream = alice.events("lobby", header("last-event-id", "60")).await;
    alice.say_json("lobby", "message 61").await;
    let events = stream.take(1, WAIT).await;
    assert_eq!(events[0].id.as_deref(), Some("61"));
    assert!(events[0].data.contains("message 61"));
}

/// A stranger is sent to join with the permalink to go on to, and after
/// joining lands on it.
async fn a_stranger_joins_and_lands_on_the_permalink(backend: Backend) {
    let app = spawn_app(backend).await;
    lobby_with(&app, 5).await;
    let bob = app.user();
    let response = bob.get("/rooms/lobby/messages/3").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let join = response.headers()["location"]
        .to_str()
        .unwrap_or("")
        .to_owned();
    assert_eq!(
        join,
        "/join-room?room=lobby&next=%2Frooms%2Flobby%2Fmessages%2F3%23message-3"
    );
    let (_, form) = bob.text(&join).await;
    assert!(form.contains(
        r#"<input type="hidden" name="next" value="/rooms/lobby/messages/3#message-3">"#
    ));
    let response = bob
        .post_form(
            "/join-room",
            &[
                ("username", "bob"),
                ("room", "lobby"),
                ("next", "/rooms/lobby/messages/3#message-3"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        response.headers()["location"],
        "/rooms/lobby/messages/3#message-3"
    );
    let (status, page) = bob.text("/rooms/lobby/messages/3").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(r#"data-linked="3""#));
}

/// `next` never leads off the room: another site, another room or a
/// mangled path all go to the room's own page, and the form drops them.
async fn only_pages_of_the_room_are_gone_on_to_after_joining(backend: Backend) {
    let app = spawn_app(backend).await;
    for (i, next) in [
        "https://evil.example/",
        "//evil.example/rooms/lobby",
        "/\\evil.example",
        "/rooms/other/messages/1",
        "/rooms/lobbyx",
    ]
    .into_iter()
    .enumerate()
    {
        let user = app.user();
        let (_, form) = user
            .text(&format!(
                "/join-room?room=lobby&next={}",
                next.replace('/', "%2F").replace(':', "%3A")
            ))
            .await;
        assert!(!form.contains(r#"name="next""#), "{next:?} kept");
        let name = format!("user{i}");
        let response = user
            .post_form(
                "/join-room",
                &[("username", &name), ("room", "lobby"), ("next", next)],
            )
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(response.headers()["location"], "/rooms/lobby", "{next:?}");
    }
}

/// `Accept: application/json` gets the message JSON, as before.
async fn scripts_still_get_the_message_json(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = lobby_with(&app, 2).await;
    let response = alice
        .client
        .get(alice.url("/rooms/lobby/messages/2"))
        .header("accept", "application/json")
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status(), StatusCode::OK);
    let json: serde_json::Value = response.json().await.expect("json");
    assert_eq!(json["seq"], 2);
    assert_eq!(json["body"], "message 2");
}
