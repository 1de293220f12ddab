//! Who is here and who types (issue 15), in two browsers: the header's
//! "N here" and the members panel follow people coming and going (a
//! reload does not flicker, a closed tab goes after the grace, Exit at
//! once), "bob is typing…" shows for the others and goes when he stops or
//! sends, neither disturbs the live region, and a server that goes down
//! and comes back says "Reconnecting…" meanwhile and loses nothing.

use std::time::Duration;

use serde_json::{json, Value};

use super::connection::reconnecting;
use super::support::*;

/// The header's count, the panel's count, and the panel's members as
/// (name, "here" | "away"), in the panel's order.
pub(super) async fn panel(browser: &Browser) -> Value {
    browser
        .js(
            "return [document.getElementById('here-count').textContent,\
               document.querySelector('#members .here-count').textContent,\
               [...document.querySelectorAll('#members li.member[data-member]')].map(l => [\
                 [...l.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent).join('').trim(),\
                 l.classList.contains('here') ? 'here' : l.classList.contains('away') ? 'away' : '?'])]",
            vec![],
        )
        .await
}

/// What [`panel`] should read: `count` here, and these members in order.
pub(super) fn want(count: usize, members: &[(&str, &str)]) -> Value {
    let here = format!("{count} here");
    json!([here, here, members])
}

/// Waits until `browser`'s panel reads `want`; fails after `patience` with
/// what it reads instead.
pub(super) async fn panel_reads(browser: &Browser, who: &str, patience: Duration, want: Value) {
    let deadline = tokio::time::Instant::now() + patience;
    loop {
        let now = panel(browser).await;
        if now == want {
            return;
        }
        if tokio::time::Instant::now() >= deadline {
            assert_eq!(now, want, "{who}'s members panel");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Starts counting changes inside `#messages` (the `role=log` live region:
/// every change there may be read out) and every text the header's count
/// takes.
async fn watch(browser: &Browser) {
    browser
        .js(
            "window.logChanges = 0; window.counts = [];\
             new MutationObserver(r => { window.logChanges += r.length; })\
               .observe(document.getElementById('messages'),\
                 { childList: true, subtree: true, characterData: true });\
             const c = document.getElementById('here-count');\
             new MutationObserver(() => window.counts.push(c.textContent))\
               .observe(c, { childList: true, subtree: true, characterData: true })",
            vec![],
        )
        .await;
}

/// (changes inside the live region, texts the count took) since [`watch`].
async fn watched(browser: &Browser) -> (i64, Vec<String>) {
    let seen = browser
        .js("return [window.logChanges, window.counts]", vec![])
        .await;
    serde_json::from_value(seen).expect("watched")
}

/// Alice alone is "1 here"; with bob both read "2 here"; bob's reload does
/// not make him flicker away; his closed page leaves him "away" after the
/// 5 s grace; Exit takes him off the list at once. The live region never
/// changes meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn who_is_here_follows_people_coming_and_going() {
    let Some(rig) = rig().await else { return };
    let alice = rig.browser().await;
    alice.join("alice", "lobby").await;
    panel_reads(&alice, "alice", PATIENCE, want(1, &[("alice", "here")])).await;
    watch(&alice).await;

    let bob = rig.browser().await;
    bob.join("bob", "lobby").await;
    let both = want(2, &[("alice", "here"), ("bob", "here")]);
    panel_reads(&alice, "alice", PATIENCE, both.clone()).await;
    panel_reads(&bob, "bob", PATIENCE, both.clone()).await;

    bob.client.refresh().await.expect("reload");
    bob.find("#body").await;
    panel_reads(&bob, "bob after his reload", PATIENCE, both.clone()).await;
    // Absence of a flicker cannot be awaited: let the grace and the
    // settling pass, then look at every count alice's header showed.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let (_, counts) = watched(&alice).await;
    // Alice's own arrival may reach her after the watch began (the page
    // already said "1 here"): only what follows bob's arrival counts.
    let counts: Vec<String> = counts.into_iter().skip_while(|c| c == "1 here").collect();
    assert!(
        !counts.is_empty() && counts.iter().all(|c| c == "2 here"),
        "a reload does not flicker: alice's header showed {counts:?}"
    );

    // Closing the room's page (here: going to another page) ends bob's
    // stream; after the grace he is away.
    bob.goto("/join-room").await;
    panel_reads(
        &alice,
        "alice",
        Duration::from_secs(15),
        want(1, &[("alice", "here"), ("bob", "away")]),
    )
    .await;

    // Exit gives his name up: off the list, with no grace.
    bob.goto("/rooms/lobby").await;
    bob.find("#body").await;
    panel_reads(&alice, "alice", PATIENCE, both).await;
    bob.exit().await;
    panel_reads(
        &alice,
        "alice",
        Duration::from_secs(3),
        want(1, &[("alice", "here")]),
    )
    .await;
    assert_eq!(watched(&alice).await.0, 0, "the live region stayed calm");
    alice.close().await;
    bob.close().await;
}

/// Bob types: alice sees "bob is typing…" below the conversation (outside
/// the live region, hidden from screen readers), bob does not see
/// himself; it goes within about 5 s of his last key, and at once when his
/// message arrives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typing_shows_for_the_others_and_ends_when_he_stops_or_sends() {
    let Some(rig) = rig().await else { return };
    let alice = rig.browser().await;
    let bob = rig.browser().await;
    alice.join("alice", "typing").await;
    bob.join("bob", "typing").await;
    let both = want(2, &[("alice", "here"), ("bob", "here")]);
    panel_reads(&alice, "alice", PATIENCE, both.clone()).await;
    panel_reads(&bob, "bob", PATIENCE, both).await;
    watch(&alice).await;
    let typing = "bob is typing…";

    let body = bob.find("#body").await;
    body.send_keys("hel").await.expect("type");
    eventually_within(Duration::from_secs(5), "alice sees bob typing", || async {
        alice.text("#typing").await == typing
    })
    .await;
    let seen = tokio::time::Instant::now();
    assert_eq!(bob.text("#typing").await, "", "bob does not see himself");
    assert_eq!(
        alice
            .js(
                "const t = document.getElementById('typing');\
                 const m = document.getElementById('messages');\
                 return [t.getAttribute('aria-hidden'), m.contains(t),\
                   m.textContent.includes('is typing')]",
                vec![],
            )
            .await,
        json!(["true", false, false]),
        "the typing line is aria-hidden and outside the live region"
    );
    eventually_within(Duration::from_secs(8), "the typing line clears", || async {
        alice.text("#typing").await.is_empty()
    })
    .await;
    assert!(
        seen.elapsed() <= Duration::from_secs(7),
        "gone within about 5 s of his last key ({:?})",
        seen.elapsed()
    );

    body.send_keys("lo there").await.expect("type more");
    eventually_within(Duration::from_secs(5), "bob types again", || async {
        alice.text("#typing").await == typing
    })
    .await;
    assert_eq!(
        watched(&alice).await.0,
        0,
        "typing left the live region calm"
    );
    body.send_keys(&char::from(Key::Enter).to_string())
        .await
        .expect("send");
    alice.sees_last("hello there").await;
    assert_eq!(
        alice.text("#typing").await,
        "",
        "the line goes as his message arrives"
    );
    alice.close().await;
    bob.close().await;
}

/// The server goes down: both pages say "Reconnecting…"; once it is back,
/// the status goes, a message posted right after the restart reaches both
/// exactly once without a reload, both are "here" again, and a new one
/// passes between them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnecting_shows_while_the_server_is_down_and_nothing_is_lost() {
    let Some(mut rig) = rig().await else { return };
    let alice = rig.browser().await;
    let bob = rig.browser().await;
    alice.join("alice", "down").await;
    bob.join("bob", "down").await;
    alice.say("before").await;
    bob.sees_last("before").await;
    let both = want(2, &[("alice", "here"), ("bob", "here")]);
    panel_reads(&alice, "alice", PATIENCE, both.clone()).await;
    alice.mark_page().await;
    bob.mark_page().await;

    rig.server.stop().await;
    for (who, browser) in [("alice", &alice), ("bob", &bob)] {
        eventually(&format!("{who}'s page says Reconnecting…"), || {
            reconnecting(browser)
        })
        .await;
    }
    rig.server.restart().await;
    rig.bot("carol", "down")
        .await
        .say("while you came back")
        .await;

    for (who, browser) in [("alice", &alice), ("bob", &bob)] {
        // The client's back-off may have grown while the server was down.
        eventually_within(
            Duration::from_secs(60),
            &format!("{who} catches up"),
            || async { browser.bodies().await.len() >= 2 },
        )
        .await;
        assert_eq!(
            browser.bodies().await,
            ["before", "while you came back"],
            "{who}: each message once"
        );
        eventually(&format!("{who}'s status goes away"), || async {
            !reconnecting(browser).await
        })
        .await;
        assert!(browser.same_page().await, "{who}: no reload");
        panel_reads(browser, who, PATIENCE, {
            let mut want = both.clone();
            want[2]
                .as_array_mut()
                .expect("members")
                .push(json!(["carol", "away"]));
            want
        })
        .await;
    }

    bob.say("after").await;
    alice.sees_last("after").await;
    assert_eq!(
        alice.bodies().await,
        ["before", "while you came back", "after"]
    );
    alice.close().await;
    bob.close().await;
}
