//! Full-text search in a room's messages: FTS5 on SQLite, `tsvector` and
//! a GIN index keyed by room and word on PostgreSQL (see the `search`
//! migrations). The two differ in syntax only; both find messages holding
//! every word, newest first, never a deleted one, with a snippet marked
//! where the words are.

use super::messages::{MessageRow, COLUMNS};
use super::{Backend, Store, StoreError};
use crate::chat::{Message, RoomName, SearchQuery};

/// Where a snippet's match starts and ends (bodies hold no control
/// characters, so these cannot come from the text).
pub const MARK_START: char = '\u{2}';
/// See [`MARK_START`].
pub const MARK_END: char = '\u{3}';

/// One message found, and the part of its body around the words found.
#[derive(Debug, Clone)]
pub struct Hit {
    /// The message, in its current state.
    pub message: Message,
    /// Part of the body as typed, each match between [`MARK_START`] and
    /// [`MARK_END`].
    pub snippet: String,
}

#[derive(sqlx::FromRow)]
struct HitRow {
    #[sqlx(flatten)]
    message: MessageRow,
    snippet: String,
}

impl Store {
    /// Up to `limit` messages of `room` with seq below `before` that hold
    /// every word of `query`, newest first.
    #[tracing::instrument(skip(self, query), err)]
    pub async fn search(
        &self,
        room: &RoomName,
        query: &SearchQuery,
        before: i64,
        limit: i64,
    ) -> Result<Vec<Hit>, StoreError> {
        let rows: Vec<HitRow> = match &self.backend {
            // The index leads (CROSS JOIN fixes SQLite's join order: with
            // messages outside, each row re-ran the full-text query), in
            // rowid order, so it stops at the first page of matches:
            // within a room, rowid order is seq order (messages are
            // inserted in seq order). The index knows no rooms, so its
            // walk is bounded to the rowids between the room's first
            // message and its newest below `before` (two seeks in the
            // primary key): otherwise a search in a room that has been
            // quiet for a while walks every match posted elsewhere since
            // before it reaches its own (seconds, behind a busy room).
            Backend::Sqlite(local) => {
                let sql = format!(
                    "SELECT {}, snippet(messages_fts, 0, char(2), char(3), '…', 24) AS snippet \
                     FROM messages_fts CROSS JOIN messages m ON m.rowid = messages_fts.rowid \
                     WHERE messages_fts MATCH $1 \
                       AND messages_fts.rowid BETWEEN \
                         (SELECT rowid FROM messages WHERE room = $2 ORDER BY seq LIMIT 1) \
                         AND (SELECT rowid FROM messages WHERE room = $2 AND seq < $3 \
                              ORDER BY seq DESC LIMIT 1) \
                       AND m.room = $2 AND m.seq < $3 AND m.deleted_at IS NULL \
                     ORDER BY messages_fts.rowid DESC LIMIT $4",
                    prefixed("m")
                );
                sqlx::query_as(&sql)
                    .bind(query.fts5())
                    .bind(room.as_str())
                    .bind(before)
                    .bind(limit)
                    .fetch_all(&local.pool)
                    .await?
            }
            Backend::Postgres(shared) => {
                let sql = format!(
                    "SELECT {COLUMNS}, ts_headline('simple', \
                       translate(body, '<>&', chr(57344) || chr(57345) || chr(57346)), q, \
                       'StartSel=' || chr(2) || ', StopSel=' || chr(3) || \
                       ', MaxWords=30, MinWords=12, MaxFragments=2, FragmentDelimiter=\" … \"') \
                       AS snippet \
                     FROM messages, plainto_tsquery('simple', $1) AS q \
                     WHERE room = $2 AND seq < $3 AND search @@ q AND deleted_at IS NULL \
                     ORDER BY seq DESC LIMIT $4"
                );
                let rows: Vec<HitRow> = sqlx::query_as(&sql)
                    .bind(query.plain())
                    .bind(room.as_str())
                    .bind(before)
                    .bind(limit)
                    .fetch_all(&shared.pool)
                    .await?;
                rows.into_iter()
                    .map(|row| HitRow {
                        snippet: untranslate(&row.snippet),
                        ..row
                    })
                    .collect()
            }
        };
        let (rows, snippets): (Vec<MessageRow>, Vec<String>) = rows
            .into_iter()
            .map(|row| (row.message, row.snippet))
            .unzip();
        let messages = self.with_reactions(room, rows).await?;
        Ok(messages
            .into_iter()
            .zip(snippets)
            .map(|(message, snippet)| Hit { message, snippet })
            .collect())
    }
}

/// A PostgreSQL snippet with `<`, `>` and `&` back in place: its text
/// parser reads those as HTML tags and entities and would drop them, so
/// the query hands it three private-use characters instead (which it keeps
/// as they are; one typed into a body shows as one of those three).
fn untranslate(snippet: &str) -> String {
    snippet
        .chars()
        .map(|c| match c {
            '\u{e000}' => '<',
            '\u{e001}' => '>',
            '\u{e002}' => '&',
            c => c,
        })
        .collect()
}

/// [`COLUMNS`], each prefixed with `table.`.
fn prefixed(table: &str) -> String {
    COLUMNS
        .split(", ")
        .map(|column| format!("{table}.{column}"))
        .collect::<Vec<_>>()
        .join(", ")
}
