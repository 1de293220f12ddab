//! One run's result: printed for people, appended as a JSON line for the
//! summary, which takes the median of each metric over repeated runs.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use serde_json::{json, Value};

use super::target::{Kind, Target};

/// A finished run.
pub struct Run {
    pub record: Value,
}

impl Run {
    /// A run of `mode` with its workload `config` and measured `metrics`.
    pub fn new(mode: &str, target: &Target, config: Value, metrics: Value) -> Self {
        let target = match target.kind {
            Kind::Natter => "natter",
            Kind::Nchan => "nchan",
        };
        Self {
            record: json!({"mode": mode, "target": target, "config": config, "metrics": metrics}),
        }
    }

    /// Adds free-form labels (the load average, a build name).
    pub fn label(&mut self, label: &str) {
        self.record["label"] = json!(label);
        if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
            self.record["loadavg"] = json!(load.trim());
        }
    }

    /// Prints the run for a person.
    pub fn print(&self) {
        println!(
            "{} {} {} {}",
            self.record["mode"].as_str().unwrap_or_default(),
            self.record["target"].as_str().unwrap_or_default(),
            self.record["config"],
            self.record["label"].as_str().unwrap_or_default(),
        );
        if let Some(metrics) = self.record["metrics"].as_object() {
            for (name, value) in metrics {
                match value.as_f64() {
                    Some(x) if x.fract() != 0.0 => println!("  {name:32} {x:.3}"),
                    _ => println!("  {name:32} {value}"),
                }
            }
        }
    }

    /// Appends the run as one JSON line.
    pub fn append(&self, path: &Path) -> Result<()> {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("open {}", path.display()))?;
        writeln!(file, "{}", self.record)?;
        Ok(())
    }
}

/// The `p`th percentile of sorted values (0 when empty).
pub fn percentile(sorted: &[u32], p: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Prints, per (mode, target, workload, label), the median of each metric
/// over the runs in `path` and how many runs there were.
pub fn summary(path: &Path, metrics: &[String]) -> Result<()> {
    let text = std::fs::read_to_string(path).with_context(|| format!("read {}", path.display()))?;
    let mut groups: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let run: Value = serde_json::from_str(line)?;
        let key = format!(
            "{} | {} | {} | {}",
            run["mode"].as_str().unwrap_or_default(),
            run["target"].as_str().unwrap_or_default(),
            run["config"],
            run["label"].as_str().unwrap_or_default()
        );
        groups.entry(key).or_default().push(run["metrics"].clone());
    }
    for (key, runs) in groups {
        println!("{key} | runs: {}", runs.len());
        let names: Vec<String> = match metrics {
            [] => runs[0]
                .as_object()
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default(),
            named => named.to_vec(),
        };
        for name in names {
            let mut values: Vec<f64> = runs.iter().filter_map(|r| r[&name].as_f64()).collect();
            if values.is_empty() {
                continue;
            }
            values.sort_by(f64::total_cmp);
            let median = values[values.len() / 2];
            let all: Vec<String> = values.iter().map(|v| format!("{v:.3}")).collect();
            println!("  {name:32} {median:>12.3}   ({})", all.join(", "));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let values: Vec<u32> = (1..=100).collect();
        assert_eq!(percentile(&values, 50.0), 50);
        assert_eq!(percentile(&values, 99.0), 99);
        assert_eq!(percentile(&values, 100.0), 100);
        assert_eq!(percentile(&[], 99.0), 0);
    }
}
