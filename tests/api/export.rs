//! Export: a member downloads the whole history, complete and in order, as
//! JSON lines or text, streamed a page at a time.

use reqwest::StatusCode;
use serde_json::Value;

use natter_kit::{spawn_app, Backend};

natter_kit::on_both_backends!(
    export_is_complete_and_in_order_in_both_formats,
    only_members_export,
);

/// 1,234 messages (more than two pages of 500), one edited, one deleted,
/// one with several lines: every one comes back once, in seq order, each
/// as the API shapes it.
async fn export_is_complete_and_in_order_in_both_formats(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user();
    alice.join("alice", "lobby").await;
    const COUNT: i64 = 1234;
    for i in 1..=COUNT {
        let body = if i == 7 {
            "line one\nline \"two\"".to_owned()
        } else {
            format!("message {i}")
        };
        alice.say_json("lobby", &body).await;
    }
    alice
        .post_form(
            "/rooms/lobby/messages/3/edit",
            &[("body", "message 3, edited")],
        )
        .await;
    alice.post_form("/rooms/lobby/messages/5/delete", &[]).await;

    let response = alice.get("/rooms/lobby/export").await;
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap_or("")
        .to_owned();
    assert!(
        content_type.starts_with("application/x-ndjson"),
        "{content_type}"
    );
    assert!(response.headers()["content-disposition"]
        .to_str()
        .unwrap_or("")
        .contains("natter-lobby.jsonl"));
    let text = response.text().await.expect("body");
    let lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON message a line"))
        .collect();
    assert_eq!(lines.len() as i64, COUNT);
    for (i, line) in lines.iter().enumerate() {
        assert_eq!(line["seq"].as_i64(), Some(i as i64 + 1));
        assert_eq!(line["room"], "lobby");
        assert_eq!(line["author"], "alice");
    }
    assert_eq!(lines[2]["body"], "message 3, edited");
    assert!(lines[2]["edited_at"].is_string());
    assert_eq!(lines[4]["body"], Value::Null);
    assert_eq!(lines[4]["deleted"], true);
    assert_eq!(lines[6]["body"], "line one\nline \"two\"");
    assert_eq!(lines[1233]["body"], "message 1234");

    let (status, text) = alice.text("/rooms/lobby/export?format=txt").await;
    assert_eq!(status, StatusCode::OK);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len() as i64, COUNT + 1, "message 7 has two lines");
    assert!(lines[0].ends_with("] alice: message 1"), "{}", lines[0]);
    assert!(lines[2].ends_with("] alice: message 3, edited (edited)"));
    assert!(lines[4].ends_with("] alice: (deleted)"));
    assert!(lines[6].ends_with("] alice: line one"));
    assert_eq!(lines[7], "    line \"two\"");
    assert!(lines[COUNT as usize].ends_with("] alice: message 1234"));
    // Unknown formats are refused with a sentence.
    let (status, _) = alice.text("/rooms/lobby/export?format=xml").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // The room page links to it.
    let (_, page) = alice.text("/rooms/lobby").await;
    assert!(page.contains(r#"href="/rooms/lobby/export?format=txt""#));
}

/// Anyone else gets 403 and no history.
async fn only_members_export(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user();
    alice.join("alice", "lobby").await;
    alice.say_json("lobby", "private").await;
    let (status, text) = app.user().text("/rooms/lobby/export").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(!text.contains("private"));
}
