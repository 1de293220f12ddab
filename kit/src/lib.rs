//! `natter-kit`: what natter's tests and the bench smoke share, defined
//! once.
//!
//! - [`db`]: which database a test runs on ([`Backend`]), a fresh one per
//!   test ([`TestDb`]), and the macros that run a test on both backends.
//! - [`app`]: the in-process launcher: natter on a random port with a fresh
//!   database ([`spawn_app`]), stopped, restarted or joined by a peer.
//! - [`user`]: a person with a cookie jar talking to a [`TestApp`].
//! - [`sse`]: one SSE reader, over a `reqwest` body or a raw socket, and
//!   [`chunked`], the `Transfer-Encoding: chunked` decoder it (and the
//!   bench) uses on raw sockets.
//! - [`cookie`]: the session cookie a response sets.
//! - [`presets`]: configurations. The test defaults are
//!   [`natter::config::Config::for_tests`]; [`presets::unlimited`] lifts
//!   every limit for load.

pub mod app;
pub mod chunked;
pub mod cookie;
pub mod db;
pub mod presets;
pub mod sse;
pub mod user;

pub use app::{spawn_app, spawn_app_with, spawn_pair, TestApp};
pub use cookie::session_cookie;
pub use db::{Backend, TestDb};
pub use sse::{Event, Sse};
pub use user::User;
