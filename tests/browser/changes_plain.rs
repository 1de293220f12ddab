//! Edit, delete and react without JavaScript (issue 14): ⋯ is a link to a
//! page of plain forms, each of which lands back in the room, and a live
//! screen beside it follows.

use serde_json::json;

use super::support::*;

const ROOM: &str = "plain";

/// Waits until the browser is back in the room at message `seq` (the
/// redirect after a form: the permalink, `/rooms/{room}/messages/{seq}#message-{seq}`).
async fn back_in_the_room(browser: &Browser, seq: i64) {
    // The message's permalink: the room, positioned on the message.
    let want = (
        format!("/rooms/{ROOM}/messages/{seq}"),
        Some(format!("message-{seq}")),
    );
    eventually(&format!("back in the room at {want:?}"), || async {
        let url = browser.client.current_url().await.expect("url");
        (url.path().to_owned(), url.fragment().map(str::to_owned)) == want
    })
    .await;
    browser.find("#messages").await;
}

/// Follows message `seq`'s ⋯ link to its actions page; returns the values
/// of its reaction buttons, and whether it offers Edit and Delete.
async fn actions_page(browser: &Browser, seq: i64) -> (Vec<String>, bool, bool) {
    click(browser, &format!("#message-{seq} a.act")).await;
    let path = format!("/rooms/{ROOM}/messages/{seq}/actions");
    eventually("the actions page opens", || async {
        browser.path().await == path
    })
    .await;
    browser.find("button.react-button").await;
    let offers = browser
        .js(
            "return [[...document.querySelectorAll('button.react-button')].map(b => b.value),\
               [...document.querySelectorAll('a')].some(a => a.textContent.trim() === 'Edit'\
                 && a.pathname.endsWith('/edit')),\
               [...document.querySelectorAll('button.danger')]\
                 .some(b => b.textContent.trim() === 'Delete for everyone')]",
            vec![],
        )
        .await;
    serde_json::from_value(offers).expect("offers")
}

/// With scripts off, ⋯ opens the actions page: reacting there returns to
/// the room showing the reaction; the author (and only the author) can
/// delete, and edit on the edit page; each lands back in the room, and
/// the live screen beside it agrees.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_javascript_each_change_is_a_form_back_to_the_room() {
    let Some(rig) = rig().await else { return };
    let plain = rig.browser_without_js().await;
    let live = rig.browser().await;
    live.join("live", ROOM).await;
    plain.join("plain", ROOM).await;
    assert_eq!(
        plain.js("return typeof htmx", vec![]).await,
        json!("undefined"),
        "page scripts really are off"
    );
    plain.send_with_button("typo hre").await;
    live.sees_last("typo hre").await;
    live.say("hi plain").await;
    live.sees_last("hi plain").await;
    plain.send_with_button("delete me").await;
    live.sees_last("delete me").await;
    plain.goto(&format!("/rooms/{ROOM}")).await;
    let emoji = ["👍", "❤️", "😂", "🎉", "😮", "👀"]
        .map(String::from)
        .to_vec();

    assert_eq!(
        actions_page(&plain, 1).await,
        (emoji.clone(), true, true),
        "the author's own message"
    );
    click(&plain, "button.react-button[value=\"👍\"]").await;
    back_in_the_room(&plain, 1).await;
    let mut want = vec![
        message(1, "typo hre", false, &[("👍", 1)]),
        message(2, "hi plain", false, &[]),
        message(3, "delete me", false, &[]),
    ];
    assert_eq!(shown(&plain).await, want, "the reaction shows");
    shows(&live, "the live screen", &want).await;

    assert_eq!(
        actions_page(&plain, 2).await,
        (emoji, false, false),
        "someone else's message: reactions only"
    );
    click(&plain, "button.react-button[value=\"❤️\"]").await;
    back_in_the_room(&plain, 2).await;
    want[1] = message(2, "hi plain", false, &[("❤️", 1)]);
    assert_eq!(shown(&plain).await, want);
    shows(&live, "the live screen", &want).await;

    actions_page(&plain, 3).await;
    click(&plain, "button.danger").await;
    back_in_the_room(&plain, 3).await;
    want[2] = tombstone(3);
    assert_eq!(shown(&plain).await, want, "the tombstone shows");
    shows(&live, "the live screen", &want).await;

    actions_page(&plain, 1).await;
    click(&plain, "a[href$=\"/messages/1/edit\"]").await;
    eventually("the edit page opens", || async {
        plain.path().await == format!("/rooms/{ROOM}/messages/1/edit")
    })
    .await;
    let body = plain.find("textarea[name=body]").await;
    assert_eq!(
        body.prop("value").await.expect("value").as_deref(),
        Some("typo hre")
    );
    body.clear().await.expect("clear");
    body.send_keys("typo here").await.expect("type");
    let save = "form:has(textarea[name=body]) button[type=submit]";
    assert_eq!(plain.text(save).await, "Save");
    click(&plain, save).await;
    back_in_the_room(&plain, 1).await;
    want[0] = message(1, "typo here", true, &[("👍", 1)]);
    assert_eq!(shown(&plain).await, want, "the edit shows");
    shows(&live, "the live screen", &want).await;
    plain.close().await;
    live.close().await;
}
