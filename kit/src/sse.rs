//! One SSE reader: events (`id:`, `event:`, `data:`) parsed from a
//! `reqwest` response body, or from a raw socket whose chunked body it
//! decodes itself (cheap enough for hundreds of streams in one test).

use std::pin::Pin;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::chunked::{find, Chunked};

/// One SSE event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The `id:` line: the room's change cursor; none on an ephemeral signal.
    pub id: Option<String>,
    /// The `event:` line: the name of a signal; none on a message.
    pub event: Option<String>,
    /// The `data:` lines, joined with newlines.
    pub data: String,
}

impl Event {
    /// The event's id as a message seq; panics if it has none.
    pub fn seq(&self) -> i64 {
        self.id
            .as_deref()
            .and_then(|id| id.parse().ok())
            .expect("event has a numeric id")
    }

    /// Parses one event block; `None` for a block with neither data nor
    /// an id (comments, keep-alives).
    pub fn parse(block: &str) -> Option<Self> {
        let mut event = Event {
            id: None,
            event: None,
            data: String::new(),
        };
        let mut has_data = false;
        for line in block.lines() {
            if line.starts_with(':') || line.is_empty() {
                continue;
            }
            let (field, value) = line.split_once(':').unwrap_or((line, ""));
            let value = value.strip_prefix(' ').unwrap_or(value);
            match field {
                "id" => event.id = Some(value.to_owned()),
                "event" => event.event = Some(value.to_owned()),
                "data" => {
                    if has_data {
                        event.data.push('\n');
                    }
                    event.data.push_str(value);
                    has_data = true;
                }
                _ => {}
            }
        }
        (has_data || event.id.is_some()).then_some(event)
    }
}

/// Where the body's bytes come from.
enum Source {
    /// A `reqwest` response body (already de-chunked).
    Body(Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>),
    /// A raw socket: bytes read and not yet de-chunked, and the decoder.
    Raw {
        socket: TcpStream,
        raw: BytesMut,
        chunked: Chunked,
    },
}

/// An SSE reader.
pub struct Sse {
    source: Source,
    /// The body not yet parsed into events.
    body: Vec<u8>,
    ended: bool,
    /// Whether ephemeral signals (events without an id) are returned.
    signals: bool,
}

impl Sse {
    /// Reads the events of a response.
    pub fn new(response: reqwest::Response) -> Self {
        Self::from_source(Source::Body(Box::pin(response.bytes_stream())))
    }

    /// Writes `request` (a raw HTTP/1.1 stream request) to `socket` and
    /// reads the response head; panics unless it is a chunked 200.
    pub async fn open(mut socket: TcpStream, request: &str) -> Self {
        socket.write_all(request.as_bytes()).await.expect("request");
        Self::resume(socket).await
    }

    /// Reads the response head of a stream request already written to
    /// `socket`; panics unless it is a chunked 200.
    pub async fn resume(socket: TcpStream) -> Self {
        let mut sse = Self::from_source(Source::Raw {
            socket,
            raw: BytesMut::with_capacity(16 * 1024),
            chunked: Chunked::default(),
        });
        sse.read_head().await;
        sse
    }

    fn from_source(source: Source) -> Self {
        Self {
            source,
            body: Vec::new(),
            ended: false,
            signals: false,
        }
    }

    /// Also returns ephemeral signals (`event: presence`, `event:
    /// typing`: events without an id). By default a reader skips them, as
    /// readers that count messages want.
    pub fn with_signals(mut self) -> Self {
        self.signals = true;
        self
    }

    /// Whether the server ended the stream.
    pub fn ended(&self) -> bool {
        self.ended
    }

    async fn read_head(&mut self) {
        let Source::Raw { socket, raw, .. } = &mut self.source else {
            return;
        };
        let end = loop {
            if let Some(at) = find(raw, b"\r\n\r\n") {
                break at;
            }
            let read = tokio::time::timeout(Duration::from_secs(30), socket.read_buf(raw))
                .await
                .expect("response head within 30 s")
                .expect("read");
            assert!(read > 0, "connection closed before the response head");
        };
        let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
        assert!(head.starts_with("http/1.1 200"), "not a stream: {head}");
        assert!(head.contains("transfer-encoding: chunked"), "{head}");
        let _ = raw.split_to(end + 4);
        // The body may have come in the same read as the head.
        self.dechunk();
    }

    /// Moves what the raw socket brought into the body.
    fn dechunk(&mut self) {
        if let Source::Raw { raw, chunked, .. } = &mut self.source {
            if chunked.feed(raw, &mut self.body).expect("chunked body") {
                self.ended = true;
            }
        }
    }

    /// Reads more of the body; marks the stream ended when there is none.
    async fn read_more(&mut self) {
        match &mut self.source {
            Source::Body(stream) => match stream.next().await {
                Some(Ok(chunk)) => self.body.extend_from_slice(&chunk),
                _ => self.ended = true,
            },
            Source::Raw { socket, raw, .. } => match socket.read_buf(raw).await {
                Ok(0) | Err(_) => self.ended = true,
                Ok(_) => self.dechunk(),
            },
        }
    }

    async fn next_event(&mut self) -> Option<Event> {
        loop {
            while let Some(at) = find(&self.body, b"\n\n") {
                let block: Vec<u8> = self.body.drain(..at + 2).collect();
                let Some(event) = Event::parse(&String::from_utf8_lossy(&block)) else {
                    continue;
                };
                let numbered = event
                    .id
                    .as_deref()
                    .is_some_and(|id| id.parse::<i64>().is_ok());
                if numbered || self.signals {
                    return Some(event);
                }
            }
            if self.ended {
                return None;
            }
            self.read_more().await;
        }
    }

    /// The next event, or `None` if none arrives within `wait` or the
    /// stream ends (see [`Sse::ended`]).
    pub async fn next_within(&mut self, wait: Duration) -> Option<Event> {
        tokio::time::timeout(wait, self.next_event())
            .await
            .ok()
            .flatten()
    }

    /// Every event until the stream ends, or `None` if it is still open
    /// after `wait`.
    pub async fn until_end(&mut self, wait: Duration) -> Option<Vec<Event>> {
        tokio::time::timeout(wait, async {
            let mut events = Vec::new();
            while let Some(event) = self.next_event().await {
                events.push(event);
            }
            events
        })
        .await
        .ok()
    }

    /// Exactly `count` events, each within `wait` of the previous.
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

    /// The seqs of exactly `count` events, each within `wait` of the previous.
    pub async fn take_seqs(&mut self, count: usize, wait: Duration) -> Vec<i64> {
        self.take(count, wait)
            .await
            .iter()
            .map(Event::seq)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_gathers_its_fields_and_data_lines() {
        let event = Event::parse("id: 7\ndata: <p>a</p>\ndata:b\n\n").expect("an event");
        assert_eq!(event.seq(), 7);
        assert_eq!(event.event, None);
        assert_eq!(event.data, "<p>a</p>\nb");
        let signal = Event::parse("event: typing\ndata: <i>alice</i>\n\n").expect("a signal");
        assert_eq!(signal.event.as_deref(), Some("typing"));
        assert_eq!(signal.id, None);
        assert_eq!(Event::parse(": keep-alive\n\n"), None);
    }
}
