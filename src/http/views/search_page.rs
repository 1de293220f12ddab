//! The search page: the form, and the messages found, each a snippet with
//! the words marked and a link to the message in its room.

use askama::Template;

use super::times;
use crate::chat::RoomName;
use crate::paths;
use crate::store::{Hit, MARK_END, MARK_START};

/// `GET /rooms/{room}/search`: the form, and what it found.
#[derive(Template)]
#[template(path = "pages/search.html")]
pub struct SearchPage {
    /// The room searched.
    pub room: RoomName,
    /// The query as typed, for the box.
    pub q: String,
    /// Why there are no results (nothing matched, or nothing to search
    /// for), if there are none.
    pub sentence: Option<String>,
    /// What was found, newest first.
    pub results: Vec<ResultView>,
    /// The next page of older results, if there is one.
    pub older: Option<String>,
}

/// One message found.
pub struct ResultView {
    /// Its permalink.
    pub link: String,
    /// Its author.
    pub author: String,
    /// When it was posted, RFC 3339 and "HH:MM UTC".
    pub iso_time: String,
    /// See `iso_time`.
    pub short_time: String,
    /// Its snippet as HTML (see [`snippet_html`]).
    pub snippet: String,
}

impl From<&Hit> for ResultView {
    fn from(hit: &Hit) -> Self {
        let (iso_time, short_time) = times(hit.message.created_at);
        Self {
            link: paths::message_link(&hit.message.room, hit.message.seq),
            author: hit.message.author.clone(),
            iso_time,
            short_time,
            snippet: snippet_html(&hit.snippet),
        }
    }
}

/// A snippet as HTML: the text escaped (shown as typed, Markdown and all),
/// each match in a `<mark>`. Every `<mark>` is closed, whatever the marks.
pub fn snippet_html(snippet: &str) -> String {
    let mut html = String::with_capacity(snippet.len() + 32);
    let mut open = false;
    for c in snippet.chars() {
        match c {
            MARK_START if !open => {
                html.push_str("<mark>");
                open = true;
            }
            MARK_END if open => {
                html.push_str("</mark>");
                open = false;
            }
            MARK_START | MARK_END => {}
            '&' => html.push_str("&amp;"),
            '<' => html.push_str("&lt;"),
            '>' => html.push_str("&gt;"),
            '"' => html.push_str("&quot;"),
            '\'' => html.push_str("&#39;"),
            c => html.push(c),
        }
    }
    if open {
        html.push_str("</mark>");
    }
    html
}

#[cfg(test)]
mod tests {
    use super::snippet_html;

    #[test]
    fn matches_are_marked_and_the_rest_escaped() {
        assert_eq!(
            snippet_html("a \u{2}<b>\u{3} c \u{2}d"),
            "a <mark>&lt;b&gt;</mark> c <mark>d</mark>"
        );
        assert_eq!(
            snippet_html("\u{3}x\u{2}\u{2}y\u{3}\u{3}"),
            "x<mark>y</mark>"
        );
    }
}
