//! Exporting a room: `GET /rooms/{room}/export`, for members, the whole
//! history oldest first, as JSON lines (one message JSON per line, as the
//! API shapes it) or with `?format=txt` as plain text.
//!
//! It is streamed a page at a time, keyset on seq: the server holds one
//! page, never the room, so memory stays flat however long the history.
//! Each page is read as it is sent, so a slow download holds no
//! transaction open; messages posted meanwhile are included up to the
//! moment the last page is read. A failure part-way ends the download
//! early (the client sees it cut short), and is logged.

use axum::body::{Body, Bytes};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use futures_util::stream;
use serde::Deserialize;
use tower_sessions::Session;

use super::answer::MessageJson;
use super::session::{require_member, room_from_path};
use super::{AppError, AppState};
use crate::chat::{Message, RoomName};
use crate::paths::route;
use crate::store::{Store, StoreError};

/// How many messages one read fetches and one chunk carries.
const PAGE: i64 = 500;

/// `/rooms/{room}/export`.
pub fn router() -> Router<AppState> {
    Router::new().route(route::EXPORT, get(export))
}

/// `?format=txt` for plain text; JSON lines otherwise.
#[derive(Debug, Deserialize)]
struct ExportQuery {
    format: Option<String>,
}

/// How the history is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    JsonLines,
    Text,
}

/// `GET /rooms/{room}/export`: the room's history, streamed.
#[tracing::instrument(skip(state, session, query))]
async fn export(
    State(state): State<AppState>,
    session: Session,
    Path(room): Path<String>,
    query: Result<Query<ExportQuery>, QueryRejection>,
) -> Result<Response, AppError> {
    let room = room_from_path(&room)?;
    require_member(&state, &session, &room).await?;
    let format = match query.ok().and_then(|Query(query)| query.format).as_deref() {
        None | Some("jsonl" | "json") => Format::JsonLines,
        Some("txt" | "text") => Format::Text,
        Some(_) => return Err(AppError::invalid("format is jsonl or txt.")),
    };
    let (content_type, extension) = match format {
        Format::JsonLines => ("application/x-ndjson; charset=utf-8", "jsonl"),
        Format::Text => ("text/plain; charset=utf-8", "txt"),
    };
    let disposition = format!("attachment; filename=\"natter-{room}.{extension}\"");
    let body = Body::from_stream(pages(state.store.clone(), room, format));
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response())
}

/// The history as chunks of one page each, read one at a time.
fn pages(
    store: Store,
    room: RoomName,
    format: Format,
) -> impl futures_util::Stream<Item = Result<Bytes, StoreError>> {
    // The next seq to read from; `None` once the last page is sent.
    stream::try_unfold(Some(1_i64), move |from| {
        let (store, room) = (store.clone(), room.clone());
        async move {
            let Some(from) = from else { return Ok(None) };
            let messages = store
                .messages_from(&room, from, PAGE)
                .await
                .inspect_err(|error| tracing::warn!(%room, %error, "export cut short"))?;
            let next = match messages.last() {
                Some(last) if messages.len() as i64 == PAGE => Some(last.seq + 1),
                Some(_) => None,
                None => return Ok(None),
            };
            let mut chunk = Vec::with_capacity(messages.len() * 160);
            for message in &messages {
                write(&mut chunk, message, format);
            }
            Ok(Some((Bytes::from(chunk), next)))
        }
    })
}

/// Appends one message in `format`, with its line break.
fn write(out: &mut Vec<u8>, message: &Message, format: Format) {
    match format {
        Format::JsonLines => {
            // Serializing a struct of strings and numbers cannot fail.
            if serde_json::to_writer(&mut *out, &MessageJson::from(message)).is_ok() {
                out.push(b'\n');
            }
        }
        Format::Text => out.extend_from_slice(text_line(message).as_bytes()),
    }
}

/// `[time] author: body` (continuation lines indented), `(edited)` after
/// an edited body, `(deleted)` for a deleted one.
fn text_line(message: &Message) -> String {
    let json = MessageJson::from(message);
    let time = json.created_at();
    let body = match &message.body {
        Some(body) => body.replace('\n', "\n    "),
        None => "(deleted)".to_owned(),
    };
    let edited = if message.edited_at.is_some() && message.body.is_some() {
        " (edited)"
    } else {
        ""
    };
    format!("[{time}] {}: {body}{edited}\n", message.author)
}
