//! Every screen converges (issue 14): a page cut off through several
//! changes and a server restart catches up without a reload, each message
//! once in its final state; a new message the replay brings after a newer
//! one lands in its place; a change that arrives while its author edits
//! shows once the editor closes; a change to a message not on screen does
//! not land at the bottom.

use std::time::Duration;

use serde_json::json;

use super::changes::{delete, edit, react};
use super::support::*;

/// Bob's network drops; meanwhile alice edits a message twice, reacts,
/// deletes one and posts, and the server restarts half-way (bob's own
/// click meanwhile fails and says so). Once his network is back, bob's
/// page (never reloaded) shows exactly what alice's shows: each message
/// once, in its final state.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_cut_off_through_changes_and_a_restart_converges() {
    let Some(mut rig) = rig().await else { return };
    let mut gate = Gate::open_to(rig.server.socket).await;
    let alice = rig.browser().await;
    let bob = rig.browser_at(&gate.base(), Options::default()).await;
    alice.join("alice", "converge").await;
    bob.join("bob", "converge").await;
    for (who, text) in [
        (&alice, "one"),
        (&bob, "two"),
        (&alice, "three"),
        (&alice, "four"),
    ] {
        who.say(text).await;
        alice.sees_last(text).await;
        bob.sees_last(text).await;
    }
    react(&bob, 4, "😮").await;
    let before = [
        message(1, "one", false, &[]),
        message(2, "two", false, &[]),
        message(3, "three", false, &[]),
        message(4, "four", false, &[("😮", 1)]),
    ];
    shows(&alice, "alice", &before).await;
    shows(&bob, "bob", &before).await;
    bob.mark_page().await;

    gate.close().await;
    // A click that cannot reach the server says so, and changes nothing.
    click(&bob, "#message-4 form.chip button.reaction").await;
    eventually("bob is told it did not work", || async {
        !bob.text("#toast[role=alert]:not([hidden])")
            .await
            .is_empty()
    })
    .await;
    edit(&alice, 1, "one, fixed").await;
    let mut now: Vec<Shown> = before.to_vec();
    now[0] = message(1, "one, fixed", true, &[]);
    shows(&alice, "alice", &now).await;
    rig.server.restart().await;
    edit(&alice, 1, "one, fixed again").await;
    react(&alice, 2, "👀").await;
    delete(&alice, 4).await;
    let want = [
        message(1, "one, fixed again", true, &[]),
        message(2, "two", false, &[("👀", 1)]),
        message(3, "three", false, &[]),
        tombstone(4),
    ];
    shows(&alice, "alice", &want).await;
    alice.say("five").await;
    let mut want = want.to_vec();
    want.push(message(5, "five", false, &[]));
    shows(&alice, "alice", &want).await;
    assert_eq!(shown(&bob).await, before, "bob was cut off meanwhile");

    gate.open().await;
    // The client's back-off may have grown while the gate was closed.
    eventually_within(Duration::from_secs(90), "bob converges", || async {
        shown(&bob).await == want
    })
    .await;
    assert!(bob.same_page().await, "caught up without a reload");
    eventually(
        "the failure's toast goes away after a few seconds",
        || async {
            bob.text("#toast[role=alert]:not([hidden])")
                .await
                .is_empty()
        },
    )
    .await;

    react(&bob, 5, "❤️").await;
    want[4] = message(5, "five", false, &[("❤️", 1)]);
    shows(&alice, "alice", &want).await;
    shows(&bob, "bob", &want).await;
    alice.close().await;
    bob.close().await;
}

/// Bob's tab is hidden and his network drops; alice posts "two" and
/// "three", then reacts to "two", which gives it the newest cursor: the
/// replay brings "three" before "two". Bob's page (never reloaded) shows
/// both once, in order, "two" with its reaction, as alice's does; his
/// title counts both and, back on the tab, the "New messages" line sits
/// before "two", a visual marker that screen readers do not announce.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_message_replayed_after_a_newer_one_lands_in_its_place() {
    let Some(rig) = rig().await else { return };
    let mut gate = Gate::open_to(rig.server.socket).await;
    let alice = rig.browser().await;
    let bob = rig.browser_at(&gate.base(), Options::default()).await;
    alice.join("alice", "replay").await;
    bob.join("bob", "replay").await;
    alice.say("one").await;
    alice.sees_last("one").await;
    bob.sees_last("one").await;
    bob.mark_page().await;
    bob.hide().await;

    gate.close().await;
    alice.say("two").await;
    alice.sees_last("two").await;
    alice.say("three").await;
    alice.sees_last("three").await;
    react(&alice, 2, "👍").await;
    let want = [
        message(1, "one", false, &[]),
        message(2, "two", false, &[("👍", 1)]),
        message(3, "three", false, &[]),
    ];
    shows(&alice, "alice", &want).await;

    gate.open().await;
    // The client's back-off may have grown while the gate was closed.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    loop {
        let now = shown(&bob).await;
        if now == want {
            break;
        }
        if tokio::time::Instant::now() >= deadline {
            assert_eq!(now, want, "what bob's screen shows once back");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(bob.same_page().await, "caught up without a reload");
    eventually("bob's title counts both new messages", || async {
        bob.js("return document.title", vec![]).await == json!("(2) replay · natter")
    })
    .await;

    bob.show().await;
    assert_eq!(
        bob.js(
            "return [...document.querySelectorAll('#messages .unread-line')]\
               .map(e => [e.textContent, e.getAttribute('aria-hidden'),\
                 e.nextElementSibling.id])",
            vec![]
        )
        .await,
        json!([["New messages", "true", "message-2"]]),
        "one line, right before the first message bob had not seen, and \
         hidden from screen readers (the log announces the messages)"
    );
    alice.close().await;
    bob.close().await;
}

/// Alice has the inline editor open on her message when bob reacts to
/// it: her box stays as she left it, and once she presses Escape her
/// screen shows bob's reaction, as his does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_that_arrives_while_editing_shows_once_the_editor_closes() {
    let Some(rig) = rig().await else { return };
    let alice = rig.browser().await;
    let bob = rig.browser().await;
    alice.join("alice", "editing").await;
    bob.join("bob", "editing").await;
    alice.say("hello").await;
    alice.sees_last("hello").await;
    bob.sees_last("hello").await;

    click(&alice, "#message-1 a.act").await;
    click(&alice, "#message-1 .menu-edit").await;
    let area = alice.find("#message-1 form.edit-inline textarea").await;
    area.send_keys(", still typing").await.expect("type");
    react(&bob, 1, "👍").await;
    bob.say("sync").await;
    // The stream carries changes in order: once bob's next message shows,
    // his reaction has reached alice's page.
    alice.sees_last("sync").await;
    assert_eq!(
        area.prop("value").await.expect("value").as_deref(),
        Some("hello, still typing"),
        "the box stays as alice left it"
    );

    area.send_keys(&char::from(Key::Escape).to_string())
        .await
        .expect("Escape");
    let want = [
        message(1, "hello", false, &[("👍", 1)]),
        message(2, "sync", false, &[]),
    ];
    shows(&alice, "alice", &want).await;
    shows(&bob, "bob", &want).await;
    alice.close().await;
    bob.close().await;
}

/// With 60 messages, the first is older than the page shows: a reaction
/// to it does not appear at the bottom of a live screen (one to the last
/// message, sent after it, does arrive); scrolling up to it shows it with
/// its reaction, where it belongs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_to_a_message_not_on_screen_is_not_appended() {
    let Some(rig) = rig().await else { return };
    let carol = rig.bot("carol", "long").await;
    for i in 1..=60 {
        carol.say(&format!("message {i}")).await;
    }
    let alice = rig.browser().await;
    alice.join("alice", "long").await;
    let mut want = shown(&alice).await;
    assert_eq!(want.last(), Some(&message(60, "message 60", false, &[])));
    assert!(
        want.iter().all(|m| m.0 != "message-1"),
        "message 1 is not on the first page"
    );
    alice.mark_page().await;

    carol.react(1, "👍").await;
    carol.react(60, "🎉").await;
    let last = want.len() - 1;
    want[last] = message(60, "message 60", false, &[("🎉", 1)]);
    // The stream carries changes in order: once the second shows, the
    // first has been dealt with.
    shows(&alice, "alice", &want).await;
    assert!(alice.same_page().await, "no reload");

    let mut all: Vec<Shown> = (1..=59)
        .map(|i| message(i, &format!("message {i}"), false, &[]))
        .collect();
    all[0] = message(1, "message 1", false, &[("👍", 1)]);
    all.push(want[last].clone());
    eventually("scrolling up loads message 1 with its reaction", || async {
        alice
            .js(
                "const s = document.querySelector('.scroller');\
                 s.scrollTop = getComputedStyle(s).flexDirection === 'column-reverse'\
                   ? -s.scrollHeight : 0",
                vec![],
            )
            .await;
        shown(&alice).await == all
    })
    .await;
    alice.close().await;
}
