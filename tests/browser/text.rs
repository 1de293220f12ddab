//! Whatever people type is shown as typed and stays inside its bubble.

use serde_json::{json, Value};

use super::support::*;

/// Each bubble: [body text, element children in it, computed direction,
/// inside the list horizontally].
const BUBBLES: &str = "const list = document.getElementById('messages').getBoundingClientRect();\
    return [...document.querySelectorAll('#messages .bubble')].map(b => {\
      const r = b.getBoundingClientRect();\
      return [b.textContent, b.children.length, getComputedStyle(b).direction,\
              r.left >= list.left - 0.5 && r.right <= list.right + 0.5];\
    })";

/// Nothing on the page is wider than the window.
const NO_SIDEWAYS_SCROLL: &str = "const d = document.documentElement;\
    const s = document.querySelector('.scroller');\
    return d.scrollWidth <= innerWidth && s.scrollWidth <= s.clientWidth";

/// HTML, emoji, right-to-left script and very long words arrive as typed,
/// as text, in the right direction, wrapped inside their bubbles.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_and_unusual_text_shows_as_typed_without_breaking_layout() {
    let Some(rig) = rig().await else { return };
    let alice = rig.browser().await;
    let bob = rig
        .browser_with(Options {
            size: DESKTOP,
            ..Options::default()
        })
        .await;
    alice.join("alice", "text").await;
    bob.join("bob", "text").await;

    let typed = [
        r#"<script>alert("x")</script><img src=x onerror=alert(1)> <b>bold?</b> &amp; "quotes""#,
        "שלום לכולם, מה שלומכם?",
        "مرحبا بالجميع",
        &"Pneumonoultramicroscopicsilicovolcanoconiosis".repeat(8),
        &format!("https://example.com/{}", "a-very-long-path/".repeat(20)),
    ];
    for text in typed {
        alice.say(text).await;
        bob.sees_last(text).await;
        alice.sees_last(text).await;
    }
    // chromedriver types only the Basic Multilingual Plane: paste emoji.
    let emoji = "party \u{1F389} family \u{1F469}\u{200D}\u{1F469}\u{200D}\u{1F467} done \u{2728}";
    alice
        .js(
            "document.getElementById('body').value = arguments[0]",
            vec![json!(emoji)],
        )
        .await;
    alice.say("").await;
    bob.sees_last(emoji).await;
    alice.sees_last(emoji).await;

    let no_alert =
        alice.client.get_alert_text().await.is_err() && bob.client.get_alert_text().await.is_err();
    assert!(no_alert, "no script ran");
    for viewer in [&alice, &bob] {
        let rows: Vec<(String, u32, String, bool)> =
            serde_json::from_value(viewer.js(BUBBLES, vec![]).await).expect("bubbles");
        assert_eq!(rows.len(), typed.len() + 1);
        for (text, children, direction, inside) in &rows {
            // A bare address becomes a link, its one element; everything
            // else here is text.
            let links = usize::from(text.starts_with("https://"));
            assert_eq!(*children as usize, links, "{text:?} is text, not markup");
            assert!(*inside, "{text:?} stays inside the list");
            let rtl = text.starts_with(['ש', 'م']);
            assert_eq!(
                direction,
                if rtl { "rtl" } else { "ltr" },
                "{text:?} direction"
            );
        }
        assert_eq!(rows[0].0, typed[0], "HTML shown as typed");
        assert_eq!(rows[3].0, typed[3], "the long word kept whole");
        assert_eq!(rows[5].0, emoji);
        assert_eq!(
            viewer.js(NO_SIDEWAYS_SCROLL, vec![]).await,
            Value::Bool(true),
            "no sideways scroll"
        );
    }
    alice.close().await;
    bob.close().await;
}
