//! Posting a message, and reading older history.

use std::net::IpAddr;

use axum::extract::rejection::FormRejection;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Json, Router};
use serde::Deserialize;
use tower_sessions::Session;

use super::answer::{self, Client, MessageJson};
use super::bearer;
use super::extract::PostedText;
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
/// the message, and plain forms with a 303 back to the room. A request
/// with `Authorization` is a bot's (see [`post_as_bot`]).
#[tracing::instrument(skip(state, session, headers, request))]
async fn post(
    State(state): State<AppState>,
    session: Session,
    Path(room): Path<String>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    request: Request,
) -> Response {
    if bearer::presented(&headers) {
        let text = PostedText::from_request(request, &state).await;
        return post_as_bot(&state, &room, &headers, text)
            .await
            .unwrap_or_else(AppError::into_json_response);
    }
    let form = Form::<PostForm>::from_request(request, &state).await;
    post_as_member(state, session, room, ip, headers, form).await
}

/// A bot's post: its token names it, the body may be a form field, JSON or
/// plain text, and the answer is always the message JSON (201).
async fn post_as_bot(
    state: &AppState,
    room: &str,
    headers: &HeaderMap,
    text: Result<PostedText, AppError>,
) -> Result<Response, AppError> {
    let room = room_from_path(room)?;
    let bot = bearer::bot_of(state, headers, &room)
        .await?
        .ok_or(AppError::Unauthorized(bearer::REFUSED))?;
    state.limits.bot_post(bot.id)?;
    let PostedText(text) = text?;
    let body = MessageBody::parse(&text).map_err(AppError::invalid)?;
    let message = state
        .store
        .insert_message(&bot, &body, now_millis())
        .await?
        .ok_or(AppError::NotFound("There is no such room."))?;
    let mut response = (StatusCode::CREATED, Json(MessageJson::from(&message))).into_response();
    answer::vary(&mut response);
    Ok(response)
}

/// A member's post, from their session.
async fn post_as_member(
    state: AppState,
    session: Session,
    room: String,
    ip: IpAddr,
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
    // Sending ends typing: `GET …/members` stops saying so at once (the
    // screens drop the line when the message arrives).
    state.live.stopped_typing(&room, member.id);
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

/// `?before=` the seq to read back from; `?after=` the cursor to read on
/// from (the JSON read API), and at most `limit` messages.
#[derive(Debug, Deserialize)]
struct HistoryQuery {
    before: Option<String>,
    after: Option<String>,
    limit: Option<String>,
}

/// The most messages one read of the JSON API returns.
const READ_LIMIT: i64 = 100;

/// `GET /rooms/{room}/messages?before={seq}`: up to 50 older messages and,
/// when there are more, the element that loads the next page. With
/// `?after=` or `Accept: application/json`, the read API (see [`read`]);
/// a bot may use that with its token.
#[tracing::instrument(skip(state, session, headers))]
async fn history(
    State(state): State<AppState>,
    session: Session,
    Path(room): Path<String>,
    headers: HeaderMap,
    query: Result<Query<HistoryQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let json = Client::of(&headers) == Client::Json
        || bearer::presented(&headers)
        || query.as_ref().is_ok_and(|Query(q)| q.after.is_some());
    let answer = if json {
        read(&state, &session, &room, &headers, query).await
    } else {
        older(&state, &session, &room, query).await
    };
    let mut response = match answer {
        Ok(response) => response,
        Err(error) if json => error.into_json_response(),
        Err(error) => error.into_response(),
    };
    answer::vary(&mut response);
    response
}

/// The read API: up to 100 messages that changed after cursor `after`
/// (0 if not given), each once, in its current state, in cursor order,
/// with the cursor to go on from. Paging on with `after=cursor` until
/// `more` is false reads the whole room, each message once, as a stream
/// resumed at that cursor would go on.
async fn read(
    state: &AppState,
    session: &Session,
    room: &str,
    headers: &HeaderMap,
    query: Result<Query<HistoryQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, AppError> {
    let room = room_from_path(room)?;
    if bearer::bot_of(state, headers, &room).await?.is_none() {
        require_member(state, session, &room).await?;
    }
    let Query(query) = query.map_err(|_| AppError::invalid("after must be a cursor number."))?;
    let number = |text: Option<&str>, sentence: &'static str| {
        text.map(|text| {
            text.trim()
                .parse::<i64>()
                .map_err(|_| AppError::invalid(sentence))
        })
        .transpose()
    };
    let after = number(query.after.as_deref(), "after must be a cursor number.")?.unwrap_or(0);
    let limit = number(
        query.limit.as_deref(),
        "limit must be a number from 1 to 100.",
    )?
    .unwrap_or(READ_LIMIT);
    if !(1..=READ_LIMIT).contains(&limit) {
        return Err(AppError::invalid("limit must be a number from 1 to 100."));
    }
    // One more than asked says whether there is more.
    let mut messages = state
        .store
        .changes_after(&room, after.max(0), limit + 1)
        .await?;
    let more = messages.len() as i64 > limit;
    messages.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let cursor = messages.last().map_or(after, |message| message.cursor);
    let body = serde_json::json!({
        "messages": messages.iter().map(MessageJson::from).collect::<Vec<_>>(),
        "cursor": cursor,
        "more": more,
    });
    Ok(no_store(Json(body)))
}

/// The history fragment: older messages before `before`.
async fn older(
    state: &AppState,
    session: &Session,
    room: &str,
    query: Result<Query<HistoryQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, AppError> {
    let room = room_from_path(room)?;
    require_member(state, session, &room).await?;
    let before = query
        .ok()
        .and_then(|Query(query)| query.before)
        .map(|before| before.trim().parse::<i64>())
        .transpose()
        .map_err(|_| AppError::invalid("before must be a message number."))?;
    let before = before.unwrap_or(i64::MAX);
    let messages = state
        .store
        .messages_before(&room, before, PAGE_SIZE + 1)
        .await?;
    let fragment = HistoryPartial::new(&room, messages);
    Ok(no_store(html(&fragment)?))
}
