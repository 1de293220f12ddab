//! Event streams without hyper's per-connection buffers.
//!
//! hyper keeps a read buffer and a write buffer of 8 KB each for as long as
//! a connection lives: 16 of the 21.7 KB an idle event stream cost
//! (docs/BENCHMARKS.md). A stream reads nothing after its request and
//! writes frames that are already encoded, so it needs neither. A
//! connection that opens with `GET …/events` is parsed here, answered by
//! the same router (every layer applies: sessions, guards, headers,
//! tracing) and written straight to the socket. Anything else goes to
//! hyper with the bytes read so far.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::http::{HeaderName, HeaderValue, Method, Version};
use axum::Router;
use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use tokio::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tower::ServiceExt;

/// The largest request head natter accepts, request line included, on
/// either path: 16 KiB, a common proxy default, far above what a browser
/// sends (hyper's own default would allow about 400 KB). A longer head is
/// left to hyper, which answers 431 (`src/serve.rs`).
pub const MAX_HEAD: usize = 16 * 1024;

/// The most request headers parsed here (more: left to hyper).
const MAX_HEADERS: usize = 48;

/// What a connection opened with.
pub enum First {
    /// With a complete `GET …/events` request and nothing after it.
    Events(Box<Request>),
    /// With anything else: hyper's, starting with these bytes.
    Other(Bytes),
    /// The client closed the connection before sending a request.
    Closed,
}

/// Reads just enough of the connection's first request to tell whether
/// it opens an event stream. The caller bounds how long this may take.
pub async fn read_first(stream: &mut TcpStream, peer: SocketAddr) -> First {
    let mut head = BytesMut::with_capacity(1024);
    loop {
        match stream.read_buf(&mut head).await {
            Ok(0) | Err(_) if head.is_empty() => return First::Closed,
            Ok(0) | Err(_) => return First::Other(head.freeze()),
            Ok(_) => {}
        }
        match parse(&head, peer) {
            Parsed::Events(request) => return First::Events(request),
            Parsed::NotEvents => return First::Other(head.freeze()),
            Parsed::Partial if head.len() >= MAX_HEAD => return First::Other(head.freeze()),
            Parsed::Partial => {}
        }
    }
}

enum Parsed {
    Events(Box<Request>),
    NotEvents,
    Partial,
}

/// Parses `head` as far as it goes.
fn parse(head: &[u8], peer: SocketAddr) -> Parsed {
    // Most requests are told apart by their first line, before the head
    // is complete.
    let start = &head[..head.len().min(4)];
    if !b"GET ".starts_with(start) {
        return Parsed::NotEvents;
    }
    if let Some(line_end) = head.iter().position(|&b| b == b'\n') {
        let target = head[4..line_end]
            .split(|&b| b == b' ')
            .next()
            .unwrap_or(&[]);
        let path = target.split(|&b| b == b'?').next().unwrap_or(&[]);
        if !(path.starts_with(b"/rooms/") && path.ends_with(b"/events")) {
            return Parsed::NotEvents;
        }
    }
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut headers);
    match parsed.parse(head) {
        Ok(httparse::Status::Partial) => Parsed::Partial,
        // Bytes after the head (a body, a pipelined request) are hyper's,
        // and so is a head too long (hyper refuses it).
        Ok(httparse::Status::Complete(len)) if len == head.len() && len <= MAX_HEAD => {
            request(&parsed, peer).map_or(Parsed::NotEvents, |r| Parsed::Events(Box::new(r)))
        }
        Ok(httparse::Status::Complete(_)) | Err(_) => Parsed::NotEvents,
    }
}

/// The parsed head as a request for the router, or `None` for anything
/// this path does not handle (hyper answers it instead).
fn request(parsed: &httparse::Request<'_, '_>, peer: SocketAddr) -> Option<Request> {
    let version = match parsed.version? {
        0 => Version::HTTP_10,
        _ => Version::HTTP_11,
    };
    let mut request = Request::builder()
        .method(Method::GET)
        .uri(parsed.path?)
        .version(version)
        .body(Body::empty())
        .ok()?;
    for header in parsed.headers.iter() {
        let name = HeaderName::from_bytes(header.name.as_bytes()).ok()?;
        // A GET with a body is no event stream request.
        if name == axum::http::header::CONTENT_LENGTH && header.value != b"0"
            || name == axum::http::header::TRANSFER_ENCODING
        {
            return None;
        }
        let value = HeaderValue::from_bytes(header.value).ok()?;
        request.headers_mut().append(name, value);
    }
    request.extensions_mut().insert(ConnectInfo(peer));
    Some(request)
}

/// Answers an event stream request on `stream`: the head now, then the
/// body in a task of its own, which holds only the socket and the body
/// (the router's future is gone by then).
pub async fn respond(mut stream: TcpStream, router: Router, request: Box<Request>) {
    // HTTP/1.0 has no chunks: its stream ends with the connection.
    let can_chunk = request.version() == Version::HTTP_11;
    let Ok(response) = router.oneshot(*request).await;
    let (parts, body) = response.into_parts();
    let mut head = Vec::with_capacity(512);
    head.extend_from_slice(b"HTTP/1.1 ");
    head.extend_from_slice(parts.status.as_str().as_bytes());
    head.push(b' ');
    head.extend_from_slice(parts.status.canonical_reason().unwrap_or("").as_bytes());
    head.extend_from_slice(b"\r\n");
    for (name, value) in &parts.headers {
        if name == axum::http::header::CONNECTION || name == axum::http::header::TRANSFER_ENCODING {
            continue;
        }
        head.extend_from_slice(name.as_str().as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    // A body of known length (an error page) is written as it is; a
    // stream is chunked, as hyper would, so a client can tell the server's
    // end of a stream (the last chunk) from a cut connection.
    let chunked = match http_body::Body::size_hint(&body).exact() {
        Some(len) => {
            if !parts
                .headers
                .contains_key(axum::http::header::CONTENT_LENGTH)
            {
                head.extend_from_slice(format!("content-length: {len}\r\n").as_bytes());
            }
            false
        }
        None if can_chunk => {
            head.extend_from_slice(b"transfer-encoding: chunked\r\n");
            true
        }
        None => false,
    };
    // The connection is the stream's alone.
    head.extend_from_slice(b"connection: close\r\n\r\n");
    if stream.write_all(&head).await.is_err() {
        return;
    }
    tokio::spawn(pump(stream, body, chunked));
}

/// Writes the body's frames as they come, until it ends or the client
/// goes away (seen at once by reading, not at the next write).
async fn pump(mut stream: TcpStream, mut body: Body, chunked: bool) {
    let (mut reader, mut writer) = stream.split();
    let mut probe = [0u8; 64];
    loop {
        tokio::select! {
            // The body first: while frames are ready the socket's read side
            // is not polled at all (it is, before the task sleeps).
            biased;
            frame = body.frame() => match frame {
                Some(Ok(frame)) => {
                    let Ok(data) = frame.into_data() else { continue };
                    let written = if chunked {
                        write_chunk(&mut writer, data).await
                    } else {
                        writer.write_all(&data).await
                    };
                    if written.is_err() {
                        return;
                    }
                }
                Some(Err(_)) => return,
                None => break,
            },
            // Whatever the client sends now is ignored; its end ends us.
            read = reader.read(&mut probe) => {
                if matches!(read, Ok(0) | Err(_)) {
                    return;
                }
            }
        }
    }
    if chunked && writer.write_all(b"0\r\n\r\n").await.is_err() {
        return;
    }
    let _ = writer.shutdown().await;
}

/// Writes `data` as one HTTP/1.1 chunk, in one system call when the
/// socket takes it all (the usual case).
async fn write_chunk(writer: &mut (impl AsyncWrite + Unpin), data: Bytes) -> std::io::Result<()> {
    if data.is_empty() {
        // An empty chunk would end the body.
        return Ok(());
    }
    let mut size = [0u8; 18];
    let size = chunk_size_line(data.len(), &mut size);
    let parts = [size, &data, b"\r\n"];
    let total: usize = parts.iter().map(|part| part.len()).sum();
    let slices = parts.map(std::io::IoSlice::new);
    let mut written = writer.write_vectored(&slices).await?;
    if written == total {
        return Ok(());
    }
    // A partial write: the rest, piece by piece.
    for part in parts {
        let skip = written.min(part.len());
        written -= skip;
        writer.write_all(&part[skip..]).await?;
    }
    Ok(())
}

/// The chunk size line (`{len:x}\r\n`), written into `buf`: no
/// allocation per frame.
fn chunk_size_line(len: usize, buf: &mut [u8; 18]) -> &[u8] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut at = 16;
    let mut rest = len;
    loop {
        at -= 1;
        buf[at] = HEX[rest % 16];
        rest /= 16;
        if rest == 0 {
            break;
        }
    }
    buf[16] = b'\r';
    buf[17] = b'\n';
    &buf[at..]
}

#[cfg(test)]
mod tests {
    use super::{chunk_size_line, parse, Parsed};

    #[test]
    fn chunk_size_lines_are_lowercase_hex() {
        for len in [1, 9, 10, 255, 700, 8192, usize::MAX] {
            let mut buf = [0u8; 18];
            assert_eq!(
                chunk_size_line(len, &mut buf),
                format!("{len:x}\r\n").as_bytes()
            );
        }
    }

    fn peer() -> std::net::SocketAddr {
        ([127, 0, 0, 1], 1).into()
    }

    #[test]
    fn only_a_complete_bodiless_events_get_is_taken() {
        let events = b"GET /rooms/lobby/events?after=3 HTTP/1.1\r\nHost: x\r\nCookie: a=b\r\n\r\n";
        match parse(events, peer()) {
            Parsed::Events(request) => {
                assert_eq!(request.uri(), "/rooms/lobby/events?after=3");
                assert_eq!(request.headers()["cookie"], "a=b");
            }
            _ => panic!("an events request was not taken"),
        }
        assert!(matches!(
            parse(b"GET /rooms/lobby/ev", peer()),
            Parsed::Partial
        ));
        assert!(matches!(parse(b"GE", peer()), Parsed::Partial));
        for other in [
            &b"POST /rooms/lobby/messages HTTP/1.1\r\n\r\n"[..],
            b"GET /rooms/lobby HTTP/1.1\r\n",
            b"GET /rooms/lobby/events HTTP/1.1\r\nContent-Length: 4\r\n\r\n",
            b"GET /rooms/lobby/events HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n",
            b"GET /rooms/lobby/events HTTP/1.1\r\nbad header\r\n\r\n",
        ] {
            assert!(
                matches!(parse(other, peer()), Parsed::NotEvents),
                "{}",
                String::from_utf8_lossy(other)
            );
        }
    }
}
