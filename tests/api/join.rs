//! Joining rooms, names, exit, and who may see what.

use reqwest::StatusCode;

use natter_kit::{spawn_app, Backend};

natter_kit::on_both_backends!(
    root_redirects_to_the_join_form,
    joining_creates_the_room_and_enters_it,
    a_held_name_is_refused_in_any_letter_case,
    invalid_join_input_gets_the_rule_and_stores_nothing,
    strangers_are_sent_to_the_join_form_and_refused_elsewhere,
    exit_releases_the_name,
    the_join_page_lists_the_rooms_you_are_in,
);

/// `/` sends people to the join form.
async fn root_redirects_to_the_join_form(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app.user().get("/").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], "/join-room");
    let (status, page) = app.user().text("/join-room?room=Lobby").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(r#"name="username""#));
    assert!(
        page.contains(r#"name="room" value="lobby""#),
        "room pre-filled"
    );
}

/// Joining makes the room, sets a cookie and leads to a page for members.
async fn joining_creates_the_room_and_enters_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user();
    let response = alice.try_join("Alice", "Lobby").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    // "Lobby" was typed: the room page says once that it is lobby.
    assert_eq!(response.headers()["location"], "/rooms/lobby?from=Lobby");
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap_or("")
        .to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(
        !cookie.contains("Secure"),
        "no Secure cookie without --secure-cookies"
    );
    // The session is renewed at most daily, not rewritten per request.
    let again = alice.get("/rooms/lobby").await;
    assert!(again.headers().get("set-cookie").is_none());
    let (status, page) = alice.text("/rooms/lobby").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(r#"<h1 title="lobby">lobby</h1>"#));
    assert!(page.contains("Alice"));
    assert!(page.contains(r#"hx-sse:connect="/rooms/lobby/events?after=0""#));
    assert_eq!(app.count("SELECT COUNT(*) FROM rooms").await, 1);
}

/// One name per room, compared case-insensitively after trimming.
async fn a_held_name_is_refused_in_any_letter_case(backend: Backend) {
    let app = spawn_app(backend).await;
    app.user().join("Alice", "lobby").await;
    for name in ["Alice", "alice", "  ALICE "] {
        let response = app.user().try_join(name, "lobby").await;
        assert_eq!(response.status(), StatusCode::CONFLICT, "{name:?}");
        let page = response.text().await.unwrap_or_default();
        assert!(page.contains("already called"), "error shown on the form");
        assert!(page.contains(&format!(r#"value="{name}""#)), "value kept");
    }
    // The same name elsewhere is fine.
    app.user().join("alice", "other").await;
    assert_eq!(app.count("SELECT COUNT(*) FROM members").await, 2);
}

/// Each rule is named, the values are kept, nothing is stored.
async fn invalid_join_input_gets_the_rule_and_stores_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let long_room = "r".repeat(65);
    let long_name = "n".repeat(33);
    let cases: &[(&str, &str, &str)] = &[
        (
            "",
            "lobby",
            "Enter the name the others in the room will see you by.",
        ),
        (
            "   ",
            "lobby",
            "Enter the name the others in the room will see you by.",
        ),
        (
            &long_name,
            "lobby",
            "A name can be at most 32 characters; this one has 33",
        ),
        ("bad\u{7}name", "lobby", "not U+0007 — try “badname”."),
        (
            "<script>",
            "lobby",
            "not “&#60;” or “&#62;” — try “script”.",
        ),
        ("alice", "", "Enter a room name, such as team-chat."),
        (
            "alice",
            "two words",
            "Spaces are not allowed in a room name — try two-words.",
        ),
        ("alice", "café", "not “é” — try cafe."),
        (
            "alice",
            &long_room,
            "A room name can be at most 64 characters; this one has 65",
        ),
        ("alice", "../etc", "not “.” or “/” — try etc."),
    ];
    for (username, room, rule) in cases {
        let response = app.user().try_join(username, room).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{username:?} {room:?}"
        );
        let page = response.text().await.unwrap_or_default();
        assert!(
            page.contains(rule),
            "{username:?} {room:?} says what is wrong: {page}"
        );
        assert!(!page.contains("<script>"), "input is escaped");
    }
    let response = app
        .user()
        .post_form("/join-room", &[("room", "lobby")])
        .await;
    assert_eq!(
        response.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "missing field"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM rooms").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM members").await, 0);
}

/// Membership is checked on every room route.
async fn strangers_are_sent_to_the_join_form_and_refused_elsewhere(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user();
    alice.join("alice", "lobby").await;
    alice.say("lobby", "secret").await;
    let stranger = app.user();
    stranger.join("mallory", "elsewhere").await;

    let response = stranger.get("/rooms/lobby").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], "/join-room?room=lobby");
    let response = stranger.say("lobby", "hi").await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = stranger
        .open_events("/rooms/lobby/events?after=0", Default::default())
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let (status, body) = stranger.text("/rooms/lobby/messages?before=99").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(!body.contains("secret"));
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 1);
}

/// Exit lets the name go and leaves the room.
async fn exit_releases_the_name(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user();
    alice.join("alice", "lobby").await;
    let response = alice.post_form("/rooms/lobby/exit", &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        response.headers()["location"],
        "/join-room?room=lobby&why=left"
    );
    assert_eq!(
        alice.get("/rooms/lobby").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        alice.say("lobby", "still here?").await.status(),
        StatusCode::FORBIDDEN
    );
    app.user().join("Alice", "lobby").await;
}

/// The join page links the rooms this browser is in.
async fn the_join_page_lists_the_rooms_you_are_in(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user();
    alice.join("alice", "lobby").await;
    alice.join("ally", "games").await;
    let (_, page) = alice.text("/join-room").await;
    assert!(page.contains(r#"href="/rooms/lobby""#) && page.contains(r#"href="/rooms/games""#));
    assert!(page.contains("as ally"));
    // Joining again under another name swaps the name in that room.
    alice.join("alicia", "lobby").await;
    let (_, page) = alice.text("/join-room").await;
    assert!(page.contains("as alicia") && !page.contains("as alice<"));
    app.user().join("alice", "lobby").await;
}
