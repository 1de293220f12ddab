//! Bots (#17): made and revoked by members, posting with a token in three
//! body forms, refused tokens, held names, the cross-site rule, the JSON
//! read API, `?format=json` streams and the per-bot post limit. (Webhook
//! delivery has its own tests: `webhooks.rs`.)

use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::helpers::{
    delete, edit, events_during, header, is_rfc3339, is_signal, json_of, next_where, until_cursor,
    SOON,
};
use natter_kit::{spawn_app, spawn_app_with, Backend, Sse, TestApp, User};

natter_kit::on_both_backends!(
    a_member_makes_a_bot_and_sees_its_token_once,
    a_bot_posts_in_all_three_body_forms_with_a_badge,
    refused_tokens_get_401_and_store_nothing,
    bot_names_are_held_like_peoples,
    only_members_make_list_and_revoke_bots,
    bearer_posts_skip_the_cross_site_check_and_members_do_not,
    a_bearer_header_does_not_carry_a_cookie_past_the_cross_site_check,
    the_read_api_pages_through_a_long_room_once_in_cursor_order,
    the_read_api_refuses_bad_cursors_and_limits,
    a_json_stream_carries_message_json_and_replays_it,
    a_json_stream_leaves_out_signals,
    revoking_a_bot_ends_its_stream,
    bots_are_held_to_the_post_limit_each,
    a_revoked_bots_messages_keep_its_name_and_badge,
    a_webhook_address_that_is_no_http_url_is_refused_with_its_sentence,
    a_bots_bad_body_gets_a_422_json_sentence_and_stores_nothing,
);

mod cases {
    natter_kit::postgres_only!(revoking_a_bot_on_one_instance_ends_its_stream_on_the_other);
}

/// The sentence every refused token gets.
const REFUSED: &str = "The bot token is unknown or revoked.";

/// How long an event may take on a test machine.
const WAIT: Duration = Duration::from_secs(10);

/// How a bot sends a message's body.
#[derive(Debug, Clone, Copy)]
enum Body<'a> {
    /// `application/x-www-form-urlencoded`, `body=…`.
    Form(&'a str),
    /// `application/json`, `{"body": "…"}`.
    Json(&'a str),
    /// `text/plain`, the raw body.
    Text(&'a str),
}

/// A bot as a script holds it: a client with no cookies, and a token.
struct Script {
    http: User,
    token: String,
}

impl Script {
    fn new(app: &TestApp, token: &str) -> Self {
        Self {
            http: app.user(),
            token: token.to_owned(),
        }
    }

    /// `method path` with `Authorization: Bearer <token>`.
    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .client
            .request(method, self.http.url(path))
            .bearer_auth(&self.token)
    }

    /// Posts `body` into `room`; returns the response.
    async fn post(&self, room: &str, body: Body<'_>) -> Response {
        send(self.request(Method::POST, &messages(room)), body).await
    }

    /// Posts `body` into `room` as a form; asserts 201, returns the JSON.
    async fn say(&self, room: &str, body: &str) -> Value {
        json_of(self.post(room, Body::Form(body)).await, StatusCode::CREATED).await
    }

    /// `GET path` as a JSON client: the status and the body parsed.
    async fn get_json(&self, path: &str) -> (StatusCode, Value) {
        let response = self
            .request(Method::GET, path)
            .header("accept", "application/json")
            .send()
            .await
            .expect("GET");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Opens `path` (an events URL) as a stream; asserts 200.
    async fn stream(&self, path: &str, headers: HeaderMap) -> Sse {
        let response = self
            .request(Method::GET, path)
            .headers(headers)
            .timeout(Duration::from_secs(3600))
            .send()
            .await
            .expect("GET events");
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        Sse::new(response)
    }
}

/// Sends `request` with `body` in the form asked for.
async fn send(request: RequestBuilder, body: Body<'_>) -> Response {
    match body {
        Body::Form(text) => request.form(&[("body", text)]),
        Body::Json(text) => request.json(&json!({ "body": text })),
        Body::Text(text) => request
            .header("content-type", "text/plain; charset=utf-8")
            .body(text.to_owned()),
    }
    .send()
    .await
    .expect("POST")
}

/// `/rooms/{room}/messages`.
fn messages(room: &str) -> String {
    format!("/rooms/{room}/messages")
}

/// `/rooms/{room}/bots`.
fn bots(room: &str) -> String {
    format!("/rooms/{room}/bots")
}

/// Makes a bot as a JSON client: the response.
async fn try_make_bot(member: &User, room: &str, name: &str) -> Response {
    member
        .send_json(Method::POST, &bots(room), Some(&json!({ "name": name })))
        .await
}

/// Makes a bot as a JSON client; asserts 201 and returns the JSON.
async fn make_bot(member: &User, room: &str, name: &str) -> Value {
    json_of(try_make_bot(member, room, name).await, StatusCode::CREATED).await
}

/// The token of a bot just made.
fn token(made: &Value) -> String {
    made["token"].as_str().expect("a token").to_owned()
}

/// SHA-256 of `text`, hex.
fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The number of messages stored.
async fn message_count(app: &TestApp) -> i64 {
    app.count("SELECT COUNT(*) FROM messages").await
}

/// Asserts a 401 for a refused token: `WWW-Authenticate: Bearer` and the
/// sentence (in JSON or as text).
async fn assert_refused(response: Response, what: &str) {
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{what}");
    let challenge = response
        .headers()
        .get("www-authenticate")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(challenge.starts_with("Bearer"), "{what}: {challenge:?}");
    let text = response.text().await.expect("body");
    let sentence = serde_json::from_str::<Value>(&text)
        .ok()
        .and_then(|json| json["error"].as_str().map(str::to_owned))
        .unwrap_or(text);
    assert_eq!(sentence.trim(), REFUSED, "{what}");
}

/// The JSON error of a response, asserting its status.
async fn error_of(response: Response, status: StatusCode) -> String {
    json_of(response, status).await["error"]
        .as_str()
        .expect("an error sentence")
        .to_owned()
}

/// A member makes a bot with JSON: 201, a long random token and a webhook
/// secret, only the token's hash stored. With a form: a page with the
/// token and a curl line, which the list never shows again.
async fn a_member_makes_a_bot_and_sees_its_token_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user();
    alice.join("alice", "lobby").await;

    let made = make_bot(&alice, "lobby", "deploy").await;
    let token = token(&made);
    let random = token.strip_prefix("natter_").expect("natter_ prefix");
    assert!(random.len() >= 43, "{token}");
    assert!(
        random
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "base64url: {token}"
    );
    let secret = made["webhook_secret"].as_str().expect("a secret");
    assert!(
        secret.strip_prefix("whsec_").is_some_and(|s| s.len() >= 43),
        "{secret}"
    );
    assert_eq!(made["name"], "deploy");
    assert!(
        made["post_url"]
            .as_str()
            .is_some_and(|url| url.ends_with("/rooms/lobby/messages")),
        "{made}"
    );
    assert!(
        made["curl"].as_str().is_some_and(|c| c.contains(&token)),
        "{made}"
    );

    // Stored as its hash, and nowhere as itself.
    let hashed = format!(
        "SELECT COUNT(*) FROM bots WHERE name = 'deploy' AND token_hash = '{}'",
        sha256_hex(&token)
    );
    assert_eq!(app.count(&hashed).await, 1, "the token's SHA-256 is stored");
    for needle in [token.as_str(), random] {
        let in_bots = format!(
            "SELECT COUNT(*) FROM bots WHERE token_hash || secret || name || created_by \
             || COALESCE(webhook_url, '') LIKE '%{needle}%'"
        );
        assert_eq!(app.count(&in_bots).await, 0, "the token is not in bots");
        let in_members =
            format!("SELECT COUNT(*) FROM members WHERE name || name_key LIKE '%{needle}%'");
        assert_eq!(app.count(&in_members).await, 0, "nor in members");
    }
    let second = make_bot(&alice, "lobby", "ci").await;
    assert_ne!(
        second["token"].as_str(),
        Some(token.as_str()),
        "every token is new"
    );

    // A form gets the page with the token and the curl line, once.
    let response = alice.post_form(&bots("lobby"), &[("name", "alerts")]).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let page = response.text().await.expect("page");
    let at = page.find(r#"id="token""#).expect("the token field");
    let value = &page[at..];
    let value = &value[value.find("value=\"").expect("a value") + 7..];
    let shown = &value[..value.find('"').expect("end of value")];
    assert!(shown.starts_with("natter_") && shown.len() >= 50, "{shown}");
    let curl = &page[page.find(r#"id="curl""#).expect("the curl line")..];
    let curl = &curl[..curl.find("</textarea>").expect("end of curl")];
    assert!(curl.contains("curl ") && curl.contains(shown), "{curl}");
    assert!(curl.contains("/rooms/lobby/messages"), "{curl}");
    // The shown token works.
    Script::new(&app, shown).say("lobby", "hello").await;

    let (status, list) = alice.text(&bots("lobby")).await;
    assert_eq!(status, StatusCode::OK);
    for name in ["alerts", "ci", "deploy"] {
        assert!(list.contains(name), "{name} listed: {list}");
    }
    assert!(!list.contains(shown), "the list never shows a token again");
    assert!(!list.contains(&token));
    assert!(!list.contains("natter_"), "no token at all: {list}");

    let (status, listed) = alice.get_json(&bots("lobby")).await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = listed
        .as_array()
        .expect("an array")
        .iter()
        .map(|bot| bot["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["alerts", "ci", "deploy"]);
    let deploy = &listed[2];
    assert_eq!(deploy["created_by"], "alice");
    assert_eq!(deploy["webhook_url"], Value::Null);
    assert_eq!(deploy["all"], false);
    assert_eq!(deploy["last_delivery"], Value::Null);
    assert!(deploy["created_at"].as_str().is_some_and(is_rfc3339));
    assert!(!listed.to_string().contains("natter_"), "{listed}");
}

/// A bot posts as a form, as JSON and as plain text (a newline kept): 201
/// with the message JSON; a member's stream gets each with the bot badge,
/// and a person's message has none.
async fn a_bot_posts_in_all_three_body_forms_with_a_badge(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user();
    alice.join("alice", "lobby").await;
    let bot = Script::new(&app, &token(&make_bot(&alice, "lobby", "deploy").await));
    let mut screen = alice.events("lobby", HeaderMap::new()).await;

    let sent = [
        Body::Form("deployed v1.2 & friends"),
        Body::Json("deployed \"v1.3\""),
        Body::Text("build 42 failed\nsee the log"),
    ];
    let mut posted = Vec::new();
    for body in sent {
        let response = bot.post("lobby", body).await;
        let json = json_of(response, StatusCode::CREATED).await;
        let text = match body {
            Body::Form(text) | Body::Json(text) | Body::Text(text) => text,
        };
        assert_eq!(json["body"], text, "{body:?}");
        assert_eq!(json["author"], "deploy", "{body:?}");
        assert_eq!(json["bot"], true, "{body:?}");
        assert_eq!(json["room"], "lobby");
        assert_eq!(json["deleted"], false);
        posted.push(json);
    }
    let person = alice.say_json("lobby", "thanks, deploy").await;

    let last = person;
    let events = until_cursor(&mut screen, last, WAIT).await;
    for json in &posted {
        let seq = json["seq"].as_i64().expect("seq");
        let event = events
            .iter()
            .find(|event| event.data.contains(&format!(r#"id="message-{seq}""#)))
            .unwrap_or_else(|| panic!("message {seq} reached alice: {events:#?}"));
        assert!(
            event.data.contains(r#"class="badge bot""#),
            "{}",
            event.data
        );
        assert!(event.data.contains(">deploy<"), "{}", event.data);
    }
    let own = events
        .iter()
        .find(|event| event.data.contains(&format!(r#"id="message-{person}""#)))
        .expect("alice's message");
    assert!(!own.data.contains("badge bot"), "{}", own.data);

    assert_eq!(
        app.count("SELECT COUNT(*) FROM messages WHERE bot = 1")
            .await,
        3
    );
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM messages m JOIN bots b ON b.member_id = m.author_id \
             WHERE b.name = 'deploy'"
        )
        .await,
        3,
        "the bot's member id is the author"
    );
    let (_, page) = alice.text("/rooms/lobby").await;
    assert_eq!(page.matches(r#"class="badge bot""#).count(), 3, "{page}");
}

/// Unknown, malformed, another room's and revoked tokens all get 401 with
/// the sentence and `WWW-Authenticate: Bearer`; a cookie never stands in
/// for a bad token; nothing is stored.
async fn refused_tokens_get_401_and_store_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let (alice, bob) = (app.user(), app.user());
    alice.join("alice", "lobby").await;
    bob.join("bob", "other").await;
    let elsewhere = token(&make_bot(&bob, "other", "ci").await);
    let revoked_by_form = token(&make_bot(&alice, "lobby", "deploy").await);
    let revoked_by_delete = token(&make_bot(&alice, "lobby", "other").await);
    alice.say_json("lobby", "before").await;

    let response = alice
        .post_form("/rooms/lobby/bots/deploy/revoke", &[])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], "/rooms/lobby/bots");
    let response = alice.delete("/rooms/lobby/bots/other").await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let (_, listed) = alice.get_json(&bots("lobby")).await;
    assert_eq!(listed, json!([]), "revoked bots are not listed");

    let before = message_count(&app).await;
    let unknown = format!("natter_{}", "A".repeat(43));
    let cases = [
        ("an unknown token", format!("Bearer {unknown}")),
        ("no natter_ prefix", "Bearer abcdef".to_owned()),
        ("Basic credentials", "Basic YWxpY2U6c2VjcmV0".to_owned()),
        ("a bare token", revoked_by_form.clone()),
        ("another room's bot", format!("Bearer {elsewhere}")),
        ("a bot revoked by form", format!("Bearer {revoked_by_form}")),
        (
            "a bot revoked by DELETE",
            format!("Bearer {revoked_by_delete}"),
        ),
    ];
    let nobody = app.user();
    for (what, authorization) in &cases {
        for body in [Body::Form("x"), Body::Json("x"), Body::Text("x")] {
            let request = nobody
                .client
                .post(nobody.url(&messages("lobby")))
                .header("authorization", authorization);
            assert_refused(send(request, body).await, &format!("{what}, {body:?}")).await;
        }
        let (status, _) = nobody
            .client
            .get(nobody.url("/rooms/lobby/messages?after=0"))
            .header("authorization", authorization)
            .header("accept", "application/json")
            .send()
            .await
            .map(|r| (r.status(), ()))
            .expect("GET");
        assert_eq!(status, StatusCode::UNAUTHORIZED, "read API, {what}");
        let response = nobody
            .open_events(
                "/rooms/lobby/events?format=json",
                header("authorization", authorization),
            )
            .await;
        assert_refused(response, &format!("stream, {what}")).await;
    }
    // The other room's bot still works in its own room.
    Script::new(&app, &elsewhere).say("other", "mine").await;
    let before = before + 1;

    // A member's cookie with a bad token is still a bad token.
    for (what, authorization) in &cases {
        let response = alice
            .client
            .post(alice.url(&messages("lobby")))
            .header("authorization", authorization)
            .header("accept", "application/json")
            .form(&[("body", "sneaky")])
            .send()
            .await
            .expect("POST");
        assert_refused(response, &format!("cookie and {what}")).await;
        let response = alice
            .open_events(
                "/rooms/lobby/events",
                header("authorization", authorization),
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "stream, cookie and {what}"
        );
    }
    assert_eq!(message_count(&app).await, before, "nothing stored");
}

/// A bot's name is held like a person's, whatever the case and however
/// long ago it was "seen"; a bot cannot take a member's name; revoking
/// frees it; bad names get the join's sentences.
async fn bot_names_are_held_like_peoples(backend: Backend) {
    let app = spawn_app(backend).await;
    let (alice, bob) = (app.user(), app.user());
    alice.join("alice", "lobby").await;
    make_bot(&alice, "lobby", "deploy").await;
    // No session ever refreshes a bot: its name must not lapse.
    app.run_sql("UPDATE members SET last_seen = 0 WHERE bot = 1")
        .await;

    for name in ["deploy", "Deploy", "DEPLOY"] {
        let response = bob.try_join(name, "lobby").await;
        assert_eq!(response.status(), StatusCode::CONFLICT, "join as {name}");
        let page = response.text().await.expect("page");
        assert!(
            page.contains("Someone in lobby is already called"),
            "{name}: {page}"
        );
    }
    for name in ["alice", "ALICE", "deploy", "Deploy"] {
        let sentence = error_of(
            try_make_bot(&alice, "lobby", name).await,
            StatusCode::CONFLICT,
        )
        .await;
        assert!(
            sentence.starts_with("Someone in lobby is already called"),
            "{name}: {sentence}"
        );
    }
    let response = alice.post_form(&bots("lobby"), &[("name", "alice")]).await;
    assert_eq!(response.status(), StatusCode::CONFLICT, "a form");
    assert_eq!(app.count("SELECT COUNT(*) FROM bots").await, 1);

    for bad in ["", "   ", "<b>", "tab\there", &"é".repeat(33)] {
        let sentence = error_of(
            try_make_bot(&alice, "lobby", bad).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(sentence.starts_with("Usernames are"), "{bad:?}: {sentence}");
        let response = alice.post_form(&bots("lobby"), &[("name", bad)]).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "form {bad:?}"
        );
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM bots").await, 1);

    let response = alice.delete("/rooms/lobby/bots/DEPLOY").await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT, "by any case");
    bob.join("deploy", "lobby").await;
    let sentence = error_of(
        try_make_bot(&alice, "lobby", "deploy").await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(
        sentence.starts_with("Someone in lobby is already called"),
        "now a person holds it: {sentence}"
    );
}

/// Strangers and members of another room get 403 on every bots route;
/// revoking a bot the room does not have (or a person) is a 404.
async fn only_members_make_list_and_revoke_bots(backend: Backend) {
    let app = spawn_app(backend).await;
    let (alice, bob, carol) = (app.user(), app.user(), app.user());
    alice.join("alice", "lobby").await;
    bob.join("bob", "lobby").await;
    carol.join("carol", "other").await;
    let bot = Script::new(&app, &token(&make_bot(&alice, "lobby", "deploy").await));
    let stranger = app.user();

    for (who, user) in [("a stranger", &stranger), ("another room's", &carol)] {
        let sentence = error_of(
            try_make_bot(user, "lobby", "sneaky").await,
            StatusCode::FORBIDDEN,
        )
        .await;
        assert_eq!(sentence, "Join this room first.", "{who}");
        let response = user.post_form(&bots("lobby"), &[("name", "sneaky")]).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{who}: form");
        let (status, json) = user.get_json(&bots("lobby")).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{who}: list");
        assert_eq!(json["error"], "Join this room first.");
        let (status, _) = user.text(&bots("lobby")).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{who}: page");
        let response = user.post_form("/rooms/lobby/bots/deploy/revoke", &[]).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{who}: revoke");
        let response = user.delete("/rooms/lobby/bots/deploy").await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{who}: DELETE");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM bots").await, 1);
    bot.say("lobby", "still here").await;

    for name in ["nobody", "bob", "alice", "no%20such"] {
        let response = alice.delete(&format!("/rooms/lobby/bots/{name}")).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{name}");
        let text = response.text().await.expect("body");
        assert!(text.contains("There is no such bot."), "{name}: {text}");
        let response = alice
            .send_json(
                Method::POST,
                &format!("/rooms/lobby/bots/{name}/revoke"),
                None,
            )
            .await;
        assert_eq!(
            error_of(response, StatusCode::NOT_FOUND).await,
            "There is no such bot."
        );
    }
    // bob, a person, is untouched.
    bob.say_json("lobby", "I am still here").await;

    let response = alice
        .send_json(Method::POST, "/rooms/lobby/bots/deploy/revoke", None)
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT, "JSON revoke");
    let response = alice.delete("/rooms/lobby/bots/deploy").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND, "revoked already");
    assert_refused(bot.post("lobby", Body::Form("gone")).await, "revoked").await;
}

/// A bot's post passes whatever `Sec-Fetch-Site` or `Origin` says (no
/// cookie is involved); a member's cross-site bot creation or revoke is
/// refused and changes nothing.
async fn bearer_posts_skip_the_cross_site_check_and_members_do_not(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user();
    alice.join("alice", "lobby").await;
    let bot = Script::new(&app, &token(&make_bot(&alice, "lobby", "deploy").await));

    for (name, value) in [
        ("sec-fetch-site", "cross-site"),
        ("origin", "https://evil.example"),
    ] {
        let response = bot
            .request(Method::POST, &messages("lobby"))
            .header(name, value)
            .form(&[("body", "from CI")])
            .send()
            .await
            .expect("POST");
        assert_eq!(response.status(), StatusCode::CREATED, "{name}: {value}");
    }

    let counts = (
        app.count("SELECT COUNT(*) FROM bots").await,
        app.count("SELECT COUNT(*) FROM members").await,
    );
    for (name, value) in [
        ("sec-fetch-site", "cross-site"),
        ("sec-fetch-site", "same-site"),
        ("origin", "https://evil.example"),
    ] {
        let response = alice
            .post_form_with(&bots("lobby"), (name, value), &[("name", "evil")])
            .await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{name}: {value}");
        let response = alice
            .post_form_with("/rooms/lobby/bots/deploy/revoke", (name, value), &[])
            .await;
        assert_eq!(
            response.status(),
            StatusCode::FORBIDDEN,
            "revoke, {name}: {value}"
        );
    }
    let response = alice
        .client
        .delete(alice.url("/rooms/lobby/bots/deploy"))
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .expect("DELETE");
    assert_eq!(
        response.status(),
        StatusCode::FORBIDDEN,
        "cross-site DELETE"
    );
    assert_eq!(
        (
            app.count("SELECT COUNT(*) FROM bots").await,
            app.count("SELECT COUNT(*) FROM members").await,
        ),
        counts,
        "no bot made"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM bots WHERE revoked_at IS NOT NULL")
            .await,
        0,
        "none revoked"
    );
    bot.say("lobby", "still works").await;
}

/// The cross-site check lets requests with `Authorization` through because
/// a bot's identity is its token; so a members' route must not then act on
/// the cookie: a cross-site request with a member's cookie and a bearer
/// header (unknown, or a real bot's) makes no bot, revokes none and
/// deletes no message.
async fn a_bearer_header_does_not_carry_a_cookie_past_the_cross_site_check(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user();
    alice.join("alice", "lobby").await;
    let real = token(&make_bot(&alice, "lobby", "deploy").await);
    let seq = alice.say_json("lobby", "keep me").await;

    let mut let_through = Vec::new();
    for authorization in [
        format!("Bearer natter_{}", "A".repeat(43)),
        format!("Bearer {real}"),
    ] {
        let requests = [
            (
                "create a bot",
                alice
                    .client
                    .post(alice.url(&bots("lobby")))
                    .form(&[("name", "evil")]),
            ),
            (
                "revoke a bot",
                alice.client.delete(alice.url("/rooms/lobby/bots/deploy")),
            ),
            (
                "delete a message",
                alice
                    .client
                    .post(alice.url(&format!("/rooms/lobby/messages/{seq}/delete"))),
            ),
        ];
        for (what, request) in requests {
            let response = request
                .header("sec-fetch-site", "cross-site")
                .header("authorization", &authorization)
                .send()
                .await
                .expect("request");
            let status = response.status();
            if status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN {
                let_through.push(format!("{what} with {authorization:.20}…: {status}"));
            }
        }
    }
    let made = app
        .count("SELECT COUNT(*) FROM bots WHERE name = 'evil'")
        .await;
    let revoked = app
        .count("SELECT COUNT(*) FROM bots WHERE revoked_at IS NOT NULL")
        .await;
    let deleted = app
        .count("SELECT COUNT(*) FROM messages WHERE deleted_at IS NOT NULL")
        .await;
    assert!(
        let_through.is_empty() && (made, revoked, deleted) == (0, 0, 0),
        "cross-site requests with a cookie and a bearer header were taken: {let_through:#?}; \
         bots made {made}, revoked {revoked}, messages deleted {deleted}"
    );
}

/// Who reads the read API: a bot by its token, or a member by session.
enum Reader<'a> {
    Token(&'a Script),
    Session(&'a User),
}

impl Reader<'_> {
    async fn get_json(&self, path: &str) -> (StatusCode, Value) {
        match self {
            Reader::Token(bot) => bot.get_json(path).await,
            Reader::Session(member) => member.get_json(path).await,
        }
    }
}

/// One pass over the read API, `limit` a page (100 if `None`): every page,
/// by `after=cursor` until `more` is false. The messages and page sizes.
async fn read_all(reader: Reader<'_>, limit: Option<usize>) -> (Vec<Value>, Vec<usize>) {
    let mut after = 0;
    let mut all = Vec::new();
    let mut pages = Vec::new();
    let query = limit.map_or(String::new(), |limit| format!("&limit={limit}"));
    let size = limit.unwrap_or(100);
    loop {
        let path = format!("/rooms/lobby/messages?after={after}{query}");
        let (status, page) = reader.get_json(&path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {page}");
        let messages = page["messages"].as_array().expect("messages").clone();
        let more = page["more"].as_bool().expect("more");
        let cursor = page["cursor"].as_i64().expect("cursor");
        assert!(messages.len() <= size, "a page of {}", messages.len());
        if more {
            assert_eq!(messages.len(), size, "more after a full page only");
        }
        let last = messages
            .last()
            .map_or(after, |m| m["cursor"].as_i64().expect("cursor"));
        assert_eq!(cursor, last, "the page's cursor is its last message's");
        pages.push(messages.len());
        all.extend(messages);
        after = cursor;
        if !more {
            return (all, pages);
        }
        assert!(pages.len() < 50, "paging never ends");
    }
}

/// 250 messages (a bot's and a person's), one early one edited and one
/// deleted: paging with `after` reads each exactly once, in cursor order,
/// as it is now (the edited one at its new cursor), by token or session.
async fn the_read_api_pages_through_a_long_room_once_in_cursor_order(backend: Backend) {
    const TOTAL: i64 = 250;
    let app = spawn_app(backend).await;
    let alice = app.user();
    alice.join("alice", "lobby").await;
    let bot = Script::new(&app, &token(&make_bot(&alice, "lobby", "deploy").await));
    for seq in 1..=TOTAL {
        if seq % 2 == 1 {
            bot.say("lobby", &format!("bot {seq}")).await;
        } else {
            assert_eq!(alice.say_json("lobby", &format!("alice {seq}")).await, seq);
        }
    }
    edit(&alice, "lobby", 10, "ten, edited").await;
    delete(&alice, "lobby", 20).await;

    let mut expected: Vec<i64> = (1..=TOTAL).filter(|s| *s != 10 && *s != 20).collect();
    expected.extend([10, 20]);

    let by_token = read_all(Reader::Token(&bot), None).await;
    let by_session = read_all(Reader::Session(&alice), Some(40)).await;
    assert_eq!(by_token.1, [100, 100, 50], "pages by token");
    assert_eq!(by_session.1, [40, 40, 40, 40, 40, 40, 10], "pages of 40");

    for (who, (all, _)) in [("token", &by_token), ("session", &by_session)] {
        let seqs: Vec<i64> = all
            .iter()
            .map(|m| m["seq"].as_i64().expect("seq"))
            .collect();
        assert_eq!(seqs, expected, "{who}: each once, in cursor order");
        let cursors: Vec<i64> = all
            .iter()
            .map(|m| m["cursor"].as_i64().expect("cursor"))
            .collect();
        assert!(
            cursors.windows(2).all(|w| w[0] < w[1]),
            "{who}: cursors increase"
        );
        for message in all.iter() {
            let seq = message["seq"].as_i64().expect("seq");
            match seq {
                10 => {
                    assert_eq!(message["body"], "ten, edited", "{who}");
                    assert!(message["edited_at"].is_string(), "{who}: {message}");
                }
                20 => {
                    assert_eq!(message["deleted"], true, "{who}: {message}");
                    assert_eq!(message["body"], Value::Null, "{who}: {message}");
                }
                seq if seq % 2 == 1 => {
                    assert_eq!(message["body"], format!("bot {seq}"), "{who}");
                    assert_eq!(message["author"], "deploy");
                    assert_eq!(message["bot"], true);
                }
                seq => {
                    assert_eq!(message["body"], format!("alice {seq}"), "{who}");
                    assert_eq!(message["author"], "alice");
                    assert_eq!(message["bot"], false);
                }
            }
        }
    }
    assert_eq!(by_token.0, by_session.0, "the same whoever reads");

    // At the end: nothing more, the cursor kept.
    let end = by_token.0.last().expect("messages")["cursor"]
        .as_i64()
        .expect("cursor");
    let (status, page) = bot
        .get_json(&format!("/rooms/lobby/messages?after={end}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page, json!({"messages": [], "cursor": end, "more": false}));
    // A stranger reads nothing.
    let (status, _) = app.user().get_json("/rooms/lobby/messages?after=0").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

/// `limit` outside 1–100 and an `after` that is no number are 422 JSON
/// errors with their sentences; `more` is true only when there is more.
async fn the_read_api_refuses_bad_cursors_and_limits(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user();
    alice.join("alice", "lobby").await;
    let bot = Script::new(&app, &token(&make_bot(&alice, "lobby", "deploy").await));
    bot.say("lobby", "one").await;
    bot.say("lobby", "two").await;
    let cases = [
        ("after=x", "after must be a cursor number."),
        ("after=1.5", "after must be a cursor number."),
        ("limit=0", "limit must be a number from 1 to 100."),
        ("limit=101", "limit must be a number from 1 to 100."),
        ("after=0&limit=-1", "limit must be a number from 1 to 100."),
        ("after=0&limit=ten", "limit must be a number from 1 to 100."),
    ];
    for (query, sentence) in cases {
        let path = format!("/rooms/lobby/messages?{query}");
        for (who, (status, json)) in [
            ("token", bot.get_json(&path).await),
            ("session", alice.get_json(&path).await),
        ] {
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{who}: {query}");
            assert_eq!(json["error"], sentence, "{who}: {query}");
        }
    }
    // `more` says whether there is more, not only that the page is full.
    for (limit, len, more) in [(1, 1, true), (2, 2, false), (3, 2, false)] {
        let path = format!("/rooms/lobby/messages?limit={limit}");
        let (status, page) = bot.get_json(&path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(
            page["messages"].as_array().map(Vec::len),
            Some(len),
            "{path}"
        );
        assert_eq!(page["more"], more, "{path}");
    }
}

/// The message JSON an event of a `?format=json` stream carries.
fn event_json(event: &natter_kit::Event) -> Value {
    assert_eq!(event.event, None, "a change, not a signal: {event:?}");
    assert!(!event.data.contains('\n'), "one line: {:?}", event.data);
    let json: Value = serde_json::from_str(&event.data)
        .unwrap_or_else(|error| panic!("JSON data ({error}): {:?}", event.data));
    assert_eq!(
        json["cursor"].as_i64(),
        Some(event.seq()),
        "id is the cursor"
    );
    json
}

/// A bot follows the room as JSON: each change's `data:` is the message
/// JSON under its cursor; a reconnect with `Last-Event-ID` (or `?after=`)
/// replays what was missed, each once; `format=xml` is refused.
async fn a_json_stream_carries_message_json_and_replays_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user();
    alice.join("alice", "lobby").await;
    let bot = Script::new(&app, &token(&make_bot(&alice, "lobby", "deploy").await));
    let path = "/rooms/lobby/events?format=json";

    let mut stream = bot.stream(path, HeaderMap::new()).await;
    let first = alice.say_json("lobby", "first <b>bold</b>").await;
    let event = stream.next_within(WAIT).await.expect("the first post");
    let json = event_json(&event);
    assert_eq!(json["seq"], first);
    assert_eq!(json["body"], "first <b>bold</b>");
    assert_eq!(json["author"], "alice");
    assert_eq!(json["bot"], false);
    assert!(!event.data.contains("<article"), "no HTML: {}", event.data);
    let seen = event.seq();
    drop(stream);

    let second = alice.say_json("lobby", "second").await;
    edit(&alice, "lobby", first, "first, edited").await;
    let third = bot.say("lobby", "third").await["seq"]
        .as_i64()
        .expect("seq");
    let last = app
        .count("SELECT last_cursor FROM rooms WHERE name = 'lobby'")
        .await;

    // Resumed by header and by query: what was missed, each once, as it
    // is now; then live again.
    let mut resumed = [
        bot.stream(path, header("last-event-id", &seen.to_string()))
            .await,
        bot.stream(&format!("{path}&after={seen}"), HeaderMap::new())
            .await,
    ];
    for (i, stream) in resumed.iter_mut().enumerate() {
        let events = until_cursor(stream, last, WAIT).await;
        let got: Vec<(i64, Value)> = events
            .iter()
            .map(|event| {
                let json = event_json(event);
                (json["seq"].as_i64().expect("seq"), json["body"].clone())
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (second, json!("second")),
                (first, json!("first, edited")),
                (third, json!("third")),
            ],
            "stream {i}"
        );
    }
    let next = bot.say("lobby", "sentinel").await;
    for stream in &mut resumed {
        let event = stream.next_within(WAIT).await.expect("the sentinel");
        assert_eq!(event_json(&event)["seq"], next["seq"], "nothing else");
    }

    for format in ["xml", "HTML", ""] {
        let response = bot
            .request(Method::GET, &format!("/rooms/lobby/events?format={format}"))
            .send()
            .await
            .expect("GET");
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "format={format}"
        );
    }
    let response = alice
        .open_events("/rooms/lobby/events?format=xml", HeaderMap::new())
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // A member may follow as JSON too.
    let response = alice.open_events(path, HeaderMap::new()).await;
    assert_eq!(response.status(), StatusCode::OK);
}

/// Typing (and presence) signals reach HTML streams but never a JSON one.
async fn a_json_stream_leaves_out_signals(backend: Backend) {
    let app = spawn_app(backend).await;
    let (alice, bob) = (app.user(), app.user());
    alice.join("alice", "lobby").await;
    bob.join("bob", "lobby").await;
    let bot = Script::new(&app, &token(&make_bot(&alice, "lobby", "deploy").await));
    let mut json = bot
        .stream("/rooms/lobby/events?format=json", HeaderMap::new())
        .await
        .with_signals();
    let mut html = alice.events("lobby", HeaderMap::new()).await.with_signals();
    // bob's stream opening is a presence signal for the others.
    let _bobs = bob.events("lobby", HeaderMap::new()).await;

    let response = bob
        .client
        .post(bob.url("/rooms/lobby/typing"))
        .send()
        .await
        .expect("POST typing");
    assert!(response.status().is_success(), "{}", response.status());
    next_where(&mut html, SOON, "typing on the HTML stream", |event| {
        is_signal(event, "typing")
    })
    .await;
    let seq = bob.say_json("lobby", "after typing").await;

    let mut seen = Vec::new();
    loop {
        let event = json
            .next_within(WAIT)
            .await
            .unwrap_or_else(|| panic!("bob's message on the JSON stream; got {seen:#?}"));
        assert!(
            event.event.is_none() && event.id.is_some(),
            "no signal on a JSON stream: {event:?} (after {seen:#?})"
        );
        let message = event_json(&event);
        seen.push(event);
        if message["seq"] == seq {
            break;
        }
    }
    // Nothing more arrives on it meanwhile, signal or not.
    let later = events_during(&mut json, Duration::from_millis(500)).await;
    assert!(later.is_empty(), "{later:#?}");
}

/// Revoking a bot ends its open stream.
async fn revoking_a_bot_ends_its_stream(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user();
    alice.join("alice", "lobby").await;
    let bot = Script::new(&app, &token(&make_bot(&alice, "lobby", "deploy").await));
    let mut json = bot
        .stream("/rooms/lobby/events?format=json", HeaderMap::new())
        .await;
    let mut html = bot.stream("/rooms/lobby/events", HeaderMap::new()).await;
    let seq = alice.say_json("lobby", "hello").await;
    assert_eq!(json.take_seqs(1, WAIT).await, [seq], "open and live");
    assert_eq!(html.take_seqs(1, WAIT).await, [seq], "open and live");

    let response = alice.delete("/rooms/lobby/bots/deploy").await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(
        json.until_end(Duration::from_secs(5)).await.is_some(),
        "the JSON stream ends"
    );
    assert!(
        html.until_end(Duration::from_secs(5)).await.is_some(),
        "the HTML stream ends"
    );
    let response = bot
        .request(Method::GET, "/rooms/lobby/events?format=json")
        .send()
        .await
        .expect("GET");
    assert_refused(response, "reopening").await;
}

/// Each bot has the member post limit (keyed by the bot): the fourth quick
/// post gets 429 with `Retry-After` and stores nothing; another bot still
/// posts.
async fn bots_are_held_to_the_post_limit_each(backend: Backend) {
    let app = spawn_app_with(backend, |config| {
        config.post_burst = 3;
        config.post_rate = 0.001;
    })
    .await;
    let alice = app.user();
    alice.join("alice", "lobby").await;
    let deploy = Script::new(&app, &token(&make_bot(&alice, "lobby", "deploy").await));
    let ci = Script::new(&app, &token(&make_bot(&alice, "lobby", "ci").await));
    for i in 0..3 {
        deploy.say("lobby", &format!("quick {i}")).await;
    }
    for body in [Body::Form("one too many"), Body::Text("one too many")] {
        let response = deploy.post("lobby", body).await;
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS, "{body:?}");
        let retry = response
            .headers()
            .get("retry-after")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse::<u64>().ok())
            .expect("a Retry-After in seconds");
        assert!(retry >= 1, "{retry}");
        let error = response.json::<Value>().await.expect("JSON")["error"].clone();
        assert!(
            error.as_str().is_some_and(|e| e.contains("too many")),
            "{error}"
        );
    }
    assert_eq!(message_count(&app).await, 3, "nothing stored");
    ci.say("lobby", "my own budget").await;
    assert_eq!(message_count(&app).await, 4);
}

/// A revoked bot's messages keep its name and badge, also once a person
/// holds the name; the person's own messages have no badge.
async fn a_revoked_bots_messages_keep_its_name_and_badge(backend: Backend) {
    let app = spawn_app(backend).await;
    let (alice, bob) = (app.user(), app.user());
    alice.join("alice", "lobby").await;
    let bot = Script::new(&app, &token(&make_bot(&alice, "lobby", "deploy").await));
    let by_bot = bot.say("lobby", "shipped").await["seq"]
        .as_i64()
        .expect("seq");
    let response = alice.delete("/rooms/lobby/bots/deploy").await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    bob.join("deploy", "lobby").await;
    let by_person = bob.say_json("lobby", "I am a person").await;

    let (status, page) = alice.get_json("/rooms/lobby/messages?after=0").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let got: Vec<(i64, Value, Value)> = page["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| {
            (
                m["seq"].as_i64().expect("seq"),
                m["author"].clone(),
                m["bot"].clone(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (by_bot, json!("deploy"), json!(true)),
            (by_person, json!("deploy"), json!(false)),
        ]
    );
    let (_, html) = alice.text("/rooms/lobby").await;
    let badge = |seq: i64| {
        let at = html
            .find(&format!(r#"id="message-{seq}""#))
            .unwrap_or_else(|| panic!("message {seq} shown"));
        let article = &html[at..];
        let article = &article[..article.find("</article>").expect("end")];
        article.contains(r#"class="badge bot""#)
    };
    assert!(badge(by_bot), "the bot's message keeps its badge");
    assert!(!badge(by_person), "the person's has none");
}

/// A bot follows the room on B; a member revokes it on A: the stream on B
/// ends, and the token is refused on B too.
async fn revoking_a_bot_on_one_instance_ends_its_stream_on_the_other(backend: Backend) {
    let a = spawn_app(backend).await;
    let b = a.peer().await;
    let alice = a.user();
    alice.join("alice", "lobby").await;
    let made = make_bot(&alice, "lobby", "deploy").await;
    let on_b = Script::new(&b, &token(&made));
    let mut stream = on_b
        .stream("/rooms/lobby/events?format=json", HeaderMap::new())
        .await;
    let seq = alice.say_json("lobby", "hello").await;
    assert_eq!(stream.take_seqs(1, WAIT).await, [seq], "live on B");

    let response = alice.delete("/rooms/lobby/bots/deploy").await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(
        stream.until_end(Duration::from_secs(5)).await.is_some(),
        "the stream on B ends"
    );
    assert_refused(on_b.post("lobby", Body::Text("still?")).await, "on B").await;
}

/// A webhook address that is not an http(s) URL gets its sentence (as
/// `docs/API.md` words it), and no bot is made.
async fn a_webhook_address_that_is_no_http_url_is_refused_with_its_sentence(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user();
    alice.join("alice", "lobby").await;
    for url in [
        "ftp://example.org/hook",
        "not a url",
        "mailto:a@example.org",
    ] {
        let response = alice
            .send_json(
                Method::POST,
                &bots("lobby"),
                Some(&json!({"name": "deploy", "webhook_url": url})),
            )
            .await;
        assert_eq!(
            error_of(response, StatusCode::UNPROCESSABLE_ENTITY).await,
            "The webhook address is not allowed: it must be an http or https URL.",
            "{url}"
        );
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM bots").await, 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM members WHERE bot = 1")
            .await,
        0
    );
}

/// A bot's empty, too long or unreadable body is a 422 JSON error with the
/// sentence people get, in every body form; nothing is stored.
async fn a_bots_bad_body_gets_a_422_json_sentence_and_stores_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user();
    alice.join("alice", "lobby").await;
    let bot = Script::new(&app, &token(&make_bot(&alice, "lobby", "deploy").await));
    let long = "x".repeat(2001);
    let cases = [
        ("", "A message cannot be empty."),
        ("  \n ", "A message cannot be empty."),
        (
            long.as_str(),
            "A message can be at most 2000 characters long.",
        ),
    ];
    for (text, sentence) in cases {
        for body in [Body::Form(text), Body::Json(text), Body::Text(text)] {
            let response = bot.post("lobby", body).await;
            let error = error_of(response, StatusCode::UNPROCESSABLE_ENTITY).await;
            assert_eq!(error, sentence, "{body:.40?}");
        }
    }
    let response = bot
        .request(Method::POST, &messages("lobby"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let response = bot
        .request(Method::POST, &messages("lobby"))
        .header("content-type", "text/plain")
        .body(vec![0xff, 0xfe, b'a'])
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response
        .json::<Value>()
        .await
        .is_ok_and(|e| e["error"].is_string()));
    assert_eq!(message_count(&app).await, 0, "nothing stored");
}
