//! A message's permalink as a page: `GET /rooms/{room}/messages/{seq}` in a
//! browser shows the room positioned on that message, highlighted, with
//! older messages above and newer ones below.
//!
//! When the page reaches the room's newest message it follows the room
//! live, by the room page's rule: the cursor is read before the messages,
//! and the stream replays every change after it, so nothing is missed and
//! a message shown twice is the same state replacing itself. A permalink
//! far back stops after a page of newer messages and links on to the next
//! (replaying thousands of messages into a page would help nobody); it is
//! a snapshot, like an older page, with a link back to the newest.
//!
//! A stranger is sent to join, and lands back here after joining
//! (`paths::join_then`).

use axum::http::StatusCode;
use axum::response::Response;

use super::respond::see_other;
use super::room_page::{self, Extras};
use super::session::{self, room_from_path, Membership};
use super::views::{HistoryPartial, MessageView, PAGE_SIZE};
use super::{AppError, AppState};
use crate::chat::RoomName;
use crate::paths::{self, Why};

/// How many older messages show above the linked one.
const OLDER: i64 = PAGE_SIZE / 2;

/// The permalink page of message `seq` of `room` (both from the path).
pub async fn page(
    state: &AppState,
    session: &tower_sessions::Session,
    room: &str,
    seq: &str,
) -> Result<Response, AppError> {
    let room = room_from_path(room)?;
    let member = match session::membership(state, session, &room).await? {
        Membership::Member(member) => member,
        Membership::Stranger => {
            let next = match seq.parse::<i64>() {
                Ok(seq) => paths::message_link(&room, seq),
                Err(_) => paths::room(&room),
            };
            return Ok(see_other(&paths::join_then(&room, &next)));
        }
        Membership::Lost(name) => {
            let to = paths::join_with(&room, name.as_deref(), Some(Why::Lost));
            return Ok(see_other(&to));
        }
    };
    let missing = || AppError::NotFound("There is no such message.");
    let seq = seq.parse::<i64>().map_err(|_| missing())?;
    state.store.message(&room, seq).await?.ok_or_else(missing)?;
    let extras = Extras {
        around: Some(seq),
        ..Extras::default()
    };
    room_page::render(state, session, &room, member, extras, StatusCode::OK).await
}

/// The messages around `seq`: up to [`OLDER`] before it, it, and up to a
/// page after it. Also whether that reaches the newest message (the page
/// is then live), and if not, where the next newer messages are.
pub async fn window(
    state: &AppState,
    room: &RoomName,
    seq: i64,
) -> Result<(HistoryPartial, bool, Option<String>), AppError> {
    let mut older = state.store.messages_before(room, seq, OLDER + 1).await?;
    let mut newer = state.store.messages_from(room, seq, PAGE_SIZE + 1).await?;
    let more_older = older.len() as i64 > OLDER;
    if more_older {
        older.remove(0);
    }
    let live = newer.len() as i64 <= PAGE_SIZE;
    let next = if live {
        None
    } else {
        newer.truncate(PAGE_SIZE as usize);
        newer
            .last()
            .map(|last| paths::message_link(room, last.seq + 1))
    };
    let messages: Vec<MessageView> = older.iter().chain(&newer).map(MessageView::from).collect();
    let history = HistoryPartial {
        room: room.clone(),
        more_before: more_older.then(|| older.first().map(|m| m.seq)).flatten(),
        messages,
    };
    Ok((history, live, next))
}
