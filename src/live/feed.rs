//! One subscriber's feed: what its stream writes, exactly once and in
//! cursor order, built on the database, not on the hub alone.
//!
//! A feed subscribes to the hub first, then reads the room's newest cursor
//! from the store, then replays what the client has not seen (after its
//! `Last-Event-ID`, or `?after=`): each message that changed since, once,
//! in its current state, in cursor order. Then it forwards live frames. A
//! change that does not follow what it wrote last (commits are ordered but
//! may publish out of order), a nudge ahead of it, or a `Lagged` from the
//! bounded channel makes the feed catch up from the store; changes it
//! already wrote are dropped. So a slow subscriber costs a bounded buffer
//! and a catch-up query, never a lost or repeated change. Signals are
//! written as they come, and keep-alive comments only when idle.
//!
//! A feed ends when its member's presence guard says so (exit, a deleted,
//! rotated or expired session) or at shutdown, checked before each write.

use std::any::Any;
use std::collections::VecDeque;

use bytes::{Bytes, BytesMut};
use futures_util::{stream, Stream, StreamExt};
use tokio::sync::broadcast::error::{RecvError, TryRecvError};

use super::frame::{Frame, Kind};
use super::hub::Subscription;
use super::presence::PresenceGuard;
use super::{Live, LiveError};
use crate::chat::RoomName;
use crate::metrics;

/// How many stored messages one catch-up query reads at most.
const CATCH_UP_BATCH: i64 = 200;

/// Frames already waiting are written together, up to this many bytes: a
/// batch of posts (group commit publishes them back to back) or a
/// subscriber that fell behind then costs one write to its socket instead
/// of one per frame. Bounded because a stream blocked on a slow client
/// holds its gathered copy.
const GATHER_BYTES: usize = 8 * 1024;

/// Where a new feed starts, and what it writes.
#[derive(Debug, Clone, Copy)]
pub struct Opening {
    /// The last cursor the client has, if it says (`Last-Event-ID`).
    pub after: Option<i64>,
    /// Changes as JSON (`?format=json`, for scripts) rather than HTML.
    /// Such a stream carries changes and keep-alives only: the signals
    /// (typing, presence) are HTML for pages.
    pub json: bool,
}

impl Live {
    /// Opens a feed of `room` for the member `presence` stands for: a
    /// stream of bytes to write, starting with a comment (so proxies pass
    /// the stream on at once). `hold` lives as long as the stream (a place
    /// under the stream caps, say).
    pub async fn open(
        &self,
        room: &RoomName,
        presence: PresenceGuard,
        opening: Opening,
        hold: Box<dyn Any + Send + Sync>,
    ) -> Result<impl Stream<Item = Bytes> + Send + 'static, LiveError> {
        // The member is here for as long as the stream is open.
        let here = self.here.arrive(room, presence.member_id());
        // Subscribe before reading the store, so nothing falls between the
        // two: whatever commits later reaches the hub, whatever committed
        // earlier is in the store.
        let subscription = self.hub.subscribe(room, opening.json);
        let latest = self.store.last_cursor(room).await?;
        if let Some(from) = self.hub.opened(room, latest) {
            let (live, room) = (self.clone(), room.clone());
            tokio::spawn(async move { live.fill(&room, from).await });
        }
        let (last_sent, catching_up) = match opening.after {
            Some(after) => (after.max(0), after < latest),
            None => (latest, false),
        };
        let ended = presence.ended();
        let feed = Feed {
            live: self.clone(),
            room: room.clone(),
            subscription,
            last_sent,
            catching_up,
            json: opening.json,
            backlog: VecDeque::new(),
            _presence: presence,
            _here: here,
            _hold: hold,
        };
        // Keep-alive comments then come through the hub (one timer for
        // every stream).
        let hello = stream::once(async { Bytes::from_static(b": natter\n\n") });
        Ok(hello
            .chain(stream::unfold(feed, Feed::next))
            .take_until(ended))
    }
}

/// What a feed does with a frame.
enum Step {
    Write,
    Skip,
    CatchUp,
}

/// One subscriber's position in its room.
struct Feed {
    live: Live,
    room: RoomName,
    subscription: Subscription,
    /// The cursor of the last change written to this stream.
    last_sent: i64,
    /// Read from the store until it has nothing newer.
    catching_up: bool,
    /// Writes changes as JSON (see [`Opening::json`]).
    json: bool,
    /// Frames read from the store and not yet written.
    backlog: VecDeque<Bytes>,
    /// Ends the stream when the membership ends.
    _presence: PresenceGuard,
    /// Keeps the member here.
    _here: super::here::HereGuard,
    _hold: Box<dyn Any + Send + Sync>,
}

impl Feed {
    /// The next bytes to write, or `None` to end the stream (the client
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
            let frame = match self.subscription.recv().await {
                Ok(frame) => frame,
                Err(RecvError::Lagged(_)) => {
                    metrics::lagged();
                    self.catching_up = true;
                    continue;
                }
                Err(RecvError::Closed) => return None,
            };
            match self.step(&frame) {
                Step::Write => {
                    let bytes = gather(self.bytes_of(frame), || self.next_waiting());
                    return Some((bytes, self));
                }
                Step::Skip => {}
                Step::CatchUp => self.catching_up = true,
            }
        }
    }

    /// What to do with a frame: a change is written only if it follows
    /// what this stream wrote last (see [`Kind::Change`]). A JSON stream
    /// skips signals, and reads a change published without its JSON (it
    /// subscribed while the change was being published) from the store.
    fn step(&mut self, frame: &Frame) -> Step {
        match frame.kind {
            Kind::KeepAlive => Step::Write,
            Kind::Signal if self.json => Step::Skip,
            Kind::Signal => Step::Write,
            Kind::Change { cursor, .. } | Kind::Nudge(cursor) if cursor <= self.last_sent => {
                Step::Skip
            }
            Kind::Change { .. } if self.json && frame.json.is_empty() => Step::CatchUp,
            Kind::Change { after, cursor } if after <= self.last_sent => {
                self.last_sent = cursor;
                Step::Write
            }
            // A gap, or the room goes further than this stream has.
            Kind::Change { .. } | Kind::Nudge(_) => Step::CatchUp,
        }
    }

    /// The next frame to write that is already waiting in the channel, if
    /// any; a gap or a lag starts a catch-up instead.
    fn next_waiting(&mut self) -> Option<Bytes> {
        loop {
            let frame: Frame = match self.subscription.try_recv() {
                Ok(frame) => frame,
                Err(TryRecvError::Lagged(_)) => {
                    metrics::lagged();
                    self.catching_up = true;
                    return None;
                }
                Err(TryRecvError::Empty | TryRecvError::Closed) => return None,
            };
            match frame.kind {
                // The stream is busy: no keep-alive needed.
                Kind::KeepAlive => {}
                _ => match self.step(&frame) {
                    Step::Write => return Some(self.bytes_of(frame)),
                    Step::Skip => {}
                    Step::CatchUp => {
                        self.catching_up = true;
                        return None;
                    }
                },
            }
        }
    }

    /// What this stream writes of a frame it takes.
    fn bytes_of(&self, frame: Frame) -> Bytes {
        metrics::delivered(frame.kind);
        match frame.kind {
            Kind::Change { .. } if self.json => frame.json,
            _ => frame.bytes,
        }
    }

    /// Reads one batch of stored changes after `last_sent` into the backlog.
    async fn catch_up(&mut self) -> Result<(), LiveError> {
        let messages = self
            .live
            .store
            .changes_after(&self.room, self.last_sent, CATCH_UP_BATCH)
            .await?;
        metrics::catch_up_read(metrics::Reader::Feed, messages.len());
        if (messages.len() as i64) < CATCH_UP_BATCH {
            self.catching_up = false;
        }
        for message in &messages {
            let frame = self.live.frame(self.last_sent, message, self.json)?;
            self.backlog.push_back(self.bytes_of(frame));
            self.last_sent = message.cursor;
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
