//! A delete is a delete (#14): once a message is deleted its words are in
//! no table natter keeps. Not in the search index (looked at directly, not
//! through the search API, which skips deleted messages anyway), and not
//! in a webhook delivery queued or sent for it; a delivery still waiting
//! is never sent.

use natter_kit::Backend;
use reqwest::StatusCode;

use crate::webhooks::support::{app_with_alice, create_bot, status_where, text, Receiver};

natter_kit::on_both_backends!(a_deleted_message_leaves_no_words_behind);

async fn a_deleted_message_leaves_no_words_behind(backend: Backend) {
    let (app, alice) = app_with_alice(backend, 3600).await;
    let receiver = Receiver::start((200, "text/plain", "")).await;
    let bot = create_bot(&app, &alice, "lobby", "deploy", &receiver.url(), false).await;
    let sent = alice.say_json("lobby", "@deploy zanzibar delivered").await;
    status_where(&app, &bot, |s| s == "delivered (200)").await;
    receiver.answer((500, "text/plain", "down"));
    let waiting = alice.say_json("lobby", "@deploy zanzibar waiting").await;
    status_where(&app, &bot, |s| s == "failed (500), retrying").await;
    let kept = alice.say_json("lobby", "zanzibar stays").await;

    let index = if app.db.is_sqlite() {
        "SELECT COUNT(*) FROM messages_fts WHERE messages_fts MATCH 'zanzibar'"
    } else {
        "SELECT COUNT(*) FROM messages WHERE search @@ to_tsquery('simple', 'zanzibar')"
    };
    let in_payloads = "SELECT COUNT(*) FROM webhook_deliveries WHERE payload LIKE '%zanzibar%'";
    assert_eq!(app.count(index).await, 3, "the index holds the words");
    assert_eq!(app.count(in_payloads).await, 2);

    for seq in [sent, waiting] {
        let response = alice.delete(&format!("/rooms/lobby/messages/{seq}")).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "seq {seq}");
    }

    assert_eq!(app.count(index).await, 1, "only the kept message is found");
    assert_eq!(
        app.count(in_payloads).await,
        0,
        "no delivery keeps the words"
    );
    let outcome = |seq: i64| {
        format!(
            "SELECT outcome FROM webhook_deliveries WHERE bot_id = {} AND seq = {seq}",
            bot.id
        )
    };
    assert_eq!(
        text(&app, &outcome(sent)).await.as_deref(),
        Some("delivered (200)"),
        "a delivery already made keeps its record"
    );
    assert_eq!(
        text(&app, &outcome(waiting)).await.as_deref(),
        Some("message deleted"),
        "a waiting delivery is ended"
    );
    let pending = "SELECT COUNT(*) FROM webhook_deliveries WHERE done_at IS NULL";
    assert_eq!(app.count(pending).await, 0, "nothing is left to send");
    assert!(kept > waiting);
}
