//! Messages: stored with a gapless per-room seq, read back in pages.

use super::batch::{self, Post};
use super::{with_pool, Backend, Store, StoreError};
use crate::chat::{Member, Message, MessageBody, RoomName};

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
            room: RoomName::stored(row.room),
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
    /// Stores a message by `member` and returns it with its seq, once it is
    /// committed and queued for publishing (see [`Store::commits`]).
    ///
    /// The seq comes from bumping the room's `last_seq` in the same
    /// transaction as the insert: the update locks the room's row (SQLite:
    /// the database), so concurrent posts serialise there, seqs have no gaps
    /// and seq order is commit order. On SQLite the post joins the group
    /// commit (`batch`). Returns `None` if the room is gone.
    #[tracing::instrument(skip(self, member, body), fields(member = member.id), err)]
    pub async fn insert_message(
        &self,
        member: &Member,
        body: &MessageBody,
        now: i64,
    ) -> Result<Option<Message>, StoreError> {
        let post = Post {
            member: member.clone(),
            body: body.clone(),
            now,
        };
        match &self.backend {
            Backend::Sqlite(local) => batch::submit(&local.posts, post).await,
            // The commit and its queuing for publishing run in a task of
            // their own: a client that hangs up drops this future, which
            // must never leave a committed message unpublished here.
            Backend::Postgres(_) => {
                let store = self.clone();
                tokio::spawn(async move { store.insert_batch(&[post]).await })
                    .await
                    .map_err(|_| StoreError::Stopped)?
                    .map(|mut messages| messages.pop().flatten())
            }
        }
    }

    /// Stores `posts` in one transaction, in order, and queues the stored
    /// messages for publishing. One answer per post: `None` where its
    /// room is gone.
    pub(super) async fn insert_batch(
        &self,
        posts: &[Post],
    ) -> Result<Vec<Option<Message>>, StoreError> {
        // Held until the commit is queued for publishing, not only until it
        // commits: the next writer's commit then queues after this one, so
        // commits are published in seq order (see `begin_write`).
        let (begin, _writing) = self.begin_write().await?;
        let notify = self.notifier();
        // Rooms in order of first appearance, with how many posts each.
        let mut rooms: Vec<(&RoomName, i64)> = Vec::new();
        for post in posts {
            match rooms
                .iter_mut()
                .find(|(room, _)| **room == post.member.room)
            {
                Some((_, count)) => *count += 1,
                None => rooms.push((&post.member.room, 1)),
            }
        }
        let messages = with_pool!(self, |pool, Db| {
            let mut tx = pool.begin_with(begin).await?;
            // Each room's seqs are claimed in one step: the next `count`.
            let mut next_seq: Vec<(&RoomName, Option<i64>)> = Vec::with_capacity(rooms.len());
            for (room, count) in &rooms {
                let last: Option<i64> = sqlx::query_scalar(
                    "UPDATE rooms SET last_seq = last_seq + $2 WHERE name = $1 RETURNING last_seq",
                )
                .bind(room.as_str())
                .bind(*count)
                .fetch_optional(&mut *tx)
                .await?;
                next_seq.push((room, last.map(|last| last - count + 1)));
            }
            let messages: Vec<Option<Message>> = posts
                .iter()
                .map(|post| {
                    let (_, next) = next_seq
                        .iter_mut()
                        .find(|(room, _)| **room == post.member.room)?;
                    let seq = next.as_mut()?;
                    *seq += 1;
                    Some(Message {
                        room: post.member.room.clone(),
                        seq: *seq - 1,
                        author_id: post.member.id,
                        author: post.member.name.as_str().to_owned(),
                        body: post.body.as_str().to_owned(),
                        created_at: post.now,
                    })
                })
                .collect();
            let stored: Vec<&Message> = messages.iter().flatten().collect();
            if !stored.is_empty() {
                // Statements whose text depends on the batch size are not
                // kept prepared: they would crowd out the fixed ones.
                let mut insert = sqlx::QueryBuilder::<Db>::new(
                    "INSERT INTO messages (room, seq, author_id, author, body, created_at) ",
                );
                insert.push_values(&stored, |mut row, message| {
                    row.push_bind(message.room.as_str())
                        .push_bind(message.seq)
                        .push_bind(message.author_id)
                        .push_bind(&message.author)
                        .push_bind(&message.body)
                        .push_bind(message.created_at);
                });
                insert.build().persistent(false).execute(&mut *tx).await?;
            }
            if let Some(instance) = notify {
                // Delivered to the other instances on commit, in commit
                // order; one per room names its newest seq, and the
                // listeners read everything up to it.
                for ((room, next), (_, count)) in next_seq.iter().zip(&rooms) {
                    if let Some(next) = next {
                        let (first, last) = (next - count, next - 1);
                        sqlx::query("SELECT pg_notify($1, $2)")
                            .bind(super::listen::CHANNEL)
                            .bind(super::listen::committed(
                                instance,
                                room.as_str(),
                                first,
                                last,
                            ))
                            .execute(&mut *tx)
                            .await?;
                    }
                }
            }
            tx.commit().await?;
            messages
        });
        let committed: Vec<Message> = messages.iter().flatten().cloned().collect();
        // Waits if the publisher is behind (a bound, not a drop); fails
        // only once it is gone, at shutdown.
        if !committed.is_empty() && self.committed.send(committed).await.is_err() {
            tracing::debug!("nobody publishes commits any more");
        }
        Ok(messages)
    }

    /// Up to `limit` messages with seq below `before` (all, for `i64::MAX`),
    /// the newest of them, oldest first.
    #[tracing::instrument(skip(self), err)]
    pub async fn messages_before(
        &self,
        room: &RoomName,
        before: i64,
        limit: i64,
    ) -> Result<Vec<Message>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM messages WHERE room = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3"
        );
        let mut rows: Vec<MessageRow> = with_pool!(self, |pool, Db| {
            sqlx::query_as(&sql)
                .bind(room.as_str())
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
        room: &RoomName,
        after: i64,
        limit: i64,
    ) -> Result<Vec<Message>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM messages WHERE room = $1 AND seq > $2 ORDER BY seq LIMIT $3"
        );
        let rows: Vec<MessageRow> = with_pool!(self, |pool, Db| {
            sqlx::query_as(&sql)
                .bind(room.as_str())
                .bind(after)
                .bind(limit)
                .fetch_all(pool)
                .await?
        });
        Ok(rows.into_iter().map(Message::from).collect())
    }

    /// The seq of the room's newest message (0 for none or no room).
    #[tracing::instrument(skip(self), err)]
    pub async fn last_seq(&self, room: &RoomName) -> Result<i64, StoreError> {
        let seq: Option<i64> = with_pool!(self, |pool, Db| {
            sqlx::query_scalar("SELECT last_seq FROM rooms WHERE name = $1")
                .bind(room.as_str())
                .fetch_optional(pool)
                .await?
        });
        Ok(seq.unwrap_or(0))
    }
}
