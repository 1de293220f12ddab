//! The askama views: pages, the message partial shared by page, history and
//! SSE, and the encoding of a rendered message into an SSE frame.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex, PoisonError};

use askama::Template;
use axum::response::Html;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::OffsetDateTime;

use super::AppError;
use crate::chat::{Message, RoomName, Username};
use crate::live::RenderError;

mod body;
mod bots_page;
mod message_pages;
mod people;
pub mod search_page;

pub use body::body_html;
pub use bots_page::{BotView, BotsPage, Created};
pub use message_pages::{ActionsPage, EditPage};
pub use people::{members_html, typist_html, MembersPanel, MyRooms, RoomUnread};
pub use search_page::{ResultView, SearchPage};

/// How many messages a page or a history fragment shows.
pub const PAGE_SIZE: i64 = 50;

/// How many avatar colours `natter.css` defines (`.hue-0` …).
const AVATAR_HUES: u64 = 8;

/// How many names' colours [`hue_of`] remembers; past that it starts
/// over. About 100 bytes each.
const HUES_REMEMBERED: usize = 1024;

/// The avatar colour of a name (see [`hue_from_key`]), worked out once per
/// name: the key takes the name's confusable skeleton, about 6,000
/// instructions, two fifths of rendering a message, and a room's page (50
/// messages) or a busy room renders the same few names again and again.
fn hue_of(name: &str) -> u64 {
    static HUES: LazyLock<Mutex<HashMap<String, u64>>> = LazyLock::new(Mutex::default);
    // Never held while the key is worked out; a poisoned map is still a map.
    let remembered = || HUES.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(hue) = remembered().get(name) {
        return *hue;
    }
    let hue = hue_from_key(name);
    let mut hues = remembered();
    if hues.len() >= HUES_REMEMBERED {
        hues.clear();
    }
    hues.insert(name.to_owned(), hue);
    hue
}

/// FNV-1a of the name's comparison key (so "Bob" and "bob", which are one
/// name in a room, share a colour), stable across builds and instances,
/// unlike the standard library's hasher.
fn hue_from_key(name: &str) -> u64 {
    let key =
        Username::parse(name).map_or_else(|_| name.to_lowercase(), |name| name.key().to_owned());
    let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    });
    hash % AVATAR_HUES
}

/// A message as the partial shows it, in its current state. `natter.js`
/// turns the UTC times into the viewer's local time, and groups runs from
/// one author.
pub struct MessageView {
    room: RoomName,
    seq: i64,
    cursor: i64,
    author_id: i64,
    author: String,
    initial: String,
    /// One of a few avatar colours, chosen by the author's name, so one
    /// name keeps one colour whoever holds it and whenever (same for
    /// everyone).
    hue: u64,
    /// The body as HTML (escaped, mentions marked); `None` once deleted:
    /// the partial shows a tombstone.
    body: Option<String>,
    iso_time: String,
    short_time: String,
    /// When it was last edited, as an RFC 3339 time, if it was.
    edited: Option<String>,
    reactions: Vec<ReactionView>,
    /// Whether a bot posted it (the partial says so beside the name).
    bot: bool,
}

/// One emoji's reactions as a button: who reacted, by member id (for the
/// viewer's own highlight in `mine.css`) and by name (for the tooltip).
pub struct ReactionView {
    emoji: &'static str,
    count: usize,
    /// Member ids, space-separated: `mine.css` matches `[data-by~="id"]`.
    by_ids: String,
    /// Names, comma-separated.
    by_names: String,
}

/// Milliseconds since the epoch as (RFC 3339, "HH:MM UTC").
fn times(millis: i64) -> (String, String) {
    let time = OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    (
        time.format(&Rfc3339).unwrap_or_default(),
        time.format(format_description!("[hour]:[minute] UTC"))
            .unwrap_or_default(),
    )
}

impl From<&Message> for MessageView {
    fn from(message: &Message) -> Self {
        let (iso_time, short_time) = times(message.created_at);
        Self {
            room: message.room.clone(),
            seq: message.seq,
            cursor: message.cursor,
            author_id: message.author_id,
            author: message.author.clone(),
            initial: message
                .author
                .chars()
                .next()
                .map(|c| c.to_uppercase().collect())
                .unwrap_or_default(),
            hue: hue_of(&message.author),
            body: message.body.as_deref().map(body_html),
            iso_time,
            short_time,
            edited: message.edited_at.map(|at| times(at).0),
            reactions: message
                .reactions
                .iter()
                .map(|reaction| ReactionView {
                    emoji: reaction.emoji.as_str(),
                    count: reaction.by.len(),
                    by_ids: reaction
                        .by
                        .iter()
                        .map(|(id, _)| id.to_string())
                        .collect::<Vec<_>>()
                        .join(" "),
                    by_names: reaction
                        .by
                        .iter()
                        .map(|(_, name)| name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                })
                .collect(),
            bot: message.bot,
        }
    }
}

/// One message on its own: the SSE payload, and the answer to htmx.
#[derive(Template)]
#[template(path = "partials/message.html")]
pub struct MessagePartial {
    m: MessageView,
}

impl MessagePartial {
    /// The partial of `message` in its current state.
    pub fn new(message: &Message) -> Self {
        Self { m: message.into() }
    }
}

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

/// A message's HTML, as the page, the history and every stream show it
/// (the [`crate::live::Render`] startup hands to delivery).
pub fn message_html(message: &Message) -> Result<String, RenderError> {
    Ok(MessagePartial::new(message).render()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn by(author_id: i64, author: &str) -> MessageView {
        MessageView::from(&Message {
            room: crate::chat::RoomName::stored("lobby".into()),
            seq: 1,
            cursor: 1,
            author_id,
            author: author.into(),
            body: Some("hi".into()),
            created_at: 0,
            edited_at: None,
            reactions: Vec::new(),
            bot: false,
        })
    }

    #[test]
    fn one_name_keeps_one_colour() {
        // The same name held by different members (after an exit, say),
        // in any letter case, gets the same colour.
        for (a, b) in [(1, 2), (3, 11), (5, 1000)] {
            assert_eq!(by(a, "Alice").hue, by(b, "alice").hue, "{a} {b}");
        }
        let hues: std::collections::HashSet<u64> = ["Alice", "Bob", "Chloé", "Dana", "Eli", "Sam"]
            .iter()
            .map(|name| by(1, name).hue)
            .collect();
        assert!(hues.len() > 2, "names spread over the colours: {hues:?}");
    }
}
