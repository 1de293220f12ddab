//! Changes to posted messages: edits, deletes and reactions. Each takes the
//! room's next cursor in the transaction that makes it, so changes and
//! posts share one gapless order per room, and is published like a post.

use super::messages::{MessageRow, COLUMNS};
use super::reactions::{gather_reactions, ReactionRow};
use super::{with_pool, Backend, Store, StoreError};
use crate::chat::{Change, Member, Message, Refusal};

/// What a change came to, inside its transaction.
enum Outcome {
    /// Stored at a new cursor: the message as it is now.
    Applied(Message),
    /// Nothing to store (an edit to the same text, a second delete).
    Unchanged,
    /// Refused: rolled back.
    Refused(Refusal),
}

impl Store {
    /// Applies `change` by `member` to message `seq` of the member's room
    /// and returns the message in its new state, once it is committed and
    /// queued for publishing. A change that changes nothing (an edit to the
    /// same text, deleting a deleted message) stores nothing and returns
    /// the message as it is. A refusal stores nothing either.
    #[tracing::instrument(skip(self, member, change), fields(member = member.id), err)]
    pub async fn change_message(
        &self,
        member: &Member,
        seq: i64,
        change: Change,
        now: i64,
    ) -> Result<Result<Message, Refusal>, StoreError> {
        let room = member.room.clone();
        let member = member.clone();
        let job = move |store: Store| async move { store.apply(&member, seq, &change, now).await };
        // The commit and its queuing for publishing run in a task of their
        // own, never in the request's future, which a client that hangs
        // up drops.
        let outcome = match &self.backend {
            Backend::Sqlite(_) => self.write(job).await?,
            Backend::Postgres(_) => tokio::spawn(job(self.clone()))
                .await
                .map_err(|_| StoreError::Stopped)??,
        };
        match outcome {
            Outcome::Applied(message) => Ok(Ok(message)),
            Outcome::Refused(refusal) => Ok(Err(refusal)),
            Outcome::Unchanged => Ok(self
                .message(&room, seq)
                .await?
                .ok_or(Refusal::NoSuchMessage)),
        }
    }

    /// One change in one transaction, published once committed.
    async fn apply(
        &self,
        member: &Member,
        seq: i64,
        change: &Change,
        now: i64,
    ) -> Result<Outcome, StoreError> {
        // Held until the change is queued for publishing, as for posts, so
        // that this instance publishes in cursor order.
        let (begin, _writing) = self.begin_write().await?;
        let notify = self.notifier();
        let room = member.room.as_str();
        let changed = with_pool!(self, |pool, Db| {
            let mut tx = pool.begin_with(begin).await?;
            // The cursor first: on PostgreSQL this locks the room's row, so
            // the room's changes commit in cursor order on every instance.
            // A refusal rolls it back: cursors stay gapless.
            let cursor: Option<i64> = sqlx::query_scalar(
                "UPDATE rooms SET last_cursor = last_cursor + 1 WHERE name = $1 RETURNING last_cursor",
            )
            .bind(room)
            .fetch_optional(&mut *tx)
            .await?;
            let sql = format!("SELECT {COLUMNS} FROM messages WHERE room = $1 AND seq = $2");
            let row: Option<MessageRow> = match cursor {
                Some(_) => {
                    sqlx::query_as(&sql)
                        .bind(room)
                        .bind(seq)
                        .fetch_optional(&mut *tx)
                        .await?
                }
                None => None,
            };
            let (Some(cursor), Some(row)) = (cursor, row) else {
                return Ok(Outcome::Refused(Refusal::NoSuchMessage));
            };
            let mut message = row.into_message();
            let own = message.author_id == member.id;
            let outcome = match change {
                _ if message.is_deleted() && *change == Change::Delete && own => Outcome::Unchanged,
                _ if message.is_deleted() => Outcome::Refused(Refusal::Deleted),
                Change::Edit(_) | Change::Delete if !own => Outcome::Refused(Refusal::NotAuthor),
                Change::Edit(body) if message.body.as_deref() == Some(body.as_str()) => {
                    Outcome::Unchanged
                }
                Change::Edit(body) => {
                    sqlx::query(
                        "UPDATE messages SET body = $3, edited_at = $4, cursor = $5 \
                         WHERE room = $1 AND seq = $2",
                    )
                    .bind(room)
                    .bind(seq)
                    .bind(body.as_str())
                    .bind(now)
                    .bind(cursor)
                    .execute(&mut *tx)
                    .await?;
                    message.body = Some(body.as_str().to_owned());
                    message.edited_at = Some(now);
                    Outcome::Applied(message)
                }
                Change::Delete => {
                    // A delete is a delete: the body and the reactions go.
                    sqlx::query("DELETE FROM reactions WHERE room = $1 AND seq = $2")
                        .bind(room)
                        .bind(seq)
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query(
                        "UPDATE messages SET body = '', deleted_at = $3, reactions = 0, cursor = $4 \
                         WHERE room = $1 AND seq = $2",
                    )
                    .bind(room)
                    .bind(seq)
                    .bind(now)
                    .bind(cursor)
                    .execute(&mut *tx)
                    .await?;
                    // Its webhook deliveries carry the body too: each keeps
                    // its record but loses the text, and one still waiting is
                    // not sent.
                    sqlx::query(
                        "UPDATE webhook_deliveries SET payload = '{}', lease_until = 0, \
                         done_at = COALESCE(done_at, $3), \
                         outcome = COALESCE(outcome, 'message deleted') \
                         WHERE room = $1 AND seq = $2",
                    )
                    .bind(room)
                    .bind(seq)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    message.body = None;
                    Outcome::Applied(message)
                }
                Change::React(emoji) => {
                    let taken_back = sqlx::query(
                        "DELETE FROM reactions \
                         WHERE room = $1 AND seq = $2 AND emoji = $3 AND member_id = $4",
                    )
                    .bind(room)
                    .bind(seq)
                    .bind(emoji.as_str())
                    .bind(member.id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if taken_back == 0 {
                        sqlx::query(
                            "INSERT INTO reactions (room, seq, emoji, member_id, name, reacted_at) \
                             VALUES ($1, $2, $3, $4, $5, $6)",
                        )
                        .bind(room)
                        .bind(seq)
                        .bind(emoji.as_str())
                        .bind(member.id)
                        .bind(member.name.as_str())
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                    }
                    let delta: i64 = if taken_back == 0 { 1 } else { -1 };
                    sqlx::query(
                        "UPDATE messages SET reactions = reactions + $3, cursor = $4 \
                         WHERE room = $1 AND seq = $2",
                    )
                    .bind(room)
                    .bind(seq)
                    .bind(delta)
                    .bind(cursor)
                    .execute(&mut *tx)
                    .await?;
                    Outcome::Applied(message)
                }
            };
            let mut message = match outcome {
                Outcome::Applied(message) => message,
                other => return Ok(other),
            };
            if !message.is_deleted() {
                let rows: Vec<ReactionRow> = sqlx::query_as(
                    "SELECT seq, emoji, member_id, name FROM reactions \
                     WHERE room = $1 AND seq = $2 ORDER BY reacted_at, member_id",
                )
                .bind(room)
                .bind(seq)
                .fetch_all(&mut *tx)
                .await?;
                message.reactions = gather_reactions(rows.iter());
            }
            message.cursor = cursor;
            if let Some(instance) = notify {
                sqlx::query("SELECT pg_notify($1, $2)")
                    .bind(super::listen::CHANNEL)
                    .bind(super::listen::committed(instance, room, cursor, cursor))
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            message
        });
        // Waits if the publisher is behind; fails only at shutdown.
        if self.committed.send(vec![changed.clone()]).await.is_err() {
            tracing::debug!("nobody publishes commits any more");
        }
        Ok(Outcome::Applied(changed))
    }
}
