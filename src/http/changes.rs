//! Changing a posted message: editing and deleting it (its author only),
//! and toggling one's reaction (any member). Each is a plain form post
//! with a 303 back, an htmx request answered with the message's fragment,
//! or a JSON request; `PATCH` and `DELETE` on the message do the same.
//! Also the message on its own: as JSON, and the pages that edit it and
//! react to it without JavaScript.

use std::net::IpAddr;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use tower_sessions::Session;

use super::answer::{self, Client};
use super::extract::FormOrJson;
use super::permalink;
use super::respond::no_store;
use super::session::{require_member, room_from_path};
use super::views::{html, ActionsPage, EditPage};
use super::{AppError, AppState, ClientIp};
use crate::chat::{now_millis, Change, Emoji, Member, Message, MessageBody, Refusal};
use crate::paths::route;

/// The message routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(route::MESSAGE, get(show).patch(edit).delete(delete))
        .route(route::MESSAGE_EDIT, get(edit_page).post(edit))
        .route(route::MESSAGE_DELETE, post(delete))
        .route(route::MESSAGE_ACTIONS, get(actions_page))
        .route(route::REACTIONS, post(react))
}

impl From<Refusal> for AppError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::NoSuchMessage => Self::NotFound("There is no such message."),
            Refusal::Deleted => Self::NotFound("That message was deleted."),
            Refusal::NotAuthor => Self::Forbidden("Only its author can change a message."),
        }
    }
}

/// An edit's fields.
#[derive(Debug, Deserialize)]
struct EditForm {
    #[serde(default)]
    body: String,
}

/// A reaction's fields.
#[derive(Debug, Deserialize)]
struct ReactForm {
    #[serde(default)]
    emoji: String,
}

/// The member acting on message `seq` of `room`, with its flood limit
/// taken: changes cost the room's screens what a post costs.
async fn actor(
    state: &AppState,
    session: &Session,
    room: &str,
    seq: &str,
    ip: Option<IpAddr>,
) -> Result<(Member, i64), AppError> {
    let room = room_from_path(room)?;
    let member = require_member(state, session, &room).await?;
    let seq = seq
        .parse::<i64>()
        .map_err(|_| AppError::NotFound("There is no such message."))?;
    if let Some(ip) = ip {
        state.limits.post(member.id, ip)?;
    }
    Ok((member, seq))
}

/// Applies a change the request asked for, and answers in its terms.
async fn apply(
    state: &AppState,
    session: &Session,
    (room, seq): (String, String),
    ip: IpAddr,
    headers: &HeaderMap,
    change: Result<Change, AppError>,
) -> Response {
    let client = Client::of(headers);
    let changed = async {
        let (member, seq) = actor(state, session, &room, &seq, Some(ip)).await?;
        let change = change?;
        Ok::<Message, AppError>(
            state
                .store
                .change_message(&member, seq, change, now_millis())
                .await??,
        )
    };
    match changed.await {
        Ok(message) => answer::message(client, &message),
        Err(error) => answer::error(client, error),
    }
}

/// `POST …/edit` and `PATCH /rooms/{room}/messages/{seq}`: the author
/// replaces the body (same rules as posting).
async fn edit(
    State(state): State<AppState>,
    session: Session,
    Path(path): Path<(String, String)>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    form: Result<FormOrJson<EditForm>, AppError>,
) -> Response {
    let change = form.and_then(|FormOrJson(form)| {
        MessageBody::parse(&form.body)
            .map(Change::Edit)
            .map_err(AppError::invalid)
    });
    apply(&state, &session, path, ip, &headers, change).await
}

/// `POST …/delete` and `DELETE /rooms/{room}/messages/{seq}`: the author
/// deletes the message; a tombstone stays.
async fn delete(
    State(state): State<AppState>,
    session: Session,
    Path(path): Path<(String, String)>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
) -> Response {
    apply(&state, &session, path, ip, &headers, Ok(Change::Delete)).await
}

/// `POST …/reactions` (`emoji`): adds the member's reaction, or takes it
/// back.
async fn react(
    State(state): State<AppState>,
    session: Session,
    Path(path): Path<(String, String)>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    form: Result<FormOrJson<ReactForm>, AppError>,
) -> Response {
    let change = form.and_then(|FormOrJson(form)| {
        Emoji::parse(&form.emoji)
            .map(Change::React)
            .map_err(AppError::invalid)
    });
    apply(&state, &session, path, ip, &headers, change).await
}

/// The message `seq` of `room` for a member, in its current state.
async fn read(
    state: &AppState,
    session: &Session,
    (room, seq): &(String, String),
) -> Result<(Member, Message), AppError> {
    let (member, seq) = actor(state, session, room, seq, None).await?;
    let message = state
        .store
        .message(&member.room, seq)
        .await?
        .ok_or(AppError::NotFound("There is no such message."))?;
    Ok((member, message))
}

/// `GET /rooms/{room}/messages/{seq}`: the message JSON for scripts, its
/// fragment for htmx; for a browser, its permalink page (see
/// `permalink`).
async fn show(
    State(state): State<AppState>,
    session: Session,
    Path(path): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let client = Client::of(&headers);
    if client == Client::Form {
        let mut response = match permalink::page(&state, &session, &path.0, &path.1).await {
            Ok(response) => response,
            Err(error) => error.into_response(),
        };
        answer::vary(&mut response);
        return response;
    }
    match read(&state, &session, &path).await {
        Ok((_, message)) => no_store(answer::message(client, &message)),
        Err(error) => answer::error(client, error),
    }
}

/// `GET …/edit`: the edit form, for the author of a message not deleted.
async fn edit_page(
    State(state): State<AppState>,
    session: Session,
    Path(path): Path<(String, String)>,
) -> Result<Response, AppError> {
    let (member, message) = read(&state, &session, &path).await?;
    if message.is_deleted() {
        return Err(Refusal::Deleted.into());
    }
    if message.author_id != member.id {
        return Err(Refusal::NotAuthor.into());
    }
    Ok(no_store(html(&EditPage::new(&message))?))
}

/// `GET …/actions`: reacting, and for the author editing and deleting,
/// as plain forms for browsers without JavaScript.
async fn actions_page(
    State(state): State<AppState>,
    session: Session,
    Path(path): Path<(String, String)>,
) -> Result<Response, AppError> {
    let (member, message) = read(&state, &session, &path).await?;
    if message.is_deleted() {
        return Err(Refusal::Deleted.into());
    }
    let page = ActionsPage::new(&message, message.author_id == member.id);
    Ok(no_store(html(&page)?).into_response())
}
