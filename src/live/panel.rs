//! The members panel every screen of a room shares: rendered once per
//! change of who is here, handed to the room's streams as an ephemeral
//! signal (`event: presence`, no `id:`), and taken as it is by the room
//! page while the room has streams here. The task that acts on presence
//! changes ([`run`]) lives here too; who is here is `here`'s.

use std::collections::HashSet;
use std::time::Instant;

use super::frame::Frame;
use super::here::{GRACE, HEARTBEAT, LAPSE, SETTLE};
use super::{Live, PanelMember};
use crate::chat::{now_millis, RoomName};

/// From how many members a room's page takes the panel its streams were
/// last handed instead of reading every member.
const BIG_ROOM: usize = 200;

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
    /// in a room of [`BIG_ROOM`] members or more with streams here, the
    /// one they were last handed (every change renders it again, a
    /// settling later at most); otherwise a new rendering. A page view, or
    /// a page reading the panel again after its stream dropped, then costs
    /// no read of every member of a busy room.
    pub async fn members_panel(
        &self,
        room: &RoomName,
    ) -> Result<(String, usize), super::LiveError> {
        let shown = self.hub.handed(room).and_then(|_| self.here.shown(room));
        // A small room is read afresh: cheap, and never a settling behind
        // a change its new stream might open too late to be handed.
        if let Some((html, here, _)) = shown.filter(|(_, _, members)| *members >= BIG_ROOM) {
            return Ok((html, here));
        }
        let (html, here, _) = self.render_panel(room).await?;
        Ok((html, here))
    }

    /// Reads `room`'s members and renders its panel: the HTML, how many
    /// are here, and how many members it lists.
    async fn render_panel(
        &self,
        room: &RoomName,
    ) -> Result<(String, usize, usize), super::LiveError> {
        let members = self.members(room).await?;
        let here = members.iter().filter(|member| member.here).count();
        let html = (self.views.members)(room, &members).map_err(super::LiveError::Render)?;
        Ok((html, here, members.len()))
    }

    /// Renders `room`'s panel and hands it to its streams here, if it
    /// changed.
    async fn show_members(&self, room: &RoomName) {
        if self.hub.handed(room).is_none() {
            return;
        }
        match self.render_panel(room).await {
            Ok((html, here, count)) if self.here.differs(room, &html, here, count) => {
                self.hub.publish(room, Frame::signal("presence", &html));
            }
            Ok(_) => {}
            Err(error @ super::LiveError::Render(_)) => {
                tracing::error!(%error, %room, "cannot render the members panel");
            }
            Err(error) => tracing::warn!(%error, %room, "cannot read who is here"),
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
