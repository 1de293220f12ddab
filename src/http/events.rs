//! The live stream of a room: `GET /rooms/{room}/events`, Server-Sent Events.
//!
//! Delivery is exactly once and in seq order, built on the database, not on
//! the hub alone: the stream subscribes to the hub first, then replays from
//! the store what the client has not seen (`Last-Event-ID`, or `?after=`),
//! then forwards live frames. A frame that skips ahead of the last seq sent
//! (posts commit in order but may publish out of order), or a `Lagged` from
//! the bounded channel, makes the stream catch up from the store; frames it
//! already sent are dropped. So a slow subscriber costs a bounded buffer and
//! a catch-up query, never a lost message. A nudge (a frame with a seq and
//! nothing to write, see `relay`) ahead of the stream makes it catch up too.
//!
//! A stream ends when its membership does (exit, a deleted, rotated or
//! expired session: see `chat::Presence`) and at shutdown.

use std::collections::VecDeque;
use std::convert::Infallible;

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use bytes::{Bytes, BytesMut};
use futures_util::{stream, StreamExt};
use serde::Deserialize;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tower_sessions::Session;

use super::limit::StreamPermit;
use super::session::{self, require_member, room_from_path};
use super::views::frame;
use super::{AppError, AppState};
use crate::chat::{PresenceGuard, Subscription, KEEP_ALIVE_SEQ};
use crate::store::Store;

/// How many stored messages one catch-up query reads at most.
const CATCH_UP_BATCH: i64 = 200;

/// Frames already waiting are written together, up to this many bytes: a
/// batch of posts (group commit publishes them back to back) or a
/// subscriber that fell behind then costs one write to its socket instead
/// of one per frame. Bounded because a stream blocked on a slow client
/// holds its gathered copy.
const GATHER_BYTES: usize = 8 * 1024;

/// `/rooms/{room}/events`.
pub fn router() -> Router<AppState> {
    Router::new().route(crate::serve::EVENTS_ROUTE, get(events))
}

#[derive(Debug, Deserialize)]
struct EventsQuery {
    after: Option<String>,
}

/// `GET /rooms/{room}/events`: members only.
#[tracing::instrument(skip(state, session, headers, query))]
async fn events(
    State(state): State<AppState>,
    session: Session,
    Path(room): Path<String>,
    headers: HeaderMap,
    query: Result<Query<EventsQuery>, QueryRejection>,
) -> Result<Response, AppError> {
    let room = room_from_path(&room)?;
    // Present before the membership is checked: an exit that commits after
    // the check finds this stream and ends it, one that commits before
    // fails the check. The stream also ends when its session expires.
    let claimed = session::memberships(&session)
        .await?
        .get(room.as_str())
        .copied();
    let Some(claimed) = claimed else {
        return Err(AppError::Forbidden("Join this room first."));
    };
    let presence = state
        .presence
        .enter(claimed, session::expires_at(&state, &session).await?);
    let member = require_member(&state, &session, &room).await?;
    let permit = state.limits.open_stream(member.id)?;
    // The header wins: it is what the client really received last.
    let after = headers
        .get("last-event-id")
        .and_then(|value| value.to_str().ok())
        .or(query.as_ref().ok().and_then(|q| q.after.as_deref()))
        .map(|value| {
            value
                .trim()
                .parse::<i64>()
                .map_err(|_| AppError::invalid("The last event id must be a message number."))
        })
        .transpose()?;

    // Subscribe before reading the store, so nothing falls between the two:
    // whatever commits later reaches the hub, whatever committed earlier is
    // in the store.
    let subscription = state.hub.subscribe(room.as_str());
    let latest = state.store.last_seq(room.as_str()).await?;
    let (last_sent, catching_up) = match after {
        Some(after) => (after.max(0), after < latest),
        None => (latest, false),
    };
    let ended = presence.ended();
    let feed = Feed {
        store: state.store.clone(),
        room: room.to_string(),
        subscription,
        last_sent,
        catching_up,
        backlog: VecDeque::new(),
        _presence: presence,
        _permit: permit,
    };
    // A comment first, so proxies pass the stream on at once; keep-alive
    // comments then come through the hub (one timer for every stream).
    let hello = stream::once(async { Bytes::from_static(b": natter\n\n") });
    let messages = hello
        .chain(stream::unfold(feed, Feed::next))
        .map(Ok::<Bytes, Infallible>);
    // Ends on shutdown, eviction or expiry (checked before each frame).
    let body = messages.take_until(ended);

    Ok((
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-store"),
            // Tell nginx-style proxies not to buffer the stream.
            (header::HeaderName::from_static("x-accel-buffering"), "no"),
        ],
        Body::from_stream(body),
    )
        .into_response())
}

/// One subscriber's position in its room.
struct Feed {
    store: Store,
    room: String,
    subscription: Subscription,
    /// The seq of the last message written to this stream.
    last_sent: i64,
    /// Read from the store until it has nothing newer.
    catching_up: bool,
    /// Frames read from the store and not yet written.
    backlog: VecDeque<Bytes>,
    /// Keeps the member's name while the stream is open, and ends the
    /// stream when the membership ends.
    _presence: PresenceGuard,
    /// Holds the stream's place under the stream caps.
    _permit: StreamPermit,
}

impl Feed {
    /// The next frame to write, or `None` to end the stream (the client
    /// reconnects with `Last-Event-ID` and loses nothing).
    async fn next(mut self) -> Option<(Bytes, Self)> {
        loop {
            if let Some(first) = self.backlog.pop_front() {
                let bytes = gather(first, || self.backlog.pop_front());
                return Some((bytes, self));
            }
            if self.catching_up {
                if let Err(error) = self.catch_up().await {
                    tracing::warn!(%error, room = %self.room, "catch-up failed; ending stream");
                    return None;
                }
                continue;
            }
            match self.subscription.recv().await {
                Ok(frame) if frame.seq == KEEP_ALIVE_SEQ => return Some((frame.bytes, self)),
                Ok(frame) if frame.seq <= self.last_sent => {}
                // The room goes further than this stream has: read the rest.
                Ok(frame) if frame.is_nudge() => self.catching_up = true,
                Ok(frame) if frame.seq == self.last_sent + 1 => {
                    self.last_sent = frame.seq;
                    let bytes = gather(frame.bytes, || self.next_waiting());
                    return Some((bytes, self));
                }
                Ok(_) | Err(RecvError::Lagged(_)) => self.catching_up = true,
                Err(RecvError::Closed) => return None,
            }
        }
    }

    /// The next frame to send that is already waiting in the channel, if
    /// any; a gap or a lag starts a catch-up instead.
    fn next_waiting(&mut self) -> Option<Bytes> {
        loop {
            match self.subscription.try_recv() {
                // The stream is busy: no keep-alive needed.
                Ok(frame) if frame.seq == KEEP_ALIVE_SEQ => {}
                Ok(frame) if frame.seq <= self.last_sent => {}
                Ok(frame) if frame.is_nudge() => {
                    self.catching_up = true;
                    return None;
                }
                Ok(frame) if frame.seq == self.last_sent + 1 => {
                    self.last_sent = frame.seq;
                    return Some(frame.bytes);
                }
                Ok(_) | Err(TryRecvError::Lagged(_)) => {
                    self.catching_up = true;
                    return None;
                }
                Err(TryRecvError::Empty | TryRecvError::Closed) => return None,
            }
        }
    }

    /// Reads one batch of stored messages after `last_sent` into the backlog.
    async fn catch_up(&mut self) -> Result<(), AppError> {
        let messages = self
            .store
            .messages_after(&self.room, self.last_sent, CATCH_UP_BATCH)
            .await?;
        if (messages.len() as i64) < CATCH_UP_BATCH {
            self.catching_up = false;
        }
        for message in &messages {
            self.backlog.push_back(frame(message)?.bytes);
            self.last_sent = message.seq;
        }
        Ok(())
    }
}

/// `first` and, while under [`GATHER_BYTES`], the frames `more` has ready,
/// as one buffer. Only a backlog pays for the copy.
fn gather(first: Bytes, mut more: impl FnMut() -> Option<Bytes>) -> Bytes {
    if first.len() >= GATHER_BYTES {
        return first;
    }
    let Some(second) = more() else {
        return first;
    };
    let mut gathered = BytesMut::with_capacity(GATHER_BYTES.max(first.len() + second.len()));
    gathered.extend_from_slice(&first);
    gathered.extend_from_slice(&second);
    while gathered.len() < GATHER_BYTES {
        match more() {
            Some(frame) => gathered.extend_from_slice(&frame),
            None => break,
        }
    }
    gathered.freeze()
}

#[cfg(test)]
mod tests {
    use super::{gather, Bytes, GATHER_BYTES};

    #[test]
    fn waiting_frames_are_gathered_up_to_the_bound_and_in_order() {
        let frame = |i: usize| Bytes::from(format!("id: {i}\n\n{}", "x".repeat(1000)));
        let alone = gather(frame(0), || None);
        assert_eq!(alone, frame(0));
        let mut waiting = (1..100).map(frame);
        let gathered = gather(frame(0), || waiting.next());
        let expected: Vec<u8> = (0..gathered.len().div_ceil(frame(0).len()))
            .flat_map(|i| frame(i).to_vec())
            .collect();
        assert_eq!(gathered, Bytes::from(expected));
        assert!(gathered.len() >= GATHER_BYTES);
        assert!(gathered.len() < GATHER_BYTES + frame(0).len() + 8);
        // What was not gathered is still waiting, in order.
        assert!(waiting
            .next()
            .is_some_and(|next| next.starts_with(b"id: 9\n")));
    }
}
