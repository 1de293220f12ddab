//! Mentions (#15): `@name` is marked for everyone with whom it calls, and
//! only the person named gets the highlight, from their own style sheet.

use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::StatusCode;

use crate::helpers::{attr, whoami};
use natter_kit::{spawn_app, Backend, User};

natter_kit::on_both_backends!(
    a_mention_is_marked_for_everyone_in_the_stream_and_the_history,
    only_the_person_named_gets_the_highlight,
    a_style_sheet_with_a_part_that_is_not_hex_is_not_found,
);

const WAIT: Duration = Duration::from_secs(10);

/// The mark of a mention of `hex` written as `written`.
fn mark(hex: &str, written: &str) -> String {
    format!(r#"<span class="mention" data-mention="{hex}">{written}</span>"#)
}

/// The viewer's own style sheet, as their room page links it.
async fn own_sheet(user: &User, room: &str) -> String {
    let (_, page) = user.text(&format!("/rooms/{room}")).await;
    let href = attr(&page, r#"href="/mine/"#, "href")
        .unwrap_or_else(|| panic!("a /mine/ style sheet link: {page}"));
    assert!(
        attr(&page, r#"href="/mine/"#, "rel").as_deref() == Some("stylesheet"),
        "{href}"
    );
    let response = user.get(&href).await;
    assert_eq!(response.status(), StatusCode::OK, "{href}");
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap_or("")
        .starts_with("text/css"));
    response.text().await.expect("css")
}

/// "hi @bob and @Mary_Ann" is marked with each one's id, the same in the
/// live event, the room page and the history fragment.
async fn a_mention_is_marked_for_everyone_in_the_stream_and_the_history(backend: Backend) {
    let app = spawn_app(backend).await;
    let (alice, bob, mary) = (app.user(), app.user(), app.user());
    alice.join("alice", "lobby").await;
    bob.join("bob", "lobby").await;
    mary.join("Mary Ann", "lobby").await;
    let (_, bob_hex) = whoami(&bob, "lobby").await;
    let (_, mary_hex) = whoami(&mary, "lobby").await;
    assert!(bob_hex.bytes().all(|b| b.is_ascii_hexdigit()) && !bob_hex.is_empty());
    assert_ne!(bob_hex, mary_hex);
    let mut stream = alice.events("lobby", HeaderMap::new()).await;
    alice.say_json("lobby", "hi @bob and @Mary_Ann").await;
    let event = stream.next_within(WAIT).await.expect("the message");
    let (_, page) = bob.text("/rooms/lobby").await;
    let (_, history) = mary.text("/rooms/lobby/messages?before=2").await;
    for (what, html) in [
        ("stream", &event.data),
        ("page", &page),
        ("history", &history),
    ] {
        assert!(html.contains(&mark(&bob_hex, "@bob")), "{what}: {html}");
        assert!(
            html.contains(&mark(&mary_hex, "@Mary_Ann")),
            "{what}: {html}"
        );
    }
}

/// bob's sheet highlights mentions of bob; alice's highlights hers and not
/// his.
async fn only_the_person_named_gets_the_highlight(backend: Backend) {
    let app = spawn_app(backend).await;
    let (alice, bob) = (app.user(), app.user());
    alice.join("alice", "lobby").await;
    bob.join("bob", "lobby").await;
    let (_, alice_hex) = whoami(&alice, "lobby").await;
    let (_, bob_hex) = whoami(&bob, "lobby").await;
    alice.say_json("lobby", "hi @bob").await;
    let rule = |hex: &str| format!(r#".mention[data-mention="{hex}"]"#);
    let bobs = own_sheet(&bob, "lobby").await;
    assert!(bobs.contains(&rule(&bob_hex)), "{bobs}");
    let alices = own_sheet(&alice, "lobby").await;
    assert!(alices.contains(&rule(&alice_hex)), "{alices}");
    assert!(!alices.contains(&bob_hex), "{alices}");
}

/// Only hex digits make a sheet's mention part; anything else is 404.
async fn a_style_sheet_with_a_part_that_is_not_hex_is_not_found(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user();
    alice.join("alice", "lobby").await;
    let (id, hex) = whoami(&alice, "lobby").await;
    let (status, _) = alice.text(&format!("/mine/{id}-{hex}.css")).await;
    assert_eq!(status, StatusCode::OK);
    for bad in ["xyz", "62g", "", "6%22%5D%7B", "62%20"] {
        let (status, css) = alice.text(&format!("/mine/{id}-{bad}.css")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{bad:?}: {css}");
    }
}
