//! Surviving a server restart, and working without JavaScript.

use std::time::Duration;

use fantoccini::Locator;
use serde_json::json;

use super::support::*;

/// The server restarts while two people are in a room. One of them is cut
/// off (behind a closed gate) while the other posts; once back, the missed
/// messages appear exactly once, without a reload.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_missed_across_a_restart_arrive_once_without_reload() {
    let Some(mut rig) = rig().await else { return };
    let mut gate = Gate::open_to(rig.server.socket).await;
    let alice = rig.browser().await;
    let bob = rig.browser_at(&gate.base(), Options::default()).await;
    alice.join("alice", "ops").await;
    bob.join("bob", "ops").await;
    alice.say("before the restart").await;
    bob.sees_last("before the restart").await;
    bob.mark_page().await;

    gate.close().await;
    rig.server.restart().await;
    let missed = ["while you were away", "second one", "third one"];
    for text in missed {
        alice.say(text).await;
        alice.sees_last(text).await;
    }
    assert_eq!(bob.bodies().await, ["before the restart"], "bob is cut off");

    gate.open().await;
    let mut expected = vec!["before the restart"];
    expected.extend(missed);
    // The client's back-off may have grown while the gate was closed.
    eventually_within(Duration::from_secs(90), "bob catches up", || async {
        bob.bodies().await.len() >= expected.len()
    })
    .await;
    assert_eq!(
        bob.bodies().await,
        expected,
        "each missed message exactly once"
    );
    assert!(bob.same_page().await, "caught up without a reload");

    bob.say("back again").await;
    alice.sees_last("back again").await;
    bob.sees_last("back again").await;
    expected.push("back again");
    assert_eq!(bob.bodies().await, expected);
    assert_eq!(alice.bodies().await, expected);
    alice.close().await;
    bob.close().await;
}

/// The message texts shown, read from the DOM without running page script.
async fn bubbles(browser: &Browser) -> Vec<String> {
    let mut texts = Vec::new();
    for bubble in browser
        .client
        .find_all(Locator::Css("#messages .bubble"))
        .await
        .expect("bubbles")
    {
        texts.push(bubble.text().await.expect("text"));
    }
    texts
}

/// With JavaScript off, joining, posting (a plain form post and redirect)
/// and exiting still work, and others see the posts live.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn joining_and_posting_work_without_javascript() {
    let Some(rig) = rig().await else { return };
    let plain = rig.browser_without_js().await;
    let live = rig.browser().await;
    live.join("live", "plain").await;

    plain.join("plain", "plain").await;
    assert_eq!(
        plain.js("return typeof htmx", vec![]).await,
        json!("undefined"),
        "page scripts really are off"
    );
    plain.send_with_button("no script needed").await;
    eventually("the post shows after the redirect", || async {
        bubbles(&plain).await == ["no script needed"]
    })
    .await;
    assert_eq!(plain.path().await, "/rooms/plain");
    live.sees_last("no script needed").await;

    live.say("hello plain").await;
    live.sees_last("hello plain").await;
    plain.client.refresh().await.expect("refresh");
    plain.find("#body").await;
    assert_eq!(bubbles(&plain).await, ["no script needed", "hello plain"]);

    plain.exit().await;
    eventually("back on the join page", || async {
        plain.path().await == "/join-room"
    })
    .await;
    plain.close().await;
    live.close().await;
}
