//! Unread (#15): `POST /rooms/{room}/read` marks a room read up to a
//! cursor (never backwards); `GET /rooms` and the join page count, per
//! room, the messages by others posted after it and not deleted.

use std::collections::BTreeMap;

use reqwest::StatusCode;

use crate::helpers::{header, text_of};
use natter_kit::{spawn_app, Backend, User};

natter_kit::on_both_backends!(
    unread_counts_messages_by_others_after_the_read_position,
    deleted_messages_do_not_count_and_edits_make_nothing_unread,
    unread_counts_are_the_same_after_a_restart,
    read_refuses_bad_cursors_and_non_members,
    the_room_list_and_the_join_page_show_the_counts,
    unread_is_counted_up_to_a_hundred,
);

/// The session's rooms from `GET /rooms` JSON: room → (name, unread).
pub(crate) async fn my_rooms(user: &User) -> BTreeMap<String, (String, i64)> {
    let (status, json) = user.get_json("/rooms").await;
    assert_eq!(status, StatusCode::OK, "{json}");
    json.as_array()
        .unwrap_or_else(|| panic!("a JSON array: {json}"))
        .iter()
        .map(|entry| {
            let room = entry["room"].as_str().expect("room").to_owned();
            let name = entry["name"].as_str().expect("name").to_owned();
            (room, (name, entry["unread"].as_i64().expect("unread")))
        })
        .collect()
}

/// The unread count of each of the session's rooms.
pub(crate) async fn unread(user: &User) -> BTreeMap<String, i64> {
    my_rooms(user)
        .await
        .into_iter()
        .map(|(room, (_, count))| (room, count))
        .collect()
}

/// Room → count, for comparing.
pub(crate) fn counts<const N: usize>(pairs: [(&str, i64); N]) -> BTreeMap<String, i64> {
    pairs
        .into_iter()
        .map(|(room, count)| (room.to_owned(), count))
        .collect()
}

/// `POST /rooms/{room}/read` with a form `cursor`: the status.
pub(crate) async fn read(user: &User, room: &str, cursor: &str) -> StatusCode {
    user.post_form(&format!("/rooms/{room}/read"), &[("cursor", cursor)])
        .await
        .status()
}

/// `POST /rooms/{room}/read` with a JSON body: the status.
async fn read_json(user: &User, room: &str, body: serde_json::Value) -> StatusCode {
    user.client
        .post(user.url(&format!("/rooms/{room}/read")))
        .json(&body)
        .send()
        .await
        .expect("POST read")
        .status()
}

/// alice in `one` and `two`, bob in `two`.
pub(crate) async fn two_rooms(app: &natter_kit::TestApp) -> (User, User) {
    let (alice, bob) = (app.user(), app.user());
    alice.join("alice", "one").await;
    alice.join("alice", "two").await;
    bob.join("bob", "two").await;
    (alice, bob)
}

/// Others' posts count, one's own never; a read clears up to its cursor;
/// later posts count again; an older cursor moves nothing back.
async fn unread_counts_messages_by_others_after_the_read_position(backend: Backend) {
    let app = spawn_app(backend).await;
    let (alice, bob) = two_rooms(&app).await;
    assert_eq!(unread(&alice).await, counts([("one", 0), ("two", 0)]));
    alice.say_json("two", "mine").await;
    alice.say_json("two", "mine too").await;
    assert_eq!(unread(&alice).await, counts([("one", 0), ("two", 0)]));
    for i in 0..3 {
        bob.say_json("two", &format!("b{i}")).await;
    }
    let rooms = my_rooms(&alice).await;
    assert_eq!(
        rooms["two"],
        ("alice".to_owned(), 3),
        "never read: all of bob's"
    );
    assert_eq!(rooms["one"], ("alice".to_owned(), 0));
    assert_eq!(
        unread(&bob).await,
        counts([("two", 2)]),
        "alice's two for bob"
    );

    assert_eq!(read(&alice, "two", "5").await, StatusCode::NO_CONTENT);
    assert_eq!(unread(&alice).await, counts([("one", 0), ("two", 0)]));
    bob.say_json("two", "six").await;
    let seven = bob.say_json("two", "seven").await;
    assert_eq!(unread(&alice).await["two"], 2);
    let status = read_json(&alice, "two", serde_json::json!({ "cursor": 6 })).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(unread(&alice).await["two"], 1, "read up to 6: 7 is left");
    assert_eq!(
        read(&alice, "two", &seven.to_string()).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(unread(&alice).await["two"], 0);

    assert_eq!(read(&alice, "two", "3").await, StatusCode::NO_CONTENT);
    assert_eq!(
        unread(&alice).await["two"],
        0,
        "an older cursor moves nothing back"
    );
    bob.say_json("two", "eight").await;
    assert_eq!(unread(&alice).await, counts([("one", 0), ("two", 1)]));
}

/// A deleted message is not unread; an edit or a reaction (a later cursor)
/// makes an old message unread again for nobody.
async fn deleted_messages_do_not_count_and_edits_make_nothing_unread(backend: Backend) {
    let app = spawn_app(backend).await;
    let (alice, bob) = two_rooms(&app).await;
    for i in 1..=3 {
        bob.say_json("two", &format!("b{i}")).await;
    }
    let deleted = bob.post_form("/rooms/two/messages/2/delete", &[]).await;
    assert_eq!(deleted.status(), StatusCode::SEE_OTHER);
    assert_eq!(unread(&alice).await["two"], 2);
    let cursor = app
        .count("SELECT last_cursor FROM rooms WHERE name = 'two'")
        .await;
    assert_eq!(
        read(&alice, "two", &cursor.to_string()).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(unread(&alice).await["two"], 0);

    let edited = bob
        .post_form("/rooms/two/messages/1/edit", &[("body", "b1, edited")])
        .await;
    assert_eq!(edited.status(), StatusCode::SEE_OTHER);
    let reacted = bob
        .post_form("/rooms/two/messages/3/reactions", &[("emoji", "👍")])
        .await;
    assert_eq!(reacted.status(), StatusCode::SEE_OTHER);
    assert_eq!(unread(&alice).await["two"], 0, "nothing new was posted");
    bob.say_json("two", "b4").await;
    bob.post_form("/rooms/two/messages/4/delete", &[]).await;
    assert_eq!(unread(&alice).await["two"], 0, "b4 came and went");
}

/// Read positions are stored: after a restart the same session sees the
/// same counts, and they go on from there.
async fn unread_counts_are_the_same_after_a_restart(backend: Backend) {
    let mut app = spawn_app(backend).await;
    let (alice, bob) = two_rooms(&app).await;
    let carol = app.user();
    carol.join("carol", "one").await;
    for i in 1..=3 {
        bob.say_json("two", &format!("b{i}")).await;
    }
    carol.say_json("one", "c1").await;
    carol.say_json("one", "c2").await;
    assert_eq!(read(&alice, "two", "1").await, StatusCode::NO_CONTENT);
    assert_eq!(read(&alice, "one", "1").await, StatusCode::NO_CONTENT);
    let before = unread(&alice).await;
    assert_eq!(before, counts([("one", 1), ("two", 2)]));

    app.restart().await;
    assert_eq!(unread(&alice).await, before);
    bob.say_json("two", "b4").await;
    assert_eq!(unread(&alice).await, counts([("one", 1), ("two", 3)]));
}

/// A cursor that is not a non-negative integer is 422 and changes nothing;
/// strangers and members of other rooms get 403.
async fn read_refuses_bad_cursors_and_non_members(backend: Backend) {
    let app = spawn_app(backend).await;
    let (alice, bob) = two_rooms(&app).await;
    bob.say_json("two", "b1").await;
    for bad in ["", "-1", "1.5", "abc", "1e3"] {
        let status = read(&alice, "two", bad).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "cursor {bad:?}");
    }
    let missing = alice.post_form("/rooms/two/read", &[]).await;
    assert_eq!(
        missing.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "no cursor"
    );
    for bad in [
        serde_json::json!({ "cursor": -1 }),
        serde_json::json!({ "cursor": "x" }),
        serde_json::json!({ "cursor": 1.5 }),
        serde_json::json!({}),
    ] {
        let status = read_json(&alice, "two", bad.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    assert_eq!(unread(&alice).await["two"], 1, "nothing was marked read");
    assert_eq!(read(&alice, "two", "0").await, StatusCode::NO_CONTENT);

    let stranger = app.user();
    assert_eq!(read(&stranger, "two", "1").await, StatusCode::FORBIDDEN);
    let elsewhere = app.user();
    elsewhere.join("eve", "one").await;
    assert_eq!(read(&elsewhere, "two", "1").await, StatusCode::FORBIDDEN);
    assert_eq!(unread(&alice).await["two"], 1);
}

/// The `<li>` of a room list that links to `room`.
fn entry<'a>(html: &'a str, room: &str) -> &'a str {
    let link = format!("href=\"/rooms/{room}\"");
    html.split("<li")
        .find(|item| item.contains(&link))
        .unwrap_or_else(|| panic!("no entry for {room}: {html}"))
}

/// The text of the `<span class="unread">` in a room list entry.
fn unread_mark(entry: &str) -> Option<String> {
    let at = entry.find(r#"<span class="unread""#)?;
    let rest = &entry[at..];
    Some(text_of(&rest[..rest.find("</span>")?]))
}

/// `GET /rooms` as HTML (plain and htmx) and the join page list the rooms
/// with `<span class="unread">` where there is something unread; without a
/// session the list is empty.
async fn the_room_list_and_the_join_page_show_the_counts(backend: Backend) {
    let app = spawn_app(backend).await;
    let (alice, bob) = two_rooms(&app).await;
    for i in 1..=3 {
        bob.say_json("two", &format!("b{i}")).await;
    }
    let htmx = alice
        .client
        .get(alice.url("/rooms"))
        .headers(header("hx-request", "true"))
        .send()
        .await
        .expect("GET");
    assert_eq!(htmx.status(), StatusCode::OK);
    let htmx = htmx.text().await.expect("body");
    let (status, plain) = alice.text("/rooms").await;
    assert_eq!(status, StatusCode::OK);
    let (status, join) = alice.text("/join-room").await;
    assert_eq!(status, StatusCode::OK);
    for (what, html) in [("htmx", &htmx), ("plain", &plain), ("join page", &join)] {
        if what != "join page" {
            assert!(html.contains(r#"<nav id="my-rooms""#), "{what}: {html}");
        }
        let two = entry(html, "two");
        assert_eq!(unread_mark(two).as_deref(), Some("3"), "{what}: {two}");
        let one = entry(html, "one");
        assert!(
            !one.contains(r#"class="unread""#),
            "{what}: nothing in one: {one}"
        );
    }

    let stranger = app.user();
    let (status, json) = stranger.get_json("/rooms").await;
    assert_eq!((status, json), (StatusCode::OK, serde_json::json!([])));
    let (status, html) = stranger.text("/rooms").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains("href=\"/rooms/"), "no rooms listed: {html}");
}

/// Counts stop at 100 in JSON and show as "99+" in HTML.
async fn unread_is_counted_up_to_a_hundred(backend: Backend) {
    let app = spawn_app(backend).await;
    let (alice, bob) = two_rooms(&app).await;
    for i in 0..101 {
        bob.say_json("two", &format!("b{i}")).await;
    }
    assert_eq!(unread(&alice).await["two"], 100);
    let (_, html) = alice.text("/rooms").await;
    let two = entry(&html, "two");
    assert_eq!(unread_mark(two).as_deref(), Some("99+"), "{two}");
}
