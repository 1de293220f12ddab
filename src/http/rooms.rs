//! The room page, exiting a room, and the viewer's-own style sheet.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use tower_sessions::Session;

use super::session::{self, room_from_path, Membership};
use super::views::{html, Composer, HistoryPartial, MineCss, RoomPage, PAGE_SIZE};
use super::{AppError, AppState};

/// `/rooms/{room}`, `/rooms/{room}/exit` and `/mine/{id}.css`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/rooms/{room}", get(page))
        .route("/rooms/{room}/exit", post(exit))
        .route("/mine/{file}", get(mine_css))
}

/// `GET /rooms/{room}`: the newest messages and the composer, for members;
/// everyone else goes to the join form with the room filled in.
#[tracing::instrument(skip(state, session))]
async fn page(
    State(state): State<AppState>,
    session: Session,
    Path(room): Path<String>,
) -> Result<Response, AppError> {
    let room = room_from_path(&room)?;
    let member = match session::membership(&state, &session, &room).await? {
        Membership::Member(member) => member,
        Membership::Stranger => {
            return Ok(Redirect::to(&format!("/join-room?room={room}")).into_response())
        }
        Membership::Lost(name) => {
            let mut query = vec![("room", room.to_string())];
            query.extend(name.map(|name| ("name", name)));
            query.push(("why", "lost".to_owned()));
            let query = serde_urlencoded::to_string(&query)
                .map_err(|error| AppError::Internal(error.into()))?;
            return Ok(Redirect::to(&format!("/join-room?{query}")).into_response());
        }
    };
    let messages = state
        .store
        .messages_before(room.as_str(), i64::MAX, PAGE_SIZE + 1)
        .await?;
    let last_seq = messages.last().map_or(0, |m| m.seq);
    let page = RoomPage {
        room: room.to_string(),
        me: member.name,
        me_id: member.id,
        history: HistoryPartial::new(room.as_str(), messages),
        last_seq,
        composer: Composer {
            room: room.to_string(),
            value: String::new(),
            error: None,
            autofocus: true,
        },
    };
    Ok(([(header::CACHE_CONTROL, "no-store")], html(&page)?).into_response())
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
        session::forget(&session, &room).await?;
        tracing::info!(room = %room, member = member.id, "exited");
    }
    Ok(Redirect::to(&format!("/join-room?room={room}&why=left")).into_response())
}

/// `GET /mine/{id}.css`: rules that put member `id`'s messages on the right.
/// It holds nothing private (an id and colours), so it is cached for good.
async fn mine_css(Path(file): Path<String>) -> Result<Response, AppError> {
    let id = file
        .strip_suffix(".css")
        .and_then(|id| id.parse::<i64>().ok())
        .ok_or(AppError::NotFound("There is no such file."))?;
    let css = askama::Template::render(&MineCss { id })?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        css,
    )
        .into_response())
}
