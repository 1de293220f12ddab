//! Drives a [`Relay`]: turns other instances' commits into frames for this
//! instance's subscribers, fetching and rendering each message once, and
//! ends the streams of memberships other instances ended.

use tokio_util::sync::CancellationToken;

use super::frame::Frame;
use super::hub::Handed;
use super::relay::{Relay, RelayEvent};
use super::Live;
use crate::chat::RoomName;
use crate::metrics;

/// Runs until shutdown.
pub(super) async fn run(mut relay: impl Relay, live: Live, shutdown: CancellationToken) {
    loop {
        let event = tokio::select! {
            () = shutdown.cancelled() => return,
            event = relay.next() => event,
        };
        let _handled = metrics::RelayTimer::start(&event);
        match event {
            RelayEvent::Committed { room, first, last } => match live.hub.handed(&room) {
                // Nobody here listens to the room.
                None => {}
                // Already handed out (posts from this instance publish
                // directly, and a fetch reads everything up to the newest).
                Some(Handed::UpTo(cursor)) if cursor >= last => {}
                Some(Handed::UpTo(cursor)) => live.fill(&room, cursor).await,
                // Every subscriber read the store after subscribing, and
                // every earlier commit was notified before this one: while
                // the room had no channel (so the reads have it) or with
                // the channel open (so it would have been handed out).
                Some(Handed::Nothing) => live.fill(&room, first - 1).await,
            },
            RelayEvent::Left { member_id } => {
                live.store.forget_member(member_id);
                live.presence.evict(member_id);
            }
            RelayEvent::Presence { room } => live.here.heard(&room),
            RelayEvent::Typing {
                room,
                member_id,
                name,
            } => live.show_typing(&room, member_id, &name),
            RelayEvent::Resync => {
                live.store.forget_all_members();
                for (room, handed) in live.hub.rooms() {
                    match handed {
                        Handed::UpTo(cursor) => live.fill(&room, cursor).await,
                        // What each subscriber has is its own: tell them how
                        // far the room goes, and those behind catch up.
                        Handed::Nothing => nudge(&live, &room).await,
                    }
                }
            }
        }
    }
}

/// Tells the room's subscribers the room's newest cursor.
async fn nudge(live: &Live, room: &RoomName) {
    match live.store.last_cursor(room).await {
        Ok(cursor) => {
            live.hub.publish(room, Frame::nudge(cursor));
        }
        Err(error) => tracing::warn!(%error, %room, "relay cannot read the room's newest cursor"),
    }
}
