//! Answering about one message, the same way for a post and for every
//! change to it: the fragment for htmx, JSON for scripts, a redirect for a
//! plain form.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::respond::see_other;
use super::views::{html, MessagePartial};
use super::AppError;
use crate::chat::Message;
use crate::paths;

/// How the client wants its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Client {
    /// htmx (`HX-Request: true`): HTML to swap in.
    Htmx,
    /// A script (`Accept: application/json`).
    Json,
    /// A plain form: a redirect to follow.
    Form,
}

impl Client {
    /// Reads what the request asks for.
    pub fn of(headers: &HeaderMap) -> Self {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
        };
        if header("hx-request") == "true" {
            Self::Htmx
        } else if header("accept").contains("application/json") {
            Self::Json
        } else {
            Self::Form
        }
    }
}

/// A stored message as JSON, in its current state.
#[derive(Debug, Serialize)]
pub struct MessageJson<'a> {
    seq: i64,
    room: &'a str,
    author: &'a str,
    /// `null` once deleted.
    body: Option<&'a str>,
    created_at: String,
    edited_at: Option<String>,
    deleted: bool,
    /// The room's cursor at the message's latest change (the stream's
    /// event id for it).
    cursor: i64,
    reactions: Vec<ReactionJson<'a>>,
    /// Whether a bot posted it.
    bot: bool,
}

/// Who reacted with one emoji.
#[derive(Debug, Serialize)]
struct ReactionJson<'a> {
    emoji: &'static str,
    count: usize,
    by: Vec<&'a str>,
}

/// Milliseconds since the epoch in RFC 3339.
pub fn rfc3339(millis: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .ok()
        .and_then(|time| time.format(&Rfc3339).ok())
        .unwrap_or_default()
}

impl MessageJson<'_> {
    /// When the message was posted, in RFC 3339.
    pub fn created_at(&self) -> &str {
        &self.created_at
    }
}

impl<'a> From<&'a Message> for MessageJson<'a> {
    fn from(message: &'a Message) -> Self {
        Self {
            seq: message.seq,
            room: message.room.as_str(),
            author: &message.author,
            body: message.body.as_deref(),
            created_at: rfc3339(message.created_at),
            edited_at: message.edited_at.map(rfc3339),
            deleted: message.is_deleted(),
            cursor: message.cursor,
            reactions: message
                .reactions
                .iter()
                .map(|reaction| ReactionJson {
                    emoji: reaction.emoji.as_str(),
                    count: reaction.by.len(),
                    by: reaction.by.iter().map(|(_, name)| name.as_str()).collect(),
                })
                .collect(),
            bot: message.bot,
        }
    }
}

/// A message as the one-line JSON a `?format=json` stream and a webhook
/// carry (the [`crate::live::Render`] startup hands to delivery).
pub fn message_json(message: &Message) -> Result<String, crate::live::RenderError> {
    Ok(serde_json::to_string(&MessageJson::from(message))?)
}

/// The answer to a change to `message` (or a request for it): its fragment
/// for htmx, its JSON for scripts, a 303 to it in its room for a form.
pub fn message(client: Client, message: &Message) -> Response {
    let mut response = match client {
        Client::Htmx => match html(&MessagePartial::new(message)) {
            Ok(fragment) => fragment.into_response(),
            Err(error) => error.into_response(),
        },
        Client::Json => (StatusCode::OK, Json(MessageJson::from(message))).into_response(),
        Client::Form => see_other(&paths::message_link(&message.room, message.seq)),
    };
    vary(&mut response);
    response
}

/// The answer to a failure, in the client's terms: JSON for scripts, the
/// sentence otherwise.
pub fn error(client: Client, error: AppError) -> Response {
    let mut response = match client {
        Client::Json => error.into_json_response(),
        Client::Htmx | Client::Form => error.into_response(),
    };
    vary(&mut response);
    response
}

/// The answer depends on these request headers: caches must know.
pub fn vary(response: &mut Response) {
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("HX-Request, Accept"));
}
