//! Which connections natter answers itself: the first request head, read
//! the way hyper reads it, and matched against the events route.
//!
//! The route has one source of truth, [`crate::paths::route::EVENTS`]:
//! `src/http/events.rs` mounts the events handler at it, and the matcher
//! here reads the same pattern segment by segment, the way axum's router
//! (matchit) does: a literal segment must be equal, a `{name}` segment
//! takes any segment, the query string takes no part. Renaming the route
//! renames both (a unit test checks the matcher against axum's router for the same
//! pattern). The decision is made before the router runs, so every other
//! request stays wholly on hyper (keep-alive, pipelining, HTTP/1.0 rules);
//! a marker on the response would decide after the router, when a normal
//! page would already have to be written without hyper.
//!
//! The parser takes a request only when hyper would read the same bytes as
//! the same request (a property test checks this against hyper itself) and
//! nothing can follow it: a complete `GET` head for the events route of at
//! most [`MAX_HEAD`] bytes and [`MAX_HEADERS`] headers, without a body
//! (one `Content-Length: 0` at most, no `Transfer-Encoding`) and with
//! nothing after it. Everything else is hyper's, with the bytes read so
//! far; hyper refuses a head over [`MAX_HEAD`] too (`src/serve.rs`).

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::http::{header, HeaderName, HeaderValue, Method, Uri, Version};

// Named for what it is here: the one route this path answers.
use crate::paths::route::EVENTS as EVENTS_ROUTE;

/// The largest request head natter accepts, request line included, on
/// either path: 16 KiB, a common proxy default, far above what a browser
/// sends (hyper's own default would allow about 400 KB).
pub const MAX_HEAD: usize = 16 * 1024;

/// The most request headers parsed here (more: left to hyper, whose limit
/// is 100).
const MAX_HEADERS: usize = 48;

/// What the bytes read so far are.
pub enum Parsed {
    /// A complete event stream request, and nothing after it.
    Events(Box<Request>),
    /// Anything else: hyper's.
    NotEvents,
    /// Not enough yet to tell.
    Partial,
}

/// Parses `head` as far as it goes.
pub fn parse(head: &[u8], peer: SocketAddr) -> Parsed {
    // Most requests are told apart by their first line, before the head
    // is complete, and go to hyper at once.
    let start = &head[..head.len().min(4)];
    if !b"GET ".starts_with(start) {
        return Parsed::NotEvents;
    }
    if let Some(line_end) = head.iter().position(|&b| b == b'\n') {
        let target = head[4..line_end].split(|&b| b == b' ').next();
        if !target.is_some_and(|target| is_events_path(path_of(target))) {
            return Parsed::NotEvents;
        }
    }
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut headers);
    match parsed.parse(head) {
        // hyper answers 431 to a head that does not fit.
        Ok(httparse::Status::Partial) if head.len() >= MAX_HEAD => Parsed::NotEvents,
        Ok(httparse::Status::Partial) => Parsed::Partial,
        // Bytes after the head (a body, a pipelined request) are hyper's.
        Ok(httparse::Status::Complete(len)) if len == head.len() && len <= MAX_HEAD => {
            request(&parsed, peer).map_or(Parsed::NotEvents, |r| Parsed::Events(Box::new(r)))
        }
        Ok(httparse::Status::Complete(_)) | Err(_) => Parsed::NotEvents,
    }
}

/// The path of a request target: without its query.
fn path_of(target: &[u8]) -> &[u8] {
    target.split(|&b| b == b'?').next().unwrap_or(target)
}

/// Whether `path` is routed to the events route, segment by segment.
pub(crate) fn is_events_path(path: &[u8]) -> bool {
    let mut pattern = EVENTS_ROUTE.split('/');
    let mut segments = path.split(|&b| b == b'/');
    loop {
        match (pattern.next(), segments.next()) {
            (None, None) => return true,
            // As matchit: a parameter may be empty (the handler refuses it).
            (Some(param), Some(_)) if param.starts_with('{') && param.ends_with('}') => {}
            (Some(literal), Some(segment)) if literal.as_bytes() == segment => {}
            _ => return false,
        }
    }
}

/// The parsed head as a request for the router, or `None` for anything
/// this path does not handle (hyper answers it instead).
fn request(parsed: &httparse::Request<'_, '_>, peer: SocketAddr) -> Option<Request> {
    if parsed.method? != "GET" {
        return None;
    }
    let target = parsed.path?;
    if !is_events_path(path_of(target.as_bytes())) {
        return None;
    }
    let version = match parsed.version? {
        0 => Version::HTTP_10,
        _ => Version::HTTP_11,
    };
    let uri = Uri::try_from(target).ok()?;
    let mut request = Request::builder()
        .method(Method::GET)
        .uri(uri)
        .version(version)
        .body(Body::empty())
        .ok()?;
    for header in parsed.headers.iter() {
        let name = HeaderName::from_bytes(header.name.as_bytes()).ok()?;
        // A GET with a body is no event stream request. hyper keeps one of
        // several equal lengths: simpler to leave those to it.
        if name == header::CONTENT_LENGTH
            && (header.value != b"0" || request.headers().contains_key(&name))
            || name == header::TRANSFER_ENCODING
        {
            return None;
        }
        let value = HeaderValue::from_bytes(header.value).ok()?;
        request.headers_mut().append(name, value);
    }
    request.extensions_mut().insert(ConnectInfo(peer));
    Some(request)
}

#[cfg(test)]
mod tests;
