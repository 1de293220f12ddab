//! Keyboard-only use, labels, focus that shows, and the live region.

use serde_json::json;

use super::support::*;

/// The id (or class) of the focused element, and whether it shows an outline.
const FOCUS: &str = "const e = document.activeElement;\
    return [e.id || e.className, getComputedStyle(e).outlineStyle !== 'none'\
            && parseFloat(getComputedStyle(e).outlineWidth) >= 2]";

/// Every input and button has an accessible name.
const ALL_LABELLED: &str =
    "return [...document.querySelectorAll('input, textarea, button')].every(e =>\
    e.tagName !== 'BUTTON' ? e.labels.length > 0 && e.labels[0].textContent.trim() !== ''\
                          : (e.getAttribute('aria-label') || e.textContent).trim() !== '')";

/// Typed into whatever has focus, as a keyboard would.
async fn keys(browser: &Browser, text: &str) {
    let focused = browser.client.active_element().await.expect("focus");
    focused.send_keys(text).await.expect("keys");
}

/// Someone on a keyboard alone can join, send and reach every control,
/// sees where the focus is, and every control has a name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyboard_only_use_works_with_labels_and_visible_focus() {
    let Some(rig) = rig().await else { return };
    let kim = rig.browser().await;
    kim.goto("/join-room").await;
    kim.find("#username").await;
    assert_eq!(
        kim.js(ALL_LABELLED, vec![]).await,
        json!(true),
        "join form labelled"
    );
    assert_eq!(
        kim.js(FOCUS, vec![]).await[0],
        json!("username"),
        "focus starts on the name"
    );
    let tab = char::from(Key::Tab).to_string();
    let enter = char::from(Key::Enter).to_string();
    keys(&kim, &format!("kim{tab}keys{enter}")).await;
    eventually("the room opens", || async {
        kim.path().await == "/rooms/keys"
    })
    .await;

    kim.find("#body").await;
    assert_eq!(
        kim.js(ALL_LABELLED, vec![]).await,
        json!(true),
        "room page labelled"
    );
    assert_eq!(
        kim.js(FOCUS, vec![]).await[0],
        json!("body"),
        "focus starts in the box"
    );
    keys(&kim, &format!("typed only{enter}")).await;
    kim.sees_last("typed only").await;
    eventually("the box has focus again", || async {
        kim.js(FOCUS, vec![]).await[0] == json!("body")
    })
    .await;
    keys(&kim, &tab).await;
    assert_eq!(
        kim.js(FOCUS, vec![]).await,
        json!(["send", true]),
        "Tab reaches Send, visibly"
    );
    // Exit is at the top: a few more Tabs go round to it.
    let on_exit = "return document.activeElement.textContent.trim() === 'Exit'";
    let mut presses = 0;
    while kim.js(on_exit, vec![]).await != json!(true) {
        presses += 1;
        assert!(presses <= 7, "Tab never reached Exit");
        keys(&kim, &tab).await;
    }
    assert_eq!(
        kim.js(FOCUS, vec![]).await[1],
        json!(true),
        "Exit shows its focus"
    );
    // Exit asks first: Enter opens the question, Tab reaches Leave.
    keys(&kim, &enter).await;
    keys(&kim, &tab).await;
    assert_eq!(
        kim.js("return document.activeElement.className", vec![])
            .await,
        json!("leave"),
        "Tab reaches Leave"
    );
    keys(&kim, &enter).await;
    eventually("Enter on Leave leaves", || async {
        kim.path().await == "/join-room"
    })
    .await;

    let list = "return [...['role', 'aria-live', 'aria-label']]\
                .map(a => document.getElementById('messages')?.getAttribute(a))";
    kim.join("kim", "keys").await;
    let attributes = kim.js(list, vec![]).await;
    assert_eq!(attributes[0], json!("log"), "the list is a log");
    assert_eq!(attributes[1], json!("polite"), "announced politely");
    kim.close().await;
}
