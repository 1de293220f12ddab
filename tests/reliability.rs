//! natter never loses or duplicates a message: the reliability suite
//! (issue 4). Concurrency, slow and stuck subscribers, reconnects, a
//! SIGKILL crash, SIGTERM shutdown, a locked database and bad input, each
//! against the real server and a real database. See docs/RELIABILITY.md.

#[allow(dead_code)]
#[path = "api/helpers.rs"]
mod helpers;

#[allow(dead_code)]
#[path = "reliability/client.rs"]
mod client;
#[allow(dead_code)]
#[path = "reliability/process.rs"]
mod process;
#[allow(dead_code)]
#[path = "reliability/sse.rs"]
mod sse;

#[path = "reliability/bad_input.rs"]
mod bad_input;
#[path = "reliability/concurrency.rs"]
mod concurrency;
#[path = "reliability/crash.rs"]
mod crash;
#[path = "reliability/database.rs"]
mod database;
#[path = "reliability/reconnect.rs"]
mod reconnect;
#[path = "reliability/slow.rs"]
mod slow;
#[path = "reliability/soak.rs"]
mod soak;
