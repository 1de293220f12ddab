//! Bots: members of a room that hold a token instead of a session.
//!
//! A bot's name is a member row (`bot = 1`), so it is held like a person's
//! and its posts take the path people's take. Its token is stored only as
//! a SHA-256 hash; revoking a bot frees its name and ends its streams on
//! every instance, like an exit.

use super::members::{MemberRow, MEMBER};
use super::{with_pool, Store, StoreError};
use crate::chat::{Member, RoomName, Username};

/// A bot as its room's members see it.
#[derive(Debug, Clone)]
pub struct Bot {
    /// Its member (name, id).
    pub member: Member,
    /// Where its webhook goes, if it has one.
    pub webhook_url: Option<String>,
    /// Whether its webhook hears every post, not only mentions.
    pub all: bool,
    /// The name of the member who created it.
    pub created_by: String,
    /// When it was created (ms since the epoch).
    pub created_at: i64,
    /// What its last webhook delivery came to, and when.
    pub last_status: Option<(String, i64)>,
}

/// What a new bot needs besides its name.
#[derive(Debug, Clone)]
pub struct NewBot<'a> {
    /// The SHA-256 of its token, hex.
    pub token_hash: &'a str,
    /// The key its webhooks are signed with.
    pub secret: &'a str,
    /// Where its webhook goes.
    pub webhook_url: Option<&'a str>,
    /// Whether its webhook hears every post.
    pub all: bool,
    /// Who created it.
    pub created_by: &'a str,
}

#[derive(sqlx::FromRow)]
struct BotRow {
    #[sqlx(flatten)]
    member: MemberRow,
    webhook_url: Option<String>,
    all_messages: i64,
    created_by: String,
    created_at: i64,
    last_status: Option<String>,
    last_status_at: Option<i64>,
}

impl From<BotRow> for Bot {
    fn from(row: BotRow) -> Self {
        Self {
            member: row.member.into(),
            webhook_url: row.webhook_url,
            all: row.all_messages != 0,
            created_by: row.created_by,
            created_at: row.created_at,
            last_status: row.last_status.zip(row.last_status_at),
        }
    }
}

impl Store {
    /// Creates a bot named `name` in `room`. `None` if the name is held (by
    /// a person or a bot) or the room is gone.
    #[tracing::instrument(skip(self, new), err)]
    pub async fn create_bot(
        &self,
        room: &RoomName,
        name: &Username,
        new: NewBot<'_>,
        now: i64,
    ) -> Result<Option<Member>, StoreError> {
        let (room, name) = (room.clone(), name.clone());
        let (token_hash, secret) = (new.token_hash.to_owned(), new.secret.to_owned());
        let webhook_url = new.webhook_url.map(str::to_owned);
        let (all, created_by) = (i64::from(new.all), new.created_by.to_owned());
        self.write(move |store| async move {
            let (begin, _writing) = store.begin_write().await?;
            with_pool!(store, |pool, Db| {
                let mut tx = pool.begin_with(begin).await?;
                // A bot is never seen by a session: its name stays held
                // until it is revoked, whatever `last_seen` says.
                let member: Option<MemberRow> = sqlx::query_as(&format!(
                    "INSERT INTO members (room, name, name_key, joined_at, last_seen, bot) \
                     SELECT $1, $2, $3, $4, $4, 1 WHERE EXISTS (SELECT 1 FROM rooms WHERE name = $1) \
                     ON CONFLICT (room, name_key) DO NOTHING RETURNING {MEMBER}"
                ))
                .bind(room.as_str())
                .bind(name.as_str())
                .bind(name.key())
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(member) = member else {
                    return Ok(None);
                };
                // Its webhook hears what is posted from now on.
                sqlx::query(
                    "INSERT INTO bots (member_id, room, name, token_hash, secret, webhook_url, \
                     all_messages, created_by, created_at, scanned_seq) \
                     SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, last_seq FROM rooms WHERE name = $2",
                )
                .bind(member.id)
                .bind(room.as_str())
                .bind(name.as_str())
                .bind(&token_hash)
                .bind(&secret)
                .bind(&webhook_url)
                .bind(all)
                .bind(&created_by)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(Some(Member::from(member)))
            })
        })
        .await
    }

    /// The unrevoked bot whose token hashes to `token_hash`, and the hash
    /// as stored (for the caller's constant-time comparison).
    #[tracing::instrument(skip_all, err)]
    pub async fn bot_by_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<(Member, String)>, StoreError> {
        let sql = format!(
            "SELECT {}, b.token_hash FROM bots b JOIN members m ON m.id = b.member_id \
             WHERE b.token_hash = $1 AND b.revoked_at IS NULL",
            qualified("m")
        );
        let row: Option<(i64, String, String, String, i64, String)> =
            with_pool!(self, |pool, Db| {
                sqlx::query_as(&sql)
                    .bind(token_hash)
                    .fetch_optional(pool)
                    .await?
            });
        Ok(row.map(|(id, room, name, name_key, bot, hash)| {
            let member = MemberRow {
                id,
                room,
                name,
                name_key,
                bot,
            };
            (Member::from(member), hash)
        }))
    }

    /// The room's bots, unrevoked, by name.
    #[tracing::instrument(skip(self), err)]
    pub async fn bots(&self, room: &RoomName) -> Result<Vec<Bot>, StoreError> {
        let sql = format!(
            "SELECT {}, b.webhook_url, b.all_messages, b.created_by, b.created_at, \
             b.last_status, b.last_status_at \
             FROM bots b JOIN members m ON m.id = b.member_id \
             WHERE b.room = $1 AND b.revoked_at IS NULL ORDER BY m.name_key",
            qualified("m")
        );
        let rows: Vec<BotRow> = with_pool!(self, |pool, Db| {
            sqlx::query_as(&sql)
                .bind(room.as_str())
                .fetch_all(pool)
                .await?
        });
        Ok(rows.into_iter().map(Bot::from).collect())
    }

    /// Revokes the room's bot named `name`: its token stops working, its
    /// name is free again, its waiting deliveries are dropped, and the
    /// other instances end its streams. Returns its member id, or `None`
    /// if the room has no such bot.
    #[tracing::instrument(skip(self), err)]
    pub async fn revoke_bot(
        &self,
        room: &RoomName,
        name: &Username,
        now: i64,
    ) -> Result<Option<i64>, StoreError> {
        let (room, name) = (room.clone(), name.clone());
        let revoked = self
            .write(move |store| async move {
                let (begin, _writing) = store.begin_write().await?;
                let notify = store.notifier().map(str::to_owned);
                with_pool!(store, |pool, Db| {
                    let mut tx = pool.begin_with(begin).await?;
                    let id: Option<i64> = sqlx::query_scalar(
                        "UPDATE bots SET revoked_at = $3 WHERE revoked_at IS NULL AND member_id = \
                         (SELECT id FROM members WHERE room = $1 AND name_key = $2 AND bot = 1) \
                         RETURNING member_id",
                    )
                    .bind(room.as_str())
                    .bind(name.key())
                    .bind(now)
                    .fetch_optional(&mut *tx)
                    .await?;
                    let Some(id) = id else {
                        return Ok(None);
                    };
                    sqlx::query("DELETE FROM members WHERE id = $1")
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query(
                        "UPDATE webhook_deliveries SET done_at = $2, outcome = 'bot revoked' \
                         WHERE bot_id = $1 AND done_at IS NULL",
                    )
                    .bind(id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    if let Some(instance) = &notify {
                        sqlx::query("SELECT pg_notify($1, $2)")
                            .bind(super::listen::CHANNEL)
                            .bind(super::listen::left(instance, id))
                            .execute(&mut *tx)
                            .await?;
                    }
                    tx.commit().await?;
                    Ok(Some(id))
                })
            })
            .await?;
        if let Some(id) = revoked {
            self.forget_member(id);
        }
        Ok(revoked)
    }
}

/// [`MEMBER`]'s columns, each prefixed with `table.`.
fn qualified(table: &str) -> String {
    MEMBER
        .split(", ")
        .map(|column| format!("{table}.{column}"))
        .collect::<Vec<_>>()
        .join(", ")
}
