//! Webhooks: telling a room's bots what was said to them.
//!
//! A post that calls a bot (mentions `@botname`, or any post for a bot
//! that wants them all) becomes a delivery in the database, and the
//! delivery a signed POST to the bot's webhook, retried with backoff until
//! it is answered with a 2xx or given up. Queued in the database, so a
//! restart loses none; leased, so two instances never send one at once;
//! keyed by room and seq, so a receiver can tell a repeat.
//!
//! - [`worker`]: the background task: it scans new posts, queues and
//!   claims deliveries, and sends them, a few at a time, never on the post
//!   path.
//! - [`scan`]: which posts call which bot, and the bytes sent for each.
//! - [`send`]: one attempt: the signed request and what came back.
//! - [`guard`]: where an attempt may connect, checked at every connection
//!   and every redirect (with [`policy`]).
//! - [`outcome`]: what an attempt means: when to retry, when to give up,
//!   what reply to post as the bot.
//! - [`queue`]: what the queue holds, as the worker and the store pass it.
//! - [`policy`]: where webhooks may go (the SSRF guard).

pub mod guard;
pub mod outcome;
pub mod policy;
pub mod queue;
pub mod scan;
pub mod send;
pub mod worker;

pub use policy::{Policy, Refused};
pub use send::Sender;
pub use worker::Worker;
