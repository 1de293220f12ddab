//! natter never loses or duplicates a message: the reliability suite
//! (issue 4). Concurrency, slow and stuck subscribers, reconnects, a
//! SIGKILL crash, SIGTERM shutdown, a rolling restart of two instances
//! behind a proxy, a locked database and bad input, each against the real
//! server and a real database. See docs/RELIABILITY.md.
//! The in-process launcher, the SSE reader and the presets come from
//! `natter-kit`.

mod client;
mod process;
mod proxy;

mod bad_input;
mod concurrency;
mod crash;
mod database;
mod reconnect;
mod rolling;
mod slow;
mod soak;
mod storms;
