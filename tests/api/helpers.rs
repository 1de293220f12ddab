//! What only the API tests use. The launcher, the users, the SSE reader
//! and the session cookie come from `natter-kit`.

use std::future::Future;
use std::time::{Duration, Instant};

use natter_kit::{Event, Sse, TestApp, User};
use reqwest::header::HeaderMap;
use reqwest::{Response, StatusCode};
use serde_json::Value;

/// Headers with one entry.
pub fn header(name: &'static str, value: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(name, value.parse().expect("header value"));
    headers
}

/// `id="message-N"` occurrences in a page or fragment, in order.
pub fn message_seqs(html: &str) -> Vec<i64> {
    html.match_indices("id=\"message-")
        .filter_map(|(at, _)| {
            let rest = &html[at + 12..];
            rest[..rest.find('"')?].parse().ok()
        })
        .collect()
}

/// `Accept: application/json`, for `post_form_with`.
pub const JSON: (&str, &str) = ("accept", "application/json");

/// `HX-Request: true`, for `post_form_with`.
pub const HTMX: (&str, &str) = ("hx-request", "true");

/// `/rooms/{room}/messages/{seq}`: one message (and, with a suffix such as
/// `/edit`, `/delete` or `/reactions`, what can be done to it).
pub fn message(room: &str, seq: i64) -> String {
    format!("/rooms/{room}/messages/{seq}")
}

/// Where a plain form is sent after changing message `seq`: its
/// permalink, at the message.
pub fn anchor(room: &str, seq: i64) -> String {
    format!("/rooms/{room}/messages/{seq}#message-{seq}")
}

/// What the database holds, by the numbers a refused request must leave
/// as they are.
#[derive(Debug, PartialEq, Eq)]
pub struct Stored {
    messages: i64,
    reactions: i64,
    edited: i64,
    deleted: i64,
    /// `rooms.last_cursor` of every room, in name order.
    cursors: Vec<i64>,
    /// `messages.cursor` of every message, in (room, seq) order.
    message_cursors: Vec<i64>,
}

/// A snapshot of [`Stored`], straight from SQL.
pub async fn stored(app: &TestApp, rooms: &[&str]) -> Stored {
    let mut cursors = Vec::new();
    let mut message_cursors = Vec::new();
    for room in rooms {
        cursors.push(
            app.count(&format!(
                "SELECT last_cursor FROM rooms WHERE name = '{room}'"
            ))
            .await,
        );
        let count = app
            .count(&format!(
                "SELECT COALESCE(MAX(seq), 0) FROM messages WHERE room = '{room}'"
            ))
            .await;
        for seq in 1..=count {
            message_cursors.push(
                app.count(&format!(
                    "SELECT cursor FROM messages WHERE room = '{room}' AND seq = {seq}"
                ))
                .await,
            );
        }
    }
    Stored {
        messages: app.count("SELECT COUNT(*) FROM messages").await,
        reactions: app.count("SELECT COUNT(*) FROM reactions").await,
        edited: app
            .count("SELECT COUNT(*) FROM messages WHERE edited_at IS NOT NULL")
            .await,
        deleted: app
            .count("SELECT COUNT(*) FROM messages WHERE deleted_at IS NOT NULL")
            .await,
        cursors,
        message_cursors,
    }
}

/// Reads a JSON answer, asserting its status.
pub async fn json_of(response: Response, status: StatusCode) -> Value {
    assert_eq!(response.status(), status, "{}", response.url());
    response.json().await.expect("a JSON body")
}

/// Edits a message as a JSON client (form `body`); asserts 200 and returns
/// the message JSON.
pub async fn edit(user: &User, room: &str, seq: i64, body: &str) -> Value {
    let path = format!("{}/edit", message(room, seq));
    json_of(
        user.post_form_with(&path, JSON, &[("body", body)]).await,
        StatusCode::OK,
    )
    .await
}

/// Toggles a reaction as a JSON client (form `emoji`); asserts 200 and
/// returns the message JSON.
pub async fn react(user: &User, room: &str, seq: i64, emoji: &str) -> Value {
    let path = format!("{}/reactions", message(room, seq));
    json_of(
        user.post_form_with(&path, JSON, &[("emoji", emoji)]).await,
        StatusCode::OK,
    )
    .await
}

/// Deletes a message as a JSON client; asserts 200 and returns the JSON.
pub async fn delete(user: &User, room: &str, seq: i64) -> Value {
    let path = format!("{}/delete", message(room, seq));
    json_of(user.post_form_with(&path, JSON, &[]).await, StatusCode::OK).await
}

/// A message's JSON as `user` reads it; asserts 200.
pub async fn read(user: &User, room: &str, seq: i64) -> Value {
    let (status, json) = user.get_json(&message(room, seq)).await;
    assert_eq!(status, StatusCode::OK, "GET message {seq}: {json}");
    json
}

/// The message JSON's `cursor`.
pub fn cursor(json: &Value) -> i64 {
    json["cursor"].as_i64().expect("a numeric cursor")
}

/// Whether `text` is an RFC 3339 date-time (`2026-12-02T22:00:00.123Z`,
/// fraction optional, `Z` or an offset).
pub fn is_rfc3339(text: &str) -> bool {
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        b.get(range.clone())
            .is_some_and(|d| d.len() == range.len() && d.iter().all(u8::is_ascii_digit))
    };
    let date_time = digits(0..4)
        && b.get(4) == Some(&b'-')
        && digits(5..7)
        && b.get(7) == Some(&b'-')
        && digits(8..10)
        && matches!(b.get(10), Some(b'T' | b't'))
        && digits(11..13)
        && b.get(13) == Some(&b':')
        && digits(14..16)
        && b.get(16) == Some(&b':')
        && digits(17..19);
    if !date_time {
        return false;
    }
    let mut rest = &text[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let end = fraction
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(fraction.len());
        if end == 0 {
            return false;
        }
        rest = &fraction[end..];
    }
    rest == "Z"
        || rest == "z"
        || (rest.len() == 6
            && matches!(rest.as_bytes()[0], b'+' | b'-')
            && digits_only(&rest[1..3])
            && &rest[3..4] == ":"
            && digits_only(&rest[4..6]))
}

fn digits_only(text: &str) -> bool {
    text.bytes().all(|b| b.is_ascii_digit())
}

/// Events from `stream` up to and including the one whose id is `cursor`,
/// each within `wait` of the previous. Asserts the ids strictly increase
/// and none passes `cursor` (a live reader may see a burst of changes to
/// one message as fewer events, never out of order).
pub async fn until_cursor(stream: &mut Sse, cursor: i64, wait: Duration) -> Vec<Event> {
    let mut events: Vec<Event> = Vec::new();
    loop {
        let Some(event) = stream.next_within(wait).await else {
            let ids: Vec<i64> = events.iter().map(Event::seq).collect();
            panic!("no event with id {cursor}; got {ids:?}");
        };
        let id = event.seq();
        if let Some(last) = events.last() {
            assert!(id > last.seq(), "id {id} after {}", last.seq());
        }
        assert!(id <= cursor, "id {id} passed {cursor}");
        events.push(event);
        if id == cursor {
            return events;
        }
    }
}

/// The viewer's own style sheet a room page links (`/mine/{id}…css`) and
/// the member id it starts with.
pub fn mine_sheet(page: &str) -> (i64, String) {
    let at = page.find("/mine/").expect("a mine sheet");
    let end = at + page[at..].find(".css").expect("the sheet's name ends") + ".css".len();
    let sheet = &page[at..end];
    let digits: String = sheet["/mine/".len()..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    (
        digits.parse().expect("a numeric member id"),
        sheet.to_owned(),
    )
}

/// How long a condition the server promises "soon" may take in a test
/// before it counts as never (generous: two shared cores, two backends).
pub const SOON: Duration = Duration::from_secs(15);

/// Polls `check` every 100 ms until it answers `Ok`, for at most `within`;
/// panics with `what` and the last `Err` (what was seen instead) if it
/// never does. For conditions, never for "how long it took".
pub async fn eventually<T, F, Fut>(what: &str, within: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let deadline = Instant::now() + within;
    loop {
        match check().await {
            Ok(value) => return value,
            Err(seen) if Instant::now() >= deadline => {
                panic!("{what}: not within {within:?}; last seen: {seen}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

/// The first event on `stream` that `wanted` accepts, skipping others, for
/// at most `within`; panics with `what` and the events skipped otherwise.
pub async fn next_where(
    stream: &mut Sse,
    within: Duration,
    what: &str,
    wanted: impl Fn(&Event) -> bool,
) -> Event {
    let deadline = Instant::now() + within;
    let mut skipped = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match stream.next_within(left).await {
            Some(event) if wanted(&event) => return event,
            Some(event) => skipped.push(event),
            None => panic!(
                "{what}: not within {within:?} (ended: {}); skipped: {skipped:#?}",
                stream.ended()
            ),
        }
    }
}

/// Every event that arrives on `stream` during `window` (until it ends).
pub async fn events_during(stream: &mut Sse, window: Duration) -> Vec<Event> {
    let deadline = Instant::now() + window;
    let mut events = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return events;
        }
        match stream.next_within(left).await {
            Some(event) => events.push(event),
            None if stream.ended() => return events,
            None => {}
        }
    }
}

/// Whether an event is the named, id-less signal `name` (`presence`,
/// `typing`).
pub fn is_signal(event: &Event, name: &str) -> bool {
    event.event.as_deref() == Some(name)
}

/// The value of attribute `name` in the first tag containing `marker`.
pub fn attr(html: &str, marker: &str, name: &str) -> Option<String> {
    let at = html.find(marker)?;
    let start = html[..at + 1].rfind('<')?;
    let tag = &html[start..start + html[start..].find('>')?];
    let value = &tag[tag.find(&format!(" {name}=\""))? + name.len() + 3..];
    Some(value[..value.find('"')?].to_owned())
}

/// Who `user` is in `room`, read from their room page's `#messages`: the
/// member id (`data-me`) and the id mentions of them carry
/// (`data-mention`).
pub async fn whoami(user: &User, room: &str) -> (i64, String) {
    let (status, page) = user.text(&format!("/rooms/{room}")).await;
    assert_eq!(status, StatusCode::OK, "{room} page");
    let id = attr(&page, r#"id="messages""#, "data-me")
        .and_then(|id| id.parse().ok())
        .expect("data-me");
    let mention = attr(&page, r#"id="messages""#, "data-mention").expect("data-mention");
    (id, mention)
}

/// One member as `GET /rooms/{room}/members` lists them in JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// The name they hold in the room.
    pub name: String,
    /// Whether they are here.
    pub here: bool,
    /// Whether they are typing.
    pub typing: bool,
}

/// `GET /rooms/{room}/members` as JSON, in the order given; asserts 200.
pub async fn members(user: &User, room: &str) -> Vec<Listed> {
    let (status, json) = user.get_json(&format!("/rooms/{room}/members")).await;
    assert_eq!(status, StatusCode::OK, "members of {room}: {json}");
    json.as_array()
        .unwrap_or_else(|| panic!("a JSON array: {json}"))
        .iter()
        .map(|member| Listed {
            name: member["name"].as_str().expect("name").to_owned(),
            here: member["here"].as_bool().expect("here"),
            typing: member["typing"].as_bool().expect("typing"),
        })
        .collect()
}

/// The member called `name` in a members list.
pub fn listed<'a>(members: &'a [Listed], name: &str) -> Option<&'a Listed> {
    members.iter().find(|member| member.name == name)
}

/// The text of an HTML fragment (its tags dropped), trimmed.
pub fn text_of(html: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.trim().to_owned()
}
