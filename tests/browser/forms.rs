//! Forms that say what is wrong (issue 12, 5): a sentence with a fix,
//! focus on the first field in error, no silent truncation, and a word
//! when the room's name differs from what was typed.

use serde_json::json;

use super::support::*;

/// Where the focus is, and how the room field is marked.
const ROOM_FIELD: &str = "const r = document.getElementById('room');\
    const described = (r.getAttribute('aria-describedby') || '').split(' ')\
      .map(id => document.getElementById(id)?.textContent || '').join(' | ');\
    return [document.activeElement.id, r.getAttribute('aria-invalid'), described]";

/// A room with a space gets a sentence with a corrected name, the focus
/// goes to the room field, which is marked invalid and described by it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_room_is_explained_focused_and_marked() {
    let Some(rig) = rig().await else { return };
    let sam = rig.browser().await;
    sam.submit_join("Sam", "team chat").await;
    sam.find("#room-error").await;
    let field: (String, String, String) =
        serde_json::from_value(sam.js(ROOM_FIELD, vec![]).await).expect("field");
    assert_eq!(field.0, "room", "focus on the field in error");
    assert_eq!(field.1, "true");
    assert!(
        field
            .2
            .contains("Spaces are not allowed in a room name — try team-chat."),
        "{}",
        field.2
    );
    assert_eq!(
        sam.js("return document.getElementById('username').value", vec![])
            .await,
        json!("Sam"),
        "the name is kept"
    );
    sam.close().await;
}

/// A 40-character name is not cut to 32 behind the person's back: it is
/// sent as typed and the answer says how long it may be.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_name_is_not_cut_short_silently() {
    let Some(rig) = rig().await else { return };
    let sam = rig.browser().await;
    let forty = "Bartholomew Fitzgerald-Worthington".to_owned() + "-Smyth";
    assert_eq!(forty.chars().count(), 40);
    sam.submit_join(&forty, "names").await;
    eventually("the sentence shows", || async {
        sam.text("#username-error")
            .await
            .contains("at most 32 characters; this one has 40")
    })
    .await;
    assert_eq!(
        sam.path().await,
        "/join-room",
        "not joined under a cut name"
    );
    assert_eq!(
        sam.js(
            "return [document.activeElement.id, document.getElementById('username').value]",
            vec![]
        )
        .await,
        json!(["username", forty])
    );
    sam.close().await;
}

/// Joining "Team-Chat" says once, on the room page, that it is team-chat.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_room_page_says_when_the_room_name_was_changed() {
    let Some(rig) = rig().await else { return };
    let sam = rig.browser().await;
    sam.submit_join("Sam", "Team-Chat").await;
    eventually("the room opens", || async {
        sam.path().await == "/rooms/team-chat"
    })
    .await;
    assert_eq!(
        sam.text(".room-notice").await,
        "“Team-Chat” became team-chat: room names are lowercase."
    );
    sam.client.refresh().await.expect("refresh");
    sam.find("#body").await;
    assert_eq!(sam.text(".room-notice").await, "", "said once");
    sam.close().await;
}

/// After a session has ended entirely (no cookie), the join page offers
/// the name this browser last used in that room.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_join_page_offers_the_name_last_used_in_the_room() {
    let Some(rig) = rig().await else { return };
    let sam = rig.browser().await;
    sam.join("Zoë", "regulars").await;
    sam.client.delete_all_cookies().await.expect("cookies");
    sam.goto("/join-room?room=regulars").await;
    let name = "return document.getElementById('username').value";
    eventually("the name is offered", || async {
        sam.js(name, vec![]).await == json!("Zoë")
    })
    .await;
    sam.goto("/join-room?room=elsewhere").await;
    sam.find("#username").await;
    assert_eq!(sam.js(name, vec![]).await, json!(""), "only for that room");
    sam.close().await;
}
