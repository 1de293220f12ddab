//! Reactions (#14): toggling, counting and naming who reacted, the fixed
//! set, and fifty members reacting at once.

use std::time::Duration;

use futures_util::future::join_all;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{
    anchor, cursor, header, json_of, message, mine_sheet, react, read, stored, until_cursor, HTMX,
    JSON,
};
use natter_kit::{presets, spawn_app, spawn_app_with, Backend};

natter_kit::on_both_backends!(
    a_reaction_toggles_on_and_off,
    reactions_count_who_reacted_in_order_and_keep_the_sets_order,
    emoji_outside_the_set_are_refused_and_store_nothing,
    fifty_members_reacting_at_once_end_with_fifty_on_every_screen,
);

const WAIT: Duration = Duration::from_secs(10);

/// The same emoji twice takes the reaction back; each toggle takes a
/// cursor; every kind of client can toggle, and the fragment marks who
/// reacted for the per-viewer style sheet.
async fn a_reaction_toggles_on_and_off(backend: Backend) {
    let app = spawn_app(backend).await;
    let (alice, bob) = (app.user(), app.user());
    alice.join("alice", "lobby").await;
    bob.join("bob", "lobby").await;
    let seq = alice.say_json("lobby", "lunch?").await;
    let path = format!("{}/reactions", message("lobby", seq));

    let json = react(&bob, "lobby", seq, "👍").await;
    assert_eq!(
        json["reactions"],
        json!([{"emoji": "👍", "count": 1, "by": ["bob"]}])
    );
    assert_eq!(cursor(&json), 2);
    assert_eq!(app.count("SELECT COUNT(*) FROM reactions").await, 1);
    let json = react(&bob, "lobby", seq, "👍").await;
    assert_eq!(json["reactions"], json!([]), "toggled off");
    assert_eq!(cursor(&json), 3);
    assert_eq!(app.count("SELECT COUNT(*) FROM reactions").await, 0);

    let response = bob.post_form(&path, &[("emoji", "👍")]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        response.headers()["location"],
        anchor("lobby", seq).as_str()
    );
    assert_eq!(read(&bob, "lobby", seq).await["reactions"][0]["count"], 1);

    let response = bob.post_form_with(&path, HTMX, &[("emoji", "👍")]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.expect("body");
    assert!(html.contains(r#"id="message-1""#), "{html}");
    assert!(!html.contains(r#"class="reaction""#), "off again: {html}");

    let response = bob.post_form_with(&path, HTMX, &[("emoji", "👍")]).await;
    let html = response.text().await.expect("body");
    let (_, page) = bob.text("/rooms/lobby").await;
    let (id, sheet) = mine_sheet(&page);
    assert!(html.contains(r#"value="👍""#), "{html}");
    assert!(html.contains(r#"<span class="count">1</span>"#), "{html}");
    assert!(html.contains(&format!(r#"data-by="{id}""#)), "{html}");
    let (_, sheet) = bob.text(&sheet).await;
    assert!(
        sheet.contains(&format!(r#".reaction[data-by~="{id}"]"#)),
        "{sheet}"
    );

    let response = bob
        .send_json(Method::POST, &path, Some(&json!({"emoji": "🎉"})))
        .await;
    let json = json_of(response, StatusCode::OK).await;
    assert_eq!(
        json["reactions"][1],
        json!({"emoji": "🎉", "count": 1, "by": ["bob"]})
    );
    assert_eq!(cursor(&json), 7, "post and six toggles");
    assert_eq!(app.count("SELECT last_cursor FROM rooms").await, 7);
}

/// Counts, and names in the order people reacted; emoji in the set's
/// order whatever the order of reacting; short names and a bare U+2764
/// are the same emoji, stored as the set spells it.
async fn reactions_count_who_reacted_in_order_and_keep_the_sets_order(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut users = Vec::new();
    for name in ["alice", "bob", "carol", "dave", "erin"] {
        let user = app.user();
        user.join(name, "lobby").await;
        users.push(user);
    }
    let [alice, bob, carol, dave, erin] = &users[..] else {
        unreachable!()
    };
    let seq = alice.say_json("lobby", "we shipped").await;
    react(alice, "lobby", seq, "tada").await;
    react(bob, "lobby", seq, "👍").await;
    react(carol, "lobby", seq, "heart").await;
    react(alice, "lobby", seq, "+1").await;
    react(dave, "lobby", seq, "\u{2764}").await;
    let json = react(erin, "lobby", seq, "thumbsup").await;
    let expected = json!([
        {"emoji": "👍", "count": 3, "by": ["bob", "alice", "erin"]},
        {"emoji": "\u{2764}\u{FE0F}", "count": 2, "by": ["carol", "dave"]},
        {"emoji": "🎉", "count": 1, "by": ["alice"]},
    ]);
    assert_eq!(json["reactions"], expected);
    assert_eq!(read(erin, "lobby", seq).await["reactions"], expected);
    let hearts = "SELECT COUNT(*) FROM reactions WHERE emoji = '\u{2764}\u{FE0F}'";
    assert_eq!(app.count(hearts).await, 2);
    assert_eq!(app.count("SELECT COUNT(*) FROM reactions").await, 6);

    let (_, page) = alice.text("/rooms/lobby").await;
    assert!(page.contains(r#"title="bob, alice, erin""#), "{page}");
    assert!(page.contains(r#"<span class="count">3</span>"#), "{page}");
    let thumbs = page.find(r#"value="👍""#).expect("👍");
    let heart = page.find("value=\"\u{2764}\u{FE0F}\"").expect("❤️");
    let tada = page.find(r#"value="🎉""#).expect("🎉");
    assert!(thumbs < heart && heart < tada, "the set's order");
}

/// 422 with a sentence for anything outside the set; nothing is stored.
async fn emoji_outside_the_set_are_refused_and_store_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user();
    alice.join("alice", "lobby").await;
    let seq = alice.say_json("lobby", "rate this").await;
    let path = format!("{}/reactions", message("lobby", seq));
    let before = stored(&app, &["lobby"]).await;
    for emoji in ["👎", "smile", "", " ", "👍👍", "thumbs up", "<b>"] {
        let response = alice.post_form_with(&path, JSON, &[("emoji", emoji)]).await;
        let error = json_of(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert!(
            error["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{emoji:?}: {error}"
        );
        let response = alice.post_form(&path, &[("emoji", emoji)]).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{emoji:?}"
        );
    }
    let response = alice.post_form_with(&path, JSON, &[]).await;
    assert_eq!(
        response.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "no emoji"
    );
    let response = alice
        .send_json(Method::POST, &path, Some(&json!({"emoji": "🍕"})))
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "JSON");
    assert_eq!(stored(&app, &["lobby"]).await, before);
    assert_eq!(read(&alice, "lobby", seq).await["reactions"], json!([]));
}

/// Fifty members react to one message at once: every reaction counts, the
/// cursor has no gap, and every screen (live or resumed) ends at 50.
async fn fifty_members_reacting_at_once_end_with_fifty_on_every_screen(backend: Backend) {
    const MEMBERS: usize = 50;
    let app = spawn_app_with(backend, presets::unlimited).await;
    let alice = app.user();
    alice.join("alice", "lobby").await;
    let seq = alice.say_json("lobby", "who is in?").await;
    let mut members = Vec::new();
    for i in 0..MEMBERS {
        let member = app.user();
        member.join(&format!("m{i:02}"), "lobby").await;
        members.push(member);
    }
    let mut screens = vec![
        alice.events("lobby", header("last-event-id", "1")).await,
        members[0].events("lobby", HeaderMap::new()).await,
    ];
    join_all(members.iter().map(|m| react(m, "lobby", seq, "👍"))).await;

    let last = 1 + MEMBERS as i64;
    let json = read(&alice, "lobby", seq).await;
    assert_eq!(json["reactions"][0]["count"], MEMBERS);
    let mut by: Vec<String> = json["reactions"][0]["by"]
        .as_array()
        .expect("by")
        .iter()
        .map(|name| name.as_str().expect("a name").to_owned())
        .collect();
    by.sort();
    let everyone: Vec<String> = (0..MEMBERS).map(|i| format!("m{i:02}")).collect();
    assert_eq!(by, everyone);
    assert_eq!(cursor(&json), last);
    assert_eq!(app.count("SELECT last_cursor FROM rooms").await, last);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM reactions").await,
        MEMBERS as i64
    );

    let late = alice
        .open_events("/rooms/lobby/events?after=1", HeaderMap::new())
        .await;
    screens.push(natter_kit::Sse::new(late));
    for (i, screen) in screens.iter_mut().enumerate() {
        let events = until_cursor(screen, last, WAIT).await;
        if i == 2 {
            assert_eq!(events.len(), 1, "a resumed screen gets the message once");
        }
        let final_state = &events.last().expect("an event").data;
        assert!(final_state.contains(r#"id="message-1""#), "screen {i}");
        assert!(
            final_state.contains(&format!(r#"<span class="count">{MEMBERS}</span>"#)),
            "screen {i}: {final_state}"
        );
    }
    alice.say_json("lobby", "sentinel").await;
    for screen in &mut screens {
        assert_eq!(
            screen.take_seqs(1, WAIT).await,
            vec![last + 1],
            "nothing else"
        );
    }
}
