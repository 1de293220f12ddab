//! `natter-bench`: a load generator for natter's fan-out, posting and
//! pages, that can run the same fan-out against nginx+nchan.
//!
//! Every connection is a raw HTTP/1.1 `TcpStream` on a single-threaded
//! runtime (pin it to its own core with `taskset`), so the generator is
//! cheap next to the server it measures. The server's CPU time and memory
//! come from `/proc/<pid>` (`--pid`). See `bench/README.md` for the runs
//! behind `docs/BENCHMARKS.md`.

mod export;
mod fanout;
mod http;
mod load;
mod procfs;
mod report;
mod search;
mod smoke;
mod sse;
mod target;

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand};

use target::{Kind, Target};

#[derive(Debug, Parser)]
#[command(
    name = "natter-bench",
    about = "Load generator for natter (and nginx+nchan)"
)]
struct Cli {
    /// The server under test.
    #[arg(long, value_enum, default_value_t = Kind::Natter, global = true)]
    target: Kind,
    /// Its address.
    #[arg(long, default_value = "127.0.0.1:3000", global = true)]
    addr: SocketAddr,
    /// Its process id, for CPU time and RSS (nginx: the worker's).
    #[arg(long, global = true)]
    pid: Option<u32>,
    /// The room (default: a fresh name per run).
    #[arg(long, global = true)]
    room: Option<String>,
    /// Append the result as a JSON line to this file.
    #[arg(long, global = true)]
    json: Option<PathBuf>,
    /// A label stored with the result (e.g. the build or variant).
    #[arg(long, default_value = "", global = true)]
    label: String,
    #[command(subcommand)]
    mode: Mode,
}

#[derive(Debug, Subcommand)]
enum Mode {
    /// N subscribers, one poster at a fixed rate, every delivery timed.
    Fanout(fanout::Args),
    /// Many posters as fast as acknowledgements come back.
    Posts(load::PostArgs),
    /// The room page with 50 messages.
    Page(load::PageArgs),
    /// Search latency in a big room, natter in this process.
    Search(search::Args),
    /// The server's memory while a big room is exported.
    Export(export::Args),
    /// A tiny run against natter in this process; fails on any loss.
    Smoke,
    /// Medians of the runs in a JSON-lines file.
    Summary {
        file: PathBuf,
        /// Only these metrics.
        metrics: Vec<String>,
    },
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(cli))
}

async fn run(cli: Cli) -> Result<()> {
    let room = cli.room.clone().unwrap_or_else(|| {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        format!("bench-{secs}")
    });
    let target = Target {
        kind: cli.target,
        addr: cli.addr,
        room,
    };
    let mut run = match &cli.mode {
        Mode::Smoke => return smoke::run().await,
        Mode::Summary { file, metrics } => return report::summary(file, metrics),
        Mode::Fanout(args) => {
            target
                .wait_ready(std::time::Duration::from_secs(10))
                .await?;
            fanout::run(&target, cli.pid, args).await?
        }
        Mode::Posts(args) => load::posts(&target, cli.pid, args).await?,
        Mode::Page(args) => load::page(&target, cli.pid, args).await?,
        Mode::Search(args) => search::run(args).await?,
        Mode::Export(args) => export::run(args).await?,
    };
    run.label(&cli.label);
    run.print();
    if let Some(path) = &cli.json {
        run.append(path)?;
    }
    Ok(())
}
