//! A membership that ends takes its live streams with it: exit, a rotated
//! session id, an expired session; and a name belongs to its session for as
//! long as the session lives.

use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::StatusCode;

use crate::helpers::header;
use natter_kit::{session_cookie, spawn_app, spawn_app_with, Backend, Sse};

/// An ended stream must end this fast (the promise is one second).
const ENDS_WITHIN: Duration = Duration::from_millis(1500);

const WAIT: Duration = Duration::from_secs(10);

natter_kit::on_both_backends!(
    exit_ends_every_stream_of_the_member_and_nothing_after_reaches_them,
    a_rotated_session_id_ends_the_old_cookies_streams,
    a_name_outlives_a_quiet_tab_and_ends_with_its_session,
    a_lost_membership_is_sent_to_join_with_its_name,
    exit_and_rejoin_under_the_same_name_is_the_same_person,
);

/// Exit ends both of alice's streams at once; bob's stream goes on and
/// gets the next post, alice's got nothing more, and her old cookie is
/// refused a new stream.
async fn exit_ends_every_stream_of_the_member_and_nothing_after_reaches_them(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user();
    let joined = alice.try_join("alice", "lobby").await;
    let cookie = session_cookie(&joined).expect("alice's cookie");
    let bob = app.user();
    bob.join("bob", "lobby").await;
    let mut first = alice.events("lobby", HeaderMap::new()).await;
    let mut second = alice.events("lobby", HeaderMap::new()).await;
    let mut bobs = bob.events("lobby", HeaderMap::new()).await;
    bob.say_json("lobby", "before").await;
    assert_eq!(first.take_seqs(1, WAIT).await, vec![1]);
    assert_eq!(second.take_seqs(1, WAIT).await, vec![1]);

    let exit = alice.post_form("/rooms/lobby/exit", &[]).await;
    assert_eq!(exit.status(), StatusCode::SEE_OTHER);
    bob.say_json("lobby", "after").await;
    for stream in [&mut first, &mut second] {
        let rest = stream.until_end(ENDS_WITHIN).await.expect("stream ended");
        assert!(rest.is_empty(), "nothing after the exit: {rest:?}");
    }
    assert_eq!(bobs.take_seqs(2, WAIT).await, vec![1, 2]);
    let again = app
        .user()
        .open_events(
            "/rooms/lobby/events",
            header("cookie", &format!("natter={cookie}")),
        )
        .await;
    assert_eq!(again.status(), StatusCode::FORBIDDEN);
}

/// Joining another room rotates the session id: a stream opened with the
/// old cookie (a copy of it, say) ends, the old cookie opens nothing, and
/// the new cookie opens the room as before.
async fn a_rotated_session_id_ends_the_old_cookies_streams(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user();
    let joined = alice.try_join("alice", "lobby").await;
    let old = header(
        "cookie",
        &format!("natter={}", session_cookie(&joined).expect("cookie")),
    );
    let copy = app.user();
    let response = copy.open_events("/rooms/lobby/events", old.clone()).await;
    assert_eq!(response.status(), StatusCode::OK);
    let mut stream = Sse::new(response);
    alice.join("alice", "other").await;
    let rest = stream.until_end(ENDS_WITHIN).await.expect("stream ended");
    assert!(rest.is_empty(), "{rest:?}");
    let refused = copy.open_events("/rooms/lobby/events", old).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let mut fresh = alice.events("lobby", HeaderMap::new()).await;
    alice.say_json("lobby", "still here").await;
    assert_eq!(fresh.take_seqs(1, WAIT).await, vec![1]);
}

/// With no stream open and no post, the name stays alice's while her
/// session lives (each use renews it); once it expires, her stream has
/// ended and the name is free.
async fn a_name_outlives_a_quiet_tab_and_ends_with_its_session(backend: Backend) {
    let app = spawn_app_with(backend, |config| config.session_idle_secs = Some(2)).await;
    let alice = app.user();
    alice.join("alice", "lobby").await;
    let bob = app.user();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(
        bob.try_join("Alice", "lobby").await.status(),
        StatusCode::CONFLICT,
        "quiet, but her session lives"
    );
    // Using the room renews the session: the name lives on with it.
    assert_eq!(alice.get("/rooms/lobby").await.status(), StatusCode::OK);
    let mut stream = alice.events("lobby", HeaderMap::new()).await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(
        bob.try_join("Alice", "lobby").await.status(),
        StatusCode::CONFLICT
    );
    // The session runs out: the stream ends, the name is free.
    let rest = stream
        .until_end(Duration::from_secs(4))
        .await
        .expect("the stream ended with its session");
    assert!(rest.is_empty(), "{rest:?}");
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(
        bob.try_join("Alice", "lobby").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        alice.say("lobby", "hi").await.status(),
        StatusCode::FORBIDDEN
    );
}

/// A session whose member is gone without an exit is told so on the join
/// page, with the room and its name filled in.
async fn a_lost_membership_is_sent_to_join_with_its_name(backend: Backend) {
    let mut app = spawn_app(backend).await;
    let alice = app.user();
    alice.join("Ana María", "lobby").await;
    app.run_sql("DELETE FROM members").await;
    // A running SQLite instance caches members: the next process reads
    // the database (PostgreSQL instances read it every time).
    app.restart().await;
    let response = alice.on(&app).get("/rooms/lobby").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = "/join-room?room=lobby&name=Ana+Mar%C3%ADa&why=lost";
    assert_eq!(response.headers()["location"], location);
    let (_, page) = alice.on(&app).text(location).await;
    assert!(page.contains("Your place in lobby has ended"), "{page}");
    assert!(
        page.contains(r#"value="Ana María""#),
        "the name is filled in"
    );
    assert!(page.contains(r#"value="lobby""#), "the room is filled in");
}

/// Exit and join again with the same session and name: the same member,
/// so earlier messages stay "mine"; another name is someone new.
async fn exit_and_rejoin_under_the_same_name_is_the_same_person(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user();
    alice.join("alice", "lobby").await;
    alice.say_json("lobby", "first").await;
    let (_, page) = alice.text("/rooms/lobby").await;
    let mine = mine_sheet(&page);
    alice.post_form("/rooms/lobby/exit", &[]).await;
    alice.join("ALICE", "lobby").await;
    let (_, page) = alice.text("/rooms/lobby").await;
    assert_eq!(mine_sheet(&page), mine, "same person, same sheet");
    alice.post_form("/rooms/lobby/exit", &[]).await;
    alice.join("alicia", "lobby").await;
    let (_, page) = alice.text("/rooms/lobby").await;
    assert_ne!(mine_sheet(&page), mine, "another name is someone else");
}

/// The `/mine/{id}.css` link of a room page.
fn mine_sheet(page: &str) -> String {
    let at = page.find("/mine/").expect("a mine sheet");
    page[at..at + page[at..].find('"').expect("link ends")].to_owned()
}
