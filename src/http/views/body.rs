//! A message body as HTML: the text escaped, its mentions marked.
//!
//! Rendered once per change for everyone: a mention carries whom it calls
//! (`data-mention`), and each viewer's `mine.css` picks out their own.

use crate::chat::mentions;

/// `text` as HTML that shows exactly that text, with each `@name` in a
/// `<span class="mention">`.
pub fn body_html(text: &str) -> String {
    let mut html = String::with_capacity(text.len() + 16);
    let mut done = 0;
    for (range, id) in mentions(text) {
        escape_into(&mut html, &text[done..range.start]);
        html.push_str("<span class=\"mention\" data-mention=\"");
        html.push_str(id.as_str());
        html.push_str("\">");
        escape_into(&mut html, &text[range.clone()]);
        html.push_str("</span>");
        done = range.end;
    }
    escape_into(&mut html, &text[done..]);
    html
}

/// Appends `text` with the characters HTML gives meaning to escaped (in
/// text and in quoted attributes alike).
fn escape_into(html: &mut String, text: &str) {
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

#[cfg(test)]
mod tests {
    use super::body_html;

    #[test]
    fn text_is_escaped_and_mentions_marked() {
        assert_eq!(
            body_html("<b>hi</b> & \"you\" @bob"),
            "&lt;b&gt;hi&lt;/b&gt; &amp; &quot;you&quot; \
             <span class=\"mention\" data-mention=\"626f62\">@bob</span>"
        );
        assert_eq!(body_html("@<script>"), "@&lt;script&gt;");
    }
}
