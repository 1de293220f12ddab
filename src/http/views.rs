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
use crate::paths;

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

/// A message as the partial shows it. `natter.js` turns the UTC time into
/// the viewer's local time, and groups runs from one author.
pub struct MessageView {
    seq: i64,
    author_id: i64,
    author: String,
    initial: String,
    /// One of a few avatar colours, chosen by the author's name, so one
    /// name keeps one colour whoever holds it and whenever (same for
    /// everyone).
    hue: u64,
    body: String,
    iso_time: String,
    short_time: String,
}

impl From<&Message> for MessageView {
    fn from(message: &Message) -> Self {
        let time =
            OffsetDateTime::from_unix_timestamp_nanos(i128::from(message.created_at) * 1_000_000)
                .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        Self {
            seq: message.seq,
            author_id: message.author_id,
            author: message.author.clone(),
            initial: message
                .author
                .chars()
                .next()
                .map(|c| c.to_uppercase().collect())
                .unwrap_or_default(),
            hue: hue_of(&message.author),
            body: message.body.clone(),
            iso_time: time.format(&Rfc3339).unwrap_or_default(),
            short_time: time
                .format(format_description!("[hour]:[minute] UTC"))
                .unwrap_or_default(),
        }
    }
}

/// One message on its own: the SSE payload.
#[derive(Template)]
#[template(path = "partials/message.html")]
pub struct MessagePartial {
    m: MessageView,
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
    /// The newest messages.
    pub history: HistoryPartial,
    /// The seq of the newest message shown: the stream replays after it.
    pub last_seq: i64,
    /// Whether the page follows the room live (the newest page does; an
    /// older page read with `?before=` does not).
    pub live: bool,
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
    /// What is wrong with the username, if anything.
    pub username_error: Option<String>,
    /// What is wrong with the room, if anything.
    pub room_error: Option<String>,
    /// A sentence above the form (e.g. why the user is back here).
    pub notice: Option<String>,
    /// The rooms this session is in: (room, name).
    pub rooms: Vec<(String, String)>,
}

impl JoinPage {
    /// (link, room, name) for each room of "Your rooms". The rooms come
    /// from the session, which only ever holds parsed room names.
    fn room_links(&self) -> Vec<(String, &str, &str)> {
        self.rooms
            .iter()
            .filter_map(|(room, name)| {
                let link = paths::room(&RoomName::parse(room).ok()?);
                Some((link, room.as_str(), name.as_str()))
            })
            .collect()
    }
}

/// The style sheet that puts one viewer's own messages on the right.
#[derive(Template)]
#[template(path = "mine.css", escape = "none")]
pub struct MineCss {
    /// The viewer's member id.
    pub id: i64,
}

/// Renders a template into an HTML response body.
pub fn html(template: &impl Template) -> Result<Html<String>, AppError> {
    Ok(Html(template.render()?))
}

/// A message's HTML, as the page, the history and every stream show it
/// (the [`crate::live::Render`] startup hands to delivery).
pub fn message_html(message: &Message) -> Result<String, RenderError> {
    Ok(MessagePartial { m: message.into() }.render()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn by(author_id: i64, author: &str) -> MessageView {
        MessageView::from(&Message {
            room: crate::chat::RoomName::stored("lobby".into()),
            seq: 1,
            author_id,
            author: author.into(),
            body: "hi".into(),
            created_at: 0,
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
