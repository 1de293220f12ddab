//! Each construct of the subset, what is left out, and the attacks.

use super::body_html;

const LINK: &str = "\" rel=\"noopener noreferrer nofollow ugc\" target=\"_blank\">";

fn link(href: &str, text: &str) -> String {
    format!("<a href=\"{href}{LINK}{text}</a>")
}

#[test]
fn text_is_escaped_and_mentions_marked() {
    assert_eq!(
        body_html("<b>hi</b> & \"you\" @bob"),
        "&lt;b&gt;hi&lt;/b&gt; &amp; &quot;you&quot; \
         <span class=\"mention\" data-mention=\"626f62\">@bob</span>"
    );
    assert_eq!(body_html("@<script>"), "@&lt;script&gt;");
}

#[test]
fn one_paragraph_is_the_bubble_and_line_breaks_stay() {
    assert_eq!(body_html("hello\nworld"), "hello\nworld");
    assert_eq!(
        body_html("one\n\ntwo"),
        "<p dir=\"auto\">one</p><p dir=\"auto\">two</p>"
    );
    assert_eq!(body_html("hard  \nbreak"), "hard<br>break");
}

#[test]
fn emphasis_strong_and_inline_code() {
    assert_eq!(
        body_html("*a* _b_ **c** __d__ `<e>`"),
        "<em>a</em> <em>b</em> <strong>c</strong> <strong>d</strong> <code>&lt;e&gt;</code>"
    );
    assert_eq!(body_html("snake_case_name"), "snake_case_name");
}

#[test]
fn fenced_code_keeps_its_text_without_mentions_or_links() {
    assert_eq!(
        body_html("```rust\nlet a = \"<b>\"; // @bob https://x.example\n  indented\n```"),
        "<pre><code>let a = &quot;&lt;b&gt;&quot;; // @bob https://x.example\n  indented</code></pre>"
    );
    assert_eq!(body_html("`@bob`"), "<code>@bob</code>");
}

#[test]
fn quotes_and_lists() {
    assert_eq!(
        body_html("> quoted *text*"),
        "<blockquote dir=\"auto\"><p dir=\"auto\">quoted <em>text</em></p></blockquote>"
    );
    assert_eq!(
        body_html("- one\n- two"),
        "<ul><li dir=\"auto\">one</li><li dir=\"auto\">two</li></ul>"
    );
    assert_eq!(
        body_html("3. three\n4. four"),
        "<ol start=\"3\"><li dir=\"auto\">three</li><li dir=\"auto\">four</li></ol>"
    );
    assert_eq!(body_html("1. one"), "<ol><li dir=\"auto\">one</li></ol>");
}

#[test]
fn links_open_in_a_new_tab_and_vouch_for_nothing() {
    assert_eq!(
        body_html("[the docs](https://docs.example/a?b=1&c=2)"),
        link("https://docs.example/a?b=1&amp;c=2", "the docs")
    );
    assert_eq!(
        body_html("<https://x.example>"),
        link("https://x.example", "https://x.example")
    );
    assert_eq!(
        body_html("<me@x.example>"),
        link("mailto:me@x.example", "me@x.example")
    );
    assert_eq!(
        body_html("[write](mailto:me@x.example)"),
        link("mailto:me@x.example", "write")
    );
    // A mention in a link's text is still a mention.
    assert_eq!(
        body_html("[@bob](https://x.example)"),
        link(
            "https://x.example",
            "<span class=\"mention\" data-mention=\"626f62\">@bob</span>"
        )
    );
}

#[test]
fn bare_addresses_are_linked_without_the_sentence_around_them() {
    assert_eq!(
        body_html("see https://x.example/a_(b). Or http://y.example/@bob, @bob!"),
        format!(
            "see {}. Or {}, <span class=\"mention\" data-mention=\"626f62\">@bob</span>!",
            link("https://x.example/a_(b)", "https://x.example/a_(b)"),
            link("http://y.example/@bob", "http://y.example/@bob"),
        )
    );
    assert_eq!(
        body_html("(https://x.example)"),
        format!("({})", link("https://x.example", "https://x.example"))
    );
    assert_eq!(body_html("nohttps://x.example"), "nohttps://x.example");
    assert_eq!(body_html("https:// alone"), "https:// alone");
    assert_eq!(body_html("ftp://x.example"), "ftp://x.example");
}

#[test]
fn what_is_left_out_is_shown_as_typed() {
    assert_eq!(body_html("# Not a heading"), "# Not a heading");
    assert_eq!(body_html("Setext\n==="), "Setext\n===");
    // An image is never loaded: its address is only a link.
    assert_eq!(
        body_html("![alt](https://x.example/i.png)"),
        format!(
            "![alt]({})",
            link("https://x.example/i.png", "https://x.example/i.png")
        )
    );
    assert_eq!(
        body_html("a\n\n---\n\nb"),
        "<p dir=\"auto\">a</p><p dir=\"auto\">---</p><p dir=\"auto\">b</p>"
    );
    assert_eq!(
        body_html("<div onclick=\"x()\">\nhi\n</div>"),
        "&lt;div onclick=&quot;x()&quot;&gt;\nhi\n&lt;/div&gt;"
    );
    assert_eq!(body_html("| a | b |\n|---|---|"), "| a | b |\n|---|---|");
    assert_eq!(body_html("~~no~~"), "~~no~~");
    // A link definition alone would show nothing.
    assert_eq!(
        body_html("[x]: https://x.example"),
        format!("[x]: {}", link("https://x.example", "https://x.example"))
    );
}

#[test]
fn dangerous_link_targets_are_shown_as_typed() {
    for typed in [
        "[click](javascript:alert(1))",
        "[click](JaVaScRiPt:alert(1))",
        "[click](data:text/html;base64,PHNjcmlwdD4=)",
        "[click](vbscript:msgbox(1))",
        "[click](/rooms/lobby/exit)",
        "[click](//evil.example)",
        "[click](<java\tscript:alert(1)>)",
        "[click](&#106;avascript:alert(1))",
        "<javascript:alert(1)>",
    ] {
        let html = body_html(typed);
        assert!(!html.contains("<a"), "{typed:?} linked: {html}");
    }
    assert_eq!(body_html("[x][r]\n\n[r]: javascript:alert(1)"), "[x][r]");
}

#[test]
fn quotes_cannot_leave_an_attribute() {
    for typed in [
        "[x](https://a.example/\"onmouseover=\"alert(1))",
        "<https://a.example/\"onmouseover=\"alert(1)>",
        "https://a.example/'onmouseover='alert(1)",
        "[x](https://a.example \"title\" onclick=\"alert(1)\")",
    ] {
        let html = body_html(typed);
        for (at, _) in html.match_indices('<') {
            let tag = &html[at..at + html[at..].find('>').unwrap_or(0) + 1];
            assert!(
                !tag.contains("onmouseover=\"") && !tag.contains("onclick=") && !tag.contains('\''),
                "{typed:?} broke out: {tag}"
            );
        }
    }
}

#[test]
fn emphasis_bombs_and_long_lines_render_whole() {
    let bombs = [
        "*a **b _c".repeat(250),
        "[".repeat(2000),
        "*".repeat(2000),
        "> ".repeat(1000),
        "- ".repeat(1000),
        "`".repeat(2000),
        "<a".repeat(1000),
        "a".repeat(2000),
        "https://x.example/".to_owned() + &")".repeat(1980),
        "[a](".repeat(500),
        "**_".repeat(666),
    ];
    for bomb in bombs {
        let html = body_html(&bomb);
        assert!(!html.is_empty(), "{}", &bomb[..20]);
        assert!(!html.contains("<script"));
    }
}
