//! Subscribers: one raw HTTP/1.1 event stream each, scanned for the marker
//! the poster put in every message (`NB@{seq}@{sent µs}@`), so the same
//! reader works for natter's HTML fragments and nchan's plain data lines.
//!
//! This is the bench's hot path, so it is not the test kit's `Sse`: that
//! one parses every event into owned strings, where this one only scans
//! each event's bytes for the marker and keeps a latency per seq, with
//! no allocation per event. It shares the kit's chunked decoder.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Result};
use tokio::io::AsyncWriteExt;
use tokio_util::sync::CancellationToken;

use natter_kit::chunked::{find, Chunked};

use super::http::Conn;
use super::target::{Cookie, Target};

/// A latency slot with nothing received yet.
pub const MISSING: u32 = u32::MAX;

/// The message text for bench seq `seq` sent at `sent_us`, padded with
/// `x` to `size` bytes.
pub fn message_text(seq: usize, sent_us: u64, size: usize) -> String {
    let mut text = format!("NB@{seq}@{sent_us}@ ");
    while text.len() < size {
        text.push('x');
    }
    text
}

/// Finds the marker in an event: (bench seq, sent µs).
pub fn parse_marker(event: &[u8]) -> Option<(usize, u64)> {
    let at = find(event, b"NB@")?;
    let rest = &event[at + 3..];
    let mut numbers = rest.splitn(3, |&b| b == b'@');
    let number = |part: Option<&[u8]>| std::str::from_utf8(part?).ok()?.parse::<u64>().ok();
    let seq = number(numbers.next())?;
    let sent = number(numbers.next())?;
    Some((usize::try_from(seq).ok()?, sent))
}

/// What every subscriber shares: the clock and the running counts.
pub struct Shared {
    pub epoch: Instant,
    /// Bench seqs expected (0: count deliveries without tracking them).
    pub messages: usize,
    pub delivered: AtomicU64,
    pub duplicates: AtomicU64,
    /// Subscribers whose stream ended or failed before `stop`.
    pub broken: AtomicU64,
    /// Events of any kind read so far (presence panels included): the run
    /// waits for it to stand still before it measures the idle state.
    pub events: AtomicU64,
    pub stop: CancellationToken,
}

impl Shared {
    /// Microseconds since the bench's epoch.
    pub fn now_us(&self) -> u64 {
        self.epoch.elapsed().as_micros() as u64
    }
}

/// An open stream: the head was read and said 200.
pub struct Stream {
    conn: Conn,
    chunked: Option<Chunked>,
}

/// How a subscriber's stream reaches the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Path {
    /// As a browser: the page first, then the stream on the same
    /// keep-alive connection (a pooling proxy's upstream looks the same).
    Browser,
    /// The stream as the first request of a new connection.
    Fresh,
}

/// Opens an event stream along `path` and reads its head.
pub async fn open(target: &Target, cookie: &Cookie, path: Path) -> Result<Stream> {
    let mut conn = Conn::connect(target.addr).await?;
    if path == Path::Browser {
        let (head, _) = conn.roundtrip(&target.page_request(cookie)).await?;
        if head.status != 200 {
            bail!("page before the stream: status {}", head.status);
        }
    }
    conn.stream
        .write_all(&target.subscribe_request(cookie))
        .await?;
    let head = conn.read_head().await?;
    if head.status != 200 {
        bail!("event stream: status {}", head.status);
    }
    let chunked = head
        .header("transfer-encoding")
        .is_some_and(|v| v.contains("chunked"))
        .then(Chunked::default);
    Ok(Stream { conn, chunked })
}

/// Reads a stream until `stop`; returns the latency in µs of each bench
/// seq (`MISSING` where none arrived).
pub async fn listen(mut stream: Stream, shared: Arc<Shared>) -> Vec<u32> {
    let mut latencies = vec![MISSING; shared.messages];
    let mut decoded = Vec::with_capacity(2048);
    loop {
        let now = shared.now_us();
        let ended = match &mut stream.chunked {
            Some(decoder) => decoder
                .feed(&mut stream.conn.buf, &mut decoded)
                .unwrap_or(true),
            None => {
                decoded.extend_from_slice(&stream.conn.buf);
                stream.conn.buf.clear();
                false
            }
        };
        let mut start = 0;
        let mut events = 0;
        while let Some(end) = find(&decoded[start..], b"\n\n") {
            events += 1;
            if let Some((seq, sent)) = parse_marker(&decoded[start..start + end]) {
                record(&mut latencies, &shared, seq, now.saturating_sub(sent));
            }
            start += end + 2;
        }
        shared.events.fetch_add(events, Ordering::Relaxed);
        decoded.drain(..start);
        if ended {
            shared.broken.fetch_add(1, Ordering::Relaxed);
            return latencies;
        }
        tokio::select! {
            () = shared.stop.cancelled() => return latencies,
            read = stream.conn.fill() => if read.is_err() {
                shared.broken.fetch_add(1, Ordering::Relaxed);
                return latencies;
            }
        }
    }
}

fn record(latencies: &mut [u32], shared: &Shared, seq: usize, latency_us: u64) {
    if shared.messages == 0 {
        // Counting only (post throughput): any number of messages.
        shared.delivered.fetch_add(1, Ordering::Relaxed);
        return;
    }
    let Some(slot) = latencies.get_mut(seq) else {
        return;
    };
    if *slot == MISSING {
        *slot = u32::try_from(latency_us).unwrap_or(MISSING - 1);
        shared.delivered.fetch_add(1, Ordering::Relaxed);
    } else {
        shared.duplicates.fetch_add(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_marker_survives_html_around_it() {
        let text = message_text(42, 1_234_567, 300);
        assert_eq!(text.len(), 300);
        let event = format!("id: 9\ndata: <p class=\"bubble\">{text}</p>");
        assert_eq!(parse_marker(event.as_bytes()), Some((42, 1_234_567)));
        assert_eq!(parse_marker(b": keep-alive"), None);
    }
}
