//! Integration tests: the real server, real HTTP and SSE, a fresh database
//! per test, every test on SQLite and on PostgreSQL.

mod helpers;

mod changes;
mod feedback;
mod history;
mod install;
mod instances;
mod join;
mod lifecycle;
mod membership;
mod mentions;
mod messages;
mod presence;
mod reactions;
mod refusals;
mod replay;
mod scale;
mod security;
mod serve;
mod stream;
mod typing;
mod unread;
mod wire;
