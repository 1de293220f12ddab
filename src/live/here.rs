//! Who is here: the members with an open stream in a room, on this
//! instance and (with PostgreSQL) on the others, and the members panel
//! every screen of the room shares.
//!
//! A stream holds a [`HereGuard`] for its life. A member's first stream in
//! a room makes them here at once; when their last one closes they stay
//! for [`GRACE`] (a reload does not flicker), then go. Changes are not
//! acted on one by one: a task ([`run`]) wakes at most every
//! [`SETTLE`], writes what changed to the store in one go (PostgreSQL: the
//! `presence` table, and a notification per room), then renders each
//! changed room's panel once and hands it to the room's streams as an
//! ephemeral signal (`event: presence`, no `id:`). Every
//! [`HEARTBEAT`] it renews this instance's rows, and renders every room
//! with streams here again, publishing only a panel that differs: so a
//! member on an instance that died drops out within [`LAPSE`].

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use super::frame::Frame;
use super::Live;
use crate::chat::{now_millis, RoomName};

/// How long a member stays here after their last stream closes.
pub const GRACE: Duration = Duration::from_secs(5);
/// How often this instance renews its rows and re-reads every room.
pub const HEARTBEAT: Duration = Duration::from_secs(10);
/// How long a row lives without renewal: an instance that stops renewing
/// (it died) loses its members within this.
pub const LAPSE: Duration = Duration::from_secs(30);
/// Changes arriving together are acted on together, this long apart at
/// most: a hundred streams opening at once cost one panel, not a hundred.
const SETTLE: Duration = Duration::from_millis(250);

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
    wake: Arc<Notify>,
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
    /// counts here.
    shown: HashMap<RoomName, (String, usize)>,
}

/// What changed since the last settling.
struct Settled {
    /// Members here since.
    arrived: Vec<(i64, RoomName)>,
    /// Members gone since.
    gone: Vec<i64>,
    /// Rooms changed here.
    changed: Vec<RoomName>,
    /// Rooms changed elsewhere.
    heard: Vec<RoomName>,
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
    fn settle(&self, now: Instant) -> Settled {
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
    fn everyone(&self) -> Vec<(i64, RoomName)> {
        let state = self.lock();
        state
            .open
            .iter()
            .flat_map(|(room, members)| members.keys().map(move |id| (*id, room.clone())))
            .collect()
    }

    /// Whether `html` differs from the panel `room`'s streams have; if so
    /// it is now theirs, counting `here` people.
    fn differs(&self, room: &RoomName, html: &str, here: usize) -> bool {
        let mut state = self.lock();
        if state
            .shown
            .get(room)
            .is_some_and(|(shown, _)| shown == html)
        {
            return false;
        }
        state.shown.insert(room.clone(), (html.to_owned(), here));
        true
    }

    /// The panel `room`'s streams here have, and how many it counts here.
    fn shown(&self, room: &RoomName) -> Option<(String, usize)> {
        self.lock().shown.get(room).cloned()
    }

    /// Forgets the panels of rooms nobody here follows any more.
    fn forget_unfollowed(&self, followed: &HashSet<RoomName>) {
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

impl Live {
    /// The members of `room` with who is here (on any instance) and who
    /// types, here first, then by name.
    pub async fn members(&self, room: &RoomName) -> Result<Vec<PanelMember>, super::LiveError> {
        let members = self.store.room_members(room).await?;
        let mut here = self.here.members_here(room);
        here.extend(self.store.here_elsewhere(room, now_millis()).await?);
        let typing = self.typing.typing(room);
        let mut panel: Vec<PanelMember> = members
            .into_iter()
            .map(|member| PanelMember {
                here: here.contains(&member.id),
                typing: typing.contains(&member.id),
                id: member.id,
                name: member.name,
            })
            .collect();
        // Stable: the store's order (by name) stays within each group.
        panel.sort_by_key(|member| !member.here);
        Ok(panel)
    }

    /// The members panel of `room` as HTML, and how many it counts here:
    /// while the room has streams here, the one they were last handed
    /// (every change renders it again, [`SETTLE`] later at most);
    /// otherwise a new rendering. A page view in a busy room then costs no
    /// read of every member of the room.
    pub async fn members_panel(
        &self,
        room: &RoomName,
    ) -> Result<(String, usize), super::LiveError> {
        let shown = self.hub.handed(room).and_then(|_| self.here.shown(room));
        if let Some(shown) = shown {
            return Ok(shown);
        }
        let members = self.members(room).await?;
        let here = members.iter().filter(|member| member.here).count();
        let html = (self.views.members)(room, &members).map_err(super::LiveError::Render)?;
        Ok((html, here))
    }

    /// Renders `room`'s panel and hands it to its streams here, if it
    /// changed.
    async fn show_members(&self, room: &RoomName) {
        if self.hub.handed(room).is_none() {
            return;
        }
        let (html, here) = match self.members(room).await {
            Ok(members) => (
                (self.views.members)(room, &members),
                members.iter().filter(|member| member.here).count(),
            ),
            Err(error) => {
                tracing::warn!(%error, %room, "cannot read who is here");
                return;
            }
        };
        match html {
            Ok(html) if self.here.differs(room, &html, here) => {
                self.hub.publish(room, Frame::signal("presence", &html));
            }
            Ok(_) => {}
            Err(error) => tracing::error!(%error, %room, "cannot render the members panel"),
        }
    }
}

/// Acts on presence changes, for as long as the runtime runs (see the
/// module doc). At shutdown this instance's rows simply lapse.
pub(super) async fn run(live: Live) {
    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    loop {
        let beat = tokio::select! {
            () = live.here.wake.notified() => false,
            _ = heartbeat.tick() => true,
            // Graces run out without a wake-up.
            () = tokio::time::sleep(GRACE / 2) => false,
        };
        tokio::time::sleep(SETTLE).await;
        let settled = live.here.settle(Instant::now());
        let now = now_millis();
        let until = now + i64::try_from(LAPSE.as_millis()).unwrap_or(i64::MAX);
        let record = if beat {
            live.here.everyone()
        } else {
            settled.arrived
        };
        if !record.is_empty() || !settled.gone.is_empty() || !settled.changed.is_empty() {
            let shared =
                live.store
                    .publish_presence(&record, &settled.gone, &settled.changed, until);
            if let Err(error) = shared.await {
                tracing::warn!(%error, "cannot share who is here");
            }
        }
        let mut rooms = settled.changed;
        rooms.extend(settled.heard);
        if beat {
            let followed: HashSet<RoomName> =
                live.hub.rooms().into_iter().map(|(room, _)| room).collect();
            live.here.forget_unfollowed(&followed);
            rooms.extend(followed);
        }
        rooms.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        rooms.dedup();
        for room in &rooms {
            live.show_members(room).await;
        }
    }
}
