//! Search: members find messages by their words, newest first, paged, with
//! the words marked; the index follows edits and deletes; hostile queries
//! get a sentence.

use reqwest::StatusCode;
use serde_json::Value;

use natter_kit::{spawn_app, Backend, User};

natter_kit::on_both_backends!(
    search_finds_pages_and_marks_newest_first,
    search_follows_edits_and_forgets_deleted_messages,
    hostile_queries_get_a_sentence_never_a_500,
    only_members_search,
    search_stays_in_its_room,
);

/// `GET /rooms/lobby/search?q=…` as JSON.
async fn search_json(user: &User, query: &str) -> (StatusCode, Value) {
    search_in(user, "lobby", &[("q", query)]).await
}

/// `GET /rooms/{room}/search?{params}` as JSON.
async fn search_in(user: &User, room: &str, params: &[(&str, &str)]) -> (StatusCode, Value) {
    let response = user
        .client
        .get(user.url(&format!("/rooms/{room}/search")))
        .query(params)
        .header("accept", "application/json")
        .send()
        .await
        .expect("GET");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The seqs of a JSON page of results.
fn seqs(json: &Value) -> Vec<i64> {
    json["results"]
        .as_array()
        .map(|results| results.iter().filter_map(|r| r["seq"].as_i64()).collect())
        .unwrap_or_default()
}

/// 45 messages hold "deploy": the first page has the newest 20, the link to
/// older ones leads on, and the page marks the word in each snippet.
async fn search_finds_pages_and_marks_newest_first(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user();
    alice.join("alice", "lobby").await;
    for i in 1..=90 {
        let body = if i % 2 == 0 {
            format!("we deploy <b>build</b> {i} today")
        } else {
            format!("lunch {i}")
        };
        alice.say_json("lobby", &body).await;
    }
    let (status, first) = search_json(&alice, "DEPLOY today").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(seqs(&first), (52..=90).rev().step_by(2).collect::<Vec<_>>());
    let snippet = first["results"][0]["snippet"].as_str().unwrap_or("");
    assert!(snippet.contains("<mark>deploy</mark>"), "{snippet}");
    assert!(
        snippet.contains("&lt;b&gt;"),
        "the body shown as text: {snippet:?}"
    );
    assert_eq!(
        first["results"][0]["link"],
        "/rooms/lobby/messages/90#message-90"
    );
    let older = first["older"].as_str().unwrap_or("").to_owned();
    assert_eq!(older, "/rooms/lobby/search?q=DEPLOY+today&before=52");
    let (_, second) = alice.text(&older).await;
    let (_, third) = alice
        .text("/rooms/lobby/search?q=DEPLOY+today&before=12")
        .await;
    for (page, newest, count) in [(&second, 50, 20), (&third, 10, 5)] {
        let links = page.matches("class=\"result\"").count();
        assert_eq!(links, count);
        assert!(page.contains(&format!("/rooms/lobby/messages/{newest}#message-{newest}")));
        assert!(page.contains("<mark>deploy</mark>"));
    }
    assert!(!third.contains("Older results"));
    // Nothing found is a sentence.
    let (status, page) = alice.text("/rooms/lobby/search?q=zebra").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Nothing in lobby matches “zebra”."), "{page}");
    // The room page links to the search.
    let (_, room) = alice.text("/rooms/lobby").await;
    assert!(room.contains(r#"href="/rooms/lobby/search""#));
}

/// An edited message is found by its new words only; a deleted one is
/// never found.
async fn search_follows_edits_and_forgets_deleted_messages(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user();
    alice.join("alice", "lobby").await;
    let edited = alice.say_json("lobby", "the kettle is broken").await;
    let deleted = alice.say_json("lobby", "secret kettle password").await;
    alice.say_json("lobby", "kettle fixed").await;
    let response = alice
        .post_form(
            &format!("/rooms/lobby/messages/{edited}/edit"),
            &[("body", "the teapot is broken")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let response = alice
        .post_form(&format!("/rooms/lobby/messages/{deleted}/delete"), &[])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(seqs(&search_json(&alice, "kettle").await.1), vec![3]);
    assert_eq!(seqs(&search_json(&alice, "teapot").await.1), vec![edited]);
    assert_eq!(
        seqs(&search_json(&alice, "secret").await.1),
        Vec::<i64>::new()
    );
    assert_eq!(
        seqs(&search_json(&alice, "password").await.1),
        Vec::<i64>::new()
    );
}

/// FTS and tsquery syntax, quotes, operators and junk: results or a
/// sentence, never a server error.
async fn hostile_queries_get_a_sentence_never_a_500(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user();
    alice.join("alice", "lobby").await;
    alice.say_json("lobby", "near and far, or not").await;
    let long = "a".repeat(300);
    let many = "a ".repeat(40);
    for query in [
        "\"",
        "\"\"\"",
        "*",
        "a*",
        "NEAR(a b)",
        "body:near",
        "a AND",
        "OR",
        "NOT near",
        "-near",
        "^near",
        "near:*",
        "(near",
        "near)",
        "!near & far | 'x'",
        "<->",
        "near <-> far",
        "'; DROP TABLE messages; --",
        "%00",
        "\u{0}",
        "{near}",
        "[near]",
        "\\",
        "ünïcödé",
        "🎉",
        long.as_str(),
        many.as_str(),
        "",
        "   ",
    ] {
        let (status, json) = search_json(&alice, query).await;
        let sentence = json["error"].as_str().map(str::to_owned);
        assert!(
            status == StatusCode::OK || status == StatusCode::UNPROCESSABLE_ENTITY,
            "{query:?}: {status}"
        );
        if status != StatusCode::OK {
            assert!(sentence.is_some_and(|s| s.ends_with('.')), "{query:?}");
        }
        let response = alice
            .client
            .get(alice.url("/rooms/lobby/search"))
            .query(&[("q", query)])
            .send()
            .await
            .expect("GET");
        assert_eq!(response.status(), StatusCode::OK, "{query:?}");
    }
    let (_, found) = search_json(&alice, "NEAR(far").await;
    assert_eq!(seqs(&found), vec![1], "operators are words");
}

/// A stranger is sent to join (and back); a script gets 403.
async fn only_members_search(backend: Backend) {
    let app = spawn_app(backend).await;
    app.user().join("alice", "lobby").await;
    let bob = app.user();
    let response = bob.get("/rooms/lobby/search?q=x").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        response.headers()["location"],
        "/join-room?room=lobby&next=%2Frooms%2Flobby%2Fsearch"
    );
    assert_eq!(search_json(&bob, "x").await.0, StatusCode::FORBIDDEN);
}

/// A room that has been quiet while another posted the same words finds
/// its own messages only, newest first, page after page; a room with no
/// messages finds nothing.
async fn search_stays_in_its_room(backend: Backend) {
    let app = spawn_app(backend).await;
    let (alice, bob, carol) = (app.user(), app.user(), app.user());
    alice.join("alice", "lobby").await;
    bob.join("bob", "ops").await;
    carol.join("carol", "empty").await;
    alice
        .say_json("lobby", "deploy from the lobby, first")
        .await;
    for i in 1..=30 {
        bob.say_json("ops", &format!("deploy {i} from ops")).await;
    }
    alice
        .say_json("lobby", "deploy from the lobby, second")
        .await;
    for i in 31..=60 {
        bob.say_json("ops", &format!("deploy {i} from ops")).await;
    }
    let (status, found) = search_in(&alice, "lobby", &[("q", "deploy")]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(seqs(&found), vec![2, 1]);
    assert!(found["results"]
        .as_array()
        .is_some_and(|results| results.iter().all(|r| r["room"] == "lobby")));
    let (_, older) = search_in(&alice, "lobby", &[("q", "deploy"), ("before", "2")]).await;
    assert_eq!(seqs(&older), vec![1]);
    let (_, none) = search_in(&alice, "lobby", &[("q", "deploy"), ("before", "1")]).await;
    assert_eq!(seqs(&none), Vec::<i64>::new());
    let (_, ops) = search_in(&bob, "ops", &[("q", "deploy")]).await;
    assert_eq!(seqs(&ops), (41..=60).rev().collect::<Vec<_>>());
    let (status, empty) = search_in(&carol, "empty", &[("q", "deploy")]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(seqs(&empty), Vec::<i64>::new());
}
