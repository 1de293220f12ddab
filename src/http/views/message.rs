//! A message as every screen shows it: the partial shared by the page,
//! the history and the stream, with its avatar colour and times.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex, PoisonError};

use askama::Template;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::OffsetDateTime;

use super::body_html;
use crate::chat::{Message, RoomName, Username};
use crate::live::RenderError;

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
    pub(super) room: RoomName,
    pub(super) seq: i64,
    pub(super) cursor: i64,
    pub(super) author_id: i64,
    pub(super) author: String,
    pub(super) initial: String,
    /// One of a few avatar colours, chosen by the author's name, so one
    /// name keeps one colour whoever holds it and whenever (same for
    /// everyone).
    pub(super) hue: u64,
    /// The body as HTML (escaped, mentions marked); `None` once deleted:
    /// the partial shows a tombstone.
    pub(super) body: Option<String>,
    pub(super) iso_time: String,
    pub(super) short_time: String,
    /// When it was last edited, as an RFC 3339 time, if it was.
    pub(super) edited: Option<String>,
    pub(super) reactions: Vec<ReactionView>,
    /// Whether a bot posted it (the partial says so beside the name).
    pub(super) bot: bool,
}

/// One emoji's reactions as a button: who reacted, by member id (for the
/// viewer's own highlight in `mine.css`) and by name (for the tooltip).
pub struct ReactionView {
    pub(super) emoji: &'static str,
    pub(super) count: usize,
    /// Member ids, space-separated: `mine.css` matches `[data-by~="id"]`.
    pub(super) by_ids: String,
    /// Names, comma-separated.
    pub(super) by_names: String,
}

/// Milliseconds since the epoch as (RFC 3339, "HH:MM UTC").
pub(super) fn times(millis: i64) -> (String, String) {
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
    pub(super) m: MessageView,
}

impl MessagePartial {
    /// The partial of `message` in its current state.
    pub fn new(message: &Message) -> Self {
        Self { m: message.into() }
    }
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
