//! Identity over time: restarts, health and static assets.

use reqwest::StatusCode;

use natter_kit::{spawn_app, Backend};

natter_kit::on_both_backends!(
    identity_and_history_survive_a_restart,
    health_headers_and_assets,
);

/// Same cookie, new process, same database: still in, same name.
async fn identity_and_history_survive_a_restart(backend: Backend) {
    let mut app = spawn_app(backend).await;
    let alice = app.user();
    alice.join("alice", "lobby").await;
    alice.say_json("lobby", "before").await;
    app.restart().await;
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
