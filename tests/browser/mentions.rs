//! Mentions and notifications (issue 15), in two browsers: typing `@` in
//! the composer offers the room's names (arrows, Enter, Tab, Escape), a
//! mention stands out more for the person named than for anyone else, the
//! desktop notification is asked for only after a click on 🔔, and once
//! allowed it rings for a mention while the tab is hidden.

use serde_json::{json, Value};

use super::contrast::ratio;
use super::support::*;

/// The names offered under the composer and which one is chosen, or null
/// while the list is closed; and what the box holds.
async fn offered(browser: &Browser) -> Value {
    browser
        .js(
            "const l = document.getElementById('mention-list');\
             const items = [...l.querySelectorAll('li[role=option]')];\
             return [l.hidden || l.getClientRects().length === 0 ? null : [\
               items.map(i => i.textContent),\
               items.findIndex(i => i.getAttribute('aria-selected') === 'true')],\
               document.getElementById('body').value]",
            vec![],
        )
        .await
}

/// Waits until [`offered`] reads `want`.
async fn offers(browser: &Browser, what: &str, want: Value) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let now = offered(browser).await;
        if now == want {
            return;
        }
        if tokio::time::Instant::now() >= deadline {
            assert_eq!(now, want, "{what}");
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Presses one key in the message box.
async fn press(browser: &Browser, keys: &str) {
    browser
        .find("#body")
        .await
        .send_keys(keys)
        .await
        .expect("keys");
}

/// Each mention's (name, computed background, computed colour).
async fn mention_looks(browser: &Browser) -> Vec<(String, String, String)> {
    let looks = browser
        .js(
            "return [...document.querySelectorAll('#messages .mention')].map(m => [\
               m.textContent, getComputedStyle(m).backgroundColor, getComputedStyle(m).color])",
            vec![],
        )
        .await;
    serde_json::from_value(looks).expect("looks")
}

/// Bob types "@al": alice is offered and Enter writes "@alice "; "@"
/// alone offers everyone (arrows move the choice, Escape closes); "@ma"
/// offers Mary Ann and Tab writes "@Mary_Ann ". On alice's screen her own
/// mention stands out from Mary Ann's; on bob's neither does, though both
/// are marked as mentions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_composer_offers_names_and_a_mention_stands_out_for_the_named() {
    let Some(rig) = rig().await else { return };
    rig.bot("Mary Ann", "mentions").await;
    let alice = rig.browser().await;
    let bob = rig.browser().await;
    alice.join("alice", "mentions").await;
    bob.join("bob", "mentions").await;
    let enter = char::from(Key::Enter).to_string();

    press(&bob, "@al").await;
    offers(&bob, "@al offers alice", json!([[["alice"], 0], "@al"])).await;
    assert_eq!(
        bob.js(
            "return document.getElementById('body').getAttribute('aria-activedescendant')",
            vec![]
        )
        .await,
        json!("mention-0"),
        "the box points at the chosen name"
    );
    press(&bob, &enter).await;
    offers(&bob, "Enter writes the name", json!([null, "@alice "])).await;

    press(&bob, "and @").await;
    eventually("@ opens the list", || async {
        !offered(&bob).await[0].is_null()
    })
    .await;
    let mut names: Vec<String> =
        serde_json::from_value(offered(&bob).await[0][0].clone()).expect("names");
    names.sort();
    assert_eq!(names, ["Mary Ann", "alice", "bob"], "@ offers everyone");
    press(&bob, &char::from(Key::Down).to_string()).await;
    assert_eq!(offered(&bob).await[0][1], json!(1), "ArrowDown moves on");
    press(&bob, &char::from(Key::Up).to_string()).await;
    assert_eq!(offered(&bob).await[0][1], json!(0), "ArrowUp moves back");
    press(&bob, &char::from(Key::Escape).to_string()).await;
    offers(&bob, "Escape closes", json!([null, "@alice and @"])).await;

    press(&bob, "ma").await;
    offers(
        &bob,
        "@ma offers Mary Ann",
        json!([[["Mary Ann"], 0], "@alice and @ma"]),
    )
    .await;
    press(&bob, &char::from(Key::Tab).to_string()).await;
    offers(
        &bob,
        "Tab writes her name",
        json!([null, "@alice and @Mary_Ann "]),
    )
    .await;
    press(&bob, &format!("look{enter}")).await;
    let sent = "@alice and @Mary_Ann look";
    alice.sees_last(sent).await;
    bob.sees_last(sent).await;

    bob.screenshot("mentions-bob").await;
    alice.screenshot("mentions-alice").await;
    let on_alice = mention_looks(&alice).await;
    let on_bob = mention_looks(&bob).await;
    assert_eq!(on_alice.len(), 2, "two mentions: {on_alice:?}");
    assert_eq!(on_alice[0].0, "@alice");
    assert_ne!(
        (&on_alice[0].1, &on_alice[0].2),
        (&on_alice[1].1, &on_alice[1].2),
        "alice's own mention stands out from Mary Ann's on her screen"
    );
    // Bob wrote it: his bubble has a text colour of its own, so between
    // screens only the mention's background is compared.
    assert_eq!(
        on_alice[1].1, on_bob[1].1,
        "Mary Ann's mention has the same background for both"
    );
    assert_ne!(
        on_alice[0].1, on_bob[0].1,
        "alice's mention has a background of its own on her screen alone"
    );
    assert_eq!(
        (&on_bob[0].1, &on_bob[0].2),
        (&on_bob[1].1, &on_bob[1].2),
        "on bob's screen neither mention is his"
    );
    assert_ne!(
        on_bob[0].1, "rgba(0, 0, 0, 0)",
        "a mention is marked for everyone"
    );
    for (who, looks) in [("alice", &on_alice), ("bob", &on_bob)] {
        for (name, background, colour) in looks {
            let contrast = ratio(colour, background);
            assert!(
                contrast >= 4.5,
                "{name} on {who}'s screen is readable: {colour} on {background} is {contrast:.2}:1"
            );
        }
    }
    alice.close().await;
    bob.close().await;
}

/// Whether the page may show notifications, and whether 🔔 shows.
async fn permission(browser: &Browser) -> Value {
    browser
        .js(
            "const b = document.getElementById('notify');\
             return [Notification.permission, !b.hidden && b.getClientRects().length > 0]",
            vec![],
        )
        .await
}

/// Nothing asks on load, not even after a reload: the permission stays
/// "default" and 🔔 offers to ask. A click on it asks (headless Chromium
/// answers the prompt itself with "denied") and the 🔔 goes. Bob, who has
/// allowed notifications already, is not offered the 🔔 at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_are_asked_for_only_after_a_click() {
    let Some(rig) = rig().await else { return };
    let alice = rig.browser().await;
    let bob = rig.browser().await;
    alice.join("alice", "bell").await;
    bob.join("bob", "bell").await;
    bob.allow_notifications().await;
    bob.client.refresh().await.expect("reload");
    // Once both are here, both pages have run their scripts and streams.
    for browser in [&alice, &bob] {
        eventually("both are here", || async {
            browser.text("#here-count").await == "2 here"
        })
        .await;
    }
    alice.client.refresh().await.expect("reload");
    alice.find("#body").await;
    eventually("alice's page is live again", || async {
        alice.text("#here-count").await == "2 here"
    })
    .await;
    assert_eq!(
        permission(&alice).await,
        json!(["default", true]),
        "nothing asked on load; 🔔 offers to"
    );
    assert_eq!(
        permission(&bob).await,
        json!(["granted", false]),
        "no 🔔 once allowed"
    );

    click(&alice, "#notify").await;
    eventually("the click asked, and the 🔔 goes", || async {
        permission(&alice).await == json!(["denied", false])
    })
    .await;
    alice.close().await;
    bob.close().await;
}

/// Bob has allowed notifications and his tab is hidden: a mention of him
/// rings one (who, where, what), a message that does not name him does
/// not, nor does a mention while he looks at the page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mention_rings_a_notification_only_while_hidden() {
    let Some(rig) = rig().await else { return };
    let alice = rig.browser().await;
    let bob = rig.browser().await;
    alice.join("alice", "ring").await;
    bob.join("bob", "ring").await;
    bob.allow_notifications().await;
    // Headless Chromium shows no desktop notification to look at: each
    // one the page makes is recorded on its way to the real one.
    bob.js(
        "window.rung = [];\
         window.Notification = class extends window.Notification {\
           constructor(title, options) { super(title, options);\
             window.rung.push([title, options && options.body]); } }",
        vec![],
    )
    .await;
    let rung = || async { bob.js("return window.rung", vec![]).await };

    bob.hide().await;
    // The composer is busy while a message goes: one at a time.
    alice.say("nothing for bob").await;
    alice.sees_last("nothing for bob").await;
    alice.say("@bob are you there?").await;
    alice.sees_last("@bob are you there?").await;
    eventually("bob's title marks the mention", || async {
        bob.js("return document.title", vec![]).await == json!("(2) @ ring · natter")
    })
    .await;
    assert_eq!(
        rung().await,
        json!([["alice in ring", "@bob are you there?"]]),
        "one notification, for the mention"
    );

    bob.show().await;
    alice.say("@bob again").await;
    bob.sees_last("@bob again").await;
    assert_eq!(
        rung().await.as_array().map(Vec::len),
        Some(1),
        "none while he looks"
    );
    alice.close().await;
    bob.close().await;
}
