//! Bots in a browser (#17): a member makes one on the room's bots page and
//! copies its token; a script posts with that token; the member's open
//! room shows the message live, with the "bot" badge.

use serde_json::json;

use super::support::*;

/// The last message shown: (author, whether it has the bot badge and it
/// is visible, body as text), or null.
const LAST_MESSAGE: &str = "const m = [...document.querySelectorAll('#messages .msg')].pop();\
    if (!m) return null;\
    const badge = m.querySelector('.badge.bot');\
    return [m.querySelector('.author').textContent,\
      !!badge && badge.getClientRects().length > 0 && badge.textContent.trim() === 'bot',\
      m.querySelector('.bubble').textContent.trim()]";

/// A member makes a bot, reads its token off the page, and sees what the
/// bot posts with it arrive live, badged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_makes_a_bot_and_its_post_arrives_live_with_a_badge() {
    let Some(rig) = rig().await else { return };
    let ana = rig
        .browser_with(Options {
            size: DESKTOP,
            ..Options::default()
        })
        .await;
    ana.join("ana", "lobby").await;

    ana.goto("/rooms/lobby/bots").await;
    ana.find("#bot-name")
        .await
        .send_keys("deploy")
        .await
        .expect("type the name");
    ana.find("form[action='/rooms/lobby/bots'] button[type=submit]")
        .await
        .click()
        .await
        .expect("Create bot");
    ana.find("#token").await;
    let token = ana
        .js("return document.getElementById('token').value", vec![])
        .await;
    let token = token.as_str().expect("the token's text").to_owned();
    assert!(token.starts_with("natter_") && token.len() >= 50, "{token}");
    let curl = ana
        .js("return document.getElementById('curl').value", vec![])
        .await;
    assert!(
        curl.as_str().is_some_and(|curl| curl.contains(&token)),
        "the curl line carries the token: {curl}"
    );
    assert!(ana.text(".bot-list").await.contains("deploy"), "listed");
    ana.screenshot("bots-page").await;

    ana.goto("/rooms/lobby").await;
    ana.find("#body").await;
    ana.mark_page().await;
    let response = reqwest::Client::new()
        .post(format!("{}/rooms/lobby/messages", rig.server.addr))
        .bearer_auth(&token)
        .header("content-type", "text/plain; charset=utf-8")
        .body("Deployed v2 🚀")
        .send()
        .await
        .expect("post as the bot");
    assert_eq!(response.status(), 201, "the bot posts");

    let want = json!(["deploy", true, "Deployed v2 🚀"]);
    eventually("the bot's message shows last, badged", || async {
        ana.js(LAST_MESSAGE, vec![]).await == want
    })
    .await;
    assert!(ana.same_page().await, "it came live, not by a reload");
    ana.screenshot("bots-room").await;
    ana.close().await;
}

/// The token is shown once, so it must be shown whole: on a desktop
/// window its field is wide enough for all of it, and the curl line's box
/// needs no scrolling.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_bots_token_is_shown_whole() {
    let Some(rig) = rig().await else { return };
    let ana = rig
        .browser_with(Options {
            size: DESKTOP,
            ..Options::default()
        })
        .await;
    ana.join("ana", "lobby").await;
    ana.goto("/rooms/lobby/bots").await;
    ana.find("#bot-name")
        .await
        .send_keys("deploy")
        .await
        .expect("type the name");
    ana.find("form[action='/rooms/lobby/bots'] button[type=submit]")
        .await
        .click()
        .await
        .expect("Create bot");
    ana.find("#token").await;
    let fits = ana
        .js(
            "return ['token', 'curl'].map(id => { const e = document.getElementById(id);\
               return [id, e.scrollWidth <= e.clientWidth && e.scrollHeight <= e.clientHeight + 1,\
                 e.clientWidth, e.scrollWidth]; })",
            vec![],
        )
        .await;
    ana.close().await;
    let fits: Vec<(String, bool, i64, i64)> = serde_json::from_value(fits).expect("fits");
    for (id, whole, width, needed) in fits {
        assert!(
            whole,
            "#{id} shows all of its text: {width} px wide, needs {needed} px"
        );
    }
}
