//! The room page, exiting a room, and the viewer's-own style sheet.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use tower_sessions::Session;

use super::respond::see_other;
use super::room_page::{self, Extras};
use super::session::{self, room_from_path, Membership};
use super::views::MineCss;
use super::{AppError, AppState};
use crate::chat::RoomName;
use crate::paths::{self, route, Why};

/// `/rooms/{room}`, `/rooms/{room}/exit` and `/mine/{id}.css`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(route::ROOM, get(page))
        .route(route::EXIT, post(exit))
        .route(route::MINE, get(mine_css))
}

/// `?before=N` shows the page of messages before N (the link that reads
/// history without JavaScript); `?from=` is the room as typed at join.
#[derive(Debug, Deserialize)]
struct PageQuery {
    before: Option<String>,
    from: Option<String>,
}

/// `GET /rooms/{room}`: the newest messages and the composer, for members;
/// everyone else goes to the join form with the room filled in.
#[tracing::instrument(skip(state, session, query))]
async fn page(
    State(state): State<AppState>,
    session: Session,
    Path(room): Path<String>,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Response, AppError> {
    let room = room_from_path(&room)?;
    let member = match session::membership(&state, &session, &room).await? {
        Membership::Member(member) => member,
        Membership::Stranger => return Ok(see_other(&paths::join_with(&room, None, None))),
        Membership::Lost(name) => {
            let to = paths::join_with(&room, name.as_deref(), Some(Why::Lost));
            return Ok(see_other(&to));
        }
    };
    let query = query.ok().map(|Query(query)| query);
    let before = query
        .as_ref()
        .and_then(|q| q.before.as_deref())
        .and_then(|before| before.parse::<i64>().ok());
    let notice = query
        .as_ref()
        .and_then(|q| q.from.as_deref())
        .and_then(|typed| renamed_notice(typed, &room));
    let extras = Extras {
        before,
        notice,
        ..Extras::default()
    };
    room_page::render(&state, &session, &room, member, extras, StatusCode::OK).await
}

/// "Team-Chat" became team-chat: said once after a join, so nobody wonders
/// why the room they typed is spelled differently. Only for a typed name
/// that really leads to this room.
fn renamed_notice(typed: &str, room: &RoomName) -> Option<String> {
    let typed = typed.trim();
    let leads_here = typed.len() <= 64 && RoomName::parse(typed).is_ok_and(|r| &r == room);
    (leads_here && typed != room.as_str())
        .then(|| format!("“{typed}” became {room}: room names are lowercase."))
}

/// `POST /rooms/{room}/exit`: releases the name, ends the member's live
/// streams on every instance, and returns to the join page.
#[tracing::instrument(skip(state, session))]
async fn exit(
    State(state): State<AppState>,
    session: Session,
    Path(room): Path<String>,
) -> Result<Response, AppError> {
    let room = room_from_path(&room)?;
    if let Membership::Member(member) = session::membership(&state, &session, &room).await? {
        session::release(&state, member.id).await?;
        // Gone from the members panel at once, not after a grace.
        state.live.room_changed(&room);
        session::forget(&session, &room).await?;
        tracing::info!(room = %room, member = member.id, "exited");
    }
    Ok(see_other(&paths::join_with(&room, None, Some(Why::Left))))
}

/// `GET /mine/{id}.css`: rules that put member `id`'s messages on the right.
/// It holds nothing private (an id and colours), so it is cached for good.
async fn mine_css(Path(file): Path<String>) -> Result<Response, AppError> {
    let missing = || AppError::NotFound("There is no such file.");
    let stem = file.strip_suffix(".css").ok_or_else(missing)?;
    let (id, mention) = match stem.split_once('-') {
        Some((id, mention)) => (id, Some(mention)),
        None => (stem, None),
    };
    let id = id.parse::<i64>().map_err(|_| missing())?;
    // Only hex digits reach the style sheet: nothing can break out of its
    // selector.
    let mention = match mention {
        Some(hex)
            if !hex.is_empty()
                && hex.len() <= 512
                && hex.bytes().all(|b| b.is_ascii_hexdigit()) =>
        {
            Some(hex.to_ascii_lowercase())
        }
        Some(_) => return Err(missing()),
        None => None,
    };
    let css = askama::Template::render(&MineCss { id, mention })?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        css,
    )
        .into_response())
}
