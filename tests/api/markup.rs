//! Reading message bodies back out of pages, fragments and streams, and
//! checking that they hold nothing but natter's own formatting.

/// The bubble HTML of each message in a page or fragment, in order. The
/// renderer never writes a `<div>`, so the bubble ends at the first one
/// closed.
pub fn bubbles(html: &str) -> Vec<String> {
    html.split(r#"<div class="bubble" dir="auto">"#)
        .skip(1)
        .map(|part| part.split("</div>").next().unwrap_or("").to_owned())
        .collect()
}

/// Undoes HTML escaping, to compare shown text with what was typed.
pub fn unescape(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let entity_end = rest[at..].find(';').map(|end| at + end);
        let decoded = entity_end.and_then(|end| {
            let entity = &rest[at + 1..end];
            match entity {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => entity
                    .strip_prefix('#')
                    .and_then(|n| n.parse::<u32>().ok())
                    .and_then(char::from_u32),
            }
        });
        match (decoded, entity_end) {
            (Some(c), Some(end)) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            _ => {
                out.push('&');
                rest = &rest[at + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The text of `html` without its tags (still escaped).
pub fn strip_tags(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// Whether `typed` has characters Markdown may give a meaning to (so its
/// text may show differently from how it was typed).
pub fn has_markdown(typed: &str) -> bool {
    typed.contains(['*', '_', '`', '[', ']', '!', '#', '&', '\\', '~', '|', '='])
        || typed.lines().any(|line| {
            let line = line.trim_start();
            line.starts_with(['>', '-', '+']) || line.starts_with(|c: char| c.is_ascii_digit())
        })
        || typed.contains("http")
        || typed.contains('@')
        || typed.contains("  \n")
}

/// `Ok` when every tag in `html` is one natter's renderer writes, with only
/// the attributes it writes, and every link goes to http(s) or mailto;
/// otherwise what leaked.
pub fn inert(html: &str) -> Result<(), String> {
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        let end = rest[at..]
            .find('>')
            .map(|end| at + end)
            .ok_or_else(|| format!("an unclosed tag at {at}"))?;
        let tag = &rest[at + 1..end];
        rest = &rest[end + 1..];
        let closing = tag.starts_with('/');
        let tag = tag.trim_start_matches('/');
        let (name, attributes) = tag.split_once(' ').unwrap_or((tag, ""));
        let attributes = parse_attributes(attributes).ok_or_else(|| format!("<{tag}>"))?;
        if closing && !attributes.is_empty() {
            return Err(format!("</{tag}>"));
        }
        let allowed = match name {
            "em" | "strong" | "code" | "pre" | "ul" | "br" => attributes.is_empty(),
            "p" | "blockquote" | "li" => attributes.is_empty() || attributes == [("dir", "auto")],
            "ol" => attributes
                .iter()
                .all(|(name, value)| *name == "start" && value.chars().all(|c| c.is_ascii_digit())),
            "span" => attributes.iter().all(|(name, value)| match *name {
                "class" => *value == "mention",
                "data-mention" => value.chars().all(|c| c.is_ascii_hexdigit()),
                _ => false,
            }),
            "a" => attributes.iter().all(|(name, value)| match *name {
                "href" => ["http://", "https://", "mailto:"]
                    .iter()
                    .any(|scheme| value.to_ascii_lowercase().starts_with(scheme)),
                "rel" => *value == "noopener noreferrer nofollow ugc",
                "target" => *value == "_blank",
                _ => false,
            }),
            _ => false,
        };
        if !allowed {
            return Err(format!("<{tag}>"));
        }
    }
    if html.contains('>') && strip_tags(html).contains('>') {
        return Err("a stray >".into());
    }
    Ok(())
}

/// `name="value" …` as pairs; `None` unless every attribute is quoted
/// with `"` and its value holds no `"`.
fn parse_attributes(mut text: &str) -> Option<Vec<(&str, &str)>> {
    let mut pairs = Vec::new();
    loop {
        text = text.trim_start();
        if text.is_empty() {
            return Some(pairs);
        }
        let (name, rest) = text.split_once("=\"")?;
        let (value, rest) = rest.split_once('"')?;
        if name.contains([' ', '\'', '<']) {
            return None;
        }
        pairs.push((name, value));
        text = rest;
    }
}

#[test]
fn inert_refuses_what_natter_never_writes() {
    for leak in [
        "<script>alert(1)</script>",
        r#"<a href="javascript:alert(1)" rel="noopener noreferrer nofollow ugc" target="_blank">x</a>"#,
        r#"<img src="x">"#,
        r#"<p onclick="x()">x</p>"#,
        r#"<span class="mention" data-mention="zz">@x</span>"#,
        "a > b",
    ] {
        assert!(inert(leak).is_err(), "{leak}");
    }
    assert_eq!(inert(r#"<p dir="auto"><em>a</em> &lt;b&gt;</p>"#), Ok(()));
}
