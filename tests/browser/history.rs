//! A long room: opening at the bottom, paging back to the start, and what
//! new messages do to the view.

use serde_json::{json, Value};

use super::support::*;

/// The scroll state: [distance from the bottom, id of the message being
/// read (the first whose bubble starts below the middle of the list), its
/// bubble's top relative to the scroller, id of the last message, its
/// bottom relative to the scroller's bottom, the scroller's height].
const VIEW: &str = "const s = document.querySelector('.scroller');\
    const rev = getComputedStyle(s).flexDirection === 'column-reverse';\
    const box = s.getBoundingClientRect();\
    const msgs = [...document.querySelectorAll('#messages .msg')];\
    const middle = box.top + box.height / 2;\
    const read = msgs.find(m => m.querySelector('.bubble').getBoundingClientRect().top >= middle);\
    const last = msgs[msgs.length - 1];\
    return [rev ? -s.scrollTop : s.scrollHeight - s.clientHeight - s.scrollTop,\
            read.id, read.querySelector('.bubble').getBoundingClientRect().top - box.top,\
            last.id, last.getBoundingClientRect().bottom - box.bottom, box.height]";

async fn view(browser: &Browser) -> (f64, String, f64, String, f64, f64) {
    serde_json::from_value(browser.js(VIEW, vec![]).await).expect("view")
}

/// Scrolls the list all the way up (its top, where older pages load).
async fn scroll_to_top(browser: &Browser) -> Value {
    browser
        .js(
            "const s = document.querySelector('.scroller');\
             const rev = getComputedStyle(s).flexDirection === 'column-reverse';\
             s.scrollTop = rev ? -s.scrollHeight : 0; return s.scrollTop",
            vec![],
        )
        .await
}

/// A room with 200 messages opens at the bottom; scrolling up loads older
/// pages until the first message, with no duplicate and without moving the
/// message being read; a new message does not pull a reader of old ones
/// down, and keeps someone at the bottom at the bottom.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_back_through_200_messages_keeps_the_view_steady() {
    let Some(rig) = rig().await else { return };
    let bot = rig.bot("archivist", "history").await;
    for i in 1..=200 {
        bot.say(&format!("message {i}")).await;
    }
    let reader = rig.browser().await;
    reader.join("reader", "history").await;

    let (from_bottom, _, _, last, last_bottom, _) = view(&reader).await;
    assert_eq!(last, "message-200");
    assert!(
        from_bottom < 2.0,
        "opens at the bottom ({from_bottom}px up)"
    );
    assert!(
        last_bottom <= 1.0,
        "the newest message is in view ({last_bottom})"
    );
    assert!(
        reader.messages().await.len() < 200,
        "only the newest page at first"
    );

    let mut pages = 0;
    while reader.text(".start").await.is_empty() {
        pages += 1;
        assert!(pages <= 10, "the start of the room never showed");
        let shown = reader.messages().await.len();
        scroll_to_top(&reader).await;
        let (_, anchor, anchor_top, ..) = view(&reader).await;
        eventually("an older page loads", || async {
            reader.messages().await.len() > shown || !reader.text(".start").await.is_empty()
        })
        .await;
        let (_, still, still_top, ..) = view(&reader).await;
        assert_eq!(still, anchor, "the same message is being read");
        assert!(
            (still_top - anchor_top).abs() <= 1.0,
            "{anchor} did not jump: {anchor_top} -> {still_top}"
        );
    }
    assert!(pages >= 3, "200 messages take several pages");
    let seqs: Vec<i64> = reader.messages().await.iter().map(|(s, _, _)| *s).collect();
    assert_eq!(
        seqs,
        (1..=200).collect::<Vec<_>>(),
        "every message once, in order"
    );
    assert_eq!(reader.bodies().await[0], "message 1");

    // Reading the oldest: a new message must not yank the view down.
    scroll_to_top(&reader).await;
    let (far, anchor, anchor_top, ..) = view(&reader).await;
    assert!(far > 1000.0, "reading far from the bottom ({far}px)");
    bot.say("new while reading").await;
    reader.sees_last("new while reading").await;
    let (_, still, still_top, ..) = view(&reader).await;
    assert_eq!(still, anchor, "the view was not moved");
    assert!(
        (still_top - anchor_top).abs() <= 1.0,
        "{anchor_top} -> {still_top}"
    );

    // At the bottom: a new message keeps the view at the bottom.
    reader
        .js(
            "const s = document.querySelector('.scroller');\
             const rev = getComputedStyle(s).flexDirection === 'column-reverse';\
             s.scrollTop = rev ? 0 : s.scrollHeight",
            vec![],
        )
        .await;
    let (from_bottom, ..) = view(&reader).await;
    assert!(from_bottom < 2.0);
    bot.say("new at the bottom").await;
    reader.sees_last("new at the bottom").await;
    let (from_bottom, _, _, last, last_bottom, _) = view(&reader).await;
    assert!(
        from_bottom < 2.0,
        "still at the bottom ({from_bottom}px up)"
    );
    assert_eq!(last, "message-202");
    assert!(
        last_bottom <= 1.0,
        "the new message is in view ({last_bottom})"
    );
    assert_eq!(
        reader
            .js(
                "return document.querySelectorAll('[id^=message-]').length",
                vec![]
            )
            .await,
        json!(202)
    );
    reader.close().await;
}
