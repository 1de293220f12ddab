//! The askama views: the pages and partials, each a struct over its
//! template; the message partial shared by page, history and SSE is in
//! `message`.

use askama::Template;
use axum::response::Html;

use super::AppError;
use crate::chat::{Message, RoomName};

mod body;
mod bots_page;
mod message;
mod message_pages;
mod people;
pub mod search_page;

pub use body::body_html;
pub use bots_page::{BotView, BotsPage, Created};
use message::times;
pub use message::{message_html, MessagePartial, MessageView};
pub use message_pages::{ActionsPage, EditPage};
pub use people::{members_html, typist_html, MembersPanel, MyRooms, RoomUnread};
pub use search_page::{ResultView, SearchPage};

/// How many messages a page or a history fragment shows.
pub const PAGE_SIZE: i64 = 50;

/// A run of messages with, when older ones exist, the element that loads
/// them once it scrolls into view.
#[derive(Template)]
#[template(path = "partials/history.html")]
pub struct HistoryPartial {
    /// The room, for the next page's URL.
    pub room: RoomName,
    /// Oldest first.
    pub messages: Vec<MessageView>,
    /// The seq to load older messages before, if there are any.
    pub more_before: Option<i64>,
}

impl HistoryPartial {
    /// Builds a page of history from up to `PAGE_SIZE + 1` messages, oldest
    /// first: the extra one only says that there is more.
    pub fn new(room: &RoomName, mut messages: Vec<Message>) -> Self {
        let has_more = messages.len() as i64 > PAGE_SIZE;
        if has_more {
            messages.remove(0);
        }
        let more_before = has_more.then(|| messages.first().map(|m| m.seq)).flatten();
        Self {
            room: room.clone(),
            messages: messages.iter().map(MessageView::from).collect(),
            more_before,
        }
    }
}

/// The composer: the message box and send button (also re-rendered after
/// each htmx post, empty, or with the text and an error).
#[derive(Template)]
#[template(path = "partials/composer.html")]
pub struct Composer {
    /// The room posted to.
    pub room: RoomName,
    /// The text to keep in the box (after an error).
    pub value: String,
    /// Why the last post failed, if it did.
    pub error: Option<String>,
    /// Focus the box once swapped in.
    pub autofocus: bool,
    /// The failure may pass by itself (429, 5xx): offer to try again.
    pub retry: bool,
}

/// Whether a failed post is worth sending again as it is.
pub fn retryable(status: axum::http::StatusCode) -> bool {
    status == axum::http::StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

/// The room page.
#[derive(Template)]
#[template(path = "pages/room.html")]
pub struct RoomPage {
    /// The room.
    pub room: RoomName,
    /// The viewer's name.
    pub me: String,
    /// The viewer's member id (for the viewer's-own style sheet).
    pub me_id: i64,
    /// The id mentions of the viewer carry.
    pub me_mention: String,
    /// How many are here.
    pub here_count: usize,
    /// The members panel, rendered.
    pub members: String,
    /// The session's rooms, rendered.
    pub rooms: String,
    /// The newest messages.
    pub history: HistoryPartial,
    /// The room's cursor when the page was read: the stream replays every
    /// change after it.
    pub cursor: i64,
    /// Whether the page follows the room live (the newest page does; an
    /// older page read with `?before=` does not).
    pub live: bool,
    /// The message a permalink shows, highlighted and scrolled to.
    pub linked: Option<i64>,
    /// Where the newer messages are, when the page stops short of the
    /// newest (a permalink far back).
    pub newer: Option<String>,
    /// A one-time sentence under the header (e.g. how the room was renamed).
    pub notice: Option<String>,
    /// The message box.
    pub composer: Composer,
}

/// The join page.
#[derive(Template)]
#[template(path = "pages/join.html")]
pub struct JoinPage {
    /// The username field's value.
    pub username: String,
    /// The room field's value.
    pub room: String,
    /// The page of the room to go on to once joined, if any (checked by
    /// `paths::next_in_room`).
    pub next: Option<String>,
    /// What is wrong with the username, if anything.
    pub username_error: Option<String>,
    /// What is wrong with the room, if anything.
    pub room_error: Option<String>,
    /// A sentence above the form (e.g. why the user is back here).
    pub notice: Option<String>,
    /// The rooms this session is in, with their unread counts.
    pub rooms: MyRooms,
}

/// The style sheet that puts one viewer's own messages on the right,
/// highlights their own reactions and the mentions of them.
#[derive(Template)]
#[template(path = "mine.css", escape = "none")]
pub struct MineCss {
    /// The viewer's member id.
    pub id: i64,
    /// The id mentions of the viewer carry (hex digits only), if known.
    pub mention: Option<String>,
}

/// Renders a template into an HTML response body.
pub fn html(template: &impl Template) -> Result<Html<String>, AppError> {
    Ok(Html(template.render()?))
}
