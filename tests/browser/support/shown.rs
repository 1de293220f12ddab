//! Reading what a screen shows of each message, to compare two screens
//! (or one before and after a reload) as a person would.

use serde_json::json;

use super::{Browser, PATIENCE};

/// What a screen shows of one message: its element id, whether it is a
/// tombstone, the bubble's text, whether "edited" shows, and its reaction
/// chips as (emoji, count).
pub type Shown = (String, bool, String, bool, Vec<(String, i64)>);

/// Every message element in the list, oldest first (duplicates included).
pub async fn shown(browser: &Browser) -> Vec<Shown> {
    let rows = browser
        .js(
            "return [...document.querySelectorAll('#messages .msg')].map(m => [m.id,\
               m.classList.contains('deleted'), m.querySelector('.bubble').textContent,\
               !!m.querySelector('.edited'),\
               [...m.querySelectorAll('.reaction')].map(r =>\
                 [r.value, Number(r.querySelector('.count').textContent)])])",
            vec![],
        )
        .await;
    serde_json::from_value(rows).expect("shown rows")
}

/// One message as [`shown`] reports it.
pub fn message(seq: i64, text: &str, edited: bool, reactions: &[(&str, i64)]) -> Shown {
    let reactions = reactions.iter().map(|(e, n)| (e.to_string(), *n)).collect();
    (
        format!("message-{seq}"),
        false,
        text.into(),
        edited,
        reactions,
    )
}

/// A tombstone as [`shown`] reports it.
pub fn tombstone(seq: i64) -> Shown {
    (
        format!("message-{seq}"),
        true,
        "message deleted".into(),
        false,
        vec![],
    )
}

/// Waits until `browser` shows exactly `want`; after [`PATIENCE`], fails
/// with what it shows instead.
pub async fn shows(browser: &Browser, who: &str, want: &[Shown]) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let now = shown(browser).await;
        if now == want {
            return;
        }
        if tokio::time::Instant::now() >= deadline {
            assert_eq!(now, want, "what {who}'s screen shows");
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Scrolls `css` to the middle of the view and clicks it.
pub async fn click(browser: &Browser, css: &str) {
    let element = browser.find(css).await;
    browser
        .js(
            "arguments[0].scrollIntoView({block: 'center'})",
            vec![json!(element)],
        )
        .await;
    element
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}
