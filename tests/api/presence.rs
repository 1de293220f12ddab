//! Presence (#15): a member is here while one of their streams for the
//! room is open, on any instance, and for a 5 s grace after; every change
//! reaches every stream as an id-less `presence` event, and members can
//! ask who is here (`GET /rooms/{room}/members`).

use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;
use reqwest::StatusCode;

use crate::helpers::{
    attr, events_during, is_signal, listed, members, next_where, text_of, whoami, Listed, SOON,
};
use natter_kit::{spawn_app, spawn_pair, Backend, Event, Sse, User};

natter_kit::on_both_backends!(
    opening_a_stream_makes_its_member_here_for_everyone_in_the_room,
    a_reload_does_not_flicker_and_a_closed_tab_is_away_after_the_grace,
    exit_takes_the_member_off_the_list_at_once,
    only_members_may_ask_who_is_here,
);

mod cases {
    natter_kit::postgres_only!(a_stream_on_one_instance_makes_its_member_here_on_the_other);
}

/// How long a member stays here after their last stream closes.
const GRACE: Duration = Duration::from_secs(5);

/// One `<li>` of the members panel.
#[derive(Debug)]
struct Row {
    name: String,
    here: bool,
    member: String,
}

/// The rows of a members panel (`<li class="member here|away"
/// data-member="{id}">name</li>`), in order.
fn panel(html: &str) -> Vec<Row> {
    html.split("<li")
        .skip(1)
        .filter_map(|item| {
            let tag = format!("<li{}>", &item[..item.find('>')?]);
            let inner = &item[item.find('>')? + 1..item.find("</li>")?];
            let classes = attr(&tag, "<li", "class")?;
            let classes: Vec<&str> = classes.split_whitespace().collect();
            assert!(classes.contains(&"member"), "{tag}");
            let here = classes.contains(&"here");
            assert_ne!(here, classes.contains(&"away"), "here or away: {tag}");
            Some(Row {
                name: own_text(inner),
                here,
                member: attr(&tag, "<li", "data-member")?,
            })
        })
        .collect()
}

/// The text directly inside an element, not in the elements it holds (a
/// row's name beside its dot and its "(here)" for screen readers).
fn own_text(inner: &str) -> String {
    let mut text = String::new();
    let mut depth = 0usize;
    let mut rest = inner;
    while let Some(at) = rest.find('<') {
        if depth == 0 {
            text.push_str(&rest[..at]);
        }
        let end = rest[at..].find('>').map_or(rest.len(), |end| at + end + 1);
        let tag = &rest[at..end];
        if tag.starts_with("</") {
            depth = depth.saturating_sub(1);
        } else if !tag.ends_with("/>") {
            depth += 1;
        }
        rest = &rest[end..];
    }
    if depth == 0 {
        text.push_str(rest);
    }
    text.trim().to_owned()
}

/// The `<span class="here-count">` text of a panel.
fn here_count(html: &str) -> String {
    let at = html.find(r#"class="here-count""#).expect("a here-count");
    let rest = &html[at..];
    text_of(&rest[rest.find('>').expect("tag") + 1..rest.find("</span>").expect("end")])
}

/// Whether `name` is listed in the panel, and here.
fn shows(html: &str, name: &str, here: bool) -> bool {
    panel(html)
        .iter()
        .any(|row| row.name == name && row.here == here)
}

/// The next `presence` event on `stream` that `wanted` accepts; asserts
/// it carries no id.
async fn presence_where(stream: &mut Sse, what: &str, wanted: impl Fn(&str) -> bool) -> Event {
    let event = next_where(stream, SOON, what, |e| {
        is_signal(e, "presence") && wanted(&e.data)
    })
    .await;
    assert_eq!(event.id, None, "presence carries no id: {event:?}");
    event
}

/// The member called `name`, once `wanted` holds for them.
async fn listed_as(user: &User, name: &str, wanted: impl Fn(&Listed) -> bool) {
    crate::helpers::eventually(&format!("{name} as wanted"), SOON, || async {
        let now = members(user, "lobby").await;
        match listed(&now, name) {
            Some(member) if wanted(member) => Ok(()),
            _ => Err(format!("{now:?}")),
        }
    })
    .await
}

/// Joining alone makes nobody here; opening the stream does, for everyone:
/// an id-less `presence` event with the panel, and the members list.
async fn opening_a_stream_makes_its_member_here_for_everyone_in_the_room(backend: Backend) {
    let app = spawn_app(backend).await;
    let (alice, bob, carol) = (app.user(), app.user(), app.user());
    for (user, name) in [(&alice, "alice"), (&bob, "bob"), (&carol, "carol")] {
        user.join(name, "lobby").await;
    }
    let (bob_id, _) = whoami(&bob, "lobby").await;
    let nobody = members(&alice, "lobby").await;
    assert!(
        nobody.iter().all(|m| !m.here),
        "joined is not here: {nobody:?}"
    );

    let mut alices = alice.events("lobby", HeaderMap::new()).await.with_signals();
    let _bobs = bob.events("lobby", HeaderMap::new()).await.with_signals();
    let event = presence_where(&mut alices, "bob here on alice's stream", |html| {
        shows(html, "bob", true)
    })
    .await;
    assert!(
        event.data.contains(r#"<section id="members""#),
        "{}",
        event.data
    );
    assert_eq!(here_count(&event.data), "2 here");
    let rows = panel(&event.data);
    let names: Vec<(&str, bool)> = rows.iter().map(|r| (r.name.as_str(), r.here)).collect();
    assert_eq!(
        names,
        [("alice", true), ("bob", true), ("carol", false)],
        "here first; carol holds a name, so she is listed"
    );
    assert_eq!(
        rows[1].member,
        bob_id.to_string(),
        "data-member is bob's id"
    );

    listed_as(&alice, "bob", |m| m.here).await;
    let now = members(&carol, "lobby").await;
    let expected = [("alice", true), ("bob", true), ("carol", false)].map(|(name, here)| Listed {
        name: name.to_owned(),
        here,
        typing: false,
    });
    assert_eq!(now, expected, "here first, then by name");

    let (status, html) = carol.text("/rooms/lobby/members").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"<section id="members""#), "{html}");
    assert_eq!(here_count(&html), "2 here");
    assert!(shows(&html, "bob", true) && shows(&html, "carol", false));
}

/// A reload (close and reopen at once) does not make bob away; closing his
/// last stream does, no sooner than the grace, on streams and in the list.
async fn a_reload_does_not_flicker_and_a_closed_tab_is_away_after_the_grace(backend: Backend) {
    let app = spawn_app(backend).await;
    let (alice, bob) = (app.user(), app.user());
    alice.join("alice", "lobby").await;
    bob.join("bob", "lobby").await;
    let mut alices = alice.events("lobby", HeaderMap::new()).await.with_signals();
    let bobs = bob.events("lobby", HeaderMap::new()).await.with_signals();
    presence_where(&mut alices, "bob here", |html| shows(html, "bob", true)).await;

    drop(bobs);
    let bobs = bob.events("lobby", HeaderMap::new()).await.with_signals();
    let meanwhile = events_during(&mut alices, GRACE + Duration::from_secs(2)).await;
    let flicker: Vec<&Event> = meanwhile
        .iter()
        .filter(|e| is_signal(e, "presence") && shows(&e.data, "bob", false))
        .collect();
    assert!(flicker.is_empty(), "a reload made bob away: {flicker:?}");
    listed_as(&alice, "bob", |m| m.here).await;

    drop(bobs);
    let closed = Instant::now();
    let event = presence_where(&mut alices, "bob away", |html| shows(html, "bob", false)).await;
    // A lower bound only: a slow machine makes it later, never sooner.
    assert!(
        closed.elapsed() >= GRACE - Duration::from_secs(1),
        "bob was away {:?} after closing, before the grace",
        closed.elapsed()
    );
    assert_eq!(here_count(&event.data), "1 here");
    listed_as(&alice, "bob", |m| !m.here).await;
}

/// Exit releases the name and ends the streams: bob is off the list at
/// once (no grace), and the streams left hear it.
async fn exit_takes_the_member_off_the_list_at_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let (alice, bob) = (app.user(), app.user());
    alice.join("alice", "lobby").await;
    bob.join("bob", "lobby").await;
    let mut alices = alice.events("lobby", HeaderMap::new()).await.with_signals();
    let _bobs = bob.events("lobby", HeaderMap::new()).await.with_signals();
    presence_where(&mut alices, "bob here", |html| shows(html, "bob", true)).await;

    let exit = bob.post_form("/rooms/lobby/exit", &[]).await;
    assert_eq!(exit.status(), StatusCode::SEE_OTHER);
    let now = members(&alice, "lobby").await;
    assert!(listed(&now, "bob").is_none(), "bob gone at once: {now:?}");
    let event = presence_where(&mut alices, "bob gone", |html| {
        !panel(html).iter().any(|row| row.name == "bob")
    })
    .await;
    assert_eq!(here_count(&event.data), "1 here");
}

/// Strangers, members of another room and those who left get 403; a room
/// that cannot exist is 404.
async fn only_members_may_ask_who_is_here(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user();
    alice.join("alice", "lobby").await;
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
        let (status, _) = user.text("/rooms/lobby/members").await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{who}, HTML");
        let (status, json) = user.get_json("/rooms/lobby/members").await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{who}, JSON");
        assert!(!json.to_string().contains("alice"), "{who}: {json}");
    }
    let (status, _) = alice.text("/rooms/No%20Such!/members").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// bob's stream on B makes him here on A (its list and its streams); with
/// streams on both, closing B's keeps him here; closing the last makes him
/// away on A.
async fn a_stream_on_one_instance_makes_its_member_here_on_the_other(backend: Backend) {
    let (a, b) = spawn_pair(backend).await;
    let (alice, bob) = (a.user(), a.user());
    alice.join("alice", "lobby").await;
    bob.join("bob", "lobby").await;
    let mut alices = alice.events("lobby", HeaderMap::new()).await.with_signals();
    presence_where(&mut alices, "alice here", |html| shows(html, "alice", true)).await;

    let on_b = bob
        .on(&b)
        .events("lobby", HeaderMap::new())
        .await
        .with_signals();
    presence_where(&mut alices, "bob here on A's stream", |html| {
        shows(html, "bob", true)
    })
    .await;
    listed_as(&alice, "bob", |m| m.here).await;

    let on_a = bob.events("lobby", HeaderMap::new()).await.with_signals();
    drop(on_b);
    let meanwhile = events_during(&mut alices, GRACE + Duration::from_secs(3)).await;
    assert!(
        !meanwhile
            .iter()
            .any(|e| is_signal(e, "presence") && shows(&e.data, "bob", false)),
        "a stream on A is open: {meanwhile:?}"
    );
    listed_as(&alice, "bob", |m| m.here).await;

    drop(on_a);
    presence_where(&mut alices, "bob away", |html| shows(html, "bob", false)).await;
    listed_as(&alice.on(&b), "bob", |m| !m.here).await;
}
