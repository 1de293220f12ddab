//! Small in-memory caches in front of the database, for rows that are read
//! on every request and change rarely: sessions and members.
//!
//! Only an instance that owns its database may cache: on SQLite every
//! change goes through this process, so the cache is updated or dropped
//! with the row. Several PostgreSQL instances change the same rows, so
//! they read the database every time.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, MutexGuard};

use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

/// A map with at most `capacity` entries. When full, a quarter of the
/// entries (whichever the map yields first) make room: a miss only costs
/// one database read.
#[derive(Debug)]
pub struct Bounded<K, V> {
    map: Mutex<Entries<K, V>>,
    capacity: usize,
}

#[derive(Debug)]
struct Entries<K, V> {
    map: HashMap<K, V>,
    /// Counts removals, so that a value read from the database before a
    /// removal is not cached after it (see `put_unless_removed_since`).
    generation: u64,
}

impl<K: Eq + Hash, V: Clone> Bounded<K, V> {
    /// An empty cache of at most `capacity` entries.
    pub fn new(capacity: usize) -> Self {
        Self {
            map: Mutex::new(Entries {
                map: HashMap::new(),
                generation: 0,
            }),
            capacity: capacity.max(4),
        }
    }

    /// A copy of the entry, if cached.
    pub fn get(&self, key: &K) -> Option<V> {
        self.lock().map.get(key).cloned()
    }

    /// The count of removals so far.
    pub fn generation(&self) -> u64 {
        self.lock().generation
    }

    /// Caches `value`, read from the database when the count of removals
    /// was `generation`, unless something was removed since: the value may
    /// be the removed one.
    pub fn put_unless_removed_since(&self, key: K, value: V, generation: u64) {
        let mut entries = self.lock();
        if entries.generation == generation {
            self.insert(&mut entries.map, key, value);
        }
    }

    /// Caches `value` under `key`.
    pub fn put(&self, key: K, value: V) {
        let mut entries = self.lock();
        self.insert(&mut entries.map, key, value);
    }

    fn insert(&self, map: &mut HashMap<K, V>, key: K, value: V) {
        if map.len() >= self.capacity && !map.contains_key(&key) {
            let mut evict = self.capacity / 4;
            map.retain(|_, _| {
                evict = evict.saturating_sub(1);
                evict == 0
            });
        }
        map.insert(key, value);
    }

    /// Drops every entry (when removals may have been missed).
    pub fn clear(&self) {
        let mut entries = self.lock();
        entries.map.clear();
        entries.generation += 1;
    }

    /// Drops the entry for `key`.
    pub fn remove(&self, key: &K) {
        let mut entries = self.lock();
        entries.map.remove(key);
        entries.generation += 1;
    }

    fn lock(&self) -> MutexGuard<'_, Entries<K, V>> {
        // A panic while holding this lock cannot leave the map half-updated
        // (every change is one call), so a poisoned lock is still good.
        self.map
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Sessions kept in memory, in front of the database's session table
/// (as the cache of tower-sessions' `CachingSessionStore`).
#[derive(Debug, Clone)]
pub struct SessionCache(std::sync::Arc<Bounded<Id, Record>>);

impl SessionCache {
    /// An empty cache of at most `capacity` sessions.
    pub fn new(capacity: usize) -> Self {
        Self(std::sync::Arc::new(Bounded::new(capacity)))
    }
}

#[async_trait::async_trait]
impl SessionStore for SessionCache {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // The database behind already gave the record a unique id.
        self.0.put(record.id, record.clone());
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.0.put(record.id, record.clone());
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        match self.0.get(id) {
            Some(record) if record.expiry_date > time::OffsetDateTime::now_utc() => {
                Ok(Some(record))
            }
            Some(_) => {
                self.0.remove(id);
                Ok(None)
            }
            None => Ok(None),
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.0.remove(id);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Bounded;

    #[test]
    fn bounded_never_grows_past_its_capacity() {
        let cache = Bounded::new(100);
        for key in 0..1_000 {
            cache.put(key, key * 2);
            assert!(cache.lock().map.len() <= 100);
            assert_eq!(cache.get(&key), Some(key * 2));
        }
        cache.remove(&999);
        assert_eq!(cache.get(&999), None);
    }

    #[test]
    fn a_value_read_before_a_removal_is_not_cached_after_it() {
        let cache = Bounded::new(10);
        let before = cache.generation();
        cache.remove(&1);
        cache.put_unless_removed_since(1, "stale", before);
        assert_eq!(cache.get(&1), None);
        cache.put_unless_removed_since(1, "fresh", cache.generation());
        assert_eq!(cache.get(&1), Some("fresh"));
    }
}
