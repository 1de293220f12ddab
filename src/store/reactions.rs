//! Reactions as read back: a message's rows gathered into its reactions,
//! and the reactions of a page of messages read in one query.

use super::messages::MessageRow;
use super::{with_pool, Store, StoreError};
use crate::chat::{Emoji, Message, Reaction, RoomName};

/// One member's reaction as stored.
#[derive(sqlx::FromRow)]
pub(super) struct ReactionRow {
    seq: i64,
    emoji: String,
    member_id: i64,
    name: String,
}

impl Store {
    /// The messages of `rows` with their reactions, read in one query for
    /// those that have any (most have none, and cost nothing).
    pub(super) async fn with_reactions(
        &self,
        room: &RoomName,
        rows: Vec<MessageRow>,
    ) -> Result<Vec<Message>, StoreError> {
        let reacted: Vec<i64> = rows
            .iter()
            .filter(|row| row.reactions > 0)
            .map(|row| row.seq)
            .collect();
        let mut messages: Vec<Message> = rows.into_iter().map(MessageRow::into_message).collect();
        if reacted.is_empty() {
            return Ok(messages);
        }
        let reactions: Vec<ReactionRow> = with_pool!(self, |pool, Db| {
            let mut query = sqlx::QueryBuilder::<Db>::new(
                "SELECT seq, emoji, member_id, name FROM reactions WHERE room = ",
            );
            query.push_bind(room.as_str()).push(" AND seq IN (");
            let mut seqs = query.separated(", ");
            for seq in &reacted {
                seqs.push_bind(*seq);
            }
            query.push(") ORDER BY seq, reacted_at, member_id");
            query
                .build_query_as()
                .persistent(false)
                .fetch_all(pool)
                .await?
        });
        for message in &mut messages {
            message.reactions = gather_reactions(
                reactions
                    .iter()
                    .filter(|reaction| reaction.seq == message.seq),
            );
        }
        Ok(messages)
    }
}

/// One message's reaction rows (in the order people reacted) as its
/// reactions, in the fixed set's order. A row whose emoji left the set is
/// not shown.
pub(super) fn gather_reactions<'a>(rows: impl Iterator<Item = &'a ReactionRow>) -> Vec<Reaction> {
    let mut reactions: Vec<Reaction> = Vec::new();
    for row in rows {
        let Ok(emoji) = Emoji::parse(&row.emoji) else {
            continue;
        };
        match reactions
            .iter_mut()
            .find(|reaction| reaction.emoji == emoji)
        {
            Some(reaction) => reaction.by.push((row.member_id, row.name.clone())),
            None => reactions.push(Reaction {
                emoji,
                by: vec![(row.member_id, row.name.clone())],
            }),
        }
    }
    reactions.sort_by_key(|reaction| reaction.emoji);
    reactions
}
