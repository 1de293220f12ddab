//! Formatting: each construct of the Markdown subset renders the same on
//! the page, in the history fragment and in the stream; the worst cases
//! render whole.

use std::time::Duration;

use crate::helpers::header;
use crate::markup::{bubbles, inert};
use natter_kit::{spawn_app, Backend};

natter_kit::on_both_backends!(
    each_construct_renders_everywhere,
    worst_cases_of_two_thousand_characters_render,
);

const WAIT: Duration = Duration::from_secs(10);

/// `rel` and `target` of every link.
const LINK: &str = r#"" rel="noopener noreferrer nofollow ugc" target="_blank">"#;

/// What is typed, and what its bubble holds.
fn constructs() -> Vec<(&'static str, String)> {
    vec![
        (
            "*soft* and **loud**",
            "<em>soft</em> and <strong>loud</strong>".into(),
        ),
        ("run `cargo test`", "run <code>cargo test</code>".into()),
        (
            "```\nfn main() {}\n```",
            "<pre><code>fn main() {}</code></pre>".into(),
        ),
        (
            "> said before",
            r#"<blockquote dir="auto"><p dir="auto">said before</p></blockquote>"#.into(),
        ),
        (
            "- one\n- two",
            r#"<ul><li dir="auto">one</li><li dir="auto">two</li></ul>"#.into(),
        ),
        (
            "[docs](https://docs.example/)",
            format!(r#"<a href="https://docs.example/{LINK}docs</a>"#),
        ),
        (
            "see https://x.example/a.",
            format!(r#"see <a href="https://x.example/a{LINK}https://x.example/a</a>."#),
        ),
        (
            "[no](javascript:alert(1))",
            "[no](javascript:alert(1))".into(),
        ),
        ("# not a heading", "# not a heading".into()),
        (
            "שלום *עולם*\n\nhello",
            r#"<p dir="auto">שלום <em>עולם</em></p><p dir="auto">hello</p>"#.into(),
        ),
    ]
}

/// Every construct, posted, shows as the subset says in all three places.
async fn each_construct_renders_everywhere(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user();
    alice.join("alice", "lobby").await;
    let mut stream = alice.events("lobby", header("last-event-id", "0")).await;
    let constructs = constructs();
    for (typed, _) in &constructs {
        alice.say_json("lobby", typed).await;
    }
    let streamed: Vec<String> = stream
        .take(constructs.len(), WAIT)
        .await
        .iter()
        .flat_map(|event| bubbles(&event.data))
        .collect();
    let (_, history) = alice.text("/rooms/lobby/messages?before=999").await;
    let (_, page) = alice.text("/rooms/lobby").await;
    for shown in [streamed, bubbles(&history), bubbles(&page)] {
        assert_eq!(shown.len(), constructs.len());
        for (html, (typed, expected)) in shown.iter().zip(&constructs) {
            assert_eq!(html, expected, "{typed:?}");
            assert_eq!(inert(html), Ok(()), "{typed:?}");
        }
    }
}

/// Pathological 2,000-character bodies (nested emphasis, brackets, deep
/// quotes, unbalanced parentheses after an address) are stored and shown
/// whole. How fast is the bench's business; that they finish at all within
/// the client's timeout is this test's.
async fn worst_cases_of_two_thousand_characters_render(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user();
    alice.join("alice", "lobby").await;
    let worst = [
        "*a **b _c ".repeat(200),
        "[".repeat(2000),
        "*_".repeat(1000),
        "> ".repeat(1000),
        "- ".repeat(1000),
        "`".repeat(2000),
        format!("https://x.example/{}", ")".repeat(1982)),
        "[a](".repeat(500),
        "<a ".repeat(666),
    ];
    for typed in &worst {
        assert!(typed.chars().count() <= 2000);
        alice.say_json("lobby", typed).await;
    }
    let (_, page) = alice.text("/rooms/lobby").await;
    let shown = bubbles(&page);
    assert_eq!(shown.len(), worst.len());
    for html in &shown {
        assert_eq!(inert(html), Ok(()));
    }
}
