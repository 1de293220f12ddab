//! Joining, chatting live, the message box, staying in, names.

use serde_json::{json, Value};

use super::support::*;

/// Which side of the list each message's bubble sits on, and whether its
/// author line (avatar and name) is shown: [seq, side, avatar, name, shown].
async fn layout(browser: &Browser) -> Vec<(i64, String, String, String, bool)> {
    let rows = browser
        .js(
            "const list = document.getElementById('messages').getBoundingClientRect();\
             return [...document.querySelectorAll('#messages .msg')].map(m => {\
               const b = m.querySelector('.bubble').getBoundingClientRect();\
               const meta = m.querySelector('.meta');\
               return [Number(m.id.replace('message-', '')),\
                 (b.left - list.left) < (list.right - b.right) ? 'left' : 'right',\
                 m.querySelector('.avatar').textContent, m.querySelector('.author').textContent,\
                 meta.getBoundingClientRect().height > 0 && getComputedStyle(meta).visibility !== 'hidden'];\
             })",
            vec![],
        )
        .await;
    serde_json::from_value(rows).expect("layout rows")
}

/// Two people join from the join page and chat by typing and pressing
/// Enter: both see both sides live, in the same order, without reloading;
/// own messages on the right, others' on the left with name and initial;
/// a run of messages from one author shows its author once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_people_chat_live_in_the_same_order() {
    let Some(rig) = rig().await else { return };
    let alice = rig.browser().await;
    let bob = rig.browser().await;
    alice.join("alice", "lobby").await;
    bob.join("Bob", "lobby").await;
    alice.mark_page().await;
    bob.mark_page().await;

    let script = [
        (&alice, "Hi Bob!"),
        (&bob, "Hello Alice"),
        (&alice, "How are you?"),
        (&alice, "Long time no see"),
        (&bob, "Great, thanks"),
    ];
    for (who, text) in script {
        who.say(text).await;
        alice.sees_last(text).await;
        bob.sees_last(text).await;
    }

    let seen_by_alice = alice.messages().await;
    assert_eq!(
        seen_by_alice,
        bob.messages().await,
        "same messages, same order"
    );
    let texts: Vec<&str> = script.iter().map(|(_, text)| *text).collect();
    let bodies: Vec<&str> = seen_by_alice.iter().map(|(_, _, b)| b.as_str()).collect();
    assert_eq!(bodies, texts);
    assert!(
        alice.same_page().await && bob.same_page().await,
        "no reload"
    );

    let authors = ["alice", "Bob", "alice", "alice", "Bob"];
    for (viewer, me) in [(&alice, "alice"), (&bob, "Bob")] {
        let rows = layout(viewer).await;
        for (i, (seq, side, avatar, name, shown)) in rows.iter().enumerate() {
            let author = authors[i];
            assert_eq!(name, author, "message {seq} author");
            assert_eq!(avatar, &author[..1].to_uppercase(), "initial");
            let want = if author == me { "right" } else { "left" };
            assert_eq!(
                side, want,
                "{me} sees {author}'s message {seq} on the {want}"
            );
            // The second of alice's two messages in a row is grouped.
            assert_eq!(*shown, i != 3, "{me}: author line of message {seq}");
        }
    }
    alice.close().await;
    bob.close().await;
}

/// How many posts the page has sent to the messages URL.
async fn posts_sent(browser: &Browser, room: &str) -> Value {
    browser
        .js(
            "return performance.getEntriesByType('resource')\
               .filter(e => e.name.endsWith('/rooms/' + arguments[0] + '/messages')).length",
            vec![json!(room)],
        )
        .await
}

/// The box clears and keeps focus after sending; an empty box sends
/// nothing; 2000 characters are fine; 2001 show an error and are not posted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_message_box_clears_refuses_empty_and_limits_length() {
    let Some(rig) = rig().await else { return };
    let alice = rig.browser().await;
    let bob = rig.browser().await;
    alice.join("alice", "box").await;
    bob.join("bob", "box").await;

    alice.say("first").await;
    bob.sees_last("first").await;
    let state = "const b = document.getElementById('body');\
                 return [b.value, document.activeElement === b]";
    eventually("the box is empty and focused", || async {
        alice.js(state, vec![]).await == json!(["", true])
    })
    .await;

    let before = posts_sent(&alice, "box").await;
    alice.say("").await;
    alice.say("second").await;
    bob.sees_last("second").await;
    let after = posts_sent(&alice, "box").await;
    assert_eq!(
        after,
        json!(before.as_i64().expect("count") + 1),
        "Enter on an empty box sends nothing"
    );

    let longest = "0123456789".repeat(200);
    alice.say(&longest).await;
    bob.sees_last(&longest).await;
    alice.sees_last(&longest).await;

    let too_long = format!("{longest}!");
    alice.say(&too_long).await;
    eventually("the length error shows", || async {
        alice
            .text("#composer-error")
            .await
            .contains("at most 2000 characters")
    })
    .await;
    let kept = alice
        .js("return document.getElementById('body').value", vec![])
        .await;
    assert_eq!(kept, json!(too_long), "the text stays in the box to fix");
    alice.find("#body").await.clear().await.expect("clear");
    alice.say("after").await;
    bob.sees_last("after").await;
    assert_eq!(
        bob.bodies().await,
        ["first", "second", longest.as_str(), "after"],
        "2001 not posted"
    );
    assert_eq!(
        alice.text("#composer-error").await,
        "",
        "the error goes away"
    );
    alice.close().await;
    bob.close().await;
}

/// Refreshing keeps you in, same name, history intact; so does closing the
/// tab and opening the room again, and even restarting the browser.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refreshing_or_closing_the_tab_keeps_you_in() {
    let Some(rig) = rig().await else { return };
    let alice = rig.browser().await;
    alice.join("alice", "stay").await;
    alice.say("before refresh").await;
    alice.sees_last("before refresh").await;

    alice.client.refresh().await.expect("refresh");
    alice.find("#body").await;
    assert_eq!(alice.path().await, "/rooms/stay");
    assert_eq!(alice.text(".whoami").await, "alice");
    assert_eq!(alice.bodies().await, ["before refresh"]);
    alice.say("after refresh").await;
    alice.sees_last("after refresh").await;

    let old_tab = alice.client.window().await.expect("window");
    let new_tab = alice.client.new_window(true).await.expect("new tab").handle;
    alice.client.close_window().await.expect("close the tab");
    assert_ne!(old_tab, new_tab);
    alice
        .client
        .switch_to_window(new_tab)
        .await
        .expect("switch");
    alice.goto("/rooms/stay").await;
    alice.find("#body").await;
    assert_eq!(alice.text(".whoami").await, "alice");
    assert_eq!(alice.bodies().await, ["before refresh", "after refresh"]);

    let profile = alice.profile.clone();
    let keep = alice.quit().await;
    let again = rig
        .browser_with(Options {
            profile: Some(profile),
            ..Options::default()
        })
        .await;
    again.goto("/rooms/stay").await;
    again.find("#body").await;
    assert_eq!(
        again.text(".whoami").await,
        "alice",
        "still in after a browser restart"
    );
    again.close().await;
    drop(keep);
}

/// A second person asking for a name already used in the room sees the
/// error on the join form; the name is free again once its owner exits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_name_is_refused_until_its_owner_exits() {
    let Some(rig) = rig().await else { return };
    let alice = rig.browser().await;
    let other = rig.browser().await;
    alice.join("alice", "names").await;

    other.submit_join("Alice", "names").await;
    eventually("the name error shows", || async {
        other
            .text("#username-error")
            .await
            .contains("already called")
    })
    .await;
    assert_eq!(other.path().await, "/join-room");
    let invalid = other
        .find("#username")
        .await
        .attr("aria-invalid")
        .await
        .expect("attr");
    assert_eq!(invalid.as_deref(), Some("true"));

    alice.exit().await;
    eventually("alice is back on the join page", || async {
        alice.path().await == "/join-room"
    })
    .await;

    other.join("Alice", "names").await;
    assert_eq!(other.text(".whoami").await, "Alice");
    alice.close().await;
    other.close().await;
}
