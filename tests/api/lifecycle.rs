//! Identity over time: restarts, idle names, health and static assets.

use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::StatusCode;

use crate::helpers::{spawn_app, spawn_app_with, Backend};

crate::on_both_backends!(
    identity_and_history_survive_a_restart,
    an_idle_name_can_be_taken_and_its_old_holder_is_told_why,
    an_open_stream_keeps_the_name,
    health_headers_and_assets,
);

/// Same cookie, new process, same database: still in, same name.
async fn identity_and_history_survive_a_restart(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user();
    alice.join("alice", "lobby").await;
    alice.say_json("lobby", "before").await;
    let app = app.restart().await;
    let alice = alice.on(&app);
    let (status, page) = alice.text("/rooms/lobby").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(r#"<span class="whoami" title="alice">alice</span>"#));
    assert!(page.contains("before"));
    assert_eq!(alice.say_json("lobby", "after").await, 2);
    assert_eq!(
        app.user().try_join("alice", "lobby").await.status(),
        StatusCode::CONFLICT
    );
}

/// After the idle time a name is free; the holder who lost it is sent to
/// the join form with the room filled in and the reason.
async fn an_idle_name_can_be_taken_and_its_old_holder_is_told_why(backend: Backend) {
    let app = spawn_app_with(backend, |config| config.name_idle_secs = 1).await;
    let alice = app.user();
    alice.join("alice", "lobby").await;
    // Idle but not taken: coming back keeps the name.
    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert_eq!(alice.get("/rooms/lobby").await.status(), StatusCode::OK);
    let bob = app.user();
    bob.join("Alice", "lobby").await;
    let response = alice.get("/rooms/lobby").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()["location"]
        .to_str()
        .unwrap_or("")
        .to_owned();
    assert_eq!(location, "/join-room?room=lobby&why=taken");
    let (_, page) = alice.text(&location).await;
    assert!(page.contains("Your place in lobby has ended"));
    assert!(page.contains(r#"name="room" value="lobby""#));
    assert_eq!(
        alice.say("lobby", "hi").await.status(),
        StatusCode::FORBIDDEN
    );
}

/// A member with a stream open is not idle.
async fn an_open_stream_keeps_the_name(backend: Backend) {
    let app = spawn_app_with(backend, |config| config.name_idle_secs = 1).await;
    let alice = app.user();
    alice.join("alice", "lobby").await;
    let _stream = alice.events("lobby", HeaderMap::new()).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        app.user().try_join("alice", "lobby").await.status(),
        StatusCode::CONFLICT
    );
}

/// `/healthz`, the security headers, and cacheable assets.
async fn health_headers_and_assets(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = app.user();
    let response = user.get("/healthz").await;
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers();
    assert!(headers["content-security-policy"]
        .to_str()
        .unwrap_or("")
        .contains("default-src 'self'"));
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(headers["content-security-policy"]
        .to_str()
        .unwrap_or("")
        .contains("frame-ancestors 'none'"));
    let (_, page) = user.text("/join-room").await;
    for asset in ["natter.css", "htmx.min.js", "hx-sse.js"] {
        let at = page
            .find(&format!("/assets/{asset}?v="))
            .expect("asset linked");
        let url = &page[at..at + page[at..].find('"').unwrap_or(0)];
        let response = user.get(url).await;
        assert_eq!(response.status(), StatusCode::OK, "{url}");
        assert!(response.headers()["cache-control"]
            .to_str()
            .unwrap_or("")
            .contains("immutable"));
    }
    assert_eq!(
        user.get("/assets/nope.js").await.status(),
        StatusCode::NOT_FOUND
    );
}
