//! A message body as HTML: a small Markdown subset, its mentions marked and
//! its bare web addresses linked.
//!
//! Rendered once per change for everyone: a mention carries whom it calls
//! (`data-mention`), and each viewer's `mine.css` picks out their own.
//!
//! The subset is *emphasis*, **strong**, `code`, fenced code blocks,
//! `>` quotes, lists and links (plus bare `http(s)://` addresses). The
//! Markdown is parsed by pulldown-cmark and written out here by an
//! allow-list renderer rather than by pulldown-cmark's HTML writer and a
//! sanitizer after it: every tag and attribute in the output is one this
//! file writes, and every piece of the input reaches the page only through
//! [`inline::escape_into`]. So there is nothing to sanitize, and no second
//! HTML parser (ammonia's html5ever) to build and trust. Whatever is not in
//! the subset (raw HTML, images, headings, rules) is shown as it was typed.
//!
//! A body that is one paragraph (most chat messages) is written without a
//! `<p>`: plain text renders exactly as it did before formatting existed.
//! Line breaks stay line breaks (the bubble keeps white space, as people
//! expect of a chat), and every block follows its own text's direction
//! (`dir="auto"`).

mod inline;

use std::ops::Range;

use pulldown_cmark::{Event, LinkType, Options, Parser, Tag, TagEnd};

use inline::{escape_into, link_target, text_into, LINK_ATTRIBUTES};

/// What the renderer is inside of, as far as text is concerned.
#[derive(Default)]
struct Context {
    /// Inside a code block: text is shown verbatim.
    code: bool,
    /// Inside a link: no address in it becomes a link of its own.
    link: bool,
}

/// `text` as HTML in natter's Markdown subset, with each `@name` in a
/// `<span class="mention">` and each bare web address a link.
pub fn body_html(text: &str) -> String {
    let mut html = String::with_capacity(text.len() + text.len() / 4 + 16);
    // Pending text: pulldown-cmark splits a run of text at every character
    // that might have been markup; mentions and addresses are found in
    // the whole run.
    let mut pending = String::new();
    let mut context = Context::default();
    // An element shown as typed (a heading, an image, a refused link):
    // how deep inside it the events are, which are skipped.
    let mut skipping = 0usize;
    let mut top_blocks = 0usize;
    let mut depth = 0usize;
    for (event, range) in Parser::new_ext(text, Options::empty()).into_offset_iter() {
        if skipping > 0 {
            match event {
                Event::Start(_) => skipping += 1,
                Event::End(_) => skipping -= 1,
                _ => {}
            }
            continue;
        }
        match event {
            Event::Text(text) | Event::Html(text) | Event::InlineHtml(text) => {
                if context.code {
                    escape_into(&mut html, &text);
                } else {
                    pending.push_str(&text);
                }
                continue;
            }
            _ => flush(&mut html, &mut pending, &context),
        }
        match event {
            Event::Start(tag) => {
                if depth == 0 {
                    top_blocks += 1;
                }
                match start(&mut html, &tag, &mut context) {
                    None => depth += 1,
                    // The source of the whole element, and nothing of
                    // what pulldown-cmark made of it.
                    Some(shown) => {
                        verbatim(&mut html, text, shown, range, &context);
                        skipping = 1;
                    }
                }
            }
            Event::End(tag) => {
                depth = depth.saturating_sub(1);
                end(&mut html, tag, &mut context);
            }
            Event::Code(code) => {
                html.push_str("<code>");
                escape_into(&mut html, &code);
                html.push_str("</code>");
            }
            Event::SoftBreak => html.push('\n'),
            Event::HardBreak => html.push_str("<br>"),
            Event::Rule => {
                if depth == 0 {
                    top_blocks += 1;
                }
                verbatim(&mut html, text, Shown::Block, range, &context);
            }
            // Not enabled (footnotes, math, task lists): never produced.
            _ => {}
        }
    }
    flush(&mut html, &mut pending, &context);
    if html.is_empty() && !text.trim().is_empty() {
        // Only link definitions, say: nothing to show is worse than the
        // text as typed.
        text_into(&mut html, text, true);
    }
    unwrap_single_paragraph(html, top_blocks)
}

/// How an element outside the subset is shown as typed.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shown {
    /// A block (a heading, a rule): a paragraph of its own.
    Block,
    /// Inline (an image, a refused link): text among text.
    Inline,
}

/// Writes the opening of `tag`; `Some` when the element is not in the
/// subset and is to be shown as typed instead.
fn start(html: &mut String, tag: &Tag<'_>, context: &mut Context) -> Option<Shown> {
    match tag {
        Tag::Paragraph | Tag::HtmlBlock => html.push_str("<p dir=\"auto\">"),
        Tag::BlockQuote(_) => html.push_str("<blockquote dir=\"auto\">"),
        // Fenced or indented, the text is kept as it is; the fence's
        // language is not shown.
        Tag::CodeBlock(_) => {
            context.code = true;
            html.push_str("<pre><code>");
        }
        Tag::List(Some(first)) if *first != 1 => {
            html.push_str("<ol start=\"");
            html.push_str(&first.to_string());
            html.push_str("\">");
        }
        Tag::List(Some(_)) => html.push_str("<ol>"),
        Tag::List(None) => html.push_str("<ul>"),
        Tag::Item => html.push_str("<li dir=\"auto\">"),
        Tag::Emphasis => html.push_str("<em>"),
        Tag::Strong => html.push_str("<strong>"),
        Tag::Link {
            link_type,
            dest_url,
            ..
        } => {
            let email = *link_type == LinkType::Email;
            let Some(href) = link_target(dest_url, email) else {
                return Some(Shown::Inline);
            };
            context.link = true;
            html.push_str("<a href=\"");
            escape_into(html, &href);
            html.push_str(LINK_ATTRIBUTES);
        }
        Tag::Heading { .. } => return Some(Shown::Block),
        // Images, and what is not enabled (tables, footnotes, …).
        _ => return Some(Shown::Inline),
    }
    None
}

/// Writes the closing of `tag`.
fn end(html: &mut String, tag: TagEnd, context: &mut Context) {
    match tag {
        TagEnd::Paragraph | TagEnd::HtmlBlock => {
            // An HTML block's last line keeps its line break; the page
            // would show it as an empty line.
            if html.ends_with('\n') {
                html.pop();
            }
            html.push_str("</p>");
        }
        TagEnd::BlockQuote(_) => html.push_str("</blockquote>"),
        TagEnd::CodeBlock => {
            if html.ends_with('\n') {
                html.pop();
            }
            context.code = false;
            html.push_str("</code></pre>");
        }
        TagEnd::List(true) => html.push_str("</ol>"),
        TagEnd::List(false) => html.push_str("</ul>"),
        TagEnd::Item => html.push_str("</li>"),
        TagEnd::Emphasis => html.push_str("</em>"),
        TagEnd::Strong => html.push_str("</strong>"),
        TagEnd::Link => {
            context.link = false;
            html.push_str("</a>");
        }
        _ => {}
    }
}

/// Writes the pending run of text, mentions marked and (outside links)
/// addresses linked.
fn flush(html: &mut String, pending: &mut String, context: &Context) {
    if !pending.is_empty() {
        text_into(html, pending, !context.link);
        pending.clear();
    }
}

/// Writes the source of `range` as text: as typed, escaped, mentions and
/// addresses still marked.
fn verbatim(html: &mut String, text: &str, shown: Shown, range: Range<usize>, context: &Context) {
    let source = text.get(range).unwrap_or_default().trim_end_matches('\n');
    if shown == Shown::Block {
        html.push_str("<p dir=\"auto\">");
    }
    text_into(html, source, !context.link);
    if shown == Shown::Block {
        html.push_str("</p>");
    }
}

/// A body of one paragraph without its `<p>`: the bubble is its paragraph.
fn unwrap_single_paragraph(html: String, top_blocks: usize) -> String {
    const OPEN: &str = "<p dir=\"auto\">";
    if top_blocks == 1 && html.starts_with(OPEN) && html.ends_with("</p>") {
        let inner = &html[OPEN.len()..html.len() - "</p>".len()];
        // One block: its `</p>` is the last one, and no `<p>` is inside.
        if !inner.contains("<p ") {
            return inner.to_owned();
        }
    }
    html
}

#[cfg(test)]
mod tests;
