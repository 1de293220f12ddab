//! Layout and polish (issue 12, 7): Exit away from Back and asking first,
//! long names on one line, the "New messages" pill, links to a message.

use serde_json::json;

use super::support::*;

/// Exit sits at the top right (top-left is where phones put Back) and asks
/// before leaving; saying no keeps you in. It works without JavaScript.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_is_away_from_back_and_asks_first() {
    let Some(rig) = rig().await else { return };
    for javascript in [true, false] {
        let sam = rig
            .browser_with(Options {
                javascript,
                ..Options::default()
            })
            .await;
        sam.join("sam", "leaving").await;
        let side = sam
            .js(
                "const e = document.querySelector('.exit summary').getBoundingClientRect();\
                 return e.left > innerWidth / 2",
                vec![],
            )
            .await;
        assert_eq!(side, json!(true), "Exit is on the right");
        sam.find(".exit summary").await.click().await.expect("Exit");
        let question = sam.text(".exit-confirm p").await;
        assert!(question.contains("Leave leaving?"), "{question}");
        assert_eq!(sam.path().await, "/rooms/leaving", "nothing left yet");
        sam.find(".exit summary").await.click().await.expect("no");
        assert_eq!(sam.text(".exit-confirm p").await, "", "closed again");
        sam.exit().await;
        eventually("back on the join page", || async {
            sam.path().await == "/join-room"
        })
        .await;
        sam.close().await;
    }
}

/// Whether each element's text is on one line and cut with an ellipsis.
const ONE_LINE: &str = "return arguments[0].map(css => {\
    const e = document.querySelector(css); const s = getComputedStyle(e);\
    return [css, e.scrollWidth > e.clientWidth, s.textOverflow, s.whiteSpace,\
            e.getBoundingClientRect().height < 2 * parseFloat(s.lineHeight || 24) || e.getBoundingClientRect().height < 40];\
  })";

/// A 32-character name and a 64-character room stay on one line with an
/// ellipsis at 390 px, in the header and in "Your rooms".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_names_stay_on_one_line_with_an_ellipsis() {
    let Some(rig) = rig().await else { return };
    let sam = rig.browser().await;
    let name = "Maximilian Alexander Wolfgangson";
    let room = "the-quarterly-planning-and-budget-review-for-the-northern-region";
    assert_eq!((name.chars().count(), room.len()), (32, 64));
    sam.join(name, room).await;
    sam.join(name, "short").await;
    for (page, elements) in [
        (format!("/rooms/{room}"), vec![".bar h1", ".bar .whoami"]),
        ("/join-room".to_owned(), vec![".rooms li:first-child a"]),
    ] {
        sam.goto(&page).await;
        let rows: Vec<(String, bool, String, String, bool)> =
            serde_json::from_value(sam.js(ONE_LINE, vec![json!(elements)]).await).expect("rows");
        for (css, cut, overflow, white_space, one_line) in rows {
            assert!(cut, "{page} {css} is cut");
            assert_eq!(overflow, "ellipsis", "{page} {css}");
            assert_eq!(white_space, "nowrap", "{page} {css}");
            assert!(one_line, "{page} {css} on one line");
        }
        let wide = sam
            .js(
                "return document.documentElement.scrollWidth <= innerWidth",
                vec![],
            )
            .await;
        assert_eq!(wide, json!(true), "{page}: no sideways scroll");
    }
    sam.close().await;
}

/// Scrolled up, a new message brings a "New messages ↓" pill that takes
/// you down; at the bottom there is no pill.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pill_says_new_messages_arrived_below() {
    let Some(rig) = rig().await else { return };
    let bot = rig.bot("bot", "pill").await;
    for i in 1..=40 {
        bot.say(&format!("message {i}")).await;
    }
    let sam = rig.browser().await;
    sam.join("sam", "pill").await;
    let pill = "const p = document.getElementById('new-messages');\
                return !!p && !p.hidden && p.getClientRects().length > 0";
    bot.say("at the bottom").await;
    sam.sees_last("at the bottom").await;
    assert_eq!(
        sam.js(pill, vec![]).await,
        json!(false),
        "no pill at the bottom"
    );

    sam.js(
        "const s = document.querySelector('.scroller'); s.scrollTop = -1000",
        vec![],
    )
    .await;
    bot.say("while reading").await;
    sam.sees_last("while reading").await;
    eventually("the pill shows", || async {
        sam.js(pill, vec![]).await == json!(true)
    })
    .await;
    assert_eq!(sam.text("#new-messages").await, "New messages ↓");
    sam.find("#new-messages").await.click().await.expect("pill");
    eventually("at the bottom, no pill", || async {
        sam.js(
            "return Math.abs(document.querySelector('.scroller').scrollTop) < 2",
            vec![],
        )
        .await
            == json!(true)
            && sam.js(pill, vec![]).await == json!(false)
    })
    .await;
    sam.close().await;
}

/// `/rooms/{room}#message-N` opens with that message in view, also when
/// it is older than the first page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_to_a_message_shows_it() {
    let Some(rig) = rig().await else { return };
    let bot = rig.bot("bot", "links").await;
    for i in 1..=120 {
        bot.say(&format!("message {i}")).await;
    }
    let sam = rig.browser().await;
    sam.join("sam", "links").await;
    let in_view = "const m = document.getElementById(arguments[0]);\
        if (!m) return false;\
        const r = m.getBoundingClientRect(), s = document.querySelector('.scroller').getBoundingClientRect();\
        return r.top >= s.top - 2 && r.bottom <= s.bottom + 2";
    for n in [95, 5] {
        // From another page, so that each is a fresh load.
        sam.goto("/join-room").await;
        sam.goto(&format!("/rooms/links#message-{n}")).await;
        eventually(&format!("message {n} is in view"), || async {
            sam.js(in_view, vec![json!(format!("message-{n}"))]).await == json!(true)
        })
        .await;
    }
    sam.close().await;
}
