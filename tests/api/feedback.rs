//! What a person is told: rate-limit sentences in every client's format,
//! why they are back on the join page, and failed plain-form posts that
//! keep the room page around the error (issue 12).

use reqwest::StatusCode;

use crate::helpers::message_seqs;
use natter_kit::{spawn_app, spawn_app_with, Backend};

natter_kit::on_both_backends!(
    the_rate_limit_says_1_second_as_json_or_in_the_composer,
    the_join_page_says_why_you_are_back_and_fills_in_the_form,
    a_blank_plain_post_gets_the_room_page_with_the_error_in_place,
    older_pages_are_links_without_javascript,
);

/// Past the burst, a JSON client gets `{"error": …}` and htmx the composer
/// with the sentence and a way to try again; one second is "1 second".
async fn the_rate_limit_says_1_second_as_json_or_in_the_composer(backend: Backend) {
    let app = spawn_app_with(backend, |config| {
        config.post_burst = 1;
        config.post_rate = 1.0;
    })
    .await;
    let bot = app.user();
    bot.join("bot", "lobby").await;
    bot.say_json("lobby", "first").await;
    let response = bot
        .client
        .post(bot.url("/rooms/lobby/messages"))
        .header("accept", "application/json")
        .form(&[("body", "second")])
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()["retry-after"], "1");
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap_or("")
        .starts_with("application/json"));
    let json: serde_json::Value = response.json().await.expect("json");
    assert_eq!(
        json["error"],
        "Slow down: too many messages. Please try again in 1 second."
    );

    let response = bot
        .client
        .post(bot.url("/rooms/lobby/messages"))
        .header("hx-request", "true")
        .form(&[("body", "third")])
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()["retry-after"], "1");
    let html = response.text().await.unwrap_or_default();
    assert!(html.contains(r#"id="composer""#), "{html}");
    assert!(html.contains("Please try again in 1 second."), "{html}");
    assert!(
        html.contains(">third</textarea>"),
        "the text is kept: {html}"
    );
    assert!(html.contains(r#"class="retry""#), "a way to retry: {html}");
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 1);
}

/// `?why=left`, `?why=lost` (and the older `taken`) each get a sentence,
/// with the room and the name filled in; anything invalid is dropped.
async fn the_join_page_says_why_you_are_back_and_fills_in_the_form(backend: Backend) {
    let app = spawn_app(backend).await;
    let visitor = app.user();
    let (_, page) = visitor.text("/join-room?room=team-chat&why=left").await;
    assert!(page.contains("You left team-chat."), "{page}");
    assert!(page.contains(r#"id="room" name="room" value="team-chat""#));

    for why in ["lost", "taken"] {
        let (_, page) = visitor
            .text(&format!(
                "/join-room?room=team-chat&name=Zo%C3%AB&why={why}"
            ))
            .await;
        assert!(
            page.contains(
                "Your place in team-chat has ended (your session expired or someone else \
                 now holds Zoë). Join again to continue."
            ),
            "{why}: {page}"
        );
        assert!(page.contains(r#"value="Zoë""#), "{why}: name filled in");
        assert!(
            page.contains(r#"value="team-chat""#),
            "{why}: room filled in"
        );
    }
    let (_, page) = visitor.text("/join-room?room=team-chat&why=lost").await;
    assert!(page.contains("Your place in team-chat has ended"));
    assert!(page.contains(r#"id="username" name="username" value="""#));

    // Hostile or oversized values are not reflected at all.
    let long = "a".repeat(300);
    for query in [
        "room=%3Cscript%3E&name=x&why=lost".to_owned(),
        "room=ok&name=%3Cb%3Ehi%3C%2Fb%3E&why=lost".to_owned(),
        format!("room=ok&name={long}&why=lost"),
        format!("room={long}&why=left"),
    ] {
        let (status, page) = visitor.text(&format!("/join-room?{query}")).await;
        assert_eq!(status, StatusCode::OK, "{query}");
        assert!(
            !page.contains("<script>") && !page.contains("<b>"),
            "{query}"
        );
        assert!(!page.contains(&long), "{query}: not reflected");
    }
    let (_, page) = visitor
        .text("/join-room?room=ok&name=%3Cb%3Ehi%3C%2Fb%3E&why=lost")
        .await;
    assert!(
        page.contains("holds your name"),
        "an invalid name is left out"
    );
}

/// Without JavaScript a blank message gets the room page back (422) with
/// the sentence in the composer, not a bare text page.
async fn a_blank_plain_post_gets_the_room_page_with_the_error_in_place(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user();
    alice.join("alice", "lobby").await;
    alice.say_json("lobby", "hello").await;
    let response = alice.say("lobby", "   ").await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap_or("")
        .starts_with("text/html"));
    let page = response.text().await.unwrap_or_default();
    assert!(page.contains("<!doctype html>"), "a whole page: {page}");
    assert!(
        page.contains(r#"id="message-1""#),
        "with the room's messages"
    );
    assert!(page.contains(r#"id="composer-error""#), "{page}");
    assert!(page.contains(r#"aria-describedby="composer-error""#));
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 1);
}

/// The element that loads older messages is a link to the room page at
/// `?before=N`, which shows that older page without any script, and links
/// on to the one before it and back to the newest.
async fn older_pages_are_links_without_javascript(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user();
    alice.join("alice", "long").await;
    for i in 1..=120 {
        alice.say_json("long", &format!("message {i}")).await;
    }
    let (_, page) = alice.text("/rooms/long").await;
    assert_eq!(message_seqs(&page), (71..=120).collect::<Vec<_>>());
    assert!(page.contains(r#"href="/rooms/long?before=71""#), "{page}");

    let (status, page) = alice.text("/rooms/long?before=71").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(message_seqs(&page), (21..=70).collect::<Vec<_>>());
    assert!(page.contains(r#"href="/rooms/long?before=21""#));
    assert!(page.contains(r#"<a href="/rooms/long">Back to the newest messages</a>"#));
    assert!(
        !page.contains("hx-sse:connect"),
        "an older page is not live"
    );

    let (_, page) = alice.text("/rooms/long?before=21").await;
    assert_eq!(message_seqs(&page), (1..=20).collect::<Vec<_>>());
    assert!(page.contains("This is the start of long."));
    let (status, _) = alice.text("/rooms/long?before=nonsense").await;
    assert_eq!(status, StatusCode::OK, "a bad cursor shows the newest");
}
