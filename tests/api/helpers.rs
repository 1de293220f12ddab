//! What only the API tests use. The launcher, the users, the SSE reader
//! and the session cookie come from `natter-kit`.

use std::future::Future;
use std::time::{Duration, Instant};

use natter_kit::{Event, Sse, User};
use reqwest::header::HeaderMap;
use reqwest::StatusCode;

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

/// `GET path` with `Accept: application/json`: the status and the JSON
/// (`Null` if the body is not JSON).
pub async fn get_json(user: &User, path: &str) -> (StatusCode, serde_json::Value) {
    let response = user
        .client
        .get(user.url(path))
        .header("accept", "application/json")
        .send()
        .await
        .expect("GET");
    let status = response.status();
    let text = response.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or_default())
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
    let (status, json) = get_json(user, &format!("/rooms/{room}/members")).await;
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
