//! Delivery: the whole way from a commit to every screen.
//!
//! - [`frame`]: what a stream writes, encoded once for every subscriber.
//! - [`hub`]: one broadcast channel per room with subscribers here.
//! - [`publisher`]: the one render-and-publish path, for this instance's
//!   commits (in commit order) and for other instances' (see `driver`);
//!   the keep-alive timer and the session expiry sweep.
//! - [`relay`] and `driver`: how other instances' commits and ended
//!   memberships arrive (PostgreSQL `LISTEN/NOTIFY` today) and are acted on.
//! - [`presence`]: which members have streams open here, and the switch
//!   that ends them when the membership ends.
//! - [`here`]: who is here in each room (on any instance); `panel`: the
//!   members panel every screen of a room shares; [`typing`]: who types.
//! - [`feed`]: each subscriber's feed, with catch-up from the store.
//!
//! Nothing here knows the web layer: the HTML of a message comes from the
//! [`Render`] function startup hands in, and the feed is a plain stream of
//! bytes that `http::events` returns as the response body.
//!
//! # Two kinds of event
//! Everything a room's screens must agree on is a **change** with a
//! cursor: the room's next number, gapless, in commit order, across
//! instances. A post, an edit, a delete and a reaction are each one change;
//! a message keeps the cursor of its latest change. A change goes out as an
//! SSE event with `id:` the cursor and the message in its current state,
//! and a feed writes it only if it follows what it wrote last
//! ([`frame::Kind::Change`]); anything it missed (a gap, a lag, a reconnect
//! with `Last-Event-ID`) it reads from the store as "messages changed after
//! N", each once, in its current state. So a client that was away through
//! three edits and a reaction gets one event with the final state, and in
//! a room where people only post the cursor is the seq.
//!
//! An **ephemeral signal** (typing, presence) is a [`frame::Kind::Signal`]:
//! a named event with no `id:`, written to whoever is live, never counted
//! and never replayed, so it cannot move a client's `Last-Event-ID` or
//! open a gap.

pub mod feed;
pub mod frame;
pub mod here;
pub mod hub;
mod panel;
pub mod presence;
pub mod publisher;
pub mod relay;
pub mod typing;

mod driver;

use tokio_util::sync::CancellationToken;

use crate::chat::Message;
use crate::store::{Store, StoreError};

pub use feed::Opening;
pub use frame::{Frame, Kind};
pub use here::{HereGuard, PanelMember};
pub use hub::{Handed, Hub, KEEP_ALIVE_EVERY};
pub use presence::{Presence, PresenceGuard};
pub use relay::{Relay, RelayEvent};

/// A failure to render a message.
pub type RenderError = Box<dyn std::error::Error + Send + Sync>;

/// Renders a message, in its current state, as the HTML every screen shows.
pub type Render = fn(&Message) -> Result<String, RenderError>;

/// The HTML delivery hands to streams, rendered once for every screen of a
/// room; startup hands in the web layer's views.
#[derive(Debug, Clone, Copy)]
pub struct Views {
    /// A message in its current state.
    pub message: Render,
    /// The same as one line of JSON, for `?format=json` streams.
    pub message_json: Render,
    /// A room's members panel: who is here, who is away.
    pub members: fn(&crate::chat::RoomName, &[PanelMember]) -> Result<String, RenderError>,
    /// One member typing (id, name).
    pub typist: fn(i64, &str) -> Result<String, RenderError>,
}

/// Why a feed or a publish could not go on.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// The store could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A message could not be rendered.
    #[error("cannot render a message")]
    Render(#[source] RenderError),
}

/// A cheap-to-clone handle to this instance's delivery.
#[derive(Clone)]
pub struct Live {
    hub: Hub,
    presence: Presence,
    here: here::Here,
    typing: typing::Typing,
    store: Store,
    views: Views,
}

impl std::fmt::Debug for Live {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Live")
            .field("hub", &self.hub)
            .field("presence", &self.presence)
            .finish_non_exhaustive()
    }
}

impl Live {
    /// Delivery over `store`, rendering with `views`; every stream ends
    /// when `shutdown` is cancelled.
    pub fn new(store: Store, views: Views, shutdown: &CancellationToken) -> Self {
        Self {
            hub: Hub::new(),
            presence: Presence::new(shutdown.clone()),
            here: here::Here::default(),
            typing: typing::Typing::default(),
            store,
            views,
        }
    }

    /// Who is in `room` changed here (a join, an exit): its panel is
    /// rendered again, here and on the other instances.
    pub fn room_changed(&self, room: &crate::chat::RoomName) {
        self.here.changed(room);
    }

    /// The rooms' channels here.
    pub fn hub(&self) -> &Hub {
        &self.hub
    }

    /// Marks a member present for a stream's lifetime (see [`Presence`]).
    pub fn enter(&self, member_id: i64, expires_at: i64) -> PresenceGuard {
        self.presence.enter(member_id, expires_at)
    }

    /// Ends the member's streams here. (The store has told the other
    /// instances, in the transaction that ended the membership.)
    pub fn evict(&self, member_id: i64) {
        self.presence.evict(member_id);
    }

    /// Ends the members' streams here and on every other instance.
    pub async fn end_memberships(&self, member_ids: &[i64]) {
        member_ids.iter().for_each(|id| self.presence.evict(*id));
        if let Err(error) = self.store.announce_left(member_ids).await {
            // Their streams elsewhere then end with the session's expiry.
            tracing::warn!(%error, "cannot tell other instances of ended memberships");
        }
    }

    /// A message in its current state, rendered once, as the change frame
    /// at its cursor that follows the change at `after`; with its JSON too
    /// if `json` (some stream reads `?format=json`).
    fn frame(&self, after: i64, message: &Message, json: bool) -> Result<Frame, LiveError> {
        let html = (self.views.message)(message).map_err(LiveError::Render)?;
        let frame = Frame::change(after, message.cursor, &html);
        if !json {
            return Ok(frame);
        }
        let json = (self.views.message_json)(message).map_err(LiveError::Render)?;
        Ok(frame.with_json(&json))
    }
}
