//! Text inside a body: escaped, mentions marked, bare web addresses linked;
//! and which link targets are allowed at all.

use std::ops::Range;

use crate::chat::mentions;

/// What follows a link's `href` value: links open in a new tab and vouch
/// for nothing (no referrer, no ranking, no hold on this page).
pub(super) const LINK_ATTRIBUTES: &str =
    "\" rel=\"noopener noreferrer nofollow ugc\" target=\"_blank\">";

/// The schemes a link may go to.
const SCHEMES: [&str; 3] = ["http", "https", "mailto"];

/// Appends `text` with the characters HTML gives meaning to escaped (in
/// text and in quoted attributes alike).
pub(super) fn escape_into(html: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => html.push_str("&amp;"),
            '<' => html.push_str("&lt;"),
            '>' => html.push_str("&gt;"),
            '"' => html.push_str("&quot;"),
            '\'' => html.push_str("&#39;"),
            c => html.push(c),
        }
    }
}

/// The `href` for a link to `target`, if its scheme is allowed. An email
/// autolink (`<a@b.example>`) gets `mailto:`. The scheme must open the
/// target exactly: browsers drop tabs and line breaks inside a scheme and
/// ignore leading spaces, so anything else there is refused, not cleaned.
pub(super) fn link_target(target: &str, email: bool) -> Option<String> {
    if email {
        return Some(format!("mailto:{target}"));
    }
    let (scheme, _) = target.split_once(':')?;
    SCHEMES
        .iter()
        .any(|allowed| scheme.eq_ignore_ascii_case(allowed))
        .then(|| target.to_owned())
}

/// Appends `text` escaped, with mentions marked and, when `autolink`, bare
/// `http(s)://` addresses linked.
pub(super) fn text_into(html: &mut String, text: &str, autolink: bool) {
    let mut done = 0;
    if autolink {
        for url in addresses(text) {
            mentions_into(html, &text[done..url.start]);
            html.push_str("<a href=\"");
            escape_into(html, &text[url.clone()]);
            html.push_str(LINK_ATTRIBUTES);
            escape_into(html, &text[url.clone()]);
            html.push_str("</a>");
            done = url.end;
        }
    }
    mentions_into(html, &text[done..]);
}

/// Appends `text` escaped, with each `@name` in a `<span class="mention">`.
fn mentions_into(html: &mut String, text: &str) {
    let mut done = 0;
    for (range, id) in mentions(text) {
        escape_into(html, &text[done..range.start]);
        html.push_str("<span class=\"mention\" data-mention=\"");
        html.push_str(id.as_str());
        html.push_str("\">");
        escape_into(html, &text[range.clone()]);
        html.push_str("</span>");
        done = range.end;
    }
    escape_into(html, &text[done..]);
}

/// Where bare `http://` and `https://` addresses are in `text`: from the
/// scheme (at the start of a word) to the next space or character no
/// address has unescaped, without the punctuation that ends a sentence,
/// and without a closing bracket the address did not open. One pass.
fn addresses(text: &str) -> Vec<Range<usize>> {
    let mut found = Vec::new();
    let mut previous: Option<char> = None;
    let mut chars = text.char_indices();
    while let Some((at, c)) = chars.next() {
        let word_start = !previous.is_some_and(|p| p.is_alphanumeric() || p == '_');
        previous = Some(c);
        if !(word_start && (c == 'h' || c == 'H')) {
            continue;
        }
        let rest = &text[at..];
        let scheme = ["https://", "http://"].into_iter().find(|scheme| {
            rest.get(..scheme.len())
                .is_some_and(|start| start.eq_ignore_ascii_case(scheme))
        });
        let Some(scheme) = scheme else { continue };
        let length = rest
            .find(|c: char| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"'))
            .unwrap_or(rest.len());
        let url = trim_address(&rest[..length]);
        if url.len() <= scheme.len() {
            continue;
        }
        found.push(at..at + url.len());
        // Continue after the address: `chars` must skip what it covers.
        for (i, c) in chars.by_ref() {
            previous = Some(c);
            if i + c.len_utf8() >= at + url.len() {
                break;
            }
        }
    }
    found
}

/// An address without what follows it in prose: `.`, `,`, `!` and the
/// like, quotes, emphasis marks, and `)` it has no `(` for.
fn trim_address(mut url: &str) -> &str {
    loop {
        let before = url.len();
        url = url.trim_end_matches(['.', ',', ':', ';', '!', '?', '\'', '*', '_', '~']);
        if url.ends_with(')') && url.matches(')').count() > url.matches('(').count() {
            url = &url[..url.len() - 1];
        }
        if url.len() == before {
            return url;
        }
    }
}
