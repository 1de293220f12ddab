//! Integration tests: the real server, real HTTP and SSE, a fresh database
//! per test, every test on SQLite and on PostgreSQL.

mod helpers;

mod feedback;
mod history;
mod install;
mod join;
mod lifecycle;
mod messages;
mod scale;
mod security;
mod stream;
mod wire;
