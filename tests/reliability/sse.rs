//! A raw SSE reader straight over `TcpStream`: a small chunked-body
//! decoder and an `id:`/`data:` scanner, cheap enough for thousands.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One complete SSE event.
#[derive(Debug, Clone)]
pub struct Event {
    pub seq: i64,
    pub data: String,
}

/// An SSE reader over a raw socket.
pub struct RawSse {
    stream: TcpStream,
    /// Bytes read and not yet de-chunked.
    raw: Vec<u8>,
    /// The de-chunked body not yet parsed into events.
    body: Vec<u8>,
    /// Bytes left in the current chunk (then its CRLF).
    in_chunk: usize,
    ended: bool,
}

impl RawSse {
    /// Reads the response head of a stream whose request was written.
    pub async fn open(mut stream: TcpStream, request: &str) -> Self {
        stream.write_all(request.as_bytes()).await.expect("request");
        let mut sse = Self::unopened(stream);
        sse.read_head().await;
        sse
    }

    /// Reads the head of a response to a request already written.
    pub async fn resume(stream: TcpStream) -> Self {
        let mut sse = Self::unopened(stream);
        sse.read_head().await;
        sse
    }

    fn unopened(stream: TcpStream) -> Self {
        Self {
            stream,
            raw: Vec::with_capacity(16 * 1024),
            body: Vec::new(),
            in_chunk: 0,
            ended: false,
        }
    }

    async fn read_head(&mut self) {
        let end = loop {
            if let Some(at) = find(&self.raw, b"\r\n\r\n") {
                break at;
            }
            let read =
                tokio::time::timeout(Duration::from_secs(30), self.stream.read_buf(&mut self.raw))
                    .await
                    .expect("response head within 30 s")
                    .expect("read");
            assert!(read > 0, "connection closed before the response head");
        };
        let head = String::from_utf8_lossy(&self.raw[..end]).to_ascii_lowercase();
        assert!(head.starts_with("http/1.1 200"), "not a stream: {head}");
        assert!(head.contains("transfer-encoding: chunked"), "{head}");
        self.raw.drain(..end + 4);
        // The body may have come in the same read as the head.
        self.dechunk();
    }

    /// The next event; `None` if the stream ended or nothing came within
    /// `wait` (see [`RawSse::ended`]).
    pub async fn next_within(&mut self, wait: Duration) -> Option<Event> {
        tokio::time::timeout(wait, self.next_event())
            .await
            .ok()
            .flatten()
    }

    /// Whether the server ended the stream.
    pub fn ended(&self) -> bool {
        self.ended
    }

    async fn next_event(&mut self) -> Option<Event> {
        loop {
            while let Some(at) = find(&self.body, b"\n\n") {
                let block: Vec<u8> = self.body.drain(..at + 2).collect();
                if let Some(event) = parse_event(&block) {
                    return Some(event);
                }
            }
            if self.ended {
                return None;
            }
            match self.stream.read_buf(&mut self.raw).await {
                Ok(0) | Err(_) => self.ended = true,
                Ok(_) => self.dechunk(),
            }
        }
    }

    /// Moves complete chunk payloads from `raw` into `body`.
    fn dechunk(&mut self) {
        let mut at = 0;
        loop {
            if self.in_chunk > 0 {
                let take = self.in_chunk.min(self.raw.len() - at);
                self.body.extend_from_slice(&self.raw[at..at + take]);
                self.in_chunk -= take;
                at += take;
                if self.in_chunk > 0 {
                    break;
                }
                // Now the CRLF after the payload, folded into the next size line.
            }
            let Some(line_end) = find(&self.raw[at..], b"\r\n") else {
                break;
            };
            let line = String::from_utf8_lossy(&self.raw[at..at + line_end]).into_owned();
            at += line_end + 2;
            let size = line.split(';').next().unwrap_or("").trim();
            if size.is_empty() {
                continue; // the CRLF that closes a payload
            }
            let size = usize::from_str_radix(size, 16).expect("chunk size");
            if size == 0 {
                self.ended = true;
                break;
            }
            self.in_chunk = size;
        }
        self.raw.drain(..at);
    }

    /// Reads exactly `count` events, each within `wait` of the previous.
    pub async fn take(&mut self, count: usize, wait: Duration) -> Vec<Event> {
        let mut events = Vec::with_capacity(count);
        while events.len() < count {
            match self.next_within(wait).await {
                Some(event) => events.push(event),
                None => panic!(
                    "only {} of {count} events arrived (ended: {})",
                    events.len(),
                    self.ended
                ),
            }
        }
        events
    }
}

fn parse_event(block: &[u8]) -> Option<Event> {
    let text = String::from_utf8_lossy(block);
    let mut seq = None;
    let mut data = String::new();
    for line in text.lines() {
        if let Some(id) = line.strip_prefix("id: ") {
            seq = id.trim().parse().ok();
        } else if let Some(value) = line.strip_prefix("data: ") {
            if !data.is_empty() {
                data.push('\n');
            }
            data.push_str(value);
        }
    }
    seq.map(|seq| Event { seq, data })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}
