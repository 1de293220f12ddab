//! The modules of `natter-bench` (see `src/bin/natter-bench.rs`).

pub mod fanout;
pub mod http;
pub mod load;
pub mod procfs;
pub mod report;
pub mod smoke;
pub mod sse;
pub mod target;
