//! Presence: which members have an event stream open on this instance.
//!
//! A member with an open stream keeps their name. Rather than touch the
//! database per stream, a sweeper (see `startup`) periodically writes
//! `last_seen` for every member present, and for those who left since the
//! last sweep, in one statement.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

#[derive(Debug, Default)]
struct State {
    open: HashMap<i64, usize>,
    left: HashSet<i64>,
}

/// A cheap-to-clone handle to this instance's presence table.
#[derive(Debug, Clone, Default)]
pub struct Presence {
    state: Arc<Mutex<State>>,
}

/// Marks a member present while it lives.
#[derive(Debug)]
pub struct PresenceGuard {
    presence: Presence,
    member_id: i64,
}

impl Presence {
    /// Creates an empty presence table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Marks a member present until the guard is dropped.
    pub fn enter(&self, member_id: i64) -> PresenceGuard {
        *self.lock().open.entry(member_id).or_default() += 1;
        PresenceGuard {
            presence: self.clone(),
            member_id,
        }
    }

    /// The members whose `last_seen` should be written now: everyone present
    /// and everyone who left since the previous call.
    pub fn take_seen(&self) -> Vec<i64> {
        let mut state = self.lock();
        let mut ids: HashSet<i64> = std::mem::take(&mut state.left);
        ids.extend(state.open.keys().copied());
        ids.into_iter().collect()
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

impl Drop for PresenceGuard {
    fn drop(&mut self) {
        let mut state = self.presence.lock();
        if let Some(count) = state.open.get_mut(&self.member_id) {
            *count -= 1;
            if *count == 0 {
                state.open.remove(&self.member_id);
            }
        }
        state.left.insert(self.member_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_stay_seen_while_present_and_once_after_leaving() {
        let presence = Presence::new();
        let first = presence.enter(7);
        let second = presence.enter(7);
        assert_eq!(presence.take_seen(), vec![7]);
        drop(first);
        assert!(presence.is_present(7));
        drop(second);
        assert!(!presence.is_present(7));
        assert_eq!(presence.take_seen(), vec![7]);
        assert!(presence.take_seen().is_empty());
    }
}
