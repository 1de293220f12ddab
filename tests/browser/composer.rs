//! The composer for real messages (issue 12, 4): several lines, Enter to
//! send, a draft that outlives a refresh, and the same box without scripts.

use serde_json::json;

use super::support::*;

/// The message box's value.
async fn draft(browser: &Browser) -> serde_json::Value {
    browser
        .js("return document.getElementById('body').value", vec![])
        .await
}

/// Pasted lines keep their breaks, Shift+Enter adds a line, Enter sends,
/// and the box grows with its text up to a limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lines_are_kept_shift_enter_adds_one_and_enter_sends() {
    let Some(rig) = rig().await else { return };
    let alice = rig.browser().await;
    let bob = rig.browser().await;
    alice.join("alice", "lines").await;
    bob.join("bob", "lines").await;

    // A paste: the text arrives in one go, line breaks and all.
    let pasted = "line 1\nline 2\nline 3";
    let one_line = alice
        .js(
            "const b = document.getElementById('body'); return b.getBoundingClientRect().height",
            vec![],
        )
        .await;
    alice
        .js(
            "const b = document.getElementById('body'); b.focus();\
             document.execCommand('insertText', false, arguments[0]);",
            vec![json!(pasted)],
        )
        .await;
    assert_eq!(draft(&alice).await, json!(pasted), "the breaks are kept");
    let three_lines = alice
        .js(
            "return document.getElementById('body').getBoundingClientRect().height",
            vec![],
        )
        .await;
    assert!(
        three_lines.as_f64() > one_line.as_f64().map(|h| h * 1.8),
        "the box grows: {one_line} -> {three_lines}"
    );
    alice.say("").await;
    bob.sees_last(pasted).await;

    let shift = char::from(Key::Shift);
    let enter = char::from(Key::Enter);
    let null = char::from(Key::Null);
    alice
        .find("#body")
        .await
        .send_keys(&format!("first{shift}{enter}{null}second"))
        .await
        .expect("type");
    assert_eq!(draft(&alice).await, json!("first\nsecond"), "Shift+Enter");
    alice.say("").await;
    bob.sees_last("first\nsecond").await;

    let many = (1..=30)
        .map(|i| format!("row {i}"))
        .collect::<Vec<_>>()
        .join("\n");
    alice
        .js(
            "const b = document.getElementById('body'); b.focus();\
             document.execCommand('insertText', false, arguments[0]);\
             return b.getBoundingClientRect().height",
            vec![json!(many)],
        )
        .await;
    let tall = alice
        .js(
            "const b = document.getElementById('body');\
             return [b.getBoundingClientRect().height, innerHeight]",
            vec![],
        )
        .await;
    assert!(
        tall[0].as_f64() < tall[1].as_f64().map(|h| h / 3.0),
        "the box stops growing at a few lines: {tall}"
    );
    alice.close().await;
    bob.close().await;
}

/// A draft survives a refresh (kept per room in this browser) and is
/// gone once sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draft_survives_a_refresh_and_goes_once_sent() {
    let Some(rig) = rig().await else { return };
    let alice = rig.browser().await;
    alice.join("alice", "drafts").await;
    alice.join("alice", "other").await;
    alice
        .find("#body")
        .await
        .send_keys("half a thought")
        .await
        .expect("type");
    alice.client.refresh().await.expect("refresh");
    alice.find("#body").await;
    eventually("the draft is back", || async {
        draft(&alice).await == json!("half a thought")
    })
    .await;
    alice.goto("/rooms/drafts").await;
    alice.find("#body").await;
    assert_eq!(draft(&alice).await, json!(""), "drafts are per room");

    alice.goto("/rooms/other").await;
    alice.find("#body").await;
    eventually("the draft is back", || async {
        draft(&alice).await == json!("half a thought")
    })
    .await;
    alice.say(", finished").await;
    alice.sees_last("half a thought, finished").await;
    alice.client.refresh().await.expect("refresh");
    alice.find("#body").await;
    alice.sees_last("half a thought, finished").await;
    assert_eq!(draft(&alice).await, json!(""), "sent drafts are gone");
    alice.close().await;
}

/// Without JavaScript the same box takes several lines and the button
/// posts them; a blank message gets the room page with the error in place.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_javascript_the_box_posts_lines_and_shows_errors_in_place() {
    let Some(rig) = rig().await else { return };
    let plain = rig.browser_without_js().await;
    plain.join("plain", "nojs").await;
    let enter = char::from(Key::Enter);
    plain.send_with_button(&format!("one{enter}two")).await;
    eventually("the post shows", || async {
        plain.text("#messages .bubble").await == "one\ntwo"
    })
    .await;

    plain.send_with_button(" ").await;
    eventually("the error shows on the room page", || async {
        plain.text("#composer-error").await.contains("empty")
    })
    .await;
    assert_eq!(plain.text("h1").await, "nojs", "still the room page");
    assert_eq!(plain.text("#messages .bubble").await, "one\ntwo");
    plain.close().await;
}
