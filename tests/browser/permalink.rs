//! Permalinks in a browser: opened at the message, highlighted, older
//! above and newer below, live after the newest with no gap or duplicate;
//! a stranger joins and lands on it.

use serde_json::json;

use super::support::*;

/// Whether the message with this id is highlighted and in view.
const LINKED_IN_VIEW: &str = "const m = document.getElementById(arguments[0]);\
    if (!m || !m.classList.contains('linked')) return false;\
    const r = m.getBoundingClientRect(), s = document.querySelector('.scroller').getBoundingClientRect();\
    return r.top >= s.top - 2 && r.bottom <= s.bottom + 2";

/// A member opens a message's permalink: it is in view and highlighted,
/// with every older message above and every newer one below; what is
/// posted next arrives once, after the newest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permalink_opens_at_the_message_and_goes_on_live() {
    let Some(rig) = rig().await else { return };
    let bot = rig.bot("bot", "perma").await;
    for i in 1..=40 {
        bot.say(&format!("message {i}")).await;
    }
    let sam = rig.browser().await;
    sam.join("sam", "perma").await;
    sam.goto("/rooms/perma/messages/20").await;
    eventually("message 20 is highlighted and in view", || async {
        sam.js(LINKED_IN_VIEW, vec![json!("message-20")]).await == json!(true)
    })
    .await;
    bot.say("after the permalink").await;
    sam.sees_last("after the permalink").await;
    let seqs: Vec<i64> = sam.messages().await.iter().map(|m| m.0).collect();
    assert_eq!(seqs, (1..=41).collect::<Vec<_>>(), "no gap, no duplicate");
    sam.close().await;
}

/// Someone not in the room follows a permalink, joins, and lands on it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stranger_joins_and_lands_on_the_permalink() {
    let Some(rig) = rig().await else { return };
    let bot = rig.bot("bot", "shared").await;
    for i in 1..=5 {
        bot.say(&format!("message {i}")).await;
    }
    let ana = rig.browser().await;
    ana.goto("/rooms/shared/messages/3").await;
    eventually("the join form opens", || async {
        ana.path().await == "/join-room"
    })
    .await;
    let username = ana.find("#username").await;
    username
        .send_keys(&format!("ana{}", char::from(Key::Enter)))
        .await
        .expect("type name");
    eventually("the permalink opens", || async {
        ana.path().await == "/rooms/shared/messages/3"
    })
    .await;
    eventually("message 3 is highlighted and in view", || async {
        ana.js(LINKED_IN_VIEW, vec![json!("message-3")]).await == json!(true)
    })
    .await;
    ana.close().await;
}
