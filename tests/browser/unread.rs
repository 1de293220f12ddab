//! Unread and your rooms (issue 15), in two browsers: a hidden tab counts
//! new messages in its title and, on return, a line marks the first one
//! not seen; your rooms' unread counts show beside the conversation and on
//! the join page; the people link and your rooms work by keyboard.

use std::time::Duration;

use serde_json::{json, Value};

use super::support::*;

/// The session's rooms as `GET /rooms` answers in JSON: room → unread.
async fn unread(browser: &Browser) -> Value {
    browser
        .js(
            "return fetch('/rooms', { headers: { Accept: 'application/json' } })\
               .then(r => r.json())\
               .then(rs => Object.fromEntries(rs.map(r => [r.room, r.unread])))",
            vec![],
        )
        .await
}

/// `#my-rooms` as shown: (room, current?, unread count or null) by name.
async fn my_rooms(browser: &Browser) -> Value {
    browser
        .js(
            "return [...document.querySelectorAll('#my-rooms li')].map(li => [\
               li.querySelector('a').textContent, li.classList.contains('current'),\
               li.querySelector('.unread')?.textContent ?? null])\
               .sort((a, b) => a[0] < b[0] ? -1 : 1)",
            vec![],
        )
        .await
}

/// Waits until `read` gives `want`; fails after `patience` with what it
/// gives instead.
async fn reads<F, Fut>(patience: Duration, what: &str, want: Value, read: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Value>,
{
    let deadline = tokio::time::Instant::now() + patience;
    loop {
        let now = read().await;
        if now == want {
            return;
        }
        if tokio::time::Instant::now() >= deadline {
            assert_eq!(now, want, "{what}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Alice's tab is hidden while bob posts three messages and then one
/// naming her: her title counts them, "@" once she is named, and nothing
/// is marked read meanwhile. Back on the tab, the title resets, one "New
/// messages" line sits right before the first of them, and the room is
/// marked read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hidden_tab_counts_new_messages_and_marks_where_they_start() {
    let Some(rig) = rig().await else { return };
    let alice = rig.browser().await;
    let bob = rig.browser().await;
    alice.join("alice", "unread").await;
    bob.join("bob", "unread").await;
    bob.say("hi").await;
    alice.sees_last("hi").await;
    let title = || async { alice.js("return document.title", vec![]).await };
    reads(PATIENCE, "alice has read hi", json!({"unread": 0}), || {
        unread(&alice)
    })
    .await;

    alice.hide().await;
    for text in ["one", "two", "three"] {
        bob.say(text).await;
        bob.sees_last(text).await;
    }
    reads(
        PATIENCE,
        "alice's title",
        json!("(3) unread · natter"),
        title,
    )
    .await;
    bob.say("@alice look").await;
    reads(
        PATIENCE,
        "alice's title",
        json!("(4) @ unread · natter"),
        title,
    )
    .await;
    alice.sees_last("@alice look").await;
    assert_eq!(
        unread(&alice).await,
        json!({"unread": 4}),
        "nothing is marked read while hidden"
    );
    assert_eq!(
        alice
            .js(
                "return document.querySelectorAll('.unread-line').length",
                vec![]
            )
            .await,
        json!(0),
        "no line while away"
    );

    alice.show().await;
    reads(PATIENCE, "alice's title", json!("unread · natter"), title).await;
    assert_eq!(
        alice
            .js(
                "const l = [...document.querySelectorAll('#messages .unread-line')];\
                 return l.map(e => [e.tagName, e.textContent, e.nextElementSibling.id])",
                vec![]
            )
            .await,
        json!([["P", "New messages", "message-2"]]),
        "one line, right before the first message not seen"
    );
    reads(
        PATIENCE,
        "alice has read them all",
        json!({"unread": 0}),
        || unread(&alice),
    )
    .await;
    alice.close().await;
    bob.close().await;
}

/// Alice is in two rooms and looks at "second" on a desktop: bob's posts
/// in "first" show as its unread count beside the conversation with the
/// periodic refresh, at once when her tab comes back, and on the join
/// page, which refreshes too; the current room shows none. Opening
/// "first" reads it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn your_rooms_show_their_unread_counts_beside_the_room_and_on_the_join_page() {
    let Some(rig) = rig().await else { return };
    let alice = rig
        .browser_with(Options {
            size: DESKTOP,
            ..Options::default()
        })
        .await;
    alice.join("alice", "first").await;
    alice.join("alice", "second").await;
    let bob = rig.bot("bob", "first").await;
    let bob_here = rig.bot("bob", "second").await;
    let shown = || my_rooms(&alice);
    reads(
        PATIENCE,
        "alice's rooms",
        json!([["first", false, null], ["second", true, null]]),
        shown,
    )
    .await;

    bob.say("one").await;
    bob.say("two").await;
    reads(
        Duration::from_secs(20),
        "the refresh shows first's count",
        json!([["first", false, "2"], ["second", true, null]]),
        shown,
    )
    .await;

    bob.say("three").await;
    bob_here.say("in second").await;
    alice.sees_last("in second").await;
    alice.hide().await;
    alice.show().await;
    reads(
        Duration::from_secs(5),
        "coming back shows the new count at once",
        json!([["first", false, "3"], ["second", true, null]]),
        shown,
    )
    .await;
    reads(
        PATIENCE,
        "alice has read second",
        json!({"first": 3, "second": 0}),
        || unread(&alice),
    )
    .await;

    alice.goto("/join-room").await;
    alice.find("#username").await;
    assert_eq!(
        shown().await,
        json!([["first", false, "3"], ["second", false, null]]),
        "the join page shows the same counts"
    );
    bob.say("four").await;
    reads(
        Duration::from_secs(20),
        "the join page keeps its counts fresh",
        json!([["first", false, "4"], ["second", false, null]]),
        shown,
    )
    .await;
    click(&alice, "#my-rooms a[title=first]").await;
    alice.sees_last("four").await;
    reads(
        PATIENCE,
        "opening first reads it",
        json!({"first": 0, "second": 0}),
        || unread(&alice),
    )
    .await;
    alice.goto("/join-room").await;
    alice.find("#username").await;
    assert_eq!(
        shown().await,
        json!([["first", false, null], ["second", false, null]]),
        "no counts left on the join page"
    );
    alice.close().await;
}

/// Typed into whatever has focus, as a keyboard would.
async fn keys(browser: &Browser, text: &str) {
    let focused = browser.client.active_element().await.expect("focus");
    focused.send_keys(text).await.expect("keys");
}

/// Presses Tab until `script` (run on the focused element as `e`) holds;
/// fails after `most` presses.
async fn tab_to(browser: &Browser, what: &str, most: usize, script: &str) {
    let check = format!("const e = document.activeElement; return !!({script})");
    let tab = char::from(Key::Tab).to_string();
    for _ in 0..most {
        keys(browser, &tab).await;
        if browser.js(&check, vec![]).await == json!(true) {
            return;
        }
    }
    let at = browser
        .js(
            "return document.activeElement.outerHTML.slice(0, 120)",
            vec![],
        )
        .await;
    panic!("{most} Tabs never reached {what}; focus is on {at}");
}

/// Whether the people panel shows.
async fn panel_open(browser: &Browser) -> bool {
    browser
        .js(
            "return document.getElementById('people').getClientRects().length > 0",
            vec![],
        )
        .await
        == json!(true)
}

/// On a phone, by keyboard alone: Tab reaches "N here", Enter opens the
/// people panel, the next Tabs go into it (Close, then your rooms), Enter
/// on a room opens it; there, Close closes the panel again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_people_panel_and_your_rooms_work_by_keyboard() {
    let Some(rig) = rig().await else { return };
    let kim = rig.browser().await;
    kim.join("kim", "one").await;
    kim.join("kim", "two").await;
    let enter = char::from(Key::Enter).to_string();
    assert!(
        !panel_open(&kim).await,
        "the panel starts closed on a phone"
    );

    tab_to(&kim, "the here link", 10, "e.matches('a.here-link')").await;
    keys(&kim, &enter).await;
    eventually("Enter opens the panel", || panel_open(&kim)).await;
    assert_eq!(
        kim.js("return location.hash", vec![]).await,
        json!("#people")
    );
    tab_to(&kim, "Close", 1, "e.matches('#people .side-close')").await;
    tab_to(&kim, "room one", 4, "e.matches('#my-rooms a[title=one]')").await;
    assert!(
        kim.js(
            "return document.getElementById('members').textContent",
            vec![]
        )
        .await
        .as_str()
        .is_some_and(|t| t.contains("kim")),
        "the members panel is there to read on the way"
    );
    keys(&kim, &enter).await;
    eventually("Enter opens room one", || async {
        kim.path().await == "/rooms/one"
    })
    .await;

    kim.find("#body").await;
    tab_to(&kim, "the here link", 10, "e.matches('a.here-link')").await;
    keys(&kim, &enter).await;
    eventually("the panel opens", || panel_open(&kim)).await;
    tab_to(&kim, "Close", 1, "e.matches('#people .side-close')").await;
    keys(&kim, &enter).await;
    eventually("Close closes it", || async { !panel_open(&kim).await }).await;
    kim.close().await;
}
