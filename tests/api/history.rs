//! The room's history: newest 50 on the page, older pages on demand.

use reqwest::StatusCode;

use crate::helpers::message_seqs;
use natter_kit::{spawn_app, Backend};

natter_kit::on_both_backends!(history_pages_back_to_the_first_message_in_order);

/// 120 messages: the page shows 71–120, then 21–70, then 1–20 and the start.
async fn history_pages_back_to_the_first_message_in_order(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user();
    alice.join("alice", "lobby").await;
    for i in 1..=120 {
        alice.say_json("lobby", &format!("message {i}")).await;
    }
    let (status, page) = alice.text("/rooms/lobby").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(message_seqs(&page), (71..=120).collect::<Vec<_>>());
    assert!(page.contains(r#"hx-get="/rooms/lobby/messages?before=71""#));
    assert!(page.contains(r#"hx-sse:connect="/rooms/lobby/events?after=120""#));

    let (_, older) = alice.text("/rooms/lobby/messages?before=71").await;
    assert_eq!(message_seqs(&older), (21..=70).collect::<Vec<_>>());
    assert!(older.contains(r#"hx-get="/rooms/lobby/messages?before=21""#));
    assert!(older.contains(r#"hx-trigger="revealed""#));

    let (_, oldest) = alice.text("/rooms/lobby/messages?before=21").await;
    assert_eq!(message_seqs(&oldest), (1..=20).collect::<Vec<_>>());
    assert!(!oldest.contains("hx-get"), "no more pages");
    assert!(oldest.contains("This is the start of lobby."));
    assert!(oldest.contains("message 1<"));

    let (status, _) = alice.text("/rooms/lobby/messages?before=abc").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}
