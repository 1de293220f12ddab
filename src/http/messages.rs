//! Posting a message, and reading older history.

use std::net::IpAddr;

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Json, Router};
use serde::Deserialize;
use tower_sessions::Session;

use super::answer::{self, Client, MessageJson};
use super::respond::{no_store, see_other};
use super::room_page::{self, Extras};
use super::session::{require_member, room_from_path};
use super::views::{html, retryable, Composer, HistoryPartial, PAGE_SIZE};
use super::{AppError, AppState, ClientIp};
use crate::chat::{now_millis, Message, MessageBody, RoomName};
use crate::paths::{self, route};

/// `/rooms/{room}/messages`.
pub fn router() -> Router<AppState> {
    Router::new().route(route::MESSAGES, get(history).post(post))
}

/// The posted form. Any other field (an `author`, say) is ignored: the
/// author is always the session's member.
#[derive(Debug, Deserialize)]
pub struct PostForm {
    #[serde(default)]
    body: String,
}

/// `POST /rooms/{room}/messages`: stores the message, broadcasts it to the
/// room, and answers htmx with a fresh composer, JSON clients with 201 and
/// the message, and plain forms with a 303 back to the room.
#[tracing::instrument(skip(state, session, headers, form))]
async fn post(
    State(state): State<AppState>,
    session: Session,
    Path(room): Path<String>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    form: Result<Form<PostForm>, FormRejection>,
) -> Response {
    let client = Client::of(&headers);
    let typed = form.as_ref().map(|f| f.body.clone()).unwrap_or_default();
    // The URLs of the answer are built from the room as parsed; a path that
    // is no room gets the plain error, as no page posts there.
    let parsed = RoomName::parse(&room).ok();
    let mut response = match (
        store_and_publish(&state, &session, &room, ip, form).await,
        &parsed,
    ) {
        (Ok(message), Some(room)) => match client {
            Client::Htmx => composer(room, String::new(), None, StatusCode::OK),
            Client::Json => {
                (StatusCode::CREATED, Json(MessageJson::from(&message))).into_response()
            }
            Client::Form => see_other(&paths::room(room)),
        },
        // A non-member's htmx post goes to the join form instead of
        // swapping an error into a page they can no longer use.
        (Err(error @ AppError::Forbidden(_)), Some(room)) if client == Client::Htmx => {
            let mut response = error.into_response();
            let join = paths::join_with(room, None, None);
            if let Ok(location) = HeaderValue::from_str(&join) {
                response.headers_mut().insert("hx-redirect", location);
            }
            response
        }
        (Err(error), Some(room)) if client == Client::Htmx => {
            error.log();
            let response = composer(room, typed, Some(error.user_message()), error.status());
            error.with_retry_after(response)
        }
        (Ok(_), None) => AppError::NotFound("There is no such room.").into_response(),
        (Err(error), None) if client == Client::Htmx => error.into_response(),
        (Err(error), _) if client == Client::Json => error.into_json_response(),
        (Err(error), _) => page_with_error(&state, &session, &room, typed, error).await,
    };
    answer::vary(&mut response);
    response
}

async fn store_and_publish(
    state: &AppState,
    session: &Session,
    room: &str,
    ip: IpAddr,
    form: Result<Form<PostForm>, FormRejection>,
) -> Result<Message, AppError> {
    let room = room_from_path(room)?;
    let member = require_member(state, session, &room).await?;
    state.limits.post(member.id, ip)?;
    let Form(form) = form?;
    let body = MessageBody::parse(&form.body).map_err(AppError::invalid)?;
    // Queued for publishing before this returns, in seq order; the
    // publishing task (see `startup::publish`) renders it once for all.
    let message = state
        .store
        .insert_message(&member, &body, now_millis())
        .await?
        .ok_or(AppError::NotFound("There is no such room."))?;
    Ok(message)
}

/// A failed form post without JavaScript: the room page again, the text
/// kept in the composer and the sentence beside it, so nobody is left on a
/// bare text page. A non-member (or no such room) gets the plain error.
async fn page_with_error(
    state: &AppState,
    session: &Session,
    room: &str,
    typed: String,
    error: AppError,
) -> Response {
    if matches!(error, AppError::Forbidden(_) | AppError::NotFound(_)) {
        return error.into_response();
    }
    let Ok(room) = room_from_path(room) else {
        return error.into_response();
    };
    let Ok(member) = require_member(state, session, &room).await else {
        return error.into_response();
    };
    error.log();
    let extras = Extras {
        draft: typed,
        error: Some(error.user_message()),
        ..Extras::default()
    };
    match room_page::render(state, session, &room, member, extras, error.status()).await {
        Ok(response) => error.with_retry_after(response),
        Err(_) => error.into_response(),
    }
}

/// The composer as an htmx answer: empty and focused after a post, or with
/// the text kept and the error shown.
fn composer(room: &RoomName, value: String, error: Option<String>, status: StatusCode) -> Response {
    let composer = Composer {
        room: room.clone(),
        value,
        error,
        autofocus: true,
        retry: retryable(status),
    };
    match html(&composer) {
        Ok(page) => (status, page).into_response(),
        Err(error) => error.into_response(),
    }
}

/// `?before=` the seq to read back from.
#[derive(Debug, Deserialize)]
struct HistoryQuery {
    before: Option<i64>,
}

/// `GET /rooms/{room}/messages?before={seq}`: up to 50 older messages and,
/// when there are more, the element that loads the next page.
#[tracing::instrument(skip(state, session))]
async fn history(
    State(state): State<AppState>,
    session: Session,
    Path(room): Path<String>,
    query: Result<Query<HistoryQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, AppError> {
    let room = room_from_path(&room)?;
    require_member(&state, &session, &room).await?;
    let Query(query) = query.map_err(|_| AppError::invalid("before must be a message number."))?;
    let before = query.before.unwrap_or(i64::MAX);
    let messages = state
        .store
        .messages_before(&room, before, PAGE_SIZE + 1)
        .await?;
    let fragment = HistoryPartial::new(&room, messages);
    Ok(no_store(html(&fragment)?))
}
