//! The server's CPU time and memory, read from `/proc/<pid>`.
//!
//! CPU is `utime + stime` from `/proc/<pid>/stat`: it includes threads that
//! have exited (unlike summing `task/*/schedstat`), at a resolution of one
//! clock tick (10 ms), so measuring windows are made long enough that a
//! tick is noise.

use std::time::Instant;

use anyhow::{Context, Result};

/// Clock ticks per second (`getconf CLK_TCK`; 100 on Linux everywhere).
const TICKS_PER_SEC: u64 = 100;

/// One reading of a process.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// CPU time used so far, user + system, in microseconds.
    pub cpu_us: u64,
    /// Resident set size in KiB.
    pub rss_kb: u64,
    /// When the reading was taken.
    pub at: Instant,
}

/// Reads a process (`None`: the generator itself).
pub fn sample(pid: Option<u32>) -> Result<Sample> {
    let dir = pid.map_or_else(|| "/proc/self".to_owned(), |pid| format!("/proc/{pid}"));
    let stat = std::fs::read_to_string(format!("{dir}/stat"))
        .with_context(|| format!("read {dir}/stat"))?;
    // The command name may hold spaces: fields are counted after its ')'.
    let after = stat.rsplit_once(')').context("odd /proc stat")?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line; `after`
    // starts at field 3.
    let ticks = |i: usize| -> Result<u64> { Ok(fields.get(i - 3).context("short stat")?.parse()?) };
    let cpu_us = (ticks(14)? + ticks(15)?) * 1_000_000 / TICKS_PER_SEC;
    let status = std::fs::read_to_string(format!("{dir}/status"))?;
    let rss_kb = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kb| kb.parse().ok())
        .unwrap_or(0);
    Ok(Sample {
        cpu_us,
        rss_kb,
        at: Instant::now(),
    })
}

impl Sample {
    /// CPU microseconds used since `earlier`.
    pub fn cpu_since(&self, earlier: &Sample) -> u64 {
        self.cpu_us.saturating_sub(earlier.cpu_us)
    }

    /// The share of one core used since `earlier` (1.0 = saturated).
    pub fn load_since(&self, earlier: &Sample) -> f64 {
        let wall = self.at.duration_since(earlier.at).as_micros().max(1) as f64;
        self.cpu_since(earlier) as f64 / wall
    }
}
