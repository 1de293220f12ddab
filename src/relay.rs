//! Drives a [`Relay`]: turns other instances' commits into frames for this
//! instance's subscribers, fetching and rendering each message once, and
//! ends the streams of memberships other instances ended.

use crate::chat::{Frame, Handed, Relay, RelayEvent};
use crate::http::{views, AppState};

/// How many messages one fetch reads.
const BATCH: i64 = 200;

/// Runs until shutdown.
pub async fn run(mut relay: impl Relay, state: AppState) {
    loop {
        let event = tokio::select! {
            () = state.shutdown.cancelled() => return,
            event = relay.next() => event,
        };
        match event {
            RelayEvent::Committed { room, first, last } => match state.hub.handed(&room) {
                // Nobody here listens to the room.
                None => {}
                // Already handed out (posts from this instance publish
                // directly, and a fetch reads everything up to the newest).
                Some(Handed::UpTo(seq)) if seq >= last => {}
                Some(Handed::UpTo(seq)) => forward(&state, &room, seq).await,
                // Every subscriber read the store after subscribing, and
                // every earlier commit was notified before this one: while
                // the room had no channel (so the reads have it) or with
                // the channel open (so it would have been handed out).
                Some(Handed::Nothing) => forward(&state, &room, first - 1).await,
            },
            RelayEvent::Left { member_id } => state.presence.evict(member_id),
            RelayEvent::Resync => {
                for (room, handed) in state.hub.rooms() {
                    match handed {
                        Handed::UpTo(seq) => forward(&state, &room, seq).await,
                        // What each subscriber has is its own: tell them how
                        // far the room goes, and those behind catch up.
                        Handed::Nothing => nudge(&state, &room).await,
                    }
                }
            }
        }
    }
}

/// Publishes every stored message of `room` after `after`, then after the
/// newest handed out, until there is nothing newer. Fetching from the store
/// (not trusting one notification) also fills any gap, e.g. from
/// notifications lost while the connection was down.
async fn forward(state: &AppState, room: &str, mut after: i64) {
    loop {
        let messages = match state.store.messages_after(room, after, BATCH).await {
            Ok(messages) => messages,
            Err(error) => {
                // Subscribers catch up by themselves at the next message.
                tracing::warn!(%error, room, "relay cannot read messages");
                return;
            }
        };
        let full = messages.len() as i64 == BATCH;
        for message in &messages {
            match views::frame(message) {
                Ok(frame) => {
                    state.hub.publish(room, frame);
                }
                Err(error) => tracing::error!(%error, seq = message.seq, "cannot render message"),
            }
            after = message.seq;
        }
        if !full {
            return;
        }
    }
}

/// Tells the room's subscribers the room's newest seq.
async fn nudge(state: &AppState, room: &str) {
    match state.store.last_seq(room).await {
        Ok(seq) => {
            state.hub.publish(room, Frame::nudge(seq));
        }
        Err(error) => tracing::warn!(%error, room, "relay cannot read the room's newest seq"),
    }
}
