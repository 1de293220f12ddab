//! Each builder against its route, through axum's own router: a renamed
//! route fails here until its builder follows.

use axum::body::{to_bytes, Body};
use axum::http::{Request, StatusCode};
use axum::routing::any;
use axum::Router;
use tower::ServiceExt;

use super::*;

/// A router that answers each route with its own pattern.
fn router() -> Router {
    [
        route::HOME,
        route::JOIN,
        route::ROOM,
        route::MESSAGES,
        route::MESSAGE,
        route::MESSAGE_EDIT,
        route::MESSAGE_DELETE,
        route::MESSAGE_ACTIONS,
        route::REACTIONS,
        route::MEMBERS,
        route::TYPING,
        route::READ,
        route::MY_ROOMS,
        route::EVENTS,
        route::EXIT,
        route::SEARCH,
        route::EXPORT,
        route::BOTS,
        route::BOT,
        route::BOT_REVOKE,
        route::MINE,
        route::ASSET,
        route::FAVICON,
        route::HEALTH,
    ]
    .into_iter()
    .fold(Router::new(), |router, pattern| {
        router.route(pattern, any(move || async move { pattern }))
    })
}

/// The pattern `url` is routed to, or `None` when nothing matches.
async fn routed(url: &str) -> Option<String> {
    let request = Request::get(url).body(Body::empty()).ok()?;
    let response = router().oneshot(request).await.ok()?;
    if response.status() != StatusCode::OK {
        return None;
    }
    let body = to_bytes(response.into_body(), 1024).await.ok()?;
    String::from_utf8(body.to_vec()).ok()
}

fn lobby() -> RoomName {
    RoomName::parse("lobby").unwrap_or_else(|rule| panic!("{rule}"))
}

#[tokio::test]
async fn every_builder_routes_to_its_pattern() {
    let room = lobby();
    let cases = [
        (join().to_owned(), route::JOIN),
        (join_with(&room, Some("Zoë"), Some(Why::Lost)), route::JOIN),
        (super::room(&room), route::ROOM),
        (room_from(&room, "Lobby"), route::ROOM),
        (room_before(&room, 7), route::ROOM),
        (messages(&room), route::MESSAGES),
        (history_before(&room, 7), route::MESSAGES),
        (message_link(&room, 7), route::MESSAGE),
        (join_then(&room, &message(&room, 7)), route::JOIN),
        (message(&room, 7), route::MESSAGE),
        (message_edit(&room, 7), route::MESSAGE_EDIT),
        (message_delete(&room, 7), route::MESSAGE_DELETE),
        (message_actions(&room, 7), route::MESSAGE_ACTIONS),
        (reactions(&room, 7), route::REACTIONS),
        (super::members(&room), route::MEMBERS),
        (typing(&room), route::TYPING),
        (read(&room), route::READ),
        (my_rooms().to_owned(), route::MY_ROOMS),
        (events(&room), route::EVENTS),
        (events_after(&room, 7), route::EVENTS),
        (exit(&room), route::EXIT),
        (search(&room), route::SEARCH),
        (search_for(&room, "a b&c", Some(7)), route::SEARCH),
        (export(&room), route::EXPORT),
        (export_txt(&room), route::EXPORT),
        (bots(&room), route::BOTS),
        (bot(&room, "deploy bot/ü"), route::BOT),
        (bot_revoke(&room, "deploy bot"), route::BOT_REVOKE),
        (mine_css(12, "626f62"), route::MINE),
        (asset("natter.css", Some("abc")), route::ASSET),
        (asset("icon.svg", None), route::ASSET),
        (health().to_owned(), route::HEALTH),
    ];
    for (url, pattern) in cases {
        assert_eq!(routed(&url).await.as_deref(), Some(pattern), "{url}");
    }
}

#[test]
fn urls_are_spelled_as_the_pages_and_tests_expect() {
    let room = lobby();
    assert_eq!(super::room(&room), "/rooms/lobby");
    assert_eq!(room_from(&room, "Lobby"), "/rooms/lobby?from=Lobby");
    assert_eq!(room_before(&room, 71), "/rooms/lobby?before=71");
    assert_eq!(history_before(&room, 2), "/rooms/lobby/messages?before=2");
    assert_eq!(events_after(&room, 0), "/rooms/lobby/events?after=0");
    assert_eq!(message_link(&room, 4), "/rooms/lobby/messages/4#message-4");
    assert_eq!(
        join_then(&room, "/rooms/lobby/messages/4"),
        "/join-room?room=lobby&next=%2Frooms%2Flobby%2Fmessages%2F4"
    );
    assert_eq!(reactions(&room, 4), "/rooms/lobby/messages/4/reactions");
    assert_eq!(exit(&room), "/rooms/lobby/exit");
    assert_eq!(mine_css(3, "626f62"), "/mine/3-626f62.css");
    assert_eq!(join_with(&room, None, None), "/join-room?room=lobby");
    assert_eq!(
        join_with(&room, None, Some(Why::Left)),
        "/join-room?room=lobby&why=left"
    );
}

#[test]
fn query_values_are_percent_encoded() {
    let room = lobby();
    assert_eq!(
        join_with(&room, Some("Zoë <b>&"), Some(Why::Lost)),
        "/join-room?room=lobby&name=Zo%C3%AB+%3Cb%3E%26&why=lost"
    );
    assert_eq!(room_from(&room, "a&b=c"), "/rooms/lobby?from=a%26b%3Dc");
    assert_eq!(
        search_for(&room, "a b&c", Some(7)),
        "/rooms/lobby/search?q=a+b%26c&before=7"
    );
}

#[test]
fn only_pages_of_the_room_are_next() {
    let room = lobby();
    for ok in [
        "/rooms/lobby",
        "/rooms/lobby/messages/4",
        "/rooms/lobby?before=3",
        "/rooms/lobby/messages/4#message-4",
    ] {
        assert_eq!(next_in_room(&room, ok).as_deref(), Some(ok));
    }
    for refused in [
        "https://evil.example/rooms/lobby",
        "//evil.example/rooms/lobby",
        "/\\evil.example",
        "/rooms/lobbyx",
        "/rooms/other/messages/4",
        "/rooms/lobby//evil.example",
        "/rooms/lobby/\\evil.example",
        "/rooms/lobby/messages/4\r\nSet-Cookie: x=1",
        "/rooms/lobby/a b",
        "javascript:alert(1)",
        "",
    ] {
        assert_eq!(next_in_room(&room, refused), None, "{refused:?}");
    }
}
