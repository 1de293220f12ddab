//! Contrast (issue 12, 7): in light and dark mode, text reaches 4.5:1
//! against its background and the borders of inputs and bubbles 3:1
//! against what surrounds them, measured from the computed colours.

use serde_json::json;

use super::support::*;

/// [what, foreground, background, minimum ratio] for the key elements:
/// each pair's colours are read with getComputedStyle (a background is the
/// nearest opaque one up the tree).
const PAIRS: &str = "\
  const bg = e => { for (; e; e = e.parentElement) { const c = getComputedStyle(e).backgroundColor;\
      if (!c.endsWith(', 0)') && c !== 'transparent') return c; } return 'rgb(255, 255, 255)'; };\
  const fg = e => getComputedStyle(e).color;\
  const border = e => getComputedStyle(e).borderTopColor;\
  const q = css => document.querySelector(css);\
  const out = [];\
  const text = (what, e) => e && out.push([what, fg(e), bg(e), 4.5]);\
  const edge = (what, e) => e && out.push([what, border(e), bg(e.parentElement), 3]);\
  text('body text', q('.author') || q('h1'));\
  text('muted text', q('time') || q('.lead'));\
  text('bubble text', q('.bubble'));\
  text('own bubble text', q('.msg[data-author] .bubble') && [...document.querySelectorAll('.bubble')].pop());\
  text('room title', q('.bar h1'));\
  text('exit', q('.exit summary'));\
  text('label', q('label:not(.visually-hidden)'));\
  text('field hint', q('.hint'));\
  text('join button', q('.primary'));\
  text('link', q('.rooms a'));\
  const box = q('#body') || q('#username');\
  if (box) out.push(['placeholder', getComputedStyle(box, '::placeholder').color, bg(box), 4.5]);\
  edge('input border', box);\
  edge('bubble border', q('.bubble'));\
  return out;";

fn luminance(rgb: &str) -> f64 {
    let parts: Vec<f64> = rgb
        .trim_start_matches("rgba(")
        .trim_start_matches("rgb(")
        .trim_end_matches(')')
        .split(',')
        .take(3)
        .map(|p| p.trim().parse::<f64>().expect("colour") / 255.0)
        .collect();
    let linear = |c: f64| {
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * linear(parts[0]) + 0.7152 * linear(parts[1]) + 0.0722 * linear(parts[2])
}

/// The WCAG contrast ratio of two CSS `rgb()` colours.
pub(crate) fn ratio(a: &str, b: &str) -> f64 {
    let (a, b) = (luminance(a), luminance(b));
    (a.max(b) + 0.05) / (a.min(b) + 0.05)
}

#[test]
fn the_ratio_matches_wcag() {
    assert!((ratio("rgb(0, 0, 0)", "rgb(255, 255, 255)") - 21.0).abs() < 0.01);
    assert!((ratio("rgb(119, 119, 119)", "rgb(255, 255, 255)") - 4.48).abs() < 0.01);
}

/// Every key pair on the join page and in a room, light and dark.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_and_borders_have_enough_contrast_in_light_and_dark() {
    let Some(rig) = rig().await else { return };
    let bot = rig.bot("Bot", "colours").await;
    bot.say("a message from someone else").await;
    let mut failures = Vec::new();
    for dark in [false, true] {
        let sam = rig
            .browser_with(Options {
                dark,
                ..Options::default()
            })
            .await;
        let scheme = sam
            .js(
                "return matchMedia('(prefers-color-scheme: dark)').matches",
                vec![],
            )
            .await;
        assert_eq!(scheme, json!(dark), "the colour scheme is {dark}");
        sam.goto("/join-room").await;
        sam.find("#username").await;
        // Borders at rest: a focused field shows the focus colour instead.
        sam.js("document.activeElement.blur()", vec![]).await;
        let mut pairs = sam
            .js(PAIRS, vec![])
            .await
            .as_array()
            .cloned()
            .unwrap_or_default();
        sam.join(if dark { "Dark Sam" } else { "Light Sam" }, "colours")
            .await;
        sam.say("my own message").await;
        sam.sees_last("my own message").await;
        sam.js("document.activeElement.blur()", vec![]).await;
        pairs.extend(
            sam.js(PAIRS, vec![])
                .await
                .as_array()
                .cloned()
                .unwrap_or_default(),
        );
        assert!(pairs.len() >= 14, "{pairs:?}");
        for pair in pairs {
            let (what, fg, bg, min): (String, String, String, f64) =
                serde_json::from_value(pair).expect("pair");
            let got = ratio(&fg, &bg);
            if got < min {
                failures.push(format!(
                    "{} {what}: {fg} on {bg} is {got:.2}:1, needs {min}:1",
                    if dark { "dark" } else { "light" }
                ));
            }
        }
        sam.close().await;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
