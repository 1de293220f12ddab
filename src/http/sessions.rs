//! The session store natter hands to tower-sessions: whichever store the
//! backend has, wrapped so that a deleted session takes its live streams
//! with it.
//!
//! A session is deleted when its id is rotated (every join: the old cookie
//! must be worth nothing afterwards) or when it is flushed. Whoever holds
//! the old cookie must stop hearing the session's rooms, so the members it
//! held have their streams ended, here at once and on every other instance
//! through the store's notifications. The holder of the new cookie (the
//! same browser, after a rotation) reconnects and resumes where it was.
//! Expiry is handled by the streams themselves (see `live::presence`).
//!
//! A name belongs to its session for as long as the session lives: each
//! time a session is stored (created, renewed or changed, which is what
//! moves its expiry) its members are marked seen, and a join may take a
//! name only from a member not seen for a session's lifetime.

use std::collections::BTreeMap;

use async_trait::async_trait;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

use super::session::ROOMS_KEY;
use crate::chat::now_millis;
use crate::live::Live;
use crate::store::Store;

/// A session store that ends the streams of the sessions it deletes.
#[derive(Debug, Clone)]
pub struct Evicting<S> {
    inner: S,
    live: Live,
    store: Store,
}

impl<S> Evicting<S> {
    /// Wraps `inner`.
    pub fn new(inner: S, live: Live, store: Store) -> Self {
        Self { inner, live, store }
    }
}

#[async_trait]
impl<S: SessionStore + Clone> SessionStore for Evicting<S> {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        self.keep_names(record).await?;
        self.inner.create(record).await
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.keep_names(record).await?;
        self.inner.save(record).await
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        self.inner.load(id).await
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        let members = self
            .inner
            .load(id)
            .await?
            .map(|record| members(&record))
            .unwrap_or_default();
        self.inner.delete(id).await?;
        self.live.end_memberships(&members).await;
        Ok(())
    }
}

impl<S> Evicting<S> {
    /// Marks the session's members seen now, before the session is stored:
    /// the names then live at least as long as the session.
    async fn keep_names(&self, record: &Record) -> session_store::Result<()> {
        let members = members(record);
        if members.is_empty() {
            return Ok(());
        }
        self.store
            .touch(&members, now_millis())
            .await
            .map_err(|error| session_store::Error::Backend(error.to_string()))
    }
}

/// The member ids a session record holds.
fn members(record: &Record) -> Vec<i64> {
    record
        .data
        .get(ROOMS_KEY)
        .cloned()
        .and_then(|rooms| serde_json::from_value::<BTreeMap<String, i64>>(rooms).ok())
        .map(|rooms| rooms.into_values().collect())
        .unwrap_or_default()
}
