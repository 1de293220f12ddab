//! Who is here, typing across instances, and how far each member has read.
//!
//! Presence is kept in memory by each instance (`live::here`); with
//! PostgreSQL each instance also writes its members into the `presence`
//! table, renewed by a heartbeat, so every instance can list who is here
//! anywhere, and an instance that dies drops out when its rows lapse.
//! Typing is never stored: on PostgreSQL it only passes through `NOTIFY`.

use super::{with_pool, Backend, Store, StoreError};
use crate::chat::RoomName;

/// A member holding a name in a room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomMember {
    /// The member id.
    pub id: i64,
    /// The name they hold.
    pub name: String,
}

/// One of a session's rooms with its unread count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unread {
    /// The member in the room.
    pub member_id: i64,
    /// Messages by others, not deleted, posted after the read position
    /// (counted up to [`UNREAD_CAP`]).
    pub count: i64,
}

/// Unread messages are counted up to this many.
pub const UNREAD_CAP: i64 = 100;

impl Store {
    /// Everyone holding a name in `room`, by name.
    #[tracing::instrument(skip(self), err)]
    pub async fn room_members(&self, room: &RoomName) -> Result<Vec<RoomMember>, StoreError> {
        let rows: Vec<(i64, String)> = with_pool!(self, |pool, Db| {
            sqlx::query_as("SELECT id, name FROM members WHERE room = $1 ORDER BY name_key, id")
                .bind(room.as_str())
                .fetch_all(pool)
                .await?
        });
        Ok(rows
            .into_iter()
            .map(|(id, name)| RoomMember { id, name })
            .collect())
    }

    /// The members other instances report here in `room` at `now`
    /// (PostgreSQL; one SQLite instance has no others).
    pub async fn here_elsewhere(&self, room: &RoomName, now: i64) -> Result<Vec<i64>, StoreError> {
        let Backend::Postgres(shared) = &self.backend else {
            return Ok(Vec::new());
        };
        Ok(sqlx::query_scalar(
            "SELECT DISTINCT member_id FROM presence \
             WHERE room = $1 AND here_until > $2 AND instance <> $3",
        )
        .bind(room.as_str())
        .bind(now)
        .bind(&shared.instance)
        .fetch_all(&shared.pool)
        .await?)
    }

    /// Records this instance's members here (`(member, room)`) until
    /// `until`, forgets those gone, and tells the other instances which
    /// rooms changed (PostgreSQL; nothing to share on SQLite).
    pub async fn publish_presence(
        &self,
        here: &[(i64, RoomName)],
        gone: &[i64],
        changed: &[RoomName],
        until: i64,
    ) -> Result<(), StoreError> {
        let Backend::Postgres(shared) = &self.backend else {
            return Ok(());
        };
        let mut tx = shared.pool.begin().await?;
        for chunk in here.chunks(500) {
            let mut query = sqlx::QueryBuilder::<sqlx::Postgres>::new(
                "INSERT INTO presence (member_id, instance, room, here_until) ",
            );
            query.push_values(chunk, |mut row, (member, room)| {
                row.push_bind(*member)
                    .push_bind(&shared.instance)
                    .push_bind(room.as_str())
                    .push_bind(until);
            });
            query.push(
                " ON CONFLICT (member_id, instance) \
                 DO UPDATE SET room = EXCLUDED.room, here_until = EXCLUDED.here_until",
            );
            query.build().persistent(false).execute(&mut *tx).await?;
        }
        if !gone.is_empty() {
            sqlx::query("DELETE FROM presence WHERE instance = $1 AND member_id = ANY($2)")
                .bind(&shared.instance)
                .bind(gone)
                .execute(&mut *tx)
                .await?;
        }
        // Rows of instances long gone.
        sqlx::query("DELETE FROM presence WHERE here_until < $1")
            .bind(until - 10 * 60 * 1000)
            .execute(&mut *tx)
            .await?;
        for room in changed {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(super::listen::CHANNEL)
                .bind(super::listen::presence(&shared.instance, room.as_str()))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Tells the other instances that a member types (PostgreSQL).
    pub async fn announce_typing(
        &self,
        room: &RoomName,
        member_id: i64,
        name: &str,
    ) -> Result<(), StoreError> {
        if let Backend::Postgres(shared) = &self.backend {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(super::listen::CHANNEL)
                .bind(super::listen::typing(
                    &shared.instance,
                    room.as_str(),
                    member_id,
                    name,
                ))
                .execute(&shared.pool)
                .await?;
        }
        Ok(())
    }

    /// Marks `room` read by `member_id` up to `cursor`: the messages posted
    /// up to it. A read position moves only forward, up to the room's
    /// latest cursor: a number from the future would otherwise hold it
    /// there, and every later read would be ignored.
    #[tracing::instrument(skip(self), err)]
    pub async fn mark_read(
        &self,
        room: &RoomName,
        member_id: i64,
        cursor: i64,
    ) -> Result<(), StoreError> {
        with_pool!(self, |pool, Db| {
            let latest: Option<i64> =
                sqlx::query_scalar("SELECT last_cursor FROM rooms WHERE name = $1")
                    .bind(room.as_str())
                    .fetch_optional(pool)
                    .await?;
            let latest = latest.unwrap_or(0);
            let cursor = cursor.min(latest);
            // The newest message posted up to `cursor`: seq and posted
            // cursor grow together, so this walks back from `cursor` (a
            // seq is never above the cursor it was posted at) only past
            // the messages posted after it.
            let seq: Option<i64> = sqlx::query_scalar(
                "SELECT seq FROM messages WHERE room = $1 AND seq <= $2 AND posted_cursor <= $2 \
                 ORDER BY seq DESC LIMIT 1",
            )
            .bind(room.as_str())
            .bind(cursor)
            .fetch_optional(pool)
            .await?;
            // A position past the room's latest as it is now (stored
            // before the bound, or left by restoring an older backup) is
            // brought back to it. Read in the statement itself: a `latest`
            // read above may be older than another tab's read since.
            sqlx::query(
                "UPDATE members SET read_cursor = $2, read_seq = $3 \
                 WHERE id = $1 AND (read_cursor < $2 \
                 OR read_cursor > (SELECT last_cursor FROM rooms WHERE name = $4))",
            )
            .bind(member_id)
            .bind(cursor)
            .bind(seq.unwrap_or(0))
            .bind(room.as_str())
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Unread counts of these members (one per room of a session).
    #[tracing::instrument(skip(self, member_ids), err)]
    pub async fn unread(&self, member_ids: &[i64]) -> Result<Vec<Unread>, StoreError> {
        let mut counts = Vec::with_capacity(member_ids.len());
        for id in member_ids {
            let count: Option<i64> = with_pool!(self, |pool, Db| {
                let member: Option<(String, i64)> =
                    sqlx::query_as("SELECT room, read_seq FROM members WHERE id = $1")
                        .bind(*id)
                        .fetch_optional(pool)
                        .await?;
                match member {
                    Some((room, read_seq)) => Some(
                        sqlx::query_scalar(
                            "SELECT COUNT(*) FROM (SELECT 1 FROM messages \
                             WHERE room = $1 AND seq > $2 AND author_id <> $3 \
                             AND deleted_at IS NULL LIMIT $4) AS recent",
                        )
                        .bind(room)
                        .bind(read_seq)
                        .bind(*id)
                        .bind(UNREAD_CAP)
                        .fetch_one(pool)
                        .await?,
                    ),
                    None => None,
                }
            });
            if let Some(count) = count {
                counts.push(Unread {
                    member_id: *id,
                    count,
                });
            }
        }
        Ok(counts)
    }
}
