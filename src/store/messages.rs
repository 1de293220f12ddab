//! Messages: stored with a gapless per-room seq, read back in pages.

use super::{with_pool, Store, StoreError};
use crate::chat::{Message, MessageBody};
use crate::store::MemberRow;

#[derive(sqlx::FromRow)]
struct MessageRow {
    room: String,
    seq: i64,
    author_id: i64,
    author: String,
    body: String,
    created_at: i64,
}

impl From<MessageRow> for Message {
    fn from(row: MessageRow) -> Self {
        Self {
            room: row.room,
            seq: row.seq,
            author_id: row.author_id,
            author: row.author,
            body: row.body,
            created_at: row.created_at,
        }
    }
}

const COLUMNS: &str = "room, seq, author_id, author, body, created_at";

impl Store {
    /// Stores a message by `member` and returns it with its seq.
    ///
    /// The seq comes from bumping the room's `last_seq` in the same
    /// transaction as the insert: the update locks the room's row (SQLite:
    /// the database), so concurrent posts serialise there, seqs have no gaps
    /// and seq order is commit order. Returns `None` if the room is gone.
    #[tracing::instrument(skip(self, member, body), fields(member = member.id), err)]
    pub async fn insert_message(
        &self,
        member: &MemberRow,
        body: &MessageBody,
        now: i64,
    ) -> Result<Option<Message>, StoreError> {
        let (member, body) = (member.clone(), body.clone());
        self.write(move |store| async move { store.insert_message_now(&member, &body, now).await })
            .await
    }

    async fn insert_message_now(
        &self,
        member: &MemberRow,
        body: &MessageBody,
        now: i64,
    ) -> Result<Option<Message>, StoreError> {
        // Held until the transaction ends (see `begin_write`).
        let (begin, _writing) = self.begin_write().await?;
        let notify = matches!(self.pool(), super::Pool::Postgres(_));
        with_pool!(self, |pool, Db| {
            let mut tx = pool.begin_with(begin).await?;
            let seq: Option<i64> = sqlx::query_scalar(
                "UPDATE rooms SET last_seq = last_seq + 1 WHERE name = $1 RETURNING last_seq",
            )
            .bind(&member.room)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(seq) = seq else {
                return Ok(None);
            };
            sqlx::query(
                "INSERT INTO messages (room, seq, author_id, author, body, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&member.room)
            .bind(seq)
            .bind(member.id)
            .bind(&member.name)
            .bind(body.as_str())
            .bind(now)
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE members SET last_seen = $1 WHERE id = $2")
                .bind(now)
                .bind(member.id)
                .execute(&mut *tx)
                .await?;
            if notify {
                // Delivered to the other instances on commit, in commit order.
                sqlx::query("SELECT pg_notify($1, $2)")
                    .bind(super::listen::CHANNEL)
                    .bind(super::listen::payload(self.instance(), &member.room, seq))
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(Some(Message {
                room: member.room.clone(),
                seq,
                author_id: member.id,
                author: member.name.clone(),
                body: body.as_str().to_owned(),
                created_at: now,
            }))
        })
    }

    /// Up to `limit` messages with seq below `before` (all, for `i64::MAX`),
    /// the newest of them, oldest first.
    #[tracing::instrument(skip(self), err)]
    pub async fn messages_before(
        &self,
        room: &str,
        before: i64,
        limit: i64,
    ) -> Result<Vec<Message>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM messages WHERE room = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3"
        );
        let mut rows: Vec<MessageRow> = with_pool!(self, |pool, Db| {
            sqlx::query_as(&sql)
                .bind(room)
                .bind(before)
                .bind(limit)
                .fetch_all(pool)
                .await?
        });
        rows.reverse();
        Ok(rows.into_iter().map(Message::from).collect())
    }

    /// Up to `limit` messages with seq above `after`, oldest first.
    #[tracing::instrument(skip(self), err)]
    pub async fn messages_after(
        &self,
        room: &str,
        after: i64,
        limit: i64,
    ) -> Result<Vec<Message>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM messages WHERE room = $1 AND seq > $2 ORDER BY seq LIMIT $3"
        );
        let rows: Vec<MessageRow> = with_pool!(self, |pool, Db| {
            sqlx::query_as(&sql)
                .bind(room)
                .bind(after)
                .bind(limit)
                .fetch_all(pool)
                .await?
        });
        Ok(rows.into_iter().map(Message::from).collect())
    }

    /// The seq of the room's newest message (0 for none or no room).
    #[tracing::instrument(skip(self), err)]
    pub async fn last_seq(&self, room: &str) -> Result<i64, StoreError> {
        let seq: Option<i64> = with_pool!(self, |pool, Db| {
            sqlx::query_scalar("SELECT last_seq FROM rooms WHERE name = $1")
                .bind(room)
                .fetch_optional(pool)
                .await?
        });
        Ok(seq.unwrap_or(0))
    }
}
