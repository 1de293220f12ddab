//! Search latency in a big room: natter in this process (the test kit's
//! launcher, limits lifted) on a fresh database of either backend, a room
//! of `--messages` messages loaded straight into it with SQL (the search
//! index follows by its triggers or generated column, as for posts), then
//! `--queries` searches of each kind, one at a time, over HTTP as JSON.
//! The loader ([`load`]) also fills the room the export bench downloads.
//!
//! The kinds span the selectivities that matter: a word in every message,
//! in a tenth, in a thousandth, two words together, one message only, and
//! none at all. Latency is the whole request as a client sees it.

use std::time::Instant;

use anyhow::{ensure, Context, Result};
use clap::Args as ClapArgs;
use natter_kit::{presets, spawn_app_with, Backend, TestApp};
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
    /// Rooms of `--messages` each (the same bodies): searches in the first
    /// then wade through the others' matches unless the index knows rooms.
    #[arg(long, default_value_t = 1)]
    pub rooms: u32,
    /// PostgreSQL: only `ANALYZE` after the load, no `VACUUM`, so the GIN
    /// pending list and the unset hint bits a bulk insert leaves are still
    /// there (the state of a table autovacuum has not reached yet).
    #[arg(long)]
    pub no_vacuum: bool,
}

/// The backend named `sqlite` or `postgres`.
pub fn backend(name: &str) -> Backend {
    match name {
        "postgres" => Backend::Postgres,
        _ => Backend::Sqlite,
    }
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
    let backend = backend(&args.backend);
    let app = spawn_app_with(backend, presets::unlimited).await;
    let user = app.user();
    user.join("bench", ROOM).await;
    let others: Vec<String> = (2..=args.rooms).map(|i| format!("{ROOM}-{i}")).collect();
    let rooms: Vec<&str> = std::iter::once(ROOM)
        .chain(others.iter().map(String::as_str))
        .collect();
    let load_secs = load(&app, &rooms, args.messages, !args.no_vacuum).await;
    println!(
        "loaded {} rooms of {} messages in {load_secs:.1} s",
        rooms.len(),
        args.messages
    );

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
        json!({"backend": args.backend, "messages": args.messages, "queries": args.queries,
               "rooms": args.rooms, "vacuum": !args.no_vacuum}),
        metrics,
    ))
}

/// Fills each of `rooms` (the first of which a member named `bench`,
/// member id 1, has joined; the others are created) with `messages`
/// messages straight through SQL, a room after another, in seq order,
/// bodies `message {i} word{i%1000} tag{i%10} common text…`, all by
/// `bench`; the search index follows by its triggers or generated column,
/// as for posts. Then, on
/// PostgreSQL, `ANALYZE`, and with `vacuum` a `VACUUM` as well: the
/// PostgreSQL tests and benches run on has autovacuum off (its CI
/// configuration), so nothing else would do what autovacuum does to a
/// table that grew by posts. Returns the seconds it took.
pub async fn load(app: &TestApp, rooms: &[&str], messages: u64, vacuum: bool) -> f64 {
    let started = Instant::now();
    let (rows, source) = if app.db.is_sqlite() {
        (
            format!("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {messages})"),
            "FROM n".to_owned(),
        )
    } else {
        (
            String::new(),
            format!("FROM generate_series(1, {messages}) AS i"),
        )
    };
    for room in rooms {
        app.run_sql(&format!(
            "INSERT INTO rooms (name, created_at) VALUES ('{room}', 1700000000000) \
             ON CONFLICT (name) DO NOTHING"
        ))
        .await;
        app.run_sql(&format!(
            "{rows} INSERT INTO messages (room, seq, cursor, author_id, author, body, created_at) \
             SELECT '{room}', i, i, 1, 'bench', \
             'message ' || i || ' word' || (i % 1000) || ' tag' || (i % 10) || \
             ' common text for the search bench', 1700000000000 + i {source}"
        ))
        .await;
        app.run_sql(&format!(
            "UPDATE rooms SET last_seq = {messages}, last_cursor = {messages} WHERE name = '{room}'"
        ))
        .await;
    }
    if !app.db.is_sqlite() {
        let settle = if vacuum {
            "VACUUM ANALYZE messages"
        } else {
            "ANALYZE messages"
        };
        app.run_sql(settle).await;
    }
    started.elapsed().as_secs_f64()
}
