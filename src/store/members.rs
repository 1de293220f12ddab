//! Rooms and members: who holds which name in which room.

//!
//! A member row also has `last_seen`: when the session holding the name
//! was last stored (ms since the epoch). The name is released a session
//! lifetime after it (see `http::sessions`).

use super::{with_pool, Store, StoreError};
use crate::chat::{Member, RoomName, Username};

/// The columns a [`Member`] is read from.
pub(super) const MEMBER: &str = "id, room, name, name_key, bot";

/// A new member's read position (`read_cursor, read_seq`): the room as it
/// is when they join, so the history they find there is not unread.
const READ_FROM: &str =
    "(SELECT last_cursor FROM rooms WHERE name = $1), (SELECT last_seq FROM rooms WHERE name = $1)";

/// A member as stored.
#[derive(sqlx::FromRow)]
pub(super) struct MemberRow {
    pub(super) id: i64,
    pub(super) room: String,
    pub(super) name: String,
    pub(super) name_key: String,
    pub(super) bot: i64,
}

impl From<MemberRow> for Member {
    fn from(row: MemberRow) -> Self {
        Self {
            id: row.id,
            room: RoomName::stored(row.room),
            name: Username::stored(row.name, row.name_key),
            bot: row.bot != 0,
        }
    }
}

/// What a join attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JoinOutcome {
    /// The name is now this member's. `released` are the members whose
    /// sessions had expired and who lost the name to this join: their
    /// streams must end.
    Joined {
        /// The new member.
        member: Member,
        /// Members released by this join.
        released: Vec<i64>,
    },
    /// Someone whose session lives holds the name in this room.
    NameTaken,
}

impl Store {
    /// Creates the room if needed and claims `name` in it. A holder not
    /// seen since before `idle_cutoff` (when its session expired) loses
    /// the name to this join. `returning` is the member this session was
    /// under the same name before it exited: the person comes back as that
    /// member, so their earlier messages stay theirs. Uniqueness is the
    /// database's `UNIQUE (room, name_key)`, so it holds across instances
    /// and under races.
    #[tracing::instrument(skip(self), err)]
    pub async fn join(
        &self,
        room: &RoomName,
        name: &Username,
        now: i64,
        idle_cutoff: i64,
        returning: Option<i64>,
    ) -> Result<JoinOutcome, StoreError> {
        let (room, name) = (room.clone(), name.clone());
        self.write(move |store| async move {
            store
                .join_now(&room, &name, now, idle_cutoff, returning)
                .await
        })
        .await
    }

    async fn join_now(
        &self,
        room: &RoomName,
        name: &Username,
        now: i64,
        idle_cutoff: i64,
        returning: Option<i64>,
    ) -> Result<JoinOutcome, StoreError> {
        // Held until the transaction ends (see `begin_write`).
        let (begin, _writing) = self.begin_write().await?;
        // The other instances hear of released members (PostgreSQL only:
        // one SQLite file means one instance). PostgreSQL's identity column
        // takes a given id only when told to.
        let notify = self.notifier();
        let overriding = if notify.is_some() {
            "OVERRIDING SYSTEM VALUE"
        } else {
            ""
        };
        with_pool!(self, |pool, Db| {
            let mut tx = pool.begin_with(begin).await?;
            sqlx::query(
                "INSERT INTO rooms (name, last_seq, created_at) VALUES ($1, 0, $2) \
                 ON CONFLICT (name) DO NOTHING",
            )
            .bind(room.as_str())
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let released: Vec<i64> = sqlx::query_scalar(
                "DELETE FROM members WHERE room = $1 AND name_key = $2 AND last_seen < $3 \
                 AND bot = 0 RETURNING id",
            )
            .bind(room.as_str())
            .bind(name.key())
            .bind(idle_cutoff)
            .fetch_all(&mut *tx)
            .await?;
            let mut member: Option<MemberRow> = None;
            if let Some(id) = returning {
                // No conflict target: the id itself may be taken too.
                member = sqlx::query_as(&format!(
                    "INSERT INTO members (id, room, name, name_key, joined_at, last_seen, \
                     read_cursor, read_seq) {overriding} VALUES ($5, $1, $2, $3, $4, $4, {READ_FROM}) \
                     ON CONFLICT DO NOTHING RETURNING {MEMBER}"
                ))
                .bind(room.as_str())
                .bind(name.as_str())
                .bind(name.key())
                .bind(now)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            }
            if member.is_none() {
                member = sqlx::query_as(&format!(
                    "INSERT INTO members (room, name, name_key, joined_at, last_seen, read_cursor, read_seq) \
                     VALUES ($1, $2, $3, $4, $4, {READ_FROM}) ON CONFLICT (room, name_key) DO NOTHING \
                     RETURNING {MEMBER}"
                ))
                .bind(room.as_str())
                .bind(name.as_str())
                .bind(name.key())
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
            }
            if let Some(instance) = notify {
                for id in &released {
                    sqlx::query("SELECT pg_notify($1, $2)")
                        .bind(super::listen::CHANNEL)
                        .bind(super::listen::left(instance, *id))
                        .execute(&mut *tx)
                        .await?;
                }
            }
            tx.commit().await?;
            // A released member must not be served from the cache once its
            // name is someone else's.
            released.iter().for_each(|id| self.forget_member(*id));
            Ok(match member {
                Some(member) => JoinOutcome::Joined {
                    member: member.into(),
                    released,
                },
                None => JoinOutcome::NameTaken,
            })
        })
    }

    /// The member with this id, if it still holds its name.
    #[tracing::instrument(skip(self), err)]
    pub async fn member(&self, id: i64) -> Result<Option<Member>, StoreError> {
        if let Some(member) = self.member_cache().and_then(|cache| cache.get(&id)) {
            return Ok(Some(member));
        }
        // A release between this read and caching its result must win.
        let generation = self.member_cache().map(|cache| cache.generation());
        let member: Option<Member> = with_pool!(self, |pool, Db| {
            sqlx::query_as::<_, MemberRow>(&format!("SELECT {MEMBER} FROM members WHERE id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?
        })
        .map(Member::from);
        if let (Some(cache), Some(member), Some(generation)) =
            (self.member_cache(), &member, generation)
        {
            cache.put_unless_removed_since(id, member.clone(), generation);
        }
        Ok(member)
    }

    /// Drops a member from the cache: another instance ended it (its
    /// name may be someone else's now).
    pub fn forget_member(&self, id: i64) {
        if let Some(cache) = self.member_cache() {
            cache.remove(&id);
        }
    }

    /// Drops every cached member: notifications of ended memberships may
    /// have been lost (the relay reconnected).
    pub fn forget_all_members(&self) {
        if let Some(cache) = self.member_cache() {
            cache.clear();
        }
    }

    /// Releases a member's name, and tells the other instances to end the
    /// member's streams (on commit, so never for a release that failed).
    #[tracing::instrument(skip(self), err)]
    pub async fn leave(&self, id: i64) -> Result<(), StoreError> {
        let notify = self.notifier();
        with_pool!(self, |pool, Db| {
            let mut tx = pool.begin().await?;
            sqlx::query("DELETE FROM members WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            if let Some(instance) = notify {
                sqlx::query("SELECT pg_notify($1, $2)")
                    .bind(super::listen::CHANNEL)
                    .bind(super::listen::left(instance, id))
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        self.forget_member(id);
        Ok(())
    }

    /// Tells the other instances that these memberships ended (their
    /// session was deleted): they end the members' streams.
    #[tracing::instrument(skip(self), err)]
    pub async fn announce_left(&self, ids: &[i64]) -> Result<(), StoreError> {
        if let super::Backend::Postgres(shared) = &self.backend {
            for id in ids {
                sqlx::query("SELECT pg_notify($1, $2)")
                    .bind(super::listen::CHANNEL)
                    .bind(super::listen::left(&shared.instance, *id))
                    .execute(&shared.pool)
                    .await?;
            }
        }
        Ok(())
    }

    /// Records that these members were active at `now`.
    #[tracing::instrument(skip(self, ids), fields(count = ids.len()), err)]
    pub async fn touch(&self, ids: &[i64], now: i64) -> Result<(), StoreError> {
        for chunk in ids.chunks(500) {
            with_pool!(self, |pool, Db| {
                let mut query = sqlx::QueryBuilder::<Db>::new("UPDATE members SET last_seen = ");
                query.push_bind(now).push(" WHERE id IN (");
                let mut ids = query.separated(", ");
                for id in chunk {
                    ids.push_bind(*id);
                }
                query.push(")");
                query.build().execute(pool).await?;
            });
        }
        Ok(())
    }
}
