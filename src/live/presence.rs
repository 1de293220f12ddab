//! Presence: which members have an event stream open on this instance, and
//! the switch that ends those streams when the membership ends.
//!
//! A person who exits, or whose session is deleted, rotated away or
//! expires, must not hear the room any more: [`Presence::evict`] ends every
//! stream the member has open here at once (each stream ends when its
//! guard's [`PresenceGuard::ended`] resolves), and [`Presence::evict_expired`]
//! ends the streams whose session has run out.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

/// The streams one member has open here.
#[derive(Debug)]
struct Entry {
    /// How many streams.
    streams: usize,
    /// Cancelled to end them all (a child of the shutdown token).
    token: CancellationToken,
    /// Tells this entry from a later one for the same member (a member who
    /// exits and rejoins keeps their id), so an old guard never counts
    /// against a new entry.
    generation: u64,
    /// When the earliest of their sessions expires (ms since the epoch).
    expires_at: i64,
}

#[derive(Debug, Default)]
struct State {
    open: HashMap<i64, Entry>,
    generations: u64,
}

/// A cheap-to-clone handle to this instance's presence table.
#[derive(Debug, Clone, Default)]
pub struct Presence {
    state: Arc<Mutex<State>>,
    /// Every stream's token descends from this one (shutdown ends them all).
    root: CancellationToken,
}

/// Marks a member present while it lives.
#[derive(Debug)]
pub struct PresenceGuard {
    presence: Presence,
    member_id: i64,
    generation: u64,
    token: CancellationToken,
}

impl Presence {
    /// Creates an empty presence table whose streams all end when `root` is
    /// cancelled.
    pub fn new(root: CancellationToken) -> Self {
        Self {
            state: Arc::default(),
            root,
        }
    }

    /// Marks a member present until the guard is dropped. `expires_at` is
    /// when the session the stream was opened with expires.
    pub fn enter(&self, member_id: i64, expires_at: i64) -> PresenceGuard {
        let mut state = self.lock();
        state.generations += 1;
        let fresh = state.generations;
        let entry = state.open.entry(member_id).or_insert_with(|| Entry {
            streams: 0,
            token: self.root.child_token(),
            generation: fresh,
            expires_at,
        });
        entry.streams += 1;
        entry.expires_at = entry.expires_at.min(expires_at);
        PresenceGuard {
            presence: self.clone(),
            member_id,
            generation: entry.generation,
            token: entry.token.clone(),
        }
    }

    /// Ends every stream `member_id` has open here, now. Streams the member
    /// opens afterwards are new ones (the caller has made sure they can
    /// only be opened by a member).
    pub fn evict(&self, member_id: i64) {
        let entry = self.lock().open.remove(&member_id);
        if let Some(entry) = entry {
            entry.token.cancel();
        }
    }

    /// Ends the streams of every member whose session expired by `now`.
    pub fn evict_expired(&self, now: i64) {
        let expired: Vec<CancellationToken> = {
            let mut state = self.lock();
            let ids: Vec<i64> = state
                .open
                .iter()
                .filter(|(_, entry)| entry.expires_at <= now)
                .map(|(id, _)| *id)
                .collect();
            ids.iter()
                .filter_map(|id| state.open.remove(id))
                .map(|entry| entry.token)
                .collect()
        };
        expired.iter().for_each(CancellationToken::cancel);
    }

    /// Whether a member has a stream open on this instance.
    pub fn is_present(&self, member_id: i64) -> bool {
        self.lock().open.contains_key(&member_id)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Never held across an await; a poisoned table is still usable.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl PresenceGuard {
    /// The member whose stream this is.
    pub fn member_id(&self) -> i64 {
        self.member_id
    }

    /// Resolves when the stream must end: the member was evicted, the
    /// session expired, or the server is shutting down.
    pub fn ended(&self) -> WaitForCancellationFutureOwned {
        self.token.clone().cancelled_owned()
    }
}

impl Drop for PresenceGuard {
    fn drop(&mut self) {
        let mut state = self.presence.lock();
        if let Some(entry) = state.open.get_mut(&self.member_id) {
            if entry.generation == self.generation {
                entry.streams -= 1;
                if entry.streams == 0 {
                    state.open.remove(&self.member_id);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_are_present_while_a_stream_is_open() {
        let presence = Presence::default();
        let first = presence.enter(7, i64::MAX);
        let second = presence.enter(7, i64::MAX);
        drop(first);
        assert!(presence.is_present(7));
        drop(second);
        assert!(!presence.is_present(7));
    }

    #[test]
    fn eviction_ends_every_stream_of_the_member_and_only_those() {
        let presence = Presence::default();
        let (first, second) = (presence.enter(7, i64::MAX), presence.enter(7, i64::MAX));
        let other = presence.enter(8, i64::MAX);
        presence.evict(7);
        assert!(first.token.is_cancelled() && second.token.is_cancelled());
        assert!(!other.token.is_cancelled());
        // Back in (a rejoin keeps the id): a new stream is not ended, and
        // the old guards going away do not count against it.
        let again = presence.enter(7, i64::MAX);
        drop((first, second));
        assert!(!again.token.is_cancelled());
        assert!(presence.is_present(7));
    }

    #[test]
    fn expired_sessions_and_shutdown_end_streams() {
        let root = CancellationToken::new();
        let presence = Presence::new(root.clone());
        let soon = presence.enter(1, 1_000);
        let later = presence.enter(2, 5_000);
        presence.evict_expired(1_000);
        assert!(soon.token.is_cancelled());
        assert!(!later.token.is_cancelled());
        root.cancel();
        assert!(later.token.is_cancelled());
    }
}
