//! natter: a real-time room chat for the web.
//!
//! A tour of the crate, outside in. Three questions, three modules: what a
//! request goes through is [`http`] (behind [`serve`]); how a message
//! reaches every screen is [`live`]; where SQL lives is [`store`].
//! - [`config`]: the command-line flags and their environment fallbacks.
//! - [`startup`]: [`startup::App`] connects the database, runs migrations,
//!   binds the listener (port 0 is fine, tests use it) and serves until a
//!   shutdown future resolves.
//! - [`http`]: the web layer. One module per resource (`join`, `rooms`,
//!   `messages`, `events`), the layers every request passes (cross-site
//!   check, security headers, sessions, flood limits), the one
//!   [`http::AppError`], the session-backed membership lookup and the
//!   askama views.
//! - [`paths`]: every route pattern and every URL natter builds, written
//!   once for the router, the handlers, the templates and the tests.
//! - [`chat`]: the domain, free of HTTP and SQL: names that parse, message
//!   bodies, members and messages.
//! - [`live`]: how a message reaches every screen: frames encoded once, the
//!   hub, the publisher, other instances' commits (PostgreSQL
//!   `LISTEN/NOTIFY`), and each subscriber's feed with catch-up; and the
//!   streams that end when a membership does.
//! - [`serve`]: the accept loop (bounded header reads, graceful drain), and
//!   event streams written straight to their sockets.
//! - [`store`]: every SQL statement, written once and run on SQLite or
//!   PostgreSQL, behind one face; each backend owns what only it needs
//!   (SQLite: its writer thread, group commit, caches; PostgreSQL: its
//!   `LISTEN/NOTIFY` relay).
//! - [`hooks`]: webhooks to a room's bots, and where they may go.
//! - [`telemetry`]: tracing setup and the OS shutdown signal.
//! - [`metrics`]: Prometheus metrics on their own address, one named call per measurement.

pub mod chat;
pub mod config;
pub mod hooks;
pub mod http;
pub mod live;
pub mod metrics;
pub mod paths;
pub mod serve;
pub mod startup;
pub mod store;
pub mod telemetry;
