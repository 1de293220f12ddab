//! Editing and deleting a message (#14): the author only, every kind of
//! client, the tombstone, and the pages that work without JavaScript.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{
    anchor, cursor, delete, edit, is_rfc3339, json_of, message, message_seqs, read, stored, HTMX,
    JSON,
};
use natter_kit::{spawn_app, Backend, User};

natter_kit::on_both_backends!(
    the_author_edits_with_a_form_and_is_sent_back_to_the_message,
    patch_answers_json_clients_with_the_edited_message,
    htmx_edits_get_the_message_fragment_back,
    only_the_author_may_edit_or_delete,
    an_edit_that_keeps_the_body_changes_nothing,
    a_delete_leaves_a_tombstone_and_no_body_in_the_database,
    deleting_again_or_with_the_delete_verb_changes_nothing_more,
    the_pages_without_javascript_offer_what_each_member_may_do,
);

/// A plain form edit answers 303 to the message; the room shows the new
/// body, marked edited, and the edit took the room's next cursor.
async fn the_author_edits_with_a_form_and_is_sent_back_to_the_message(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user();
    alice.join("alice", "lobby").await;
    let seq = alice.say_json("lobby", "helo wrold").await;
    let response = alice
        .post_form(
            &format!("{}/edit", message("lobby", seq)),
            &[("body", "hello world")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        response.headers()["location"],
        anchor("lobby", seq).as_str()
    );

    let json = read(&alice, "lobby", seq).await;
    assert_eq!(json["body"], "hello world");
    assert!(json["edited_at"].as_str().is_some_and(is_rfc3339), "{json}");
    assert_eq!(cursor(&json), 2, "the edit took the room's next cursor");
    let (_, page) = alice.text("/rooms/lobby").await;
    assert!(page.contains("hello world"), "{page}");
    assert!(!page.contains("helo wrold"), "the old body is gone");
    assert!(page.contains(r#"class="edited""#), "marked edited");
}

/// PATCH with a JSON body (or a form) answers 200 with the message JSON,
/// trimmed like a post; without JSON Accept it answers like the form.
async fn patch_answers_json_clients_with_the_edited_message(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user();
    alice.join("alice", "lobby").await;
    let seq = alice.say_json("lobby", "frist").await;
    let path = message("lobby", seq);
    let json = json_of(
        alice.patch_json(&path, &json!({"body": "  first  "})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(json["seq"], seq);
    assert_eq!(json["author"], "alice");
    assert_eq!(json["body"], "first", "trimmed");
    assert_eq!(json["deleted"], false);
    assert!(json["edited_at"].as_str().is_some_and(is_rfc3339), "{json}");
    assert_eq!(cursor(&json), 2);

    let response = alice
        .client
        .patch(alice.url(&path))
        .header(JSON.0, JSON.1)
        .form(&[("body", "first!")])
        .send()
        .await
        .expect("PATCH");
    let json = json_of(response, StatusCode::OK).await;
    assert_eq!(json["body"], "first!", "a form body works too");
    assert_eq!(cursor(&json), 3);

    let response = alice
        .client
        .patch(alice.url(&path))
        .form(&[("body", "first!!")])
        .send()
        .await
        .expect("PATCH");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        response.headers()["location"],
        anchor("lobby", seq).as_str()
    );
    assert_eq!(read(&alice, "lobby", seq).await["body"], "first!!");
}

/// htmx gets the message fragment, the one the stream carries.
async fn htmx_edits_get_the_message_fragment_back(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user();
    alice.join("alice", "lobby").await;
    let seq = alice.say_json("lobby", "teh cat").await;
    let response = alice
        .post_form_with(
            &format!("{}/edit", message("lobby", seq)),
            HTMX,
            &[("body", "the cat")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.expect("body");
    assert!(
        html.trim_start()
            .starts_with(r#"<article class="msg" id="message-1""#),
        "{html}"
    );
    assert!(
        html.contains("the cat") && !html.contains("teh cat"),
        "{html}"
    );
    assert!(html.contains(r#"class="edited""#), "{html}");
    assert!(
        html.contains(r#"title="Edited "#),
        "the time on hover: {html}"
    );
    assert!(html.contains(r#"data-cursor="2""#), "{html}");
    let actions = format!(r#"href="{}/actions""#, message("lobby", seq));
    assert!(
        html.contains(&actions),
        "a way in without JavaScript: {html}"
    );
}

/// Another member, and the same name joined from another browser after
/// the author exited, get 403 on every verb; nothing changes.
async fn only_the_author_may_edit_or_delete(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user();
    alice.join("alice", "lobby").await;
    let seq = alice.say_json("lobby", "my words").await;
    let bob = app.user();
    bob.join("bob", "lobby").await;
    let before = stored(&app, &["lobby"]).await;

    let refused = |user: User| async move {
        let path = message("lobby", seq);
        let edit = format!("{path}/edit");
        let response = user.post_form(&edit, &[("body", "not yours")]).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "form edit");
        let response = user.patch_json(&path, &json!({"body": "not yours"})).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "PATCH");
        let response = user.post_form(&format!("{path}/delete"), &[]).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "form delete");
        let response = user.delete(&path).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "DELETE");
        let response = user.send_json(Method::DELETE, &path, None).await;
        let error = json_of(response, StatusCode::FORBIDDEN).await;
        assert!(error["error"].as_str().is_some_and(|e| !e.is_empty()));
        let (status, _) = user.text(&edit).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "the edit page");
    };
    refused(bob.clone()).await;

    let exit = alice.post_form("/rooms/lobby/exit", &[]).await;
    assert_eq!(exit.status(), StatusCode::SEE_OTHER);
    let impostor = app.user();
    impostor.join("alice", "lobby").await;
    refused(impostor).await;

    assert_eq!(stored(&app, &["lobby"]).await, before);
    let json = read(&bob, "lobby", seq).await;
    assert_eq!(json["body"], "my words");
    assert_eq!(json["edited_at"], serde_json::Value::Null);
    assert_eq!(json["deleted"], false);
}

/// An edit that leaves the body as it is (after trimming) takes no cursor
/// and does not mark the message edited.
async fn an_edit_that_keeps_the_body_changes_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user();
    alice.join("alice", "lobby").await;
    let seq = alice.say_json("lobby", "as it is").await;
    let before = stored(&app, &["lobby"]).await;
    let json = edit(&alice, "lobby", seq, "  as it is \n").await;
    assert_eq!(json["body"], "as it is");
    assert_eq!(json["edited_at"], serde_json::Value::Null);
    assert_eq!(cursor(&json), 1);
    assert_eq!(stored(&app, &["lobby"]).await, before);
}

/// The author deletes: 303 back to the place; history, the page and the
/// JSON show a tombstone, the numbering stays, and the database keeps
/// neither the body nor the message's reactions.
async fn a_delete_leaves_a_tombstone_and_no_body_in_the_database(backend: Backend) {
    let app = spawn_app(backend).await;
    let (alice, bob) = (app.user(), app.user());
    alice.join("alice", "lobby").await;
    bob.join("bob", "lobby").await;
    let seq = alice.say_json("lobby", "the secret plan").await;
    bob.say_json("lobby", "a reply").await;
    crate::helpers::react(&bob, "lobby", seq, "👍").await;

    let response = alice
        .post_form(&format!("{}/delete", message("lobby", seq)), &[])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        response.headers()["location"],
        anchor("lobby", seq).as_str()
    );

    let json = read(&bob, "lobby", seq).await;
    assert_eq!(json["body"], serde_json::Value::Null);
    assert_eq!(json["deleted"], true);
    assert_eq!(json["reactions"], json!([]));
    assert_eq!(cursor(&json), 4, "post, post, reaction, delete");
    let (_, history) = bob.text("/rooms/lobby/messages?before=3").await;
    let (_, page) = bob.text("/rooms/lobby").await;
    for html in [&history, &page] {
        assert_eq!(message_seqs(html), vec![1, 2], "numbering intact");
        assert!(html.contains(r#"class="msg deleted""#), "{html}");
        assert!(html.contains("message deleted"), "{html}");
        assert!(!html.contains("the secret plan"), "{html}");
        assert!(html.contains("a reply"));
    }
    let row = "FROM messages WHERE room = 'lobby' AND seq = 1";
    assert_eq!(
        app.count(&format!("SELECT COUNT(*) {row} AND body = ''"))
            .await,
        1
    );
    let deleted_at = format!("SELECT COUNT(*) {row} AND deleted_at IS NOT NULL");
    assert_eq!(app.count(&deleted_at).await, 1);
    let secret = "SELECT COUNT(*) FROM messages WHERE body LIKE '%secret%'";
    assert_eq!(app.count(secret).await, 0, "the body is gone");
    assert_eq!(app.count("SELECT COUNT(*) FROM reactions").await, 0);
    let (status, page) = bob.text(&message("lobby", seq)).await;
    assert_eq!(status, StatusCode::OK, "links still lead to it");
    assert!(page.contains("message deleted"));
}

/// DELETE answers like the delete form; deleting again answers the same
/// and takes no cursor; a deleted message cannot be edited or reacted to.
async fn deleting_again_or_with_the_delete_verb_changes_nothing_more(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user();
    alice.join("alice", "lobby").await;
    let first = alice.say_json("lobby", "one").await;
    let second = alice.say_json("lobby", "two").await;
    let response = alice.delete(&message("lobby", second)).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        response.headers()["location"],
        anchor("lobby", second).as_str()
    );
    let response = alice
        .send_json(Method::DELETE, &message("lobby", first), None)
        .await;
    let json = json_of(response, StatusCode::OK).await;
    assert_eq!(
        (json["deleted"].clone(), json["body"].clone()),
        (json!(true), json!(null))
    );
    let before = stored(&app, &["lobby"]).await;
    assert_eq!(app.count("SELECT last_cursor FROM rooms").await, 4);

    let again = delete(&alice, "lobby", first).await;
    assert_eq!(again, json, "the same message, unchanged");
    let response = alice.delete(&message("lobby", first)).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let response = alice
        .post_form_with(&format!("{}/delete", message("lobby", first)), HTMX, &[])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.expect("body");
    assert!(html.contains(r#"class="msg deleted""#), "{html}");
    assert!(
        html.contains("message deleted") && !html.contains(">one<"),
        "{html}"
    );

    let path = format!("{}/edit", message("lobby", first));
    let response = alice.post_form_with(&path, JSON, &[("body", "back")]).await;
    let error = json_of(response, StatusCode::NOT_FOUND).await;
    assert_eq!(error["error"], "That message was deleted.");
    let path = format!("{}/reactions", message("lobby", first));
    let response = alice.post_form_with(&path, JSON, &[("emoji", "👍")]).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(stored(&app, &["lobby"]).await, before);
}

/// The edit page (author only) and the actions page: reaction forms for
/// everyone, the edit link and delete form for the author alone.
async fn the_pages_without_javascript_offer_what_each_member_may_do(backend: Backend) {
    let app = spawn_app(backend).await;
    let (alice, bob) = (app.user(), app.user());
    alice.join("alice", "lobby").await;
    bob.join("bob", "lobby").await;
    let seq = alice.say_json("lobby", "a draft & more").await;
    let base = message("lobby", seq);

    let (status, page) = alice.text(&format!("{base}/edit")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(&format!(r#"action="{base}/edit""#)), "{page}");
    assert!(page.contains("a draft &amp; more") || page.contains("a draft &#38; more"));
    let (status, _) = bob.text(&format!("{base}/edit")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, mine) = alice.text(&format!("{base}/actions")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, theirs) = bob.text(&format!("{base}/actions")).await;
    assert_eq!(status, StatusCode::OK);
    for page in [&mine, &theirs] {
        assert!(page.contains(&format!(r#"action="{base}/reactions""#)));
        for emoji in ["👍", "❤️", "😂", "🎉", "😮", "👀"] {
            assert!(page.contains(&format!(r#"value="{emoji}""#)), "{emoji}");
        }
    }
    assert!(mine.contains(&format!(r#"href="{base}/edit""#)), "{mine}");
    assert!(
        mine.contains(&format!(r#"action="{base}/delete""#)),
        "{mine}"
    );
    assert!(!theirs.contains(&format!("{base}/edit")), "{theirs}");
    assert!(!theirs.contains(&format!("{base}/delete")), "{theirs}");

    delete(&alice, "lobby", seq).await;
    let (status, _) = alice.text(&format!("{base}/edit")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "deleted");
    let (status, _) = alice.text(&format!("{}/edit", message("lobby", 99))).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "missing");
}
