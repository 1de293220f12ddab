//! Every path natter serves, written once: the route patterns the router
//! mounts handlers at ([`route`]), and one function per concrete URL that
//! handlers redirect to, templates link to and tests request.
//!
//! It lives at the crate root, not under `http`, because the accept loop
//! (`serve::head`, `serve::handoff`) matches [`route::EVENTS`] outside the
//! router, and `serve` does not import the web layer. It depends on nothing but the
//! domain's [`RoomName`], so any layer may use it.
//!
//! A room segment is always a [`RoomName`]: `a-z 0-9 - _` only, so it needs
//! no escaping in a path. Query values that people type (a name, a room as
//! typed) are percent-encoded. A unit test routes each built URL through an
//! axum router of these patterns, so a renamed route cannot leave its
//! builder behind.

use crate::chat::RoomName;

/// The route patterns, as axum's router reads them (`{name}` takes one
/// segment). Every `router()` mounts its handlers at these.
pub mod route {
    /// The front door: redirects to the join form.
    pub const HOME: &str = "/";
    /// The join form, and joining (`POST`).
    pub const JOIN: &str = "/join-room";
    /// A room's page.
    pub const ROOM: &str = "/rooms/{room}";
    /// Posting a message (`POST`), and older history (`GET`).
    pub const MESSAGES: &str = "/rooms/{room}/messages";
    /// One message: its JSON (`GET`), an edit (`PATCH`), a delete
    /// (`DELETE`).
    pub const MESSAGE: &str = "/rooms/{room}/messages/{seq}";
    /// The edit form (`GET`), and an edit from a form (`POST`).
    pub const MESSAGE_EDIT: &str = "/rooms/{room}/messages/{seq}/edit";
    /// Deleting a message from a form (`POST`).
    pub const MESSAGE_DELETE: &str = "/rooms/{room}/messages/{seq}/delete";
    /// What can be done to a message, as a page for browsers without
    /// JavaScript (`GET`).
    pub const MESSAGE_ACTIONS: &str = "/rooms/{room}/messages/{seq}/actions";
    /// Toggling one's reaction to a message (`POST`).
    pub const REACTIONS: &str = "/rooms/{room}/messages/{seq}/reactions";
    /// Who is in a room (`GET`).
    pub const MEMBERS: &str = "/rooms/{room}/members";
    /// A typing signal (`POST`).
    pub const TYPING: &str = "/rooms/{room}/typing";
    /// How far the member has read (`POST`).
    pub const READ: &str = "/rooms/{room}/read";
    /// The session's rooms with their unread counts (`GET`).
    pub const MY_ROOMS: &str = "/rooms";
    /// A room's live stream. natter writes it itself, not hyper: on a
    /// connection that opens with it (`serve::head`) or on one hyper hands
    /// back (`serve::handoff`).
    pub const EVENTS: &str = "/rooms/{room}/events";
    /// Leaving a room (`POST`).
    pub const EXIT: &str = "/rooms/{room}/exit";
    /// Searching a room's messages (`GET`, `?q=`).
    pub const SEARCH: &str = "/rooms/{room}/search";
    /// A room's whole history as JSON lines or text (`GET`).
    pub const EXPORT: &str = "/rooms/{room}/export";
    /// A room's bots: the list and the form (`GET`), a new bot (`POST`).
    pub const BOTS: &str = "/rooms/{room}/bots";
    /// One bot: revoking it (`DELETE`).
    pub const BOT: &str = "/rooms/{room}/bots/{name}";
    /// Revoking a bot from a form (`POST`).
    pub const BOT_REVOKE: &str = "/rooms/{room}/bots/{name}/revoke";
    /// A viewer's own style sheet, `{id}-{mention}.css` (or `{id}.css`).
    pub const MINE: &str = "/mine/{file}";
    /// The embedded static files.
    pub const ASSET: &str = "/assets/{file}";
    /// What browsers ask for whatever the page says.
    pub const FAVICON: &str = "/favicon.ico";
    /// The health probe.
    pub const HEALTH: &str = "/healthz";
}

/// Why someone is sent back to the join form (its `?why=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// They exited the room.
    Left,
    /// Their membership ended without them exiting.
    Lost,
}

impl Why {
    fn as_str(self) -> &'static str {
        match self {
            Self::Left => "left",
            Self::Lost => "lost",
        }
    }
}

/// `/join-room`: the join form.
pub fn join() -> &'static str {
    route::JOIN
}

/// `/join-room?room=…[&name=…][&why=…]`: the join form with the room (and
/// the name) filled in, and why the person is back there.
pub fn join_with(room: &RoomName, name: Option<&str>, why: Option<Why>) -> String {
    let mut pairs = vec![("room", room.as_str())];
    pairs.extend(name.map(|name| ("name", name)));
    pairs.extend(why.map(|why| ("why", why.as_str())));
    format!("{}?{}", route::JOIN, query(&pairs))
}

/// `/join-room?room=…&next=…`: the join form, which goes on to `next` (a
/// page of that room, see [`next_in_room`]) once joined.
pub fn join_then(room: &RoomName, next: &str) -> String {
    format!(
        "{}?{}",
        route::JOIN,
        query(&[("room", room.as_str()), ("next", next)])
    )
}

/// `next` if it is a page of `room` on this site, for going on after a
/// join: a path (not `//host` nor `/\host`, which browsers read as
/// another site), of printable ASCII, under `/rooms/{room}`. Anything else
/// is `None`: the join goes to the room, never elsewhere.
pub fn next_in_room(room: &RoomName, next: &str) -> Option<String> {
    let here = self::room(room);
    let rest = next.strip_prefix(&here)?;
    let local = next.len() <= 512
        && next.bytes().all(|b| b.is_ascii_graphic() && b != b'\\')
        && (rest.is_empty() || rest.starts_with(['/', '?', '#']))
        && !rest.starts_with("//");
    local.then(|| next.to_owned())
}

/// `/rooms/{room}`: the room's newest messages.
pub fn room(room: &RoomName) -> String {
    format!("/rooms/{room}")
}

/// `/rooms/{room}?from={typed}`: the room's page right after a join, when
/// the room was typed differently ("Team-Chat"), so the page can say so.
pub fn room_from(room: &RoomName, typed: &str) -> String {
    format!("/rooms/{room}?{}", query(&[("from", typed)]))
}

/// `/rooms/{room}?before={seq}`: the page of messages before `seq` (read
/// without JavaScript).
pub fn room_before(room: &RoomName, seq: i64) -> String {
    format!("/rooms/{room}?before={seq}")
}

/// `/rooms/{room}/messages`: where the composer posts.
pub fn messages(room: &RoomName) -> String {
    format!("/rooms/{room}/messages")
}

/// `/rooms/{room}/messages?before={seq}`: the history fragment before `seq`.
pub fn history_before(room: &RoomName, seq: i64) -> String {
    format!("/rooms/{room}/messages?before={seq}")
}

/// `/rooms/{room}/messages/{seq}#message-{seq}`: a message's permalink,
/// for links. The fragment lets a browser without scripts scroll to the
/// message and highlight it (`:target`).
pub fn message_link(room: &RoomName, seq: i64) -> String {
    format!("/rooms/{room}/messages/{seq}#message-{seq}")
}

/// `/rooms/{room}/messages/{seq}`: one message (JSON, `PATCH`, `DELETE`).
pub fn message(room: &RoomName, seq: i64) -> String {
    format!("/rooms/{room}/messages/{seq}")
}

/// `/rooms/{room}/messages/{seq}/edit`: the edit form, and where it posts.
pub fn message_edit(room: &RoomName, seq: i64) -> String {
    format!("/rooms/{room}/messages/{seq}/edit")
}

/// `/rooms/{room}/messages/{seq}/delete`: where the delete form posts.
pub fn message_delete(room: &RoomName, seq: i64) -> String {
    format!("/rooms/{room}/messages/{seq}/delete")
}

/// `/rooms/{room}/messages/{seq}/actions`: the page of what can be done to
/// a message, without JavaScript.
pub fn message_actions(room: &RoomName, seq: i64) -> String {
    format!("/rooms/{room}/messages/{seq}/actions")
}

/// `/rooms/{room}/messages/{seq}/reactions`: where a reaction is toggled.
pub fn reactions(room: &RoomName, seq: i64) -> String {
    format!("/rooms/{room}/messages/{seq}/reactions")
}

/// `/rooms/{room}/members`: who is in the room.
pub fn members(room: &RoomName) -> String {
    format!("/rooms/{room}/members")
}

/// `/rooms/{room}/typing`: where typing signals go.
pub fn typing(room: &RoomName) -> String {
    format!("/rooms/{room}/typing")
}

/// `/rooms/{room}/read`: where the read position goes.
pub fn read(room: &RoomName) -> String {
    format!("/rooms/{room}/read")
}

/// `/rooms`: the session's rooms with their unread counts.
pub fn my_rooms() -> &'static str {
    route::MY_ROOMS
}

/// `/rooms/{room}/events`: the room's live stream from now.
pub fn events(room: &RoomName) -> String {
    format!("/rooms/{room}/events")
}

/// `/rooms/{room}/events?after={cursor}`: the live stream, replaying every
/// change after the room's cursor when a page was read.
pub fn events_after(room: &RoomName, cursor: i64) -> String {
    format!("/rooms/{room}/events?after={cursor}")
}

/// `/rooms/{room}/exit`: leaving the room.
pub fn exit(room: &RoomName) -> String {
    format!("/rooms/{room}/exit")
}

/// `/rooms/{room}/search`: the search form.
pub fn search(room: &RoomName) -> String {
    format!("/rooms/{room}/search")
}

/// `/rooms/{room}/search?q=…[&before={seq}]`: the messages holding the
/// words of `q`, newest first (with `before`, those older than `seq`).
pub fn search_for(room: &RoomName, q: &str, before: Option<i64>) -> String {
    let before = before.map(|seq| seq.to_string());
    let mut pairs = vec![("q", q)];
    pairs.extend(before.as_deref().map(|seq| ("before", seq)));
    format!("/rooms/{room}/search?{}", query(&pairs))
}

/// `/rooms/{room}/export`: the room's history as JSON lines.
pub fn export(room: &RoomName) -> String {
    format!("/rooms/{room}/export")
}

/// `/rooms/{room}/export?format=txt`: the room's history as plain text.
pub fn export_txt(room: &RoomName) -> String {
    format!("/rooms/{room}/export?format=txt")
}

/// `/rooms/{room}/bots`: the room's bots.
pub fn bots(room: &RoomName) -> String {
    format!("/rooms/{room}/bots")
}

/// `/rooms/{room}/bots/{name}`: one bot (its name percent-encoded: a name
/// may hold spaces and any script's letters).
pub fn bot(room: &RoomName, name: &str) -> String {
    let name = percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC);
    format!("/rooms/{room}/bots/{name}")
}

/// `/rooms/{room}/bots/{name}/revoke`: revoking a bot from a form.
pub fn bot_revoke(room: &RoomName, name: &str) -> String {
    format!("{}/revoke", bot(room, name))
}

/// `/mine/{id}-{mention}.css`: the style sheet for member `id`'s own
/// messages and reactions and the mentions of them (`mention` is a
/// [`crate::chat::MentionId`], hex digits only).
pub fn mine_css(id: i64, mention: &str) -> String {
    format!("/mine/{id}-{mention}.css")
}

/// `/assets/{file}[?v={version}]`: a static file, versioned by its content
/// when the version is known.
pub fn asset(file: &str, version: Option<&str>) -> String {
    match version {
        Some(version) => format!("/assets/{file}?v={version}"),
        None => format!("/assets/{file}"),
    }
}

/// `/healthz`: the health probe.
pub fn health() -> &'static str {
    route::HEALTH
}

/// A percent-encoded query string. Serializing pairs of strings cannot
/// fail (only maps and nested values can), so there is no error to carry.
fn query(pairs: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(pairs).unwrap_or_default()
}

#[cfg(test)]
mod tests;
