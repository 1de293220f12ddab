//! Saying what happens to the connection and to each send (issue 12, 1
//! and 2): "Reconnecting…" while the stream is down, a quick return after
//! an outage, background tabs that stay live, failed sends that say so.

use std::time::Duration;

use serde_json::json;

use super::support::*;

/// Whether the "Reconnecting…" status shows.
pub(crate) async fn reconnecting(browser: &Browser) -> bool {
    browser
        .js(
            "const s = document.getElementById('connection');\
             return !!s && !s.hidden && s.getClientRects().length > 0\
               && s.textContent.includes('Reconnecting')",
            vec![],
        )
        .await
        == json!(true)
}

/// Bob's network drops for 35 s: "Reconnecting…" shows while it is down,
/// and he catches up within a few seconds of its return (htmx's default
/// back-off would wait 30 s or more by then), after which the status goes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnecting_shows_while_down_and_the_page_catches_up_quickly() {
    let Some(rig) = rig().await else { return };
    let mut gate = Gate::open_to(rig.server.socket).await;
    let alice = rig.browser().await;
    let bob = rig.browser_at(&gate.base(), Options::default()).await;
    alice.join("alice", "net").await;
    bob.join("bob", "net").await;
    alice.say("before").await;
    bob.sees_last("before").await;
    assert!(!reconnecting(&bob).await, "no status while connected");

    gate.close().await;
    eventually("Reconnecting… shows", || reconnecting(&bob)).await;
    alice.say("while you were away").await;
    alice.sees_last("while you were away").await;
    tokio::time::sleep(Duration::from_secs(35)).await;
    assert!(reconnecting(&bob).await, "still saying so");

    gate.open().await;
    eventually_within(Duration::from_secs(12), "bob catches up", || async {
        bob.bodies().await == ["before", "while you were away"]
    })
    .await;
    eventually("the status goes away", || async {
        !reconnecting(&bob).await
    })
    .await;
    alice.close().await;
    bob.close().await;
}

/// Coming back online, or back to the tab, retries at once instead of
/// sitting out the back-off (here made five minutes long on purpose).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coming_back_online_or_to_the_tab_reconnects_at_once() {
    let Some(rig) = rig().await else { return };
    let mut gate = Gate::open_to(rig.server.socket).await;
    let alice = rig.browser().await;
    let bob = rig.browser_at(&gate.base(), Options::default()).await;
    alice.join("alice", "wake").await;
    bob.join("bob", "wake").await;
    let slow = "const c = document.getElementById('messages')._htmx.sse;\
                c.config.reconnectDelay = 300000; c.config.reconnectMaxDelay = 300000;\
                c.config.reconnectJitter = 0;";
    for (n, event) in [
        "window.dispatchEvent(new Event('online'))",
        "document.dispatchEvent(new Event('visibilitychange'))",
    ]
    .into_iter()
    .enumerate()
    {
        eventually("the stream is open", || async {
            bob.js(
                "return !!document.getElementById('messages')._htmx?.sse",
                vec![],
            )
            .await
                == json!(true)
                && !reconnecting(&bob).await
        })
        .await;
        bob.js(slow, vec![]).await;
        gate.close().await;
        eventually("Reconnecting… shows", || reconnecting(&bob)).await;
        let text = format!("missed {n}");
        alice.say(&text).await;
        alice.sees_last(&text).await;
        gate.open().await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert!(reconnecting(&bob).await, "waiting out the long back-off");
        bob.js(event, vec![]).await;
        eventually_within(
            Duration::from_secs(15),
            &format!("{event} reconnects"),
            || {
                let text = text.clone();
                let bob = &bob;
                async move { bob.bodies().await.last() == Some(&text) }
            },
        )
        .await;
    }
    alice.close().await;
    bob.close().await;
}

/// A hidden tab keeps its stream: messages keep arriving while the page
/// says it is in the background (htmx would pause the stream there).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_background_tab_stays_live() {
    let Some(rig) = rig().await else { return };
    let alice = rig.browser().await;
    let bob = rig.browser().await;
    alice.join("alice", "tabs").await;
    bob.join("bob", "tabs").await;
    alice.say("hello").await;
    bob.sees_last("hello").await;
    // Headless Chromium keeps every tab visible, so the page is told that
    // it is hidden, exactly as a browser tells it.
    bob.js(
        "Object.defineProperty(document, 'hidden', { get: () => true, configurable: true });\
         Object.defineProperty(document, 'visibilityState', { get: () => 'hidden', configurable: true });\
         document.dispatchEvent(new Event('visibilitychange'))",
        vec![],
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    alice.say("while hidden").await;
    bob.sees_last("while hidden").await;
    assert!(!reconnecting(&bob).await);
    alice.close().await;
    bob.close().await;
}

/// A send while the server cannot be reached says so next to the composer,
/// keeps the text, and sends it with "Try again" once the network is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_send_says_so_keeps_the_text_and_can_be_retried() {
    let Some(rig) = rig().await else { return };
    let mut gate = Gate::open_to(rig.server.socket).await;
    let alice = rig.browser().await;
    let bob = rig.browser_at(&gate.base(), Options::default()).await;
    alice.join("alice", "send").await;
    bob.join("bob", "send").await;

    gate.close().await;
    bob.say("into the void").await;
    eventually("the error shows", || async {
        bob.text("#composer-error").await.contains("Not sent")
    })
    .await;
    let state = "const b = document.getElementById('body');\
                 return [b.value, b.getAttribute('aria-describedby'),\
                   !!document.querySelector('#composer-error .retry')]";
    assert_eq!(
        bob.js(state, vec![]).await,
        json!(["into the void", "composer-error", true]),
        "the text is kept and there is a way to retry"
    );

    gate.open().await;
    bob.find("#composer-error .retry")
        .await
        .click()
        .await
        .expect("Try again");
    alice.sees_last("into the void").await;
    bob.sees_last("into the void").await;
    eventually("the box is empty and the error gone", || async {
        bob.js(
            "return [document.getElementById('body').value, !!document.getElementById('composer-error')]",
            vec![],
        )
        .await
            == json!(["", false])
    })
    .await;
    assert_eq!(alice.bodies().await, ["into the void"], "sent once");
    alice.close().await;
    bob.close().await;
}

/// When the very first connection of a page is refused (here: the member
/// already has the most streams allowed open), the page says it is
/// reconnecting, keeps the refusal out of the list, and connects once
/// there is room.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_first_connection_is_retried() {
    let Some(rig) = rig().await else { return };
    let bot = rig.bot("bot", "full").await;
    let sam = rig.browser().await;
    sam.join("sam", "full").await;
    sam.goto("/join-room").await;
    let cookie = sam
        .client
        .get_named_cookie("natter")
        .await
        .expect("session cookie");
    let http = reqwest::Client::new();
    let url = format!("{}/rooms/full/events", rig.server.addr);
    // The browser's own stream may take a moment to be let go.
    let mut held = Vec::new();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while held.len() < 8 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "streams never freed"
        );
        let response = http
            .get(&url)
            .header("cookie", format!("natter={}", cookie.value()))
            .send()
            .await
            .expect("events");
        if response.status() == 200 {
            held.push(response);
        } else {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    sam.goto("/rooms/full").await;
    eventually("Reconnecting… shows", || reconnecting(&sam)).await;
    let list = sam.text("#messages").await;
    assert!(!list.contains("Slow down"), "no error in the list: {list}");

    drop(held);
    bot.say("room again").await;
    sam.sees_last("room again").await;
    eventually("the status goes away", || async {
        !reconnecting(&sam).await
    })
    .await;
    sam.close().await;
}
