//! Integration tests: the real server, real HTTP and SSE, a fresh database
//! per test, every test on SQLite and on PostgreSQL.

mod helpers;
mod markup;

mod bots;
mod changes;
mod export;
mod feedback;
mod forgotten;
mod format;
mod history;
mod install;
mod instances;
mod join;
mod lifecycle;
mod membership;
mod mentions;
mod messages;
mod metrics;
mod permalink;
mod presence;
mod reactions;
mod read_position;
mod refusals;
mod replay;
mod scale;
mod search;
mod security;
mod serve;
mod stream;
mod typing;
mod unread;
mod webhooks;
mod wire;
