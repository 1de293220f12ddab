//! Where a read position starts and where it may go (#15): a newcomer has
//! read what was there before they came; opening a room's newest page
//! reads it, with or without JavaScript; a cursor past the room's latest
//! reads everything and holds nothing back.

use reqwest::StatusCode;

use crate::unread::{counts, read, two_rooms, unread};
use natter_kit::{spawn_app, Backend};

natter_kit::on_both_backends!(
    a_newcomer_finds_the_history_read,
    the_newest_page_reads_the_room,
    a_cursor_from_the_future_holds_nothing_back,
);

/// carol joins a room with history: none of it is unread for her; what
/// comes after is.
async fn a_newcomer_finds_the_history_read(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_alice, bob) = two_rooms(&app).await;
    for i in 1..=3 {
        bob.say_json("two", &format!("b{i}")).await;
    }
    let carol = app.user();
    carol.join("carol", "two").await;
    assert_eq!(unread(&carol).await, counts([("two", 0)]));
    bob.say_json("two", "b4").await;
    assert_eq!(unread(&carol).await, counts([("two", 1)]));
}

/// The room page (its newest messages) marks the room read and lists it
/// with no count; an older page or a permalink does not mark it.
async fn the_newest_page_reads_the_room(backend: Backend) {
    let app = spawn_app(backend).await;
    let (alice, bob) = two_rooms(&app).await;
    for i in 1..=3 {
        bob.say_json("two", &format!("b{i}")).await;
    }
    let (status, _) = alice.text("/rooms/two?before=3").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = alice.text("/rooms/two/messages/1").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(unread(&alice).await["two"], 3, "older pages read nothing");

    let (status, page) = alice.text("/rooms/two").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains(r#"class="unread""#), "{page}");
    assert_eq!(unread(&alice).await, counts([("one", 0), ("two", 0)]));
    bob.say_json("two", "b4").await;
    assert_eq!(unread(&alice).await["two"], 1);
    // The room being read shows no count of its own, whatever it holds.
    let (_, permalink) = alice.text("/rooms/two/messages/1").await;
    let mine = permalink
        .split(r#"<li class="current">"#)
        .nth(1)
        .and_then(|rest| rest.split("</li>").next())
        .unwrap_or_else(|| panic!("the current room's entry: {permalink}"));
    assert!(!mine.contains("unread"), "{mine}");
}

/// A cursor far past the room's latest reads all there is (204), and a
/// later, real cursor still moves the position on.
async fn a_cursor_from_the_future_holds_nothing_back(backend: Backend) {
    let app = spawn_app(backend).await;
    let (alice, bob) = two_rooms(&app).await;
    bob.say_json("two", "b1").await;
    assert_eq!(
        read(&alice, "two", "9000000000").await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(unread(&alice).await["two"], 0);
    let latest = bob.say_json("two", "b2").await;
    assert_eq!(unread(&alice).await["two"], 1);
    assert_eq!(
        read(&alice, "two", &latest.to_string()).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(unread(&alice).await["two"], 0, "the position moved on");
}
