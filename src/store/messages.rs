//! Messages: stored with a gapless per-room seq and cursor, read back in
//! pages (by seq) or as changes (by cursor), always in their current state.

use super::batch::{self, Post};
use super::{with_pool, Backend, Store, StoreError};
use crate::chat::{Member, Message, MessageBody, RoomName};

#[derive(sqlx::FromRow)]
pub(super) struct MessageRow {
    room: String,
    pub(super) seq: i64,
    cursor: i64,
    author_id: i64,
    author: String,
    body: String,
    created_at: i64,
    edited_at: Option<i64>,
    deleted_at: Option<i64>,
    pub(super) reactions: i64,
    bot: i64,
}

impl MessageRow {
    /// The message, without its reactions (see [`Store::with_reactions`]).
    pub(super) fn into_message(self) -> Message {
        Message {
            room: RoomName::stored(self.room),
            seq: self.seq,
            cursor: self.cursor,
            author_id: self.author_id,
            author: self.author,
            body: self.deleted_at.is_none().then_some(self.body),
            created_at: self.created_at,
            edited_at: self.edited_at,
            reactions: Vec::new(),
            bot: self.bot != 0,
        }
    }
}

/// The columns of a [`MessageRow`].
pub(super) const COLUMNS: &str =
    "room, seq, cursor, author_id, author, body, created_at, edited_at, deleted_at, reactions, bot";

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
        // The commit and its queuing for publishing run in the group
        // commit's task: a client that hangs up drops this future, which
        // must never leave a committed message unpublished here.
        match &self.backend {
            Backend::Sqlite(local) => batch::submit(&local.posts, post).await,
            Backend::Postgres(shared) => batch::submit(&shared.posts, post).await,
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
        // The batch's rooms, with how many posts each, in name order: two
        // instances' batches lock the rooms they share in the same order,
        // so they wait for each other and never deadlock.
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
        rooms.sort_unstable_by(|(a, _), (b, _)| a.as_str().cmp(b.as_str()));
        let started = std::time::Instant::now();
        let messages = with_pool!(self, |pool, Db| {
            let mut tx = pool.begin_with(begin).await?;
            // Each room's seqs and cursors are claimed in one step: the
            // next `count` of each.
            let mut next: Vec<(&RoomName, Option<(i64, i64)>)> = Vec::with_capacity(rooms.len());
            for (room, count) in &rooms {
                let last: Option<(i64, i64)> = sqlx::query_as(
                    "UPDATE rooms SET last_seq = last_seq + $2, last_cursor = last_cursor + $2 \
                     WHERE name = $1 RETURNING last_seq, last_cursor",
                )
                .bind(room.as_str())
                .bind(*count)
                .fetch_optional(&mut *tx)
                .await?;
                next.push((
                    room,
                    last.map(|(seq, cursor)| (seq - count + 1, cursor - count + 1)),
                ));
            }
            let messages: Vec<Option<Message>> = posts
                .iter()
                .map(|post| {
                    let (_, next) = next
                        .iter_mut()
                        .find(|(room, _)| **room == post.member.room)?;
                    let (seq, cursor) = next.as_mut()?;
                    *seq += 1;
                    *cursor += 1;
                    Some(Message {
                        room: post.member.room.clone(),
                        seq: *seq - 1,
                        cursor: *cursor - 1,
                        author_id: post.member.id,
                        author: post.member.name.as_str().to_owned(),
                        body: Some(post.body.as_str().to_owned()),
                        created_at: post.now,
                        edited_at: None,
                        reactions: Vec::new(),
                        bot: post.member.bot,
                    })
                })
                .collect();
            let stored: Vec<&Message> = messages.iter().flatten().collect();
            if !stored.is_empty() {
                // Statements whose text depends on the batch size are not
                // kept prepared: they would crowd out the fixed ones.
                let mut insert = sqlx::QueryBuilder::<Db>::new(
                    "INSERT INTO messages \
                     (room, seq, cursor, posted_cursor, author_id, author, body, created_at, bot) ",
                );
                insert.push_values(&stored, |mut row, message| {
                    row.push_bind(message.room.as_str())
                        .push_bind(message.seq)
                        .push_bind(message.cursor)
                        .push_bind(message.cursor)
                        .push_bind(message.author_id)
                        .push_bind(&message.author)
                        .push_bind(message.body.as_deref().unwrap_or_default())
                        .push_bind(message.created_at)
                        .push_bind(i64::from(message.bot));
                });
                insert.build().persistent(false).execute(&mut *tx).await?;
            }
            if let Some(instance) = notify {
                // Delivered to the other instances on commit, in commit
                // order; one per room names the cursors it took, and the
                // listeners read every change up to the last.
                for ((room, next), (_, count)) in next.iter().zip(&rooms) {
                    if let Some((_, next)) = next {
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
        crate::metrics::commit_latency(started.elapsed());
        let committed: Vec<Message> = messages.iter().flatten().cloned().collect();
        crate::metrics::post_committed(committed.len());
        // Waits if the publisher is behind (a bound, not a drop); fails
        // only once it is gone, at shutdown.
        if !committed.is_empty() && self.committed.send(committed).await.is_err() {
            tracing::debug!("nobody publishes commits any more");
        }
        Ok(messages)
    }

    /// Up to `limit` messages with seq below `before` (all, for `i64::MAX`),
    /// the newest of them, oldest first, in their current state.
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
        self.with_reactions(room, rows).await
    }

    /// Up to `limit` messages from seq `from` on (itself included), oldest
    /// first, in their current state: what follows a linked message.
    #[tracing::instrument(skip(self), err)]
    pub async fn messages_from(
        &self,
        room: &RoomName,
        from: i64,
        limit: i64,
    ) -> Result<Vec<Message>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM messages WHERE room = $1 AND seq >= $2 ORDER BY seq LIMIT $3"
        );
        let rows: Vec<MessageRow> = with_pool!(self, |pool, Db| {
            sqlx::query_as(&sql)
                .bind(room.as_str())
                .bind(from)
                .bind(limit)
                .fetch_all(pool)
                .await?
        });
        self.with_reactions(room, rows).await
    }

    /// Up to `limit` messages that changed after cursor `after`, each once
    /// in its current state, in cursor order: what a stream that has seen
    /// every change up to `after` is missing.
    #[tracing::instrument(skip(self), err)]
    pub async fn changes_after(
        &self,
        room: &RoomName,
        after: i64,
        limit: i64,
    ) -> Result<Vec<Message>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM messages WHERE room = $1 AND cursor > $2 ORDER BY cursor LIMIT $3"
        );
        let rows: Vec<MessageRow> = with_pool!(self, |pool, Db| {
            sqlx::query_as(&sql)
                .bind(room.as_str())
                .bind(after)
                .bind(limit)
                .fetch_all(pool)
                .await?
        });
        self.with_reactions(room, rows).await
    }

    /// The message `seq` of `room` in its current state, if there is one.
    #[tracing::instrument(skip(self), err)]
    pub async fn message(&self, room: &RoomName, seq: i64) -> Result<Option<Message>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM messages WHERE room = $1 AND seq = $2");
        let row: Option<MessageRow> = with_pool!(self, |pool, Db| {
            sqlx::query_as(&sql)
                .bind(room.as_str())
                .bind(seq)
                .fetch_optional(pool)
                .await?
        });
        Ok(self.with_reactions(room, Vec::from_iter(row)).await?.pop())
    }

    /// The room's newest cursor (0 for none or no room).
    #[tracing::instrument(skip(self), err)]
    pub async fn last_cursor(&self, room: &RoomName) -> Result<i64, StoreError> {
        let cursor: Option<i64> = with_pool!(self, |pool, Db| {
            sqlx::query_scalar("SELECT last_cursor FROM rooms WHERE name = $1")
                .bind(room.as_str())
                .fetch_optional(pool)
                .await?
        });
        Ok(cursor.unwrap_or(0))
    }
}
