//! The smoke run CI can afford: natter in this process on a temporary
//! SQLite file (the test kit's launcher, with the test defaults), 50
//! subscribers, 20 messages, and every delivery accounted for; then a
//! second of posts and of pages so those modes stay working.

use anyhow::{ensure, Result};
use natter_kit::{spawn_app, Backend};

use super::fanout;
use super::load;
use super::sse::Path;
use super::target::{Kind, Target};

/// Runs the smoke workload; an error if anything was lost or duplicated.
pub async fn run() -> Result<()> {
    let mut app = spawn_app(Backend::Sqlite).await;
    let target = Target {
        kind: Kind::Natter,
        addr: app.socket,
        room: "smoke".to_owned(),
    };
    let args = fanout::Args {
        subscribers: 50,
        messages: 20,
        rate: 100.0,
        size: 300,
        drain_secs: 10,
        settle_secs: 0,
        // Typing signals meanwhile: they must not disturb a delivery.
        typing: 20.0,
        // Each stream after its page, on the page's connection.
        path: Path::Browser,
    };
    let fanout = fanout::run(&target, None, &args).await?;
    fanout.print();
    let metrics = &fanout.record["metrics"];
    ensure!(
        metrics["delivered"] == 1000,
        "delivered {} of 1000",
        metrics["delivered"]
    );
    ensure!(
        metrics["duplicates"] == 0,
        "duplicates: {}",
        metrics["duplicates"]
    );
    let post_args = load::PostArgs {
        posters: 4,
        subscribers: 10,
        elsewhere: false,
        secs: 1,
        size: 300,
        reactions: 0,
        edits: 0,
        names: String::new(),
    };
    // Posts only, then the mixed workload: every change reaches every
    // subscriber once, like a post.
    let mixed_args = load::PostArgs {
        reactions: 15,
        edits: 5,
        ..post_args.clone()
    };
    for (room, args) in [("posts", post_args), ("mixed", mixed_args)] {
        let target = Target {
            room: format!("{}-{room}", target.room),
            ..target.clone()
        };
        let posts = load::posts(&target, None, &args).await?;
        posts.print();
        let posts = &posts.record["metrics"];
        ensure!(
            posts["posts_acked"].as_u64() > Some(0),
            "no post was acknowledged"
        );
        ensure!(
            posts["posts_failed"] == 0,
            "refused: {}",
            posts["posts_failed"]
        );
        ensure!(
            posts["delivered"] == posts["expected_deliveries"],
            "posts mode lost deliveries"
        );
    }
    let page = load::page(&target, None, &load::PageArgs { conns: 2, secs: 1 }).await?;
    page.print();
    ensure!(
        page.record["metrics"]["pages"].as_u64() > Some(0),
        "no page was served"
    );
    app.stop().await;
    println!("smoke: ok");
    Ok(())
}
