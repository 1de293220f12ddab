//! Typing: "alice is typing…", an ephemeral signal. Never stored and never
//! replayed: it goes to the streams open now (`event: typing`, no `id:`),
//! on every instance, and is remembered here only for a few seconds, for
//! `GET …/members`.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::frame::Frame;
use super::Live;
use crate::chat::RoomName;

/// How long a typing signal holds: screens drop it after this too.
pub const TYPING_HOLDS: Duration = Duration::from_secs(5);

/// Who typed lately, per room.
#[derive(Debug, Clone, Default)]
pub struct Typing {
    state: Arc<Mutex<HashMap<RoomName, HashMap<i64, Instant>>>>,
}

impl Typing {
    fn lock(&self) -> MutexGuard<'_, HashMap<RoomName, HashMap<i64, Instant>>> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Notes that `member_id` typed in `room` now, and forgets what has
    /// run out (so the map holds only the last few seconds).
    fn record(&self, room: &RoomName, member_id: i64) {
        let now = Instant::now();
        let mut rooms = self.lock();
        rooms.retain(|_, members| {
            members.retain(|_, at| now.duration_since(*at) < TYPING_HOLDS);
            !members.is_empty()
        });
        rooms
            .entry(room.clone())
            .or_default()
            .insert(member_id, now);
    }

    /// Forgets that `member_id` typed in `room` (they sent their message).
    fn forget(&self, room: &RoomName, member_id: i64) {
        if let Some(members) = self.lock().get_mut(room) {
            members.remove(&member_id);
        }
    }

    /// The members who typed in `room` within the last [`TYPING_HOLDS`].
    pub fn typing(&self, room: &RoomName) -> HashSet<i64> {
        let now = Instant::now();
        self.lock()
            .get(room)
            .map(|members| {
                members
                    .iter()
                    .filter(|(_, at)| now.duration_since(**at) < TYPING_HOLDS)
                    .map(|(id, _)| *id)
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Live {
    /// `member_id` (`name`) types in `room`: tells the room's streams here
    /// and on every other instance. (Rate limits are the caller's.)
    pub async fn typed(&self, room: &RoomName, member_id: i64, name: &str) {
        self.show_typing(room, member_id, name);
        if let Err(error) = self.store.announce_typing(room, member_id, name).await {
            // Typing is a courtesy: the others simply do not see it.
            tracing::debug!(%error, "cannot tell other instances of typing");
        }
    }

    /// `member_id` sent a message in `room`: no longer typing there.
    pub fn stopped_typing(&self, room: &RoomName, member_id: i64) {
        self.typing.forget(room, member_id);
    }

    /// Hands a typing signal to the room's streams here.
    pub(super) fn show_typing(&self, room: &RoomName, member_id: i64, name: &str) {
        self.typing.record(room, member_id);
        if self.hub.handed(room).is_none() {
            return;
        }
        match (self.views.typist)(member_id, name) {
            Ok(html) => {
                self.hub.publish(room, Frame::signal("typing", &html));
            }
            Err(error) => tracing::error!(%error, "cannot render a typing signal"),
        }
    }
}
