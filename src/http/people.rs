//! The people side of a room: who is in it and here (`…/members`), typing
//! signals (`…/typing`), how far each member has read (`…/read`), and the
//! session's rooms with their unread counts (`/rooms`).

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use super::answer::Client;
use super::extract::FormOrJson;
use super::respond::no_store;
use super::session::{self, require_member, room_from_path};
use super::views::{html, MyRooms, RoomUnread};
use super::{AppError, AppState};
use crate::paths::route;

/// The people routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(route::MEMBERS, get(members))
        .route(route::TYPING, post(typing))
        .route(route::READ, post(read))
        .route(route::MY_ROOMS, get(my_rooms))
}

/// One member as `GET …/members` gives them to scripts.
#[derive(Debug, Serialize)]
struct MemberJson<'a> {
    name: &'a str,
    here: bool,
    typing: bool,
}

/// `GET /rooms/{room}/members`: the members panel (htmx, browsers) or the
/// list as JSON; members only.
async fn members(
    State(state): State<AppState>,
    session: Session,
    Path(room): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let room = room_from_path(&room)?;
    require_member(&state, &session, &room).await?;
    if Client::of(&headers) != Client::Json {
        // The panel the room's page shows, shared in a busy room: every
        // page reading it again after a restart costs no read of every
        // member.
        let (panel, _) = state.live.members_panel(&room).await?;
        return Ok(no_store(Html(panel)));
    }
    let members = state.live.members(&room).await?;
    let list: Vec<MemberJson> = members
        .iter()
        .map(|member| MemberJson {
            name: &member.name,
            here: member.here,
            typing: member.typing,
        })
        .collect();
    Ok(no_store(Json(list)))
}

/// `POST /rooms/{room}/typing`: 204, and the room's screens show the member
/// typing for a few seconds. One signal per member every two seconds is
/// passed on; the rest are dropped quietly (the screens still show it).
async fn typing(
    State(state): State<AppState>,
    session: Session,
    Path(room): Path<String>,
) -> Result<StatusCode, AppError> {
    let room = room_from_path(&room)?;
    let member = require_member(&state, &session, &room).await?;
    if state.limits.typing(member.id) {
        state
            .live
            .typed(&room, member.id, member.name.as_str())
            .await;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `cursor`, a number (JSON) or its digits (a form).
#[derive(Debug, Deserialize)]
struct ReadForm {
    cursor: Option<serde_json::Value>,
}

/// `POST /rooms/{room}/read` (`cursor`): 204; the room counts as read up
/// to that cursor for the member (a read position never moves back).
async fn read(
    State(state): State<AppState>,
    session: Session,
    Path(room): Path<String>,
    form: Result<FormOrJson<ReadForm>, AppError>,
) -> Result<StatusCode, AppError> {
    let room = room_from_path(&room)?;
    let member = require_member(&state, &session, &room).await?;
    let FormOrJson(form) = form?;
    let cursor = match form.cursor {
        Some(serde_json::Value::Number(number)) => number.as_i64(),
        Some(serde_json::Value::String(text)) => text.trim().parse::<i64>().ok(),
        _ => None,
    }
    .filter(|cursor| *cursor >= 0)
    .ok_or_else(|| AppError::invalid("The cursor must be a whole number, 0 or more."))?;
    state.store.mark_read(&room, member.id, cursor).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The session's rooms, with the name held in each and its unread count.
pub async fn rooms_of(state: &AppState, session: &Session) -> Result<Vec<RoomUnread>, AppError> {
    let seats = session::memberships(session).await?;
    let ids: Vec<i64> = seats.values().copied().collect();
    let unread = state.store.unread(&ids).await?;
    let mut rooms = Vec::with_capacity(seats.len());
    for (room, member_id) in seats {
        // A seat whose member is gone (released elsewhere) is not listed.
        let Some(member) = state.store.member(member_id).await? else {
            continue;
        };
        let count = unread
            .iter()
            .find(|unread| unread.member_id == member_id)
            .map_or(0, |unread| unread.count);
        rooms.push(RoomUnread {
            room,
            name: member.name.to_string(),
            unread: count,
        });
    }
    Ok(rooms)
}

/// One room as `GET /rooms` gives it to scripts.
#[derive(Debug, Serialize)]
struct RoomJson<'a> {
    room: &'a str,
    name: &'a str,
    unread: i64,
}

/// `GET /rooms`: the session's rooms with their unread counts, as the list
/// the room page and the join page show, or as JSON.
async fn my_rooms(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let rooms = rooms_of(&state, &session).await?;
    if Client::of(&headers) == Client::Json {
        let list: Vec<RoomJson> = rooms
            .iter()
            .map(|room| RoomJson {
                room: &room.room,
                name: &room.name,
                unread: room.unread,
            })
            .collect();
        return Ok(no_store(Json(list)));
    }
    Ok(no_store(html(&MyRooms::new(rooms, None))?).into_response())
}
