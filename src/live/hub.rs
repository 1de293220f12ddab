//! The hub: per room with subscribers here, one broadcast channel of
//! changes and one of ephemeral signals, carrying frames that were rendered
//! and encoded once for everyone.
//!
//! The hub is a best-effort fast path. Ordering and completeness come from
//! the database: a subscriber that sees a gap in cursors, or lags behind
//! the bounded channel, catches up from the store (see `feed`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::broadcast;

use super::frame::{Frame, Kind};
use crate::chat::RoomName;

/// How many frames a room's channel holds for a slow subscriber before it
/// lags (and then resyncs from the database). Bounds memory per room.
const ROOM_CAPACITY: usize = 256;

/// How many ephemeral signals a room's second channel holds. A subscriber
/// that falls further behind on them skips the oldest: they are
/// ephemeral, and must never make it catch up on changes.
const SIGNAL_CAPACITY: usize = 16;

/// How often the keep-alive goes out: it finds dead clients and keeps
/// proxies from closing an idle stream. One timer for all streams, rather
/// than one per stream.
pub const KEEP_ALIVE_EVERY: std::time::Duration = std::time::Duration::from_secs(15);

/// What a room's subscribers here have been handed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handed {
    /// Nothing since its channel opened, and no subscriber has said where
    /// it starts yet.
    Nothing,
    /// Every subscriber here has every change up to this cursor: it went
    /// out on the channel, or the subscriber read it from the store when
    /// it opened (see [`Hub::opened`]). The next frame chains from here.
    UpTo(i64),
}

/// A room with subscribers on this instance.
#[derive(Debug)]
struct Room {
    sender: broadcast::Sender<Frame>,
    /// Ephemeral signals (presence, typing) go on a channel of their own:
    /// a burst of them cannot push changes out of the ring above.
    signals: broadcast::Sender<Frame>,
    /// What every subscriber here has. Publishing moves it up; a stream
    /// opening only sets it or brings it down (to where that stream
    /// starts): a mark ahead of a subscriber would make the relay skip
    /// changes it does not have.
    handed: Handed,
    /// How many subscribers here read `?format=json`: while there are
    /// any, changes are published with their JSON too.
    json_readers: usize,
}

/// A cheap-to-clone handle to the rooms' channels.
#[derive(Debug, Clone, Default)]
pub struct Hub {
    rooms: Arc<Mutex<HashMap<RoomName, Room>>>,
}

/// A room's receiver. Dropping it removes the room's channel once nobody
/// listens any more, so idle rooms cost nothing.
#[derive(Debug)]
pub struct Subscription {
    hub: Hub,
    room: RoomName,
    receiver: Option<broadcast::Receiver<Frame>>,
    signals: Option<broadcast::Receiver<Frame>>,
    /// Whether it counts among the room's JSON readers.
    json: bool,
}

impl Hub {
    /// Creates an empty hub.
    pub fn new() -> Self {
        Self::default()
    }

    /// Subscribes to a room's frames from now on; `json` asks for
    /// changes' JSON too (see [`Frame::json`]).
    pub fn subscribe(&self, room: &RoomName, json: bool) -> Subscription {
        let mut rooms = self.lock();
        let channels = rooms.entry(room.clone()).or_insert_with(|| Room {
            sender: broadcast::channel(ROOM_CAPACITY).0,
            signals: broadcast::channel(SIGNAL_CAPACITY).0,
            handed: Handed::Nothing,
            json_readers: 0,
        });
        channels.json_readers += usize::from(json);
        let (receiver, signals) = (channels.sender.subscribe(), channels.signals.subscribe());
        drop(rooms);
        Subscription {
            hub: self.clone(),
            room: room.clone(),
            receiver: Some(receiver),
            signals: Some(signals),
            json,
        }
    }

    /// Records that a subscriber of `room` has (or reads by itself)
    /// everything up to cursor `latest`, so that the publisher and the
    /// relay chain the next frames from where the room's subscribers are,
    /// and one read fills a gap for all of them (see `publisher`).
    ///
    /// The mark only comes down to a subscriber (never up past one): a
    /// subscriber that read an older cursor than the mark (it read the
    /// store before another subscriber, which set the mark) lowers it, and
    /// gets back the cursor the room's changes must be read from again,
    /// since the relay may have skipped changes up to the old mark.
    pub fn opened(&self, room: &RoomName, latest: i64) -> Option<i64> {
        let mut rooms = self.lock();
        let room = rooms.get_mut(room)?;
        match room.handed {
            Handed::Nothing => {
                room.handed = Handed::UpTo(latest);
                None
            }
            Handed::UpTo(mark) if latest < mark => {
                room.handed = Handed::UpTo(latest);
                Some(latest)
            }
            Handed::UpTo(_) => None,
        }
    }

    /// Whether any subscriber of the room here reads JSON.
    pub fn wants_json(&self, room: &RoomName) -> bool {
        self.lock()
            .get(room)
            .is_some_and(|room| room.json_readers > 0)
    }

    /// Sends a frame to the room's current subscribers; returns how many.
    pub fn publish(&self, room: &RoomName, frame: Frame) -> usize {
        // Clone the sender out so waking subscribers happens without the lock.
        let sender = self.lock().get_mut(room).map(|room| {
            if let Kind::Change { cursor, .. } = frame.kind {
                room.handed = match room.handed {
                    Handed::UpTo(seq) if seq >= cursor => Handed::UpTo(seq),
                    _ => Handed::UpTo(cursor),
                };
            }
            if frame.kind == Kind::Signal {
                room.signals.clone()
            } else {
                room.sender.clone()
            }
        });
        sender.map_or(0, |sender| sender.send(frame).unwrap_or(0))
    }

    /// Sends a keep-alive comment to every room's subscribers.
    pub fn keep_alive(&self) {
        let senders: Vec<_> = self
            .lock()
            .values()
            .map(|room| room.sender.clone())
            .collect();
        let frame = Frame::keep_alive();
        for sender in senders {
            let _ = sender.send(frame.clone());
        }
    }

    /// What the room's subscribers have been handed, if it has any.
    pub fn handed(&self, room: &RoomName) -> Option<Handed> {
        self.lock().get(room).map(|room| room.handed)
    }

    /// Every room with subscribers here, with what they have been handed.
    pub fn rooms(&self) -> Vec<(RoomName, Handed)> {
        self.lock()
            .iter()
            .map(|(name, room)| (name.clone(), room.handed))
            .collect()
    }

    /// How many rooms have a live channel (for tests and metrics).
    pub fn room_count(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<RoomName, Room>> {
        // A std mutex: it is never held across an await, and a poisoned map
        // is still a valid map.
        self.rooms
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Subscription {
    /// Waits for the room's next frame: a change (or keep-alive) first if
    /// one waits, else a signal. `Lagged(n)` means `n` changes were
    /// skipped because this subscriber fell behind the bounded channel;
    /// signals it fell behind on are skipped without a word.
    pub async fn recv(&mut self) -> Result<Frame, broadcast::error::RecvError> {
        use broadcast::error::RecvError;
        let (Some(changes), Some(signals)) = (&mut self.receiver, &mut self.signals) else {
            return Err(RecvError::Closed);
        };
        loop {
            tokio::select! {
                biased;
                frame = changes.recv() => return frame,
                signal = signals.recv() => match signal {
                    Err(RecvError::Lagged(_)) => continue,
                    signal => return signal,
                },
            }
        }
    }

    /// The room's next frame if one is already waiting (changes first).
    pub fn try_recv(&mut self) -> Result<Frame, broadcast::error::TryRecvError> {
        use broadcast::error::TryRecvError;
        let (Some(changes), Some(signals)) = (&mut self.receiver, &mut self.signals) else {
            return Err(TryRecvError::Closed);
        };
        match changes.try_recv() {
            Err(TryRecvError::Empty) => loop {
                match signals.try_recv() {
                    Err(TryRecvError::Lagged(_)) => continue,
                    signal => return signal,
                }
            },
            frame => frame,
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        drop(self.receiver.take());
        drop(self.signals.take());
        let mut rooms = self.hub.lock();
        let Some(room) = rooms.get_mut(&self.room) else {
            return;
        };
        room.json_readers -= usize::from(self.json && room.json_readers > 0);
        if room.sender.receiver_count() == 0 {
            rooms.remove(&self.room);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(seq: i64) -> Frame {
        Frame::change(seq - 1, seq, "")
    }

    fn room(name: &str) -> RoomName {
        RoomName::stored(name.to_owned())
    }

    #[tokio::test]
    async fn frames_reach_only_their_room_and_idle_rooms_are_dropped() {
        let hub = Hub::new();
        let mut lobby = hub.subscribe(&room("lobby"), false);
        let mut other = hub.subscribe(&room("other"), false);
        assert_eq!(hub.publish(&room("lobby"), frame(1)), 1);
        assert_eq!(hub.publish(&room("nobody"), frame(1)), 0);
        let got = lobby.recv().await.map(|f| f.kind);
        assert_eq!(
            got.ok(),
            Some(Kind::Change {
                after: 0,
                cursor: 1
            })
        );
        assert!(other
            .receiver
            .as_mut()
            .is_some_and(|r| r.try_recv().is_err()));
        drop(lobby);
        assert_eq!(hub.room_count(), 1);
        drop(other);
        assert_eq!(hub.room_count(), 0);
    }

    #[test]
    fn only_published_frames_move_the_mark() {
        let hub = Hub::new();
        let _lobby = hub.subscribe(&room("lobby"), false);
        assert_eq!(hub.handed(&room("lobby")), Some(Handed::Nothing));
        hub.publish(&room("lobby"), Frame::nudge(9));
        assert_eq!(hub.handed(&room("lobby")), Some(Handed::Nothing));
        hub.publish(&room("lobby"), frame(4));
        hub.publish(&room("lobby"), frame(3));
        assert_eq!(hub.handed(&room("lobby")), Some(Handed::UpTo(4)));
        assert_eq!(hub.handed(&room("nobody")), None);
    }

    #[test]
    fn an_opening_stream_sets_the_mark_or_brings_it_down_never_up() {
        let hub = Hub::new();
        let _first = hub.subscribe(&room("lobby"), false);
        assert_eq!(hub.opened(&room("lobby"), 8), None);
        assert_eq!(hub.handed(&room("lobby")), Some(Handed::UpTo(8)));
        assert_eq!(hub.opened(&room("lobby"), 9), None, "never up");
        assert_eq!(hub.handed(&room("lobby")), Some(Handed::UpTo(8)));
        // A stream that read the store earlier: changes 6 to 8 are read
        // again from 5, for it.
        assert_eq!(hub.opened(&room("lobby"), 5), Some(5));
        assert_eq!(hub.handed(&room("lobby")), Some(Handed::UpTo(5)));
        assert_eq!(hub.opened(&room("nobody"), 1), None);
    }
}
