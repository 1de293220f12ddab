//! Drives a [`Relay`]: turns other instances' commits into frames for this
//! instance's subscribers, fetching and rendering each message once.

use crate::chat::{Relay, RelayEvent};
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
            RelayEvent::Committed { room, seq } => {
                // Only rooms with subscribers here; seqs already handed out
                // are skipped (posts from this instance publish directly).
                if state.hub.last_seq(&room).is_some_and(|last| last < seq) {
                    forward(&state, &room).await;
                }
            }
            RelayEvent::Resync => {
                for (room, _) in state.hub.rooms() {
                    forward(&state, &room).await;
                }
            }
        }
    }
}

/// Publishes every stored message of `room` newer than the hub has seen.
/// Fetching from the store (not trusting one notification) also fills any
/// gap, e.g. from notifications lost while the connection was down.
async fn forward(state: &AppState, room: &str) {
    loop {
        let Some(last) = state.hub.last_seq(room) else {
            return;
        };
        let messages = match state.store.messages_after(room, last, BATCH).await {
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
        }
        if !full {
            return;
        }
    }
}
