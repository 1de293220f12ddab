//! Event streams without hyper's per-connection buffers.
//!
//! hyper keeps a read buffer and a write buffer of 8 KB each for as long as
//! a connection lives: 16 of the 21.7 KB an idle event stream cost
//! (docs/BENCHMARKS.md). A stream reads nothing after its request and
//! writes frames that are already encoded, so it needs neither. An event
//! stream request, on a connection that opens with it (`head` tells which)
//! or handed back by hyper (`handoff`), is answered by the same router
//! (every layer applies: sessions, guards, headers, tracing) and written
//! straight to the socket, with the head hyper would write for the same
//! response. Anything else goes to hyper with the bytes read so far.
//!
//! A stream written here takes part in graceful shutdown as hyper's do: it
//! holds a [`Watcher`] until its task ends, so the drain waits for it, and
//! when shutdown starts it ends with its last chunk, a clean end after
//! which clients resume with `Last-Event-ID`.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, StatusCode, Version};
use axum::Router;
use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use hyper_util::server::graceful::Watcher;
use tokio::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use super::head::{self, Parsed};

/// What a connection opened with.
pub enum First {
    /// With a complete event stream request and nothing after it.
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
        match head::parse(&head, peer) {
            Parsed::Events(request) => return First::Events(request),
            Parsed::NotEvents => return First::Other(head.freeze()),
            Parsed::Partial => {}
        }
    }
}

/// What a stream needs to take part in graceful shutdown.
pub struct Drain {
    /// Held until the stream's task ends: the drain waits for it.
    pub watcher: Watcher,
    /// Cancelled when shutdown starts: the stream ends then.
    pub stopping: CancellationToken,
}

/// Answers an event stream request on `stream`: the head now, then the
/// body in a task of its own, which holds only the socket, the body and
/// `drain` (the router's future is gone by then).
pub async fn respond(mut stream: TcpStream, router: Router, request: Box<Request>, drain: Drain) {
    // HTTP/1.0 has no chunks: its stream ends with the connection.
    let can_chunk = request.version() == Version::HTTP_11;
    let Ok(response) = router.oneshot(*request).await;
    let (parts, body) = response.into_parts();
    let status = parts.status;
    // As hyper: these carry no body, and 1xx and 204 no length either
    // (RFC 9110, 6.4.1 and 8.6); a 304's length is its representation's.
    let bodiless = status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED;
    let mut head = Vec::with_capacity(512);
    head.extend_from_slice(b"HTTP/1.1 ");
    head.extend_from_slice(status.as_str().as_bytes());
    head.push(b' ');
    head.extend_from_slice(status.canonical_reason().unwrap_or("").as_bytes());
    head.extend_from_slice(b"\r\n");
    for (name, value) in &parts.headers {
        let framing = name == header::CONNECTION
            || name == header::TRANSFER_ENCODING
            || (name == header::CONTENT_LENGTH && bodiless && status != StatusCode::NOT_MODIFIED);
        if framing {
            continue;
        }
        head.extend_from_slice(name.as_str().as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    if !parts.headers.contains_key(header::DATE) {
        // hyper writes one on every response (RFC 9110, 6.6.1).
        let date = httpdate::fmt_http_date(std::time::SystemTime::now());
        head.extend_from_slice(format!("date: {date}\r\n").as_bytes());
    }
    // A body of known length (an error page) is written as it is; a
    // stream is chunked, as hyper would, so a client can tell the server's
    // end of a stream (the last chunk) from a cut connection.
    let chunked = match http_body::Body::size_hint(&body).exact() {
        _ if bodiless => false,
        Some(len) => {
            if !parts.headers.contains_key(header::CONTENT_LENGTH) {
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
    if bodiless {
        let _ = stream.shutdown().await;
        return;
    }
    tokio::spawn(pump(stream, body, chunked, drain));
}

/// Writes the body's frames as they come, until it ends, shutdown starts
/// or the client goes away (seen at once by reading, not at the next
/// write). Ends the body with its last chunk unless the client has gone.
async fn pump(mut stream: TcpStream, mut body: Body, chunked: bool, drain: Drain) {
    // Dropped with the task, when the socket is done with: until then the
    // drain waits. A write blocked on a client that does not read holds it
    // for at most the drain's 10 s, as on hyper's path.
    let Drain { watcher, stopping } = drain;
    let _counted = watcher;
    let stopped = stopping.clone().cancelled_owned();
    tokio::pin!(stopped);
    let (mut reader, mut writer) = stream.split();
    let mut probe = [0u8; 64];
    let mut frames: u32 = 0;
    loop {
        tokio::select! {
            // The body first: while frames are ready neither the shutdown
            // future nor the socket's read side is polled. Both are, once,
            // before the task sleeps, so either can wake it. A poll of the
            // shutdown future takes two locks (the token's and its
            // waiters'): once per wake-up, not once more per frame.
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
                    // A body that always has a frame ready never lets the
                    // shutdown future be polled: it ends at a look at the
                    // token every few frames instead.
                    frames = frames.wrapping_add(1);
                    if frames.is_multiple_of(CHECK_STOPPING_EVERY) && stopping.is_cancelled() {
                        break;
                    }
                }
                Some(Err(_)) => return,
                None => break,
            },
            () = &mut stopped => break,
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

/// How many frames in a row a stream may write without looking at the
/// shutdown token, when its body never leaves it time to sleep.
const CHECK_STOPPING_EVERY: u32 = 16;

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
    use super::chunk_size_line;

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
}
