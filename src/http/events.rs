//! The live stream of a room: `GET /rooms/{room}/events`, Server-Sent Events.
//!
//! This handler checks membership, opens the member's feed and returns it
//! as the body; how the feed delivers every change exactly once and in
//! order, and when it ends, is `live`'s (see `live::feed`).

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use futures_util::StreamExt;
use serde::Deserialize;
use std::convert::Infallible;
use tower_sessions::Session;

use super::bearer;
use super::respond::no_store;
use super::session::{self, require_member, room_from_path};
use super::{AppError, AppState};
use crate::live::Opening;
use crate::paths::route;

/// `/rooms/{room}/events`.
pub fn router() -> Router<AppState> {
    Router::new().route(route::EVENTS, get(events))
}

#[derive(Debug, Deserialize)]
struct EventsQuery {
    after: Option<String>,
    format: Option<String>,
}

/// `GET /rooms/{room}/events`: members only, by their session, or a bot by
/// its token. `?format=json` writes each change as the message JSON.
#[tracing::instrument(skip(state, session, headers, query))]
async fn events(
    State(state): State<AppState>,
    session: Session,
    Path(room): Path<String>,
    headers: HeaderMap,
    query: Result<Query<EventsQuery>, QueryRejection>,
) -> Result<Response, AppError> {
    let room = room_from_path(&room)?;
    let json = match query.as_ref().ok().and_then(|q| q.format.as_deref()) {
        None | Some("html") => false,
        Some("json") => true,
        Some(_) => return Err(AppError::invalid("format must be html or json.")),
    };
    let (presence, member) = if bearer::presented(&headers) {
        // A bot's stream ends when it is revoked (on any instance: the
        // revoke ends the member like an exit).
        let Some(bot) = bearer::bot_of(&state, &headers, &room).await? else {
            return Err(AppError::Unauthorized(bearer::REFUSED));
        };
        let presence = state.live.enter(bot.id, i64::MAX);
        // Checked again now that the stream is registered: a revoke that
        // committed in between is seen here.
        if bearer::bot_of(&state, &headers, &room).await?.is_none() {
            return Err(AppError::Unauthorized(bearer::REFUSED));
        }
        (presence, bot)
    } else {
        // Present before the membership is checked: an exit that commits
        // after the check finds this stream and ends it, one that commits
        // before fails the check. The stream also ends when its session
        // expires.
        let claimed = session::memberships(&session)
            .await?
            .get(room.as_str())
            .copied();
        let Some(claimed) = claimed else {
            return Err(AppError::Forbidden("Join this room first."));
        };
        let presence = state
            .live
            .enter(claimed, session::expires_at(&state, &session).await?);
        (presence, require_member(&state, &session, &room).await?)
    };
    let permit = state.limits.open_stream(member.id)?;
    // The header wins: it is what the client really received last.
    let after = headers
        .get("last-event-id")
        .and_then(|value| value.to_str().ok())
        .or(query.as_ref().ok().and_then(|q| q.after.as_deref()))
        .map(|value| {
            value
                .trim()
                .parse::<i64>()
                .map_err(|_| AppError::invalid("The last event id must be a cursor number."))
        })
        .transpose()?;

    let feed = state
        .live
        .open(&room, presence, Opening { after, json }, Box::new(permit))
        .await?;
    let body = feed.map(Ok::<_, Infallible>);

    let mut response = no_store((
        [(header::CONTENT_TYPE, "text/event-stream")],
        Body::from_stream(body),
    ));
    // Tell nginx-style proxies not to buffer the stream.
    response.headers_mut().insert(
        header::HeaderName::from_static("x-accel-buffering"),
        header::HeaderValue::from_static("no"),
    );
    Ok(response)
}
