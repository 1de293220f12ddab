//! Edit, delete and react in the browser (issue 14): two people in two
//! browsers, each change made through the ⋯ menu or a chip, and both
//! screens agreeing without a reload, and again after one.

use serde_json::{json, Value};

use super::support::*;

/// Opens message `seq`'s ⋯ menu and returns its buttons' classes and texts.
async fn open_menu(browser: &Browser, seq: i64) -> Vec<(String, String)> {
    click(browser, &format!("#message-{seq} a.act")).await;
    browser.find(&format!("#message-{seq} .menu")).await;
    let buttons = browser
        .js(
            "return [...document.querySelectorAll(`#message-${arguments[0]} .menu button`)]\
               .map(b => [b.className, b.textContent])",
            vec![json!(seq)],
        )
        .await;
    serde_json::from_value(buttons).expect("menu buttons")
}

/// The six reaction buttons every menu starts with.
const REACTIONS: [&str; 6] = ["👍", "❤️", "😂", "🎉", "😮", "👀"];

fn menu_of_reactions() -> Vec<(String, String)> {
    REACTIONS
        .iter()
        .map(|e| ("react-button".to_owned(), e.to_string()))
        .collect()
}

/// Edits message `seq` in place: ⋯, Edit, replace the text, Enter.
pub(crate) async fn edit(browser: &Browser, seq: i64, text: &str) {
    open_menu(browser, seq).await;
    click(browser, &format!("#message-{seq} .menu-edit")).await;
    let area = browser
        .find(&format!(
            "#message-{seq} form.edit-inline textarea[name=body]"
        ))
        .await;
    area.clear().await.expect("clear");
    area.send_keys(&format!("{text}{}", char::from(Key::Enter)))
        .await
        .expect("type the new text");
}

/// Reacts to message `seq` through its ⋯ menu.
pub(crate) async fn react(browser: &Browser, seq: i64, emoji: &str) {
    open_menu(browser, seq).await;
    let css = format!("#message-{seq} .menu .react-button[value=\"{emoji}\"]");
    click(browser, &css).await;
}

/// Deletes message `seq`: ⋯, Delete, then "Delete for everyone?".
pub(crate) async fn delete(browser: &Browser, seq: i64) {
    open_menu(browser, seq).await;
    click(browser, &format!("#message-{seq} .menu-delete")).await;
    let confirm = format!("#message-{seq} .menu-delete-confirm");
    assert_eq!(browser.text(&confirm).await, "Delete for everyone?");
    click(browser, &confirm).await;
}

/// Message `seq`'s `emoji` chip: [count, aria-pressed, computed background].
async fn chip(browser: &Browser, seq: i64, emoji: &str) -> Value {
    browser
        .js(
            "const c = [...document.querySelectorAll(`#message-${arguments[0]} .reaction`)]\
               .find(r => r.value === arguments[1]);\
             return c ? [Number(c.querySelector('.count').textContent),\
               c.getAttribute('aria-pressed'), getComputedStyle(c).backgroundColor] : null",
            vec![json!(seq), json!(emoji)],
        )
        .await
}

/// Moves the pointer and the focus off the messages (a hover or focus
/// style must not pass for the viewer's highlight).
async fn look_away(browser: &Browser) {
    browser.find(".bar h1").await.click().await.expect("click");
    browser
        .js(
            "document.activeElement && document.activeElement.blur()",
            vec![],
        )
        .await;
}

/// Two people in `room`, alice having said "hello there" (message 1).
async fn alice_and_bob(rig: &Rig, room: &str) -> (Browser, Browser) {
    let alice = rig.browser().await;
    let bob = rig.browser().await;
    alice.join("alice", room).await;
    bob.join("bob", room).await;
    alice.say("hello there").await;
    bob.sees_last("hello there").await;
    alice.sees_last("hello there").await;
    alice.mark_page().await;
    bob.mark_page().await;
    (alice, bob)
}

/// Alice edits her message in place (⋯, Edit, Enter; Shift+Enter is a new
/// line): both screens show the new text and "edited" without a reload;
/// bob's menu on her message offers only reactions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_author_edits_in_place_and_both_screens_follow() {
    let Some(rig) = rig().await else { return };
    let (alice, bob) = alice_and_bob(&rig, "edits").await;

    let mut own = menu_of_reactions();
    own.push(("menu-edit".into(), "Edit".into()));
    own.push(("menu-delete".into(), "Delete".into()));
    assert_eq!(open_menu(&alice, 1).await, own, "alice's menu on her own");
    assert_eq!(
        open_menu(&bob, 1).await,
        menu_of_reactions(),
        "bob may only react to alice's message"
    );

    click(&alice, "#message-1 .menu-edit").await;
    let area = alice.find("#message-1 form.edit-inline textarea").await;
    assert_eq!(
        area.prop("value").await.expect("value").as_deref(),
        Some("hello there")
    );
    let shift_enter: String = [Key::Shift, Key::Enter, Key::Null]
        .into_iter()
        .map(char::from)
        .collect();
    area.send_keys(&format!(",{shift_enter}second line"))
        .await
        .expect("type");
    assert!(
        alice
            .find("#message-1 form.edit-inline")
            .await
            .is_displayed()
            .await
            .expect("shown"),
        "Shift+Enter adds a line and does not save"
    );
    area.send_keys(&char::from(Key::Enter).to_string())
        .await
        .expect("Enter");

    let want = [message(1, "hello there,\nsecond line", true, &[])];
    shows(&alice, "alice", &want).await;
    shows(&bob, "bob", &want).await;
    assert!(
        alice.same_page().await && bob.same_page().await,
        "no reload"
    );

    edit(&alice, 1, "hello, fixed").await;
    let want = [message(1, "hello, fixed", true, &[])];
    shows(&alice, "alice", &want).await;
    shows(&bob, "bob", &want).await;
    bob.client.refresh().await.expect("refresh");
    bob.find("#body").await;
    assert_eq!(shown(&bob).await, want, "a reload shows the same");
    alice.close().await;
    bob.close().await;
}

/// Bob reacts 👍 from the menu: a chip with 1 on both screens, pressed and
/// highlighted on his alone; alice's click on it makes 2, bob's click on
/// his own takes his away again; a reload shows the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reactions_count_on_both_screens_and_highlight_ones_own() {
    let Some(rig) = rig().await else { return };
    let (alice, bob) = alice_and_bob(&rig, "reacts").await;

    react(&bob, 1, "👍").await;
    let one = [message(1, "hello there", false, &[("👍", 1)])];
    shows(&alice, "alice", &one).await;
    shows(&bob, "bob", &one).await;
    look_away(&alice).await;
    look_away(&bob).await;
    let (on_bob, on_alice) = (chip(&bob, 1, "👍").await, chip(&alice, 1, "👍").await);
    assert_eq!(
        on_bob[1],
        json!("true"),
        "bob's own reaction is pressed for him"
    );
    assert_ne!(on_alice[1], json!("true"), "but not for alice");
    assert_ne!(
        on_bob[2], on_alice[2],
        "bob's own chip is highlighted for him alone"
    );

    click(&alice, "#message-1 form.chip button.reaction").await;
    let two = [message(1, "hello there", false, &[("👍", 2)])];
    shows(&alice, "alice", &two).await;
    shows(&bob, "bob", &two).await;
    eventually("alice's chip is pressed for her", || async {
        chip(&alice, 1, "👍").await[1] == json!("true")
    })
    .await;

    click(&bob, "#message-1 form.chip button.reaction").await;
    shows(&alice, "alice", &one).await;
    shows(&bob, "bob", &one).await;
    eventually("bob's chip is no longer pressed", || async {
        chip(&bob, 1, "👍").await[1] == json!("false")
    })
    .await;
    assert!(
        alice.same_page().await && bob.same_page().await,
        "no reload"
    );

    for (who, browser, pressed) in [("alice", &alice, "true"), ("bob", &bob, "false")] {
        browser.client.refresh().await.expect("refresh");
        browser.find("#body").await;
        assert_eq!(shown(browser).await, one, "{who} after a reload");
        eventually(&format!("{who}'s chip says {pressed}"), || async {
            chip(browser, 1, "👍").await[1] == json!(pressed)
        })
        .await;
    }
    alice.close().await;
    bob.close().await;
}

/// Alice deletes her message (Delete, then the confirmation): both screens
/// show one "message deleted" tombstone in its place, reactions gone, the
/// next message untouched; a reload of each shows the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_message_is_a_tombstone_everywhere_and_after_a_reload() {
    let Some(rig) = rig().await else { return };
    let (alice, bob) = alice_and_bob(&rig, "deletes").await;
    bob.say("still here").await;
    alice.sees_last("still here").await;
    react(&bob, 1, "🎉").await;
    shows(
        &alice,
        "alice",
        &[
            message(1, "hello there", false, &[("🎉", 1)]),
            message(2, "still here", false, &[]),
        ],
    )
    .await;

    delete(&alice, 1).await;
    let want = [tombstone(1), message(2, "still here", false, &[])];
    shows(&alice, "alice", &want).await;
    shows(&bob, "bob", &want).await;
    assert!(
        alice.same_page().await && bob.same_page().await,
        "no reload"
    );
    for (who, browser) in [("alice", &alice), ("bob", &bob)] {
        assert_eq!(
            browser
                .js(
                    "return document.querySelectorAll('#message-1 .act, #message-1 .menu').length",
                    vec![]
                )
                .await,
            json!(0),
            "{who}: nothing left to act on"
        );
        browser.client.refresh().await.expect("refresh");
        browser.find("#body").await;
        assert_eq!(shown(browser).await, want, "{who} after a reload");
    }
    alice.close().await;
    bob.close().await;
}
