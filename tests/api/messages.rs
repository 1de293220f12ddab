//! Posting: answers per client, validation, escaping, spoofing, limits.

use std::time::Duration;

use reqwest::StatusCode;

use crate::helpers::header;
use natter_kit::{spawn_app, Backend};

natter_kit::on_both_backends!(
    a_plain_post_is_stored_and_redirects_to_the_room,
    json_clients_get_the_stored_message,
    htmx_gets_a_fresh_composer_or_the_error_in_it,
    invalid_bodies_get_a_sentence_and_store_nothing,
    an_oversized_request_is_refused_with_413,
    the_author_is_always_the_session,
    html_in_messages_and_names_is_shown_as_text_everywhere,
    cross_site_posts_are_refused,
);

const WAIT: Duration = Duration::from_secs(5);

/// Without htmx or JSON, a post is a form: 303 back to the room.
async fn a_plain_post_is_stored_and_redirects_to_the_room(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user();
    alice.join("alice", "lobby").await;
    let response = alice.say("lobby", "hello\nworld").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], "/rooms/lobby");
    let (_, page) = alice.text("/rooms/lobby").await;
    assert!(page.contains(r#"id="message-1""#));
    assert!(page.contains("hello\nworld"), "newline kept");
}

/// `Accept: application/json` gets 201 and the message.
async fn json_clients_get_the_stored_message(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = app.user();
    bot.join("bot", "lobby").await;
    let response = bot
        .client
        .post(bot.url("/rooms/lobby/messages"))
        .header("accept", "application/json")
        .form(&[("body", "  beep  ")])
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), StatusCode::CREATED);
    let json: serde_json::Value = response.json().await.expect("json");
    assert_eq!(json["seq"], 1);
    assert_eq!(json["room"], "lobby");
    assert_eq!(json["author"], "bot");
    assert_eq!(json["body"], "beep", "trimmed");
    assert!(json["created_at"].as_str().is_some_and(|t| t.contains('T')));
    assert_eq!(bot.say_json("lobby", "two").await, 2);
}

/// htmx posts swap the composer: empty after success, text kept on error.
async fn htmx_gets_a_fresh_composer_or_the_error_in_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user();
    alice.join("alice", "lobby").await;
    let post = |body: &'static str| {
        alice
            .client
            .post(alice.url("/rooms/lobby/messages"))
            .header("hx-request", "true")
            .form(&[("body", body)])
            .send()
    };
    let response = post("hi").await.expect("post");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["vary"]
        .to_str()
        .unwrap_or("")
        .contains("HX-Request"));
    let html = response.text().await.unwrap_or_default();
    assert!(
        html.contains(r#"id="composer""#) && html.contains("></textarea>"),
        "empty"
    );
    assert!(html.contains("autofocus"), "focus stays in the box");

    let response = post("   ").await.expect("post");
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap_or_default();
    assert!(html.contains("A message cannot be empty."));
    assert!(html.contains(r#"id="composer""#));
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 1);
}

/// Each body rule answers 422 with a plain sentence and stores nothing.
async fn invalid_bodies_get_a_sentence_and_store_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user();
    alice.join("alice", "lobby").await;
    let too_long = "x".repeat(2001);
    for (body, sentence) in [
        ("", "cannot be empty"),
        (" \n\t ", "cannot be empty"),
        (too_long.as_str(), "at most 2000 characters"),
        ("ding\u{7}", "control characters"),
    ] {
        let response = alice.say("lobby", body).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            response.text().await.unwrap_or_default().contains(sentence),
            "{sentence}"
        );
    }
    let response = alice.post_form("/rooms/lobby/messages", &[]).await;
    assert_eq!(
        response.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "missing body"
    );
    let response = alice
        .client
        .post(alice.url("/rooms/lobby/messages"))
        .header("content-type", "application/json")
        .body(r#"{"body":"hi"}"#)
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 0);
    // 2000 characters, of any width, are fine.
    assert_eq!(alice.say_json("lobby", &"é".repeat(2000)).await, 1);
}

/// The server limits request bodies.
async fn an_oversized_request_is_refused_with_413(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user();
    alice.join("alice", "lobby").await;
    let huge = "x".repeat(200 * 1024);
    let response = alice.say("lobby", &huge).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 0);
}

/// A form field claiming another author changes nothing.
async fn the_author_is_always_the_session(backend: Backend) {
    let app = spawn_app(backend).await;
    let mallory = app.user();
    mallory.join("mallory", "lobby").await;
    let response = mallory
        .client
        .post(mallory.url("/rooms/lobby/messages"))
        .header("accept", "application/json")
        .form(&[
            ("body", "I am alice"),
            ("author", "alice"),
            ("username", "alice"),
        ])
        .send()
        .await
        .expect("post");
    let json: serde_json::Value = response.json().await.expect("json");
    assert_eq!(json["author"], "mallory");
    let (_, page) = mallory.text("/rooms/lobby").await;
    assert!(page.contains(r#"<span class="author">mallory</span>"#));
    assert!(!page.contains(r#"<span class="author">alice</span>"#));
}

/// Text is escaped in the page, the history fragment and the SSE event.
async fn html_in_messages_and_names_is_shown_as_text_everywhere(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user();
    alice.join("Zoë", "lobby").await;
    let mut stream = alice.events("lobby", header("last-event-id", "0")).await;
    let payload = r#"<script>alert(1)</script><img src=x onerror="alert(2)"> & 'q'"#;
    alice.say("lobby", payload).await;
    let event = stream.next_within(WAIT).await.expect("event");
    let (_, page) = alice.text("/rooms/lobby").await;
    let (_, fragment) = alice.text("/rooms/lobby/messages?before=2").await;
    for html in [&event.data, &page, &fragment] {
        assert!(
            !html.contains("<script>alert") && !html.contains("<img"),
            "{html}"
        );
        assert!(
            html.contains("&#60;script&#62;alert(1)&#60;/script&#62;")
                || html.contains("&lt;script&gt;")
        );
        assert!(html.contains(r#"id="message-1""#));
    }
}

/// Browsers' cross-site form posts are refused; curl (no such headers) is not.
async fn cross_site_posts_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user();
    alice.join("alice", "lobby").await;
    let host = app.addr.trim_start_matches("http://").to_owned();
    let attempts = [
        ("sec-fetch-site", "cross-site".to_owned()),
        ("sec-fetch-site", "same-site".to_owned()),
        ("origin", "https://evil.example".to_owned()),
        ("origin", "null".to_owned()),
    ];
    for (name, value) in &attempts {
        let response = alice
            .post_form_with(
                "/rooms/lobby/messages",
                (name, value),
                &[("body", "forged")],
            )
            .await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{name}: {value}");
        let response = alice
            .client
            .post(alice.url("/rooms/lobby/exit"))
            .header(*name, value)
            .send()
            .await
            .expect("exit");
        assert_eq!(
            response.status(),
            StatusCode::FORBIDDEN,
            "exit {name}: {value}"
        );
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM members").await,
        1,
        "still a member"
    );
    let response = alice
        .client
        .post(alice.url("/rooms/lobby/messages"))
        .header("sec-fetch-site", "same-origin")
        .header("origin", format!("http://{host}"))
        .form(&[("body", "real")])
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let response = alice
        .client
        .post(alice.url("/rooms/lobby/messages"))
        .header("origin", format!("http://{host}"))
        .form(&[("body", "older browser")])
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 2);
}
