//! Screenshots of what a new user sees (the room's Exit question too), phone- and desktop-sized, saved to
//! `target/screenshots/` (see `support::screenshot_dir`).

use super::support::*;

/// A short, friendly conversation for the pictures ("me" is the viewer).
const CONVERSATION: &[(&str, &str)] = &[
    ("Chloé", "Morning all! Who is around for the release today?"),
    ("Bob", "I am. Tests are green on both databases."),
    ("Bob", "The browser suite runs in a couple of minutes now."),
    ("me", "Great, I'll cut the release after lunch."),
    ("Chloé", "Perfect. I'll write the notes."),
    ("me", "Thanks! Ping me if anything looks off."),
];

const LAST: &str = "Thanks! Ping me if anything looks off.";

/// Puts the view halfway up a long room, older pages loaded.
async fn read_back(me: &Browser) {
    me.goto("/rooms/archive").await;
    me.find("#body").await;
    me.js(
        "const s = document.querySelector('.scroller'); s.scrollTop = -s.scrollHeight",
        vec![],
    )
    .await;
    eventually("older messages load", || async {
        me.messages().await.len() > 50
    })
    .await;
    me.js(
        "const s = document.querySelector('.scroller');\
         s.scrollTop = -(s.scrollHeight - s.clientHeight) / 2;\
         document.activeElement.blur()",
        vec![],
    )
    .await;
}

/// Shows a room with nothing focused, so no focus ring is in the picture.
async fn open_room(me: &Browser, room: &str) {
    me.goto(&format!("/rooms/{room}")).await;
    me.sees_last(LAST).await;
    me.js("document.activeElement.blur()", vec![]).await;
}

/// The join page, a join error, a room with a conversation and a room read
/// back into its history, at both sizes, and the room in dark mode.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn screenshots_of_every_screen() {
    let Some(rig) = rig().await else { return };
    let chloe = rig.bot("Chloé", "release").await;
    let bob = rig.bot("Bob", "release").await;
    let dana = rig.bot("Dana", "archive").await;
    let eli = rig.bot("Eli", "archive").await;
    for i in 1..=80 {
        let who = if (i / 3) % 2 == 0 { &dana } else { &eli };
        who.say(&format!("Note {i}: an older message to page back to."))
            .await;
    }

    // The same person (one profile) on a phone, on a desktop, and in the dark.
    let mut profile = None;
    for (size, label) in [(MOBILE, "mobile"), (DESKTOP, "desktop")] {
        let fresh = rig
            .browser_with(Options {
                size,
                ..Options::default()
            })
            .await;
        fresh.goto("/join-room").await;
        fresh.find("#username").await;
        fresh.screenshot(&format!("{label}-join")).await;
        fresh.submit_join("Bob", "release").await;
        fresh.find("#username-error").await;
        fresh.screenshot(&format!("{label}-join-error")).await;

        let me = match &profile {
            None => {
                fresh.join("Sam", "release").await;
                for (who, text) in CONVERSATION {
                    match *who {
                        "Chloé" => chloe.say(text).await,
                        "Bob" => bob.say(text).await,
                        _ => fresh.say(text).await,
                    }
                    fresh.sees_last(text).await;
                }
                fresh.join("Sam", "archive").await;
                fresh
            }
            Some(dir) => {
                fresh.close().await;
                rig.browser_with(Options {
                    size,
                    profile: Some(dir_path(dir)),
                    ..Options::default()
                })
                .await
            }
        };
        open_room(&me, "release").await;
        me.screenshot(&format!("{label}-room")).await;
        me.find(".exit summary").await.click().await.expect("Exit");
        me.screenshot(&format!("{label}-exit")).await;
        me.find(".exit summary").await.click().await.expect("close");
        read_back(&me).await;
        me.screenshot(&format!("{label}-history")).await;
        let kept = me.quit().await;
        if profile.is_none() {
            profile = kept;
        }
    }
    let dir = profile.expect("the first profile is kept");
    for (size, label) in [(MOBILE, "mobile"), (DESKTOP, "desktop")] {
        let dark = rig
            .browser_with(Options {
                size,
                dark: true,
                profile: Some(dir_path(&dir)),
                ..Options::default()
            })
            .await;
        open_room(&dark, "release").await;
        dark.screenshot(&format!("{label}-room-dark")).await;
        dark.close().await;
    }
}

fn dir_path(dir: &tempfile::TempDir) -> std::path::PathBuf {
    dir.path().to_owned()
}
