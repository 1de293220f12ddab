//! Rendering the room page: for `GET /rooms/{room}` (the newest messages,
//! or an older page with `?before=`), and again for a form post without
//! JavaScript that failed, so the error shows in the composer in place.

use axum::http::StatusCode;
use axum::response::Response;

use super::respond::no_store;
use askama::Template;
use tower_sessions::Session;

use super::people::rooms_of;
use super::views::{html, retryable, Composer, HistoryPartial, MyRooms, RoomPage, PAGE_SIZE};
use super::{AppError, AppState};
use crate::chat::Member;
use crate::chat::RoomName;

/// What the page shows besides the room's messages.
#[derive(Debug, Default)]
pub struct Extras {
    /// Show the page of messages before this seq instead of the newest.
    pub before: Option<i64>,
    /// A one-time sentence under the header.
    pub notice: Option<String>,
    /// The text to keep in the composer.
    pub draft: String,
    /// Why the last post failed, shown in the composer.
    pub error: Option<String>,
    /// Show the messages around this seq, it highlighted (a permalink).
    pub around: Option<i64>,
}

/// The room page for `member`, with `status` (200, or the failed post's).
pub async fn render(
    state: &AppState,
    session: &Session,
    room: &RoomName,
    member: Member,
    extras: Extras,
    status: StatusCode,
) -> Result<Response, AppError> {
    let before = extras.before.filter(|before| *before > 0);
    // The cursor before the messages: a change between the two reads is
    // replayed by the stream, and a message already shown in its newest
    // state is replaced by the same state, never shown twice.
    let cursor = state.store.last_cursor(room).await?;
    let (members, here_count) = state.live.members_panel(room).await?;
    let (history, live, newer) = match extras.around {
        Some(seq) => super::permalink::window(state, room, seq).await?,
        None => {
            let messages = state
                .store
                .messages_before(room, before.unwrap_or(i64::MAX), PAGE_SIZE + 1)
                .await?;
            // An older page is a snapshot to read: live messages would land
            // below it with a gap, so it links back to the newest instead.
            (HistoryPartial::new(room, messages), before.is_none(), None)
        }
    };
    let mut seats = rooms_of(state, session).await?;
    // The newest page shows everything up to `cursor`: the room is read
    // that far, with or without JavaScript, and its list entry says so.
    // Only a room with something unread costs a write.
    if live && extras.around.is_none() {
        if let Some(seat) = seats.iter_mut().find(|seat| seat.room == room.as_str()) {
            if seat.unread > 0 {
                state.store.mark_read(room, member.id, cursor).await?;
                seat.unread = 0;
            }
        }
    }
    let rooms = MyRooms::new(seats, Some(room)).render()?;
    let page = RoomPage {
        room: room.clone(),
        me: member.name.to_string(),
        me_id: member.id,
        me_mention: member.name.mention_id().as_str().to_owned(),
        here_count,
        members,
        rooms,
        history,
        cursor,
        live,
        linked: extras.around,
        newer,
        notice: extras.notice,
        composer: Composer {
            room: room.clone(),
            value: extras.draft,
            autofocus: extras.error.is_some() || live && extras.around.is_none(),
            error: extras.error,
            retry: retryable(status),
        },
    };
    Ok(no_store((status, html(&page)?)))
}
