//! The webhook queue: which bots have posts to consider, the deliveries
//! waiting (claimed with a lease, so two instances never send one at the
//! same time), and what each attempt came to.
//!
//! Queuing is guarded twice, for instances sharing a PostgreSQL database:
//! a scan moves `bots.scanned_seq` only from the value it read (the loser
//! of a race changes nothing and rolls back), and `UNIQUE (bot_id, seq)`
//! takes each delivery once whatever happens.

use super::{with_pool, Store, StoreError};
use crate::chat::{Member, RoomName, Username};
use crate::hooks::queue::{Delivery, Next, Queued, Record, Target, Watcher, Work};

#[derive(sqlx::FromRow)]
struct WatcherRow {
    member_id: i64,
    room: String,
    name: String,
    name_key: String,
    scanned_seq: i64,
    all_messages: i64,
}

#[derive(sqlx::FromRow)]
struct DeliveryRow {
    id: i64,
    bot_id: i64,
    room: String,
    seq: i64,
    payload: String,
    created_at: i64,
    attempts: i64,
}

impl Store {
    /// Whether any bot has posts to consider, and when the earliest waiting
    /// delivery is due: one query, cheap when there are no bots, asked
    /// every round.
    #[tracing::instrument(skip(self), err, level = "debug")]
    pub async fn hooks_work(&self) -> Result<Work, StoreError> {
        // A delivery is due once both its time and any lease on it have
        // passed (CASE: PostgreSQL's GREATEST is SQLite's MAX).
        let (unscanned, due_at): (i64, Option<i64>) = with_pool!(self, |pool, Db| {
            sqlx::query_as(
                "SELECT CAST(CASE WHEN EXISTS (SELECT 1 FROM bots b JOIN rooms r ON r.name = b.room \
                   WHERE b.revoked_at IS NULL AND b.webhook_url IS NOT NULL \
                   AND r.last_seq > b.scanned_seq) THEN 1 ELSE 0 END AS BIGINT), \
                 (SELECT MIN(CASE WHEN lease_until > next_at THEN lease_until ELSE next_at END) \
                   FROM webhook_deliveries WHERE done_at IS NULL)",
            )
            .fetch_one(pool)
            .await?
        });
        Ok(Work {
            unscanned: unscanned != 0,
            due_at,
        })
    }

    /// The unrevoked bots with a webhook whose room has posts they have
    /// not considered.
    #[tracing::instrument(skip(self), err)]
    pub async fn hook_watchers(&self) -> Result<Vec<Watcher>, StoreError> {
        let rows: Vec<WatcherRow> = with_pool!(self, |pool, Db| {
            sqlx::query_as(
                "SELECT b.member_id, b.room, m.name, m.name_key, b.scanned_seq, b.all_messages \
                 FROM bots b JOIN rooms r ON r.name = b.room JOIN members m ON m.id = b.member_id \
                 WHERE b.revoked_at IS NULL AND b.webhook_url IS NOT NULL \
                 AND r.last_seq > b.scanned_seq ORDER BY b.member_id",
            )
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|row| Watcher {
                bot: Member {
                    id: row.member_id,
                    room: RoomName::stored(row.room),
                    name: Username::stored(row.name, row.name_key),
                    bot: true,
                },
                scanned_seq: row.scanned_seq,
                all: row.all_messages != 0,
            })
            .collect())
    }

    /// Queues `deliveries` for bot `bot_id` and records that its room was
    /// considered up to seq `to`, in one transaction, if the bot's scan is
    /// still at `from`. False when another instance got there first (and
    /// nothing was stored).
    #[tracing::instrument(skip(self, deliveries), fields(count = deliveries.len()), err)]
    pub async fn queue_deliveries(
        &self,
        bot: &Member,
        from: i64,
        to: i64,
        deliveries: Vec<Queued>,
        now: i64,
    ) -> Result<bool, StoreError> {
        let (bot_id, room) = (bot.id, bot.room.clone());
        self.write(move |store| async move {
            let (begin, _writing) = store.begin_write().await?;
            with_pool!(store, |pool, Db| {
                let mut tx = pool.begin_with(begin).await?;
                // The room's row first, as a delete takes it: a delete
                // committed meanwhile is seen below (its message is not
                // queued), and one that comes later waits for these rows
                // and empties them.
                sqlx::query("UPDATE rooms SET last_cursor = last_cursor WHERE name = $1")
                    .bind(room.as_str())
                    .execute(&mut *tx)
                    .await?;
                // Then the bot, so that on PostgreSQL a concurrent scan of
                // it waits here, then finds the seq moved and stops.
                let moved = sqlx::query(
                    "UPDATE bots SET scanned_seq = $3 \
                     WHERE member_id = $1 AND scanned_seq = $2 AND revoked_at IS NULL",
                )
                .bind(bot_id)
                .bind(from)
                .bind(to)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if moved == 0 {
                    tx.rollback().await?;
                    return Ok(false);
                }
                for delivery in &deliveries {
                    sqlx::query(
                        "INSERT INTO webhook_deliveries (bot_id, room, seq, payload, created_at, next_at) \
                         SELECT $1, $2, $3, $4, $5, $5 WHERE EXISTS (SELECT 1 FROM messages \
                         WHERE room = $2 AND seq = $3 AND deleted_at IS NULL) \
                         ON CONFLICT (bot_id, seq) DO NOTHING",
                    )
                    .bind(bot_id)
                    .bind(room.as_str())
                    .bind(delivery.seq)
                    .bind(&delivery.payload)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(true)
            })
        })
        .await
    }

    /// Claims up to `limit` due deliveries until `lease_until`, counting
    /// the attempt: another instance takes them only once the lease has
    /// passed (this one stopped, or hung).
    #[tracing::instrument(skip(self), err)]
    pub async fn claim_deliveries(
        &self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> Result<Vec<Delivery>, StoreError> {
        let rows: Vec<DeliveryRow> = self
            .write(move |store| async move {
                let (begin, _writing) = store.begin_write().await?;
                with_pool!(store, |pool, Db| {
                    let mut tx = pool.begin_with(begin).await?;
                    // The outer condition again: on PostgreSQL a row another
                    // instance claimed meanwhile is checked anew once its
                    // lock is free, and skipped.
                    let rows = sqlx::query_as(
                        "UPDATE webhook_deliveries SET lease_until = $2, attempts = attempts + 1 \
                         WHERE id IN (SELECT id FROM webhook_deliveries \
                           WHERE done_at IS NULL AND next_at <= $1 AND lease_until <= $1 \
                           ORDER BY next_at LIMIT $3) \
                         AND done_at IS NULL AND lease_until <= $1 \
                         RETURNING id, bot_id, room, seq, payload, created_at, attempts",
                    )
                    .bind(now)
                    .bind(lease_until)
                    .bind(limit)
                    .fetch_all(&mut *tx)
                    .await?;
                    tx.commit().await?;
                    Ok(rows)
                })
            })
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| Delivery {
                id: row.id,
                bot_id: row.bot_id,
                room: RoomName::stored(row.room),
                seq: row.seq,
                payload: row.payload,
                created_at: row.created_at,
                attempts: row.attempts,
            })
            .collect())
    }

    /// Where bot `bot_id`'s deliveries go, unless it was revoked or has no
    /// webhook any more.
    #[tracing::instrument(skip(self), err)]
    pub async fn hook_target(&self, bot_id: i64) -> Result<Option<Target>, StoreError> {
        let row: Option<(Option<String>, String)> = with_pool!(self, |pool, Db| {
            sqlx::query_as(
                "SELECT webhook_url, secret FROM bots WHERE member_id = $1 AND revoked_at IS NULL",
            )
            .bind(bot_id)
            .fetch_optional(pool)
            .await?
        });
        Ok(row.and_then(|(url, secret)| url.map(|url| Target { url, secret })))
    }

    /// Records what an attempt at `delivery` came to: on the delivery (done
    /// or due again, its lease let go) and as the bot's last status. A
    /// delivery finished meanwhile (its bot revoked) stays as it is.
    #[tracing::instrument(skip(self, delivery, record), fields(id = delivery.id), err)]
    pub async fn record_attempt(
        &self,
        delivery: &Delivery,
        record: Record,
        now: i64,
    ) -> Result<(), StoreError> {
        let (id, bot_id) = (delivery.id, delivery.bot_id);
        self.write(move |store| async move {
            let (begin, _writing) = store.begin_write().await?;
            with_pool!(store, |pool, Db| {
                let mut tx = pool.begin_with(begin).await?;
                let update = match record.next {
                    Next::Done => sqlx::query(
                        "UPDATE webhook_deliveries SET done_at = $2, outcome = $3, lease_until = 0 \
                         WHERE id = $1 AND done_at IS NULL",
                    )
                    .bind(id)
                    .bind(now)
                    .bind(&record.status),
                    Next::RetryAt(at) => sqlx::query(
                        "UPDATE webhook_deliveries SET next_at = $2, lease_until = 0 \
                         WHERE id = $1 AND done_at IS NULL",
                    )
                    .bind(id)
                    .bind(at),
                };
                update.execute(&mut *tx).await?;
                sqlx::query(
                    "UPDATE bots SET last_status = $2, last_status_at = $3 \
                     WHERE member_id = $1 AND revoked_at IS NULL",
                )
                .bind(bot_id)
                .bind(&record.status)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            })
        })
        .await
    }

    /// Lets go of the leases on deliveries this instance stopped working on
    /// (at shutdown), so a restart tries them at once.
    #[tracing::instrument(skip(self, ids), fields(count = ids.len()), err)]
    pub async fn release_deliveries(&self, ids: Vec<i64>) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        self.write(move |store| async move {
            let (begin, _writing) = store.begin_write().await?;
            with_pool!(store, |pool, Db| {
                let mut tx = pool.begin_with(begin).await?;
                let mut query = sqlx::QueryBuilder::<Db>::new(
                    "UPDATE webhook_deliveries SET lease_until = 0 WHERE done_at IS NULL AND id IN (",
                );
                let mut list = query.separated(", ");
                for id in &ids {
                    list.push_bind(*id);
                }
                query.push(")");
                query.build().persistent(false).execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(())
            })
        })
        .await
    }
}
