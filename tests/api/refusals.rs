//! The message JSON's shape, and every refused change (#14): the right
//! status, a sentence, and nothing stored.

use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{delete, edit, is_rfc3339, json_of, message, react, read, stored, JSON};
use natter_kit::{spawn_app, Backend, User};

natter_kit::on_both_backends!(
    the_message_json_has_the_contracts_shape,
    every_refusal_answers_its_status_and_stores_nothing,
    cross_site_changes_are_refused,
);

/// The JSON's keys, sorted.
fn keys(json: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = json
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys
}

const MESSAGE_KEYS: [&str; 10] = [
    "author",
    "body",
    "bot",
    "created_at",
    "cursor",
    "deleted",
    "edited_at",
    "reactions",
    "room",
    "seq",
];

/// Posting, reading, reacting, editing and deleting all answer the same
/// message JSON, with exactly the contract's keys and types.
async fn the_message_json_has_the_contracts_shape(backend: Backend) {
    let app = spawn_app(backend).await;
    let (alice, bob) = (app.user(), app.user());
    alice.join("alice", "lobby").await;
    bob.join("bob", "lobby").await;
    let response = alice
        .post_form_with("/rooms/lobby/messages", JSON, &[("body", "hi")])
        .await;
    let posted = json_of(response, StatusCode::CREATED).await;
    assert_eq!(keys(&posted), MESSAGE_KEYS);
    let created_at = posted["created_at"]
        .as_str()
        .expect("created_at")
        .to_owned();
    assert!(is_rfc3339(&created_at), "{created_at}");
    assert_eq!(
        posted,
        json!({"seq": 1, "room": "lobby", "author": "alice", "body": "hi",
               "created_at": created_at, "edited_at": null, "deleted": false,
               "cursor": 1, "reactions": [], "bot": false})
    );
    assert_eq!(read(&bob, "lobby", 1).await, posted, "GET answers the same");

    react(&bob, "lobby", 1, "👍").await;
    let reacted = react(&alice, "lobby", 1, "👍").await;
    assert_eq!(keys(&reacted), MESSAGE_KEYS);
    assert_eq!(
        reacted["reactions"],
        json!([{"emoji": "👍", "count": 2, "by": ["bob", "alice"]}])
    );
    assert_eq!(keys(&reacted["reactions"][0]), ["by", "count", "emoji"]);
    assert_eq!(read(&bob, "lobby", 1).await, reacted);

    let edited = edit(&alice, "lobby", 1, "hi all").await;
    assert_eq!(keys(&edited), MESSAGE_KEYS);
    assert_eq!(edited["body"], "hi all");
    assert_eq!(
        edited["created_at"],
        created_at.as_str(),
        "created_at stays"
    );
    assert!(
        edited["edited_at"].as_str().is_some_and(is_rfc3339),
        "{edited}"
    );
    assert_eq!(edited["reactions"], reacted["reactions"], "reactions stay");
    assert_eq!(edited["cursor"], 4);

    let deleted = delete(&alice, "lobby", 1).await;
    assert_eq!(keys(&deleted), MESSAGE_KEYS);
    assert_eq!(deleted["body"], Value::Null);
    assert_eq!(deleted["deleted"], true);
    assert_eq!(deleted["reactions"], json!([]));
    assert_eq!(deleted["author"], "alice");
    assert_eq!(deleted["cursor"], 5);
    assert_eq!(read(&bob, "lobby", 1).await, deleted);

    let (status, page) = bob.text(&message("lobby", 1)).await;
    assert_eq!(status, StatusCode::OK, "a browser gets the permalink page");
    assert!(page.contains(r#"data-linked="1""#));
}

/// Sends a form with `method`, as a JSON client or a plain one.
async fn attempt(
    user: &User,
    method: &Method,
    path: &str,
    form: &[(&str, &str)],
    json: bool,
) -> Response {
    let mut request = user.client.request(method.clone(), user.url(path));
    if json {
        request = request.header(JSON.0, JSON.1);
    }
    request.form(form).send().await.expect("request")
}

/// One refused request: what it is, who sends it, how, where, with which
/// form, and the status it must get.
type Case<'a> = (
    &'a str,
    &'a User,
    &'a Method,
    &'a str,
    Vec<(&'a str, &'a str)>,
    StatusCode,
);

/// Not a member, not the author, no such message, a deleted message, a
/// bad body or emoji: each answers its status (JSON clients a sentence in
/// `{"error"}`), and the database is as it was.
async fn every_refusal_answers_its_status_and_stores_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let (alice, bob, outsider, stranger) = (app.user(), app.user(), app.user(), app.user());
    alice.join("alice", "lobby").await;
    bob.join("bob", "lobby").await;
    outsider.join("outsider", "other").await;
    alice.say_json("lobby", "original").await;
    alice.say_json("lobby", "gone").await;
    delete(&alice, "lobby", 2).await;
    let before = stored(&app, &["lobby", "other"]).await;

    let (post, patch, del) = (Method::POST, Method::PATCH, Method::DELETE);
    let one = message("lobby", 1);
    let (edit1, delete1, react1) = (
        format!("{one}/edit"),
        format!("{one}/delete"),
        format!("{one}/reactions"),
    );
    let missing = message("lobby", 99);
    let (edit99, delete99, react99) = (
        format!("{missing}/edit"),
        format!("{missing}/delete"),
        format!("{missing}/reactions"),
    );
    let (edit2, react2) = (
        format!("{}/edit", message("lobby", 2)),
        format!("{}/reactions", message("lobby", 2)),
    );
    let long = "x".repeat(2001);
    let body = |text| vec![("body", text)];
    let emoji = |text| vec![("emoji", text)];
    let forbidden = StatusCode::FORBIDDEN;
    let not_found = StatusCode::NOT_FOUND;
    let invalid = StatusCode::UNPROCESSABLE_ENTITY;
    let cases: Vec<Case> = vec![
        (
            "outsider edits",
            &outsider,
            &post,
            &edit1,
            body("x"),
            forbidden,
        ),
        (
            "outsider patches",
            &outsider,
            &patch,
            &one,
            body("x"),
            forbidden,
        ),
        (
            "outsider deletes",
            &outsider,
            &post,
            &delete1,
            vec![],
            forbidden,
        ),
        ("outsider DELETE", &outsider, &del, &one, vec![], forbidden),
        (
            "outsider reacts",
            &outsider,
            &post,
            &react1,
            emoji("👍"),
            forbidden,
        ),
        (
            "stranger edits",
            &stranger,
            &post,
            &edit1,
            body("x"),
            forbidden,
        ),
        (
            "stranger reacts",
            &stranger,
            &post,
            &react1,
            emoji("👍"),
            forbidden,
        ),
        ("bob edits", &bob, &post, &edit1, body("x"), forbidden),
        ("bob patches", &bob, &patch, &one, body("x"), forbidden),
        ("bob deletes", &bob, &post, &delete1, vec![], forbidden),
        ("bob DELETE", &bob, &del, &one, vec![], forbidden),
        ("edit missing", &alice, &post, &edit99, body("x"), not_found),
        (
            "patch missing",
            &alice,
            &patch,
            &missing,
            body("x"),
            not_found,
        ),
        (
            "delete missing",
            &alice,
            &post,
            &delete99,
            vec![],
            not_found,
        ),
        ("DELETE missing", &alice, &del, &missing, vec![], not_found),
        (
            "react missing",
            &bob,
            &post,
            &react99,
            emoji("👍"),
            not_found,
        ),
        ("edit deleted", &alice, &post, &edit2, body("x"), not_found),
        (
            "react deleted",
            &bob,
            &post,
            &react2,
            emoji("👍"),
            not_found,
        ),
        ("empty body", &alice, &post, &edit1, body(""), invalid),
        ("blank body", &alice, &post, &edit1, body(" \n\t "), invalid),
        ("long body", &alice, &post, &edit1, body(&long), invalid),
        (
            "control char",
            &alice,
            &post,
            &edit1,
            body("ding\u{7}"),
            invalid,
        ),
        ("no body", &alice, &post, &edit1, vec![], invalid),
        ("patch blank", &alice, &patch, &one, body("  "), invalid),
        ("bad emoji", &bob, &post, &react1, emoji("👎"), invalid),
    ];
    for (what, user, method, path, form, status) in &cases {
        let response = attempt(user, method, path, form, true).await;
        let error = json_of(response, *status).await;
        assert_eq!(keys(&error), ["error"], "{what}: {error}");
        assert!(
            error["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{what}"
        );
        let response = attempt(user, method, path, form, false).await;
        assert_eq!(response.status(), *status, "{what}, as a plain client");
    }
    let response = bob.patch_json(&one, &json!({"body": ""})).await;
    assert_eq!(response.status(), invalid, "JSON body");
    let (status, _) = outsider.get_json(&one).await;
    assert_eq!(status, forbidden, "outsider reads");
    let (status, _) = stranger.get_json(&one).await;
    assert_eq!(status, forbidden, "stranger reads");
    let (status, error) = alice.get_json(&missing).await;
    assert_eq!((status, keys(&error)), (not_found, vec!["error"]));

    assert_eq!(stored(&app, &["lobby", "other"]).await, before);
    let json = read(&alice, "lobby", 1).await;
    assert_eq!(json["body"], "original");
    assert_eq!(json["edited_at"], Value::Null);
    assert_eq!(json["reactions"], json!([]));
}

/// A browser's cross-site request cannot edit, delete or react, by any
/// verb; nothing is stored.
async fn cross_site_changes_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user();
    alice.join("alice", "lobby").await;
    alice.say_json("lobby", "original").await;
    let before = stored(&app, &["lobby"]).await;
    let one = message("lobby", 1);
    let attempts = [
        (
            Method::POST,
            format!("{one}/edit"),
            vec![("body", "forged")],
        ),
        (Method::PATCH, one.clone(), vec![("body", "forged")]),
        (
            Method::POST,
            format!("{one}/reactions"),
            vec![("emoji", "👍")],
        ),
        (Method::POST, format!("{one}/delete"), vec![]),
        (Method::DELETE, one.clone(), vec![]),
    ];
    for (header, value) in [
        ("sec-fetch-site", "cross-site"),
        ("origin", "https://evil.example"),
    ] {
        for (method, path, form) in &attempts {
            let response = alice
                .client
                .request(method.clone(), alice.url(path))
                .header(header, value)
                .form(form)
                .send()
                .await
                .expect("request");
            assert_eq!(
                response.status(),
                StatusCode::FORBIDDEN,
                "{method} {path} with {header}: {value}"
            );
        }
    }
    assert_eq!(stored(&app, &["lobby"]).await, before);
    assert_eq!(read(&alice, "lobby", 1).await["body"], "original");
}
