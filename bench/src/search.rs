//! Search latency in a big room: natter in this process (the test kit's
//! launcher, limits lifted) on a fresh database of either backend, a room
//! of `--messages` messages loaded straight into it with SQL (the search
//! index follows by its triggers or generated column, as for posts), then
//! `--queries` searches of each kind, one at a time, over HTTP as JSON.
//!
//! The kinds span the selectivities that matter: a word in every message,
//! in a tenth, in a thousandth, two words together, one message only, and
//! none at all. Latency is the whole request as a client sees it.

use std::time::Instant;

use anyhow::{ensure, Context, Result};
use clap::Args as ClapArgs;
use natter_kit::{presets, spawn_app_with, Backend};
use serde_json::json;

use super::report::{percentile, Run};
use super::target::{Kind, Target};

/// `search` options.
#[derive(Debug, Clone, ClapArgs)]
pub struct Args {
    /// `sqlite` or `postgres`.
    #[arg(long, default_value = "sqlite")]
    pub backend: String,
    /// Messages in the room.
    #[arg(long, default_value_t = 1_000_000)]
    pub messages: u64,
    /// Searches of each kind.
    #[arg(long, default_value_t = 100)]
    pub queries: u32,
}

/// The room searched.
const ROOM: &str = "search";

/// A query of each kind for round `i`, by name.
fn queries(i: u32, messages: u64) -> [(&'static str, String); 6] {
    let n = u64::from(i) * 7919 % messages + 1;
    [
        ("every", "common".to_owned()),
        ("tenth", format!("tag{}", i % 10)),
        ("thousandth", format!("word{}", n % 1000)),
        ("two_words", format!("word{} tag{}", n % 1000, n % 10)),
        ("one", format!("message {n}")),
        ("none", "zebra".to_owned()),
    ]
}

/// Loads the room, then times the searches; one run per backend.
pub async fn run(args: &Args) -> Result<Run> {
    let backend = match args.backend.as_str() {
        "postgres" => Backend::Postgres,
        _ => Backend::Sqlite,
    };
    let app = spawn_app_with(backend, presets::unlimited).await;
    let user = app.user();
    user.join("bench", ROOM).await;
    let started = Instant::now();
    let rows = match backend {
        Backend::Sqlite => format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {})",
            args.messages
        ),
        Backend::Postgres => String::new(),
    };
    let source = match backend {
        Backend::Sqlite => "FROM n".to_owned(),
        Backend::Postgres => format!("FROM generate_series(1, {}) AS i", args.messages),
    };
    app.run_sql(&format!(
        "{rows} INSERT INTO messages (room, seq, cursor, author_id, author, body, created_at) \
         SELECT '{ROOM}', i, i, 1, 'bench', \
         'message ' || i || ' word' || (i % 1000) || ' tag' || (i % 10) || \
         ' common text for the search bench', 1700000000000 + i {source}"
    ))
    .await;
    app.run_sql(&format!(
        "UPDATE rooms SET last_seq = {0}, last_cursor = {0} WHERE name = '{ROOM}'",
        args.messages
    ))
    .await;
    if backend == Backend::Postgres {
        // What autovacuum would have done for a room that grew by posts.
        app.run_sql("ANALYZE messages").await;
    }
    let load_secs = started.elapsed().as_secs_f64();
    println!("loaded {} messages in {load_secs:.1} s", args.messages);

    let mut by_kind: Vec<(&str, Vec<u32>)> = Vec::new();
    let mut all = Vec::new();
    for i in 0..args.queries {
        for (kind, query) in queries(i, args.messages) {
            let started = Instant::now();
            let response = user
                .client
                .get(user.url(&format!("/rooms/{ROOM}/search")))
                .query(&[("q", query.as_str())])
                .header("accept", "application/json")
                .send()
                .await
                .context("search")?;
            let status = response.status();
            let body: serde_json::Value = response.json().await.context("results")?;
            let micros = u32::try_from(started.elapsed().as_micros()).unwrap_or(u32::MAX);
            ensure!(status == 200, "{query:?}: {status}");
            let found = body["results"].as_array().map_or(0, Vec::len);
            ensure!((kind == "none") == (found == 0), "{query:?} found {found}");
            all.push(micros);
            match by_kind.iter_mut().find(|(name, _)| *name == kind) {
                Some((_, times)) => times.push(micros),
                None => by_kind.push((kind, vec![micros])),
            }
        }
    }
    all.sort_unstable();
    let ms = |sorted: &[u32], p: f64| f64::from(percentile(sorted, p)) / 1000.0;
    let mut metrics = json!({
        "load_s": load_secs,
        "searches": all.len(),
        "search_p50_ms": ms(&all, 50.0),
        "search_p99_ms": ms(&all, 99.0),
    });
    for (kind, mut times) in by_kind {
        times.sort_unstable();
        metrics[format!("{kind}_p50_ms")] = json!(ms(&times, 50.0));
        metrics[format!("{kind}_p99_ms")] = json!(ms(&times, 99.0));
    }
    let target = Target {
        kind: Kind::Natter,
        addr: app.socket,
        room: ROOM.to_owned(),
    };
    Ok(Run::new(
        "search",
        &target,
        json!({"backend": args.backend, "messages": args.messages, "queries": args.queries}),
        metrics,
    ))
}
