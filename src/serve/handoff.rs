//! Event streams asked for on a connection hyper serves: hyper reads the
//! request, natter writes the stream.
//!
//! A browser opens its event stream on a keep-alive connection that has
//! already served the page, and a proxy sends it on an upstream connection
//! it pools. Left to hyper, such a stream would keep hyper's read and
//! write buffers (8 KB each, the write buffer grown to the largest page
//! the connection served) for as long as it is open: 20–28 KB per idle
//! stream where natter's own writer needs about 4 (docs/BENCHMARKS.md).
//!
//! So the service hyper calls ([`Handoff`]) passes every event stream
//! request (a `GET` of the events route without a body) back to the
//! connection's task instead of routing it, and answers hyper never. The
//! task then takes the socket back from hyper (`into_parts`) and answers
//! the request as it answers a stream on a fresh connection
//! (`super::stream::respond`): the same router, every layer included.
//! hyper has parsed every byte of the request; natter parses nothing
//! here.
//!
//! Taking the socket is safe once the request has been read: a client
//! sends its next request only after the whole answer to the one before,
//! so hyper has no answer left to write (the task still lets hyper flush
//! once before taking it, for a client that pipelines), and a `GET`
//! without a body leaves nothing of its own unread. Whatever the client
//! sends after it is ignored, as on a fresh connection's stream.

use std::cell::Cell;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::http::{HeaderValue, Method, Uri};
use axum::response::Response;
use axum::Router;
use http_body::Body as _;
use hyper::body::Incoming;
use tokio::sync::oneshot;
use tower::ServiceExt;

use super::head::is_events_path;

/// The service hyper calls for each request on a connection: the router,
/// except for an event stream request, which goes back to the
/// connection's task through a one-shot channel.
pub struct Handoff {
    router: Router,
    peer: SocketAddr,
    /// Taken by the first event stream request: after it the connection
    /// is no longer hyper's. A `Cell` suffices: hyper calls the service
    /// from the connection's own task, and never from two threads at once.
    to_task: Cell<Option<oneshot::Sender<Box<Request>>>>,
}

impl Handoff {
    /// The service for a connection from `peer`, and the receiving end its
    /// task waits on for an event stream request.
    pub fn new(router: Router, peer: SocketAddr) -> (Self, oneshot::Receiver<Box<Request>>) {
        let (to_task, handed) = oneshot::channel();
        let to_task = Cell::new(Some(to_task));
        (
            Self {
                router,
                peer,
                to_task,
            },
            handed,
        )
    }
}

/// Whether `request` opens an event stream natter writes itself: the
/// events route, `GET`, and no body.
fn is_stream_request(request: &Request<Incoming>) -> bool {
    request.method() == Method::GET
        && is_events_path(request.uri().path().as_bytes())
        && request.body().is_end_stream()
}

/// `request` without its body and with a URI and headers of its own.
/// hyper's come as slices of its read buffer (8 KB), which would live as
/// long as anything the stream keeps of the request: as long as the stream.
fn detached(request: Request<Incoming>, peer: SocketAddr) -> Request {
    let (parts, _) = request.into_parts();
    let mut owned = Request::new(Body::empty());
    *owned.method_mut() = parts.method;
    *owned.version_mut() = parts.version;
    *owned.uri_mut() = Uri::try_from(parts.uri.to_string()).unwrap_or(parts.uri);
    let headers = owned.headers_mut();
    headers.reserve(parts.headers.len());
    for (name, value) in &parts.headers {
        let value = HeaderValue::from_bytes(value.as_bytes()).unwrap_or_else(|_| value.clone());
        headers.append(name.clone(), value);
    }
    owned.extensions_mut().insert(ConnectInfo(peer));
    owned
}

impl hyper::service::Service<Request<Incoming>> for Handoff {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn call(&self, mut request: Request<Incoming>) -> Self::Future {
        request.extensions_mut().insert(ConnectInfo(self.peer));
        if is_stream_request(&request) {
            if let Some(to_task) = self.to_task.take() {
                match to_task.send(Box::new(detached(request, self.peer))) {
                    // The task answers it; hyper never sees an answer.
                    Ok(()) => return Box::pin(std::future::pending()),
                    // The task is gone (it never is while hyper runs):
                    // the router answers, as for any request.
                    Err(request) => return Box::pin(self.router.clone().oneshot(*request)),
                }
            }
        }
        Box::pin(self.router.clone().oneshot(request.map(Body::new)))
    }
}
