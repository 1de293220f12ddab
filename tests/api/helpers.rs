//! What only the API tests use. The launcher, the users, the SSE reader
//! and the session cookie come from `natter-kit`.

use reqwest::header::HeaderMap;

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
