//! Who is here: the members with an open stream in a room, on this
//! instance and (with PostgreSQL) on the others, and the members panel
//! every screen of the room shares.
//!
//! A stream holds a [`HereGuard`] for its life. A member's first stream in
//! a room makes them here at once; when their last one closes they stay
//! for [`GRACE`] (a reload does not flicker), then go. Changes are not
//! acted on one by one: a task (`panel::run`) wakes at most every
//! [`SETTLE`], writes what changed to the store in one go (PostgreSQL: the
//! `presence` table, and a notification per room), then renders each
//! changed room's panel once and hands it to the room's streams as an
//! ephemeral signal (`event: presence`, no `id:`). Every
//! [`HEARTBEAT`] it renews this instance's rows, and renders every room
//! with streams here again, publishing only a panel that differs: so a
//! member on an instance that died drops out within [`LAPSE`] and a
//! heartbeat.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use crate::chat::RoomName;

/// How long a member stays here after their last stream closes.
pub const GRACE: Duration = Duration::from_secs(5);
/// How often this instance renews its rows and re-reads every room.
pub const HEARTBEAT: Duration = Duration::from_secs(10);
/// How long a row lives without renewal: an instance that stops renewing
/// (it died) loses its members within this.
pub const LAPSE: Duration = Duration::from_secs(30);
/// Changes arriving together are acted on together, this long apart at
/// most: a hundred streams opening at once cost one panel, not a hundred.
pub(super) const SETTLE: Duration = Duration::from_millis(250);

/// A member as the members panel and `GET …/members` show them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PanelMember {
    /// The member id.
    pub id: i64,
    /// Their name.
    pub name: String,
    /// Whether they have a stream open (or closed less than [`GRACE`] ago).
    pub here: bool,
    /// Whether they typed in the last few seconds.
    pub typing: bool,
}

/// This instance's streams per room and member, and what changed.
#[derive(Debug, Clone, Default)]
pub struct Here {
    state: Arc<Mutex<State>>,
    pub(super) wake: Arc<Notify>,
}

#[derive(Debug, Default)]
struct State {
    /// Open streams per member, per room.
    open: HashMap<RoomName, HashMap<i64, usize>>,
    /// Members whose last stream here closed, and when.
    leaving: HashMap<(RoomName, i64), Instant>,
    /// Members here since the last flush, to record.
    arrived: Vec<(i64, RoomName)>,
    /// Members gone since the last flush, to forget.
    gone: Vec<i64>,
    /// Rooms whose panel must be rendered again, for a change here (the
    /// other instances are told).
    dirty: HashSet<RoomName>,
    /// Rooms whose panel must be rendered again, for a change another
    /// instance told of (not told back: that would never end).
    heard: HashSet<RoomName>,
    /// The panel last handed to each room's streams, and how many it
    /// counts here and in all.
    shown: HashMap<RoomName, (String, usize, usize)>,
}

/// What changed since the last settling.
pub(super) struct Settled {
    /// Members here since.
    pub(super) arrived: Vec<(i64, RoomName)>,
    /// Members gone since.
    pub(super) gone: Vec<i64>,
    /// Rooms changed here.
    pub(super) changed: Vec<RoomName>,
    /// Rooms changed elsewhere.
    pub(super) heard: Vec<RoomName>,
}

/// Keeps a member here while a stream of theirs is open.
#[derive(Debug)]
pub struct HereGuard {
    here: Here,
    room: RoomName,
    member_id: i64,
}

impl Here {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A stream of `member_id` in `room` opens.
    pub fn arrive(&self, room: &RoomName, member_id: i64) -> HereGuard {
        let mut state = self.lock();
        let streams = state
            .open
            .entry(room.clone())
            .or_default()
            .entry(member_id)
            .or_insert(0);
        *streams += 1;
        let first = *streams == 1;
        let back_in_grace = state.leaving.remove(&(room.clone(), member_id)).is_some();
        if first && !back_in_grace {
            state.arrived.push((member_id, room.clone()));
            state.dirty.insert(room.clone());
            self.wake.notify_one();
        }
        drop(state);
        HereGuard {
            here: self.clone(),
            room: room.clone(),
            member_id,
        }
    }

    /// The room's panel must be rendered again (a member joined or left,
    /// or another instance says so).
    pub fn changed(&self, room: &RoomName) {
        self.lock().dirty.insert(room.clone());
        self.wake.notify_one();
    }

    /// Another instance says who is here in `room` changed.
    pub fn heard(&self, room: &RoomName) {
        self.lock().heard.insert(room.clone());
        self.wake.notify_one();
    }

    /// The members of `room` here on this instance, counting those in
    /// their grace.
    pub fn members_here(&self, room: &RoomName) -> HashSet<i64> {
        let state = self.lock();
        let mut here: HashSet<i64> = state
            .open
            .get(room)
            .map(|members| members.keys().copied().collect())
            .unwrap_or_default();
        here.extend(
            state
                .leaving
                .keys()
                .filter(|(r, _)| r == room)
                .map(|(_, id)| *id),
        );
        here
    }

    /// Takes what changed: members past their grace become gone.
    pub(super) fn settle(&self, now: Instant) -> Settled {
        let mut state = self.lock();
        let over: Vec<(RoomName, i64)> = state
            .leaving
            .iter()
            .filter(|(_, since)| now.duration_since(**since) >= GRACE)
            .map(|(key, _)| key.clone())
            .collect();
        for (room, member) in over {
            state.leaving.remove(&(room.clone(), member));
            if let Some(members) = state.open.get_mut(&room) {
                members.remove(&member);
                if members.is_empty() {
                    state.open.remove(&room);
                }
            }
            state.gone.push(member);
            state.dirty.insert(room);
        }
        Settled {
            arrived: std::mem::take(&mut state.arrived),
            gone: std::mem::take(&mut state.gone),
            changed: state.dirty.drain().collect(),
            heard: state.heard.drain().collect(),
        }
    }

    /// Every member here on this instance, for the heartbeat.
    pub(super) fn everyone(&self) -> Vec<(i64, RoomName)> {
        let state = self.lock();
        state
            .open
            .iter()
            .flat_map(|(room, members)| members.keys().map(move |id| (*id, room.clone())))
            .collect()
    }

    /// Whether `html` differs from the panel `room`'s streams have; if so
    /// it is now theirs, counting `here` people.
    pub(super) fn differs(&self, room: &RoomName, html: &str, here: usize, members: usize) -> bool {
        let mut state = self.lock();
        if state
            .shown
            .get(room)
            .is_some_and(|(shown, _, _)| shown == html)
        {
            return false;
        }
        state
            .shown
            .insert(room.clone(), (html.to_owned(), here, members));
        true
    }

    /// The panel `room`'s streams here have, and how many it counts here.
    pub(super) fn shown(&self, room: &RoomName) -> Option<(String, usize, usize)> {
        self.lock().shown.get(room).cloned()
    }

    /// Forgets the panels of rooms nobody here follows any more.
    pub(super) fn forget_unfollowed(&self, followed: &HashSet<RoomName>) {
        self.lock().shown.retain(|room, _| followed.contains(room));
    }
}

impl Drop for HereGuard {
    fn drop(&mut self) {
        let mut state = self.here.lock();
        let Some(streams) = state
            .open
            .get_mut(&self.room)
            .and_then(|members| members.get_mut(&self.member_id))
        else {
            return;
        };
        *streams = streams.saturating_sub(1);
        if *streams == 0 {
            state
                .leaving
                .insert((self.room.clone(), self.member_id), Instant::now());
        }
    }
}
