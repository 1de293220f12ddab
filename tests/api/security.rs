//! Doors a public chat leaves open, each tried: forged requests, session
//! fixation, floods, headers, hostile text, enumeration, oversize input.

use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::header;
use crate::markup::{bubbles, has_markdown, inert, strip_tags, unescape};
use natter_kit::{session_cookie, spawn_app, spawn_app_with, Backend};

natter_kit::on_both_backends!(
    cross_site_joins_are_refused,
    a_planted_session_id_is_worth_nothing_after_joining,
    tampered_cookies_are_strangers_and_https_cookies_are_secure,
    floods_get_429_with_retry_after_and_spare_everyone_else,
    stream_caps_answer_clearly,
    private_pages_carry_the_security_headers,
    hostile_text_is_inert_in_page_history_and_stream,
    lookalike_names_are_one_name,
    strangers_learn_nothing_about_rooms,
    oversize_requests_get_4xx,
    slow_headers_do_not_hold_a_connection,
);

const WAIT: Duration = Duration::from_secs(10);

/// A join posted from another site changes nothing.
async fn cross_site_joins_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = app.user();
    let response = user
        .post_form_with(
            "/join-room",
            ("sec-fetch-site", "cross-site"),
            &[("username", "victim"), ("room", "lobby")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(response
        .text()
        .await
        .unwrap_or_default()
        .contains("other sites"));
    assert_eq!(app.count("SELECT COUNT(*) FROM members").await, 0);
    // Same-origin browsers and header-less clients pass.
    let response = user
        .post_form_with(
            "/join-room",
            ("sec-fetch-site", "same-origin"),
            &[("username", "victim"), ("room", "lobby")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
}

/// An attacker who plants their own session id in a victim's browser does
/// not share the victim's identity once the victim joins.
async fn a_planted_session_id_is_worth_nothing_after_joining(backend: Backend) {
    let app = spawn_app(backend).await;
    let attacker = app.user();
    let response = attacker.try_join("mallory", "trap").await;
    let planted = session_cookie(&response).expect("attacker's session id");
    // The victim's browser carries the attacker's id and joins.
    let victim = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let response = victim
        .post(format!("{}/join-room", app.addr))
        .header("cookie", format!("natter={planted}"))
        .form(&[("username", "victim"), ("room", "lobby")])
        .send()
        .await
        .expect("join");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let fresh = session_cookie(&response).expect("a new session id");
    assert_ne!(fresh, planted, "the id is rotated on join");
    // The planted id no longer reaches the victim's room.
    let response = attacker.get("/rooms/lobby").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let response = victim
        .get(format!("{}/rooms/lobby", app.addr))
        .header("cookie", format!("natter={planted}"))
        .send()
        .await
        .expect("get");
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "old id is not the victim"
    );
}

/// A cookie natter did not issue is nobody; https deployments get `Secure`.
async fn tampered_cookies_are_strangers_and_https_cookies_are_secure(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user();
    let response = alice.try_join("alice", "lobby").await;
    let real = session_cookie(&response).expect("cookie");
    let mut forged = real.clone();
    forged.replace_range(0..1, if real.starts_with('A') { "B" } else { "A" });
    for cookie in [forged.as_str(), "nonsense", "", "../../etc/passwd"] {
        let response = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client")
            .get(format!("{}/rooms/lobby", app.addr))
            .header("cookie", format!("natter={cookie}"))
            .send()
            .await
            .expect("get");
        assert_eq!(
            response.status(),
            StatusCode::SEE_OTHER,
            "{cookie:?} is a stranger"
        );
    }
    let secure = spawn_app_with(backend, |config| {
        config.public_url = Some("https://chat.example.org".into());
    })
    .await;
    let response = secure.user().try_join("alice", "lobby").await;
    let set_cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap_or("")
        .to_owned();
    assert!(
        set_cookie.contains("Secure") && set_cookie.contains("HttpOnly"),
        "{set_cookie}"
    );
}

/// Past the burst a member gets 429 with `Retry-After` and a sentence;
/// another member posts on unhindered; joins per address are limited too.
async fn floods_get_429_with_retry_after_and_spare_everyone_else(backend: Backend) {
    let app = spawn_app_with(backend, |config| {
        config.post_burst = 3;
        config.post_rate = 0.2;
        config.join_burst = 4;
        config.join_rate = 0.2;
    })
    .await;
    let (flooder, calm) = (app.user(), app.user());
    flooder.join("flooder", "lobby").await;
    calm.join("calm", "lobby").await;
    let mut refused = 0;
    for i in 0..20 {
        let response = flooder.say("lobby", &format!("spam {i}")).await;
        match response.status() {
            StatusCode::SEE_OTHER => {}
            StatusCode::TOO_MANY_REQUESTS => {
                refused += 1;
                assert!(
                    response.headers()["retry-after"]
                        .to_str()
                        .unwrap_or("0")
                        .parse::<u64>()
                        .unwrap_or(0)
                        >= 1
                );
                assert!(response
                    .text()
                    .await
                    .unwrap_or_default()
                    .contains("Slow down"));
            }
            other => panic!("flood answered {other}"),
        }
    }
    assert_eq!(refused, 17, "3 allowed, the rest refused");
    for i in 0..3 {
        assert_eq!(
            calm.say("lobby", &format!("calm {i}")).await.status(),
            StatusCode::SEE_OTHER
        );
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 6);
    // htmx gets the sentence in the composer.
    let response = flooder
        .client
        .post(flooder.url("/rooms/lobby/messages"))
        .header("hx-request", "true")
        .form(&[("body", "more")])
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response
        .text()
        .await
        .unwrap_or_default()
        .contains(r#"id="composer""#));
    // Two joins already came from this address; two more are allowed.
    assert_eq!(
        app.user().try_join("third", "lobby").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.user().try_join("fourth", "lobby").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.user().try_join("fifth", "lobby").await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

/// One member cannot hold many streams; the instance caps the total.
async fn stream_caps_answer_clearly(backend: Backend) {
    let app = spawn_app_with(backend, |config| {
        config.max_streams_per_member = 2;
        config.max_streams = 3;
    })
    .await;
    let (alice, bob) = (app.user(), app.user());
    alice.join("alice", "lobby").await;
    bob.join("bob", "lobby").await;
    let first = alice.events("lobby", HeaderMap::new()).await;
    let _second = alice.events("lobby", HeaderMap::new()).await;
    let response = alice
        .open_events("/rooms/lobby/events", HeaderMap::new())
        .await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let _bobs = bob.events("lobby", HeaderMap::new()).await;
    let response = bob
        .open_events("/rooms/lobby/events", HeaderMap::new())
        .await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response
        .text()
        .await
        .unwrap_or_default()
        .contains("connection limit"));
    drop(first);
    // The closed stream's place is freed once the server notices.
    let mut freed = false;
    for _ in 0..50 {
        let response = bob
            .open_events("/rooms/lobby/events", HeaderMap::new())
            .await;
        if response.status() == StatusCode::OK {
            freed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(freed, "a closed stream frees its place");
}

/// Strict CSP and friends everywhere; private pages are not cached.
async fn private_pages_carry_the_security_headers(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user();
    alice.join("alice", "lobby").await;
    for path in [
        "/join-room",
        "/rooms/lobby",
        "/rooms/lobby/messages?before=9",
    ] {
        let response = alice.get(path).await;
        let headers = response.headers();
        let csp = headers["content-security-policy"].to_str().unwrap_or("");
        for directive in [
            "default-src 'self'",
            "script-src 'self'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(directive), "{path}: {directive}");
        }
        assert!(
            !csp.contains("unsafe"),
            "{path}: no unsafe-inline or unsafe-eval"
        );
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["referrer-policy"], "same-origin");
        assert_eq!(headers["cache-control"], "no-store", "{path}");
    }
}

fn hostile_corpus() -> Vec<String> {
    include_str!("hostile-text.txt")
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| line.replace("\\n", "\n").replace("\\r", "\r"))
        .collect()
}

/// XSS, injection and Markdown payloads, posted as messages: wherever each
/// shows (stream, history, page) it is the one rendering of its text, with
/// no markup but natter's allow-listed formatting, no link but to
/// http(s)/mailto; what has no Markdown in it shows exactly as typed.
async fn hostile_text_is_inert_in_page_history_and_stream(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user();
    alice.join("alice", "lobby").await;
    let corpus = hostile_corpus();
    assert!(corpus.len() >= 100);
    let mut stream = alice.events("lobby", header("last-event-id", "0")).await;
    for payload in &corpus {
        alice.say_json("lobby", payload).await;
    }
    let typed: Vec<String> = corpus
        .iter()
        .map(|p| {
            p.replace("\r\n", "\n")
                .replace('\r', "\n")
                .trim()
                .to_owned()
        })
        .collect();
    let events = stream.take(corpus.len(), WAIT).await;
    let streamed: Vec<String> = events.iter().flat_map(|e| bubbles(&e.data)).collect();
    let mut shown = Vec::new();
    let mut before = i64::MAX;
    loop {
        let (_, fragment) = alice
            .text(&format!("/rooms/lobby/messages?before={before}"))
            .await;
        let mut page = bubbles(&fragment);
        if page.is_empty() {
            break;
        }
        page.append(&mut shown);
        shown = page;
        before = crate::helpers::message_seqs(&fragment)[0];
    }
    let (_, room_page) = alice.text("/rooms/lobby").await;
    let on_page = bubbles(&room_page);
    for texts in [&streamed, &shown] {
        assert_eq!(texts.len(), typed.len());
        for (html, payload) in texts.iter().zip(&typed) {
            if let Err(leak) = inert(html) {
                panic!("{payload:?} leaked {leak}: {html}");
            }
            assert_eq!(html, &natter::http::views::body_html(payload));
            if !has_markdown(payload) {
                assert_eq!(&unescape(&strip_tags(html)), payload);
            }
        }
    }
    assert!(on_page.iter().all(|html| inert(html).is_ok()));
    assert_eq!(on_page.len(), 50);
    // As usernames, hostile text is refused or shown inert.
    for payload in corpus.iter().take(60) {
        let user = app.user();
        let response = user.try_join(payload, "names").await;
        let status = response.status();
        let page = response.text().await.unwrap_or_default();
        assert!(
            matches!(
                status,
                StatusCode::UNPROCESSABLE_ENTITY | StatusCode::SEE_OTHER | StatusCode::CONFLICT
            ),
            "{payload:?}: {status}"
        );
        if payload.contains('<') {
            assert!(!page.contains(payload.trim()), "{payload:?} shown raw");
        }
    }
}

/// Names that differ only by case, width, invisible characters or
/// lookalike letters are the same name.
async fn lookalike_names_are_one_name(backend: Backend) {
    let app = spawn_app(backend).await;
    app.user().join("alice", "lobby").await;
    for lookalike in [
        "ALICE",
        "ａｌｉｃｅ",
        "ali\u{200B}ce",
        "\u{202E}alice",
        "\u{430}lice",
        "al\u{AD}ice",
    ] {
        let response = app.user().try_join(lookalike, "lobby").await;
        assert_eq!(response.status(), StatusCode::CONFLICT, "{lookalike:?}");
    }
    app.user().join("alicia", "lobby").await;
}

/// Existing and made-up rooms look the same to a stranger.
async fn strangers_learn_nothing_about_rooms(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user();
    alice.join("alice", "real").await;
    alice.say_json("real", "secret").await;
    let stranger = app.user();
    stranger.join("eve", "elsewhere").await;
    for room in ["real", "made-up"] {
        let response = stranger.get(&format!("/rooms/{room}")).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            response.headers()["location"],
            format!("/join-room?room={room}").as_str()
        );
        for path in [
            format!("/rooms/{room}/events?after=0"),
            format!("/rooms/{room}/messages?before=2"),
            format!("/rooms/{room}/messages?before=999999"),
        ] {
            let response = stranger
                .open_events(&path, header("last-event-id", "0"))
                .await;
            assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path}");
            let body = response.text().await.unwrap_or_default();
            assert_eq!(body, "Join this room first.\n", "{path}");
        }
    }
    let (_, join_page) = stranger.text("/join-room").await;
    assert!(
        !join_page.contains("real"),
        "no list of other people's rooms"
    );
}

/// Too many headers, or too large a body, get a 4xx and no crash.
async fn oversize_requests_get_4xx(backend: Backend) {
    let app = spawn_app(backend).await;
    let addr = app.addr.trim_start_matches("http://").to_owned();
    let mut request = String::from("GET /healthz HTTP/1.1\r\nHost: x\r\n");
    for i in 0..10_000 {
        request.push_str(&format!("X-Flood-{i}: y\r\n"));
    }
    request.push_str("\r\n");
    let mut socket = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    let _ = socket.write_all(request.as_bytes()).await;
    let mut answer = vec![0; 64];
    let read = tokio::time::timeout(WAIT, socket.read(&mut answer))
        .await
        .expect("answers")
        .unwrap_or(0);
    let status_line = String::from_utf8_lossy(&answer[..read]).to_string();
    assert!(status_line.starts_with("HTTP/1.1 4"), "{status_line:?}");
    let alice = app.user();
    alice.join("alice", "lobby").await;
    let many_fields: Vec<(&str, &str)> = (0..3000).map(|_| ("x", "y")).collect();
    let response = alice.post_form("/rooms/lobby/messages", &many_fields).await;
    assert_eq!(
        response.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "no body field"
    );
    assert_eq!(
        app.user().get("/healthz").await.status(),
        StatusCode::OK,
        "still serving"
    );
}

/// A client that never finishes its headers is cut off (slowloris).
async fn slow_headers_do_not_hold_a_connection(backend: Backend) {
    let app = spawn_app_with(backend, |config| config.header_timeout_secs = 1).await;
    let addr = app.addr.trim_start_matches("http://").to_owned();
    let mut socket = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    socket
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("write");
    let mut answer = Vec::new();
    let closed = tokio::time::timeout(WAIT, socket.read_to_end(&mut answer)).await;
    assert!(closed.is_ok(), "the server closed the connection");
    let text = String::from_utf8_lossy(&answer);
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 408"),
        "{text}"
    );
    assert_eq!(app.user().get("/healthz").await.status(), StatusCode::OK);
}
