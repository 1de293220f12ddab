//! Webhooks: telling a room's bots what was said to them.
//!
//! - [`policy`]: where webhooks may go (the SSRF guard).
pub mod policy;

pub use policy::{Policy, Refused};
