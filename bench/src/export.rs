//! Export memory on a big room: the server's resident memory while a
//! member downloads `GET /rooms/{room}/export` of a room of `--messages`
//! messages, as JSON lines and as text, once reading as fast as it can
//! and once slowly (`--chunk-kb`, then a pause of `--pause-ms`).
//!
//! The room is loaded with the search bench's loader by natter in this
//! process, which then stops; the real `natter` binary (built beside this
//! one) serves the download on the same database, so `/proc/<pid>` holds
//! the server alone, not this client. Each download is read over a raw
//! socket and counted, never kept, and a thread samples the server's
//! VmRSS every few milliseconds meanwhile: the peak over the RSS just
//! before is what the download cost, and the peak in its second half over
//! the peak in its first is whether that cost grows with the room. An
//! export that streams keeps both flat however big the room; one that
//! gathers the room grows with it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use clap::Args as ClapArgs;
use natter_kit::chunked::Chunked;
use natter_kit::{presets, spawn_app_with};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, Command};

use super::http::{request, Conn};
use super::procfs::sample;
use super::report::Run;
use super::search;
use super::target::{Kind, Target};

/// `export` options.
#[derive(Debug, Clone, ClapArgs)]
pub struct Args {
    /// `sqlite` or `postgres`.
    #[arg(long, default_value = "sqlite")]
    pub backend: String,
    /// Messages in the room.
    #[arg(long, default_value_t = 1_000_000)]
    pub messages: u64,
    /// The natter binary that serves the download (default: `natter`
    /// beside this binary).
    #[arg(long)]
    pub natter: Option<PathBuf>,
    /// The slow reader reads this many KiB at a time, then pauses.
    #[arg(long, default_value_t = 64)]
    pub chunk_kb: usize,
    /// The slow reader's pause, in milliseconds.
    #[arg(long, default_value_t = 10)]
    pub pause_ms: u64,
}

/// The room exported.
const ROOM: &str = "export";

/// How often the server's RSS is read during a download.
const SAMPLE_EVERY: Duration = Duration::from_millis(5);

/// Loads the room, then times and measures each download.
pub async fn run(args: &Args) -> Result<Run> {
    let mut app = spawn_app_with(search::backend(&args.backend), presets::unlimited).await;
    app.user().join("bench", ROOM).await;
    let load_secs = search::load(&app, &[ROOM], args.messages, true).await;
    println!("loaded {} messages in {load_secs:.1} s", args.messages);
    app.stop().await;

    let binary = match &args.natter {
        Some(path) => path.clone(),
        None => std::env::current_exe()?.with_file_name("natter"),
    };
    let (mut server, addr) = start(&binary, &app.db.url).await?;
    let pid = server.id().context("natter exited")?;
    let target = Target {
        kind: Kind::Natter,
        addr,
        room: ROOM.to_owned(),
    };
    target.wait_ready(Duration::from_secs(30)).await?;
    let cookie = target
        .join(&mut Conn::connect(addr).await?, "reader")
        .await?;
    let cookie = cookie.context("no session cookie")?;
    let mut metrics = json!({"load_s": load_secs, "rss_idle_kb": sample(Some(pid))?.rss_kb});
    let slow = Duration::from_millis(args.pause_ms);
    for (format, query) in [("jsonl", ""), ("txt", "?format=txt")] {
        for (speed, pause) in [("fast", None), ("slow", Some(slow))] {
            let path = format!("/rooms/{ROOM}/export{query}");
            let get = request("GET", &path, &[("Cookie", &cookie)], b"");
            let reader = Reader {
                chunk: args.chunk_kb * 1024,
                pause,
                half: args.messages / 2,
            };
            let result = download(addr, &get, pid, &reader).await?;
            ensure!(
                result["lines"] == json!(args.messages),
                "{path} ({speed}): {} lines of {}",
                result["lines"],
                args.messages
            );
            println!("{format} {speed}: {result}");
            // Flat names, so that `summary` takes the median of each.
            for (name, value) in result.as_object().into_iter().flatten() {
                metrics[format!("{format}_{speed}_{name}")] = value.clone();
            }
        }
    }
    metrics["rss_after_kb"] = json!(sample(Some(pid))?.rss_kb);
    server.kill().await?;
    Ok(Run::new(
        "export",
        &target,
        json!({"backend": args.backend, "messages": args.messages,
               "chunk_kb": args.chunk_kb, "pause_ms": args.pause_ms}),
        metrics,
    ))
}

/// Starts `binary` on `database_url` on a free loopback port, limits
/// lifted, one runtime worker, as `bench/run.sh` starts it.
async fn start(binary: &Path, database_url: &str) -> Result<(Child, SocketAddr)> {
    let addr = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    let child = Command::new(binary)
        .args(presets::unlimited_args())
        .arg("--bind")
        .arg(addr.to_string())
        .arg("--database-url")
        .arg(database_url)
        .env("RUST_LOG", "warn")
        .env("NATTER_WORKER_THREADS", "1")
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("start {}", binary.display()))?;
    Ok((child, addr))
}

/// How a download is read.
struct Reader {
    /// Bytes read at a time.
    chunk: usize,
    /// The pause after each `chunk` bytes (a slow reader), if any.
    pause: Option<Duration>,
    /// Lines after which the download is in its second half.
    half: u64,
}

/// Sends `get` and reads the chunked body to its end as `reader` says,
/// counting bytes and lines, while a thread samples the server's RSS. The
/// measures as JSON.
async fn download(addr: SocketAddr, get: &[u8], pid: u32, reader: &Reader) -> Result<Value> {
    let before = sample(Some(pid))?;
    let stop = Arc::new(AtomicBool::new(false));
    let lines = Arc::new(AtomicU64::new(0));
    let sampler = {
        let (stop, lines, half) = (stop.clone(), lines.clone(), reader.half);
        std::thread::spawn(move || {
            // The peak in the first half of the lines and in the second.
            let mut peaks = [0, 0];
            while !stop.load(Ordering::Relaxed) {
                if let Ok(now) = sample(Some(pid)) {
                    let half = usize::from(lines.load(Ordering::Relaxed) >= half);
                    peaks[half] = peaks[half].max(now.rss_kb);
                }
                std::thread::sleep(SAMPLE_EVERY);
            }
            peaks
        })
    };
    let started = Instant::now();
    let read = read_body(addr, get, reader, &lines).await;
    let secs = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let [first, second] = sampler.join().unwrap_or_default();
    let peak = first.max(second).max(before.rss_kb);
    let after = sample(Some(pid))?;
    let bytes = read?;
    Ok(json!({
        "bytes": bytes,
        "lines": lines.load(Ordering::Relaxed),
        "secs": secs,
        "mb_per_s": bytes as f64 / 1e6 / secs,
        "server_cpu_s": after.cpu_since(&before) as f64 / 1e6,
        "rss_before_kb": before.rss_kb,
        "rss_peak_kb": peak,
        "rss_growth_kb": peak - before.rss_kb,
        "rss_second_half_growth_kb": second.saturating_sub(first.max(before.rss_kb)),
    }))
}

/// The body's bytes, read as [`download`] says; its line breaks counted
/// into `lines` as they arrive.
async fn read_body(
    addr: SocketAddr,
    get: &[u8],
    reader: &Reader,
    lines: &AtomicU64,
) -> Result<u64> {
    let mut conn = Conn::connect(addr).await?;
    conn.stream.write_all(get).await?;
    let head = conn.read_head().await?;
    ensure!(head.status == 200, "export: status {}", head.status);
    if !head
        .header("transfer-encoding")
        .is_some_and(|value| value.contains("chunked"))
    {
        bail!("export: not chunked");
    }
    let mut decoder = Chunked::default();
    let mut bytes = 0_u64;
    let mut data = Vec::with_capacity(reader.chunk);
    let mut raw = vec![0_u8; reader.chunk];
    let mut unpaused = 0;
    loop {
        let done = decoder.feed(&mut conn.buf, &mut data)?;
        bytes += data.len() as u64;
        let breaks = data.iter().filter(|&&byte| byte == b'\n').count();
        lines.fetch_add(breaks as u64, Ordering::Relaxed);
        data.clear();
        if done {
            return Ok(bytes);
        }
        let n = conn.stream.read(&mut raw).await?;
        if n == 0 {
            bail!("export cut short after {bytes} bytes");
        }
        conn.buf.extend_from_slice(&raw[..n]);
        unpaused += n;
        if let Some(pause) = reader.pause.filter(|_| unpaused >= reader.chunk) {
            unpaused = 0;
            tokio::time::sleep(pause).await;
        }
    }
}
