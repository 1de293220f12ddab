//! The smoke run CI can afford: natter in this process on a temporary
//! SQLite file, 50 subscribers, 20 messages, and every delivery accounted
//! for; then a second of posts and of pages so those modes stay working.

use std::net::SocketAddr;

use anyhow::{ensure, Result};
use natter::config::Config;
use natter::startup::App;

use super::fanout;
use super::load;
use super::target::{Kind, Target};

/// Runs the smoke workload; an error if anything was lost or duplicated.
pub async fn run() -> Result<()> {
    let dir = std::env::temp_dir().join(format!("natter-bench-smoke-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = against_fresh_server(&dir).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn against_fresh_server(dir: &std::path::Path) -> Result<()> {
    let mut config = Config::for_tests(format!("sqlite:{}", dir.join("natter.db").display()));
    config.bind = SocketAddr::from(([127, 0, 0, 1], 0));
    let app = App::build(config).await?;
    let target = Target {
        kind: Kind::Natter,
        addr: app.addr(),
        room: "smoke".to_owned(),
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run(async {
        let _ = stopped.await;
    }));
    let args = fanout::Args {
        subscribers: 50,
        messages: 20,
        rate: 100.0,
        size: 300,
        drain_secs: 10,
        settle_secs: 0,
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
    };
    let posts = load::posts(&target, None, &post_args).await?;
    posts.print();
    let posts = &posts.record["metrics"];
    ensure!(
        posts["posts_acked"].as_u64() > Some(0),
        "no post was acknowledged"
    );
    ensure!(
        posts["delivered"] == posts["expected_deliveries"],
        "posts mode lost deliveries"
    );
    let page = load::page(&target, None, &load::PageArgs { conns: 2, secs: 1 }).await?;
    page.print();
    ensure!(
        page.record["metrics"]["pages"].as_u64() > Some(0),
        "no page was served"
    );
    let _ = stop.send(());
    server.await??;
    println!("smoke: ok");
    Ok(())
}
