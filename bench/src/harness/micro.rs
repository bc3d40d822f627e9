//! The criterion micro-benchmarks, run with short warm-up and measurement times, and their
//! results read back from `target/criterion/*/new/estimates.json` for the report.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::SystemTime;

use anyhow::{Context as _, bail};

use super::children::{self, ChildProcess};

/// One benchmark's result.
#[derive(Debug, Clone)]
pub struct MicroResult {
    /// `group/function`.
    pub id: String,
    /// Median time per iteration, ns.
    pub median_ns: f64,
    /// The 95% confidence interval of the median, ns.
    pub interval_ns: (f64, f64),
}

/// What `cargo bench` produced.
#[derive(Debug, Clone, Default)]
pub struct MicroRun {
    /// The benchmarks that completed, by id.
    pub results: Vec<MicroResult>,
    /// Set when a bench target failed (the others still ran: `--no-fail-fast`).
    pub failure: Option<String>,
}

/// Runs `cargo bench -p wasmgate-bench` (every bench target) and returns the results it wrote.
pub fn run(cargo: &Path, workspace: &Path, criterion_dir: &Path) -> anyhow::Result<MicroRun> {
    let started = SystemTime::now();
    let mut command = children::command(cargo);
    command
        .current_dir(workspace)
        .args(["bench", "-p", "wasmgate-bench", "--no-fail-fast", "--"])
        .args(["--warm-up-time", "1", "--measurement-time", "3", "--noplot"])
        .stdin(Stdio::null())
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit());
    let status = ChildProcess::spawn("cargo bench", command)?.wait()?;
    let mut results = Vec::new();
    collect(criterion_dir, started, &mut results)?;
    results.sort_by(|a, b| a.id.cmp(&b.id));
    if results.is_empty() && !status.success() {
        bail!("cargo bench failed ({status}) before any benchmark completed");
    }
    let failure = (!status.success()).then(|| {
        format!("cargo bench exited with {status}: a bench target failed (its error is in the run's console output)")
    });
    Ok(MicroRun { results, failure })
}

fn collect(dir: &Path, since: SystemTime, results: &mut Vec<MicroResult>) -> anyhow::Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if !path.is_dir() {
            continue;
        }
        let estimates = path.join("new/estimates.json");
        let fresh = std::fs::metadata(&estimates)
            .and_then(|m| m.modified())
            .is_ok_and(|modified| modified >= since);
        if fresh {
            results.push(read(&path)?);
        } else {
            collect(&path, since, results)?;
        }
    }
    Ok(())
}

fn read(bench_dir: &Path) -> anyhow::Result<MicroResult> {
    let load = |file: &str| -> anyhow::Result<serde_json::Value> {
        let path: PathBuf = bench_dir.join("new").join(file);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    };
    let benchmark = load("benchmark.json")?;
    let estimates = load("estimates.json")?;
    let median = &estimates["median"];
    let number = |v: &serde_json::Value| v.as_f64().unwrap_or(f64::NAN);
    Ok(MicroResult {
        id: benchmark["full_id"].as_str().unwrap_or("?").to_owned(),
        median_ns: number(&median["point_estimate"]),
        interval_ns: (
            number(&median["confidence_interval"]["lower_bound"]),
            number(&median["confidence_interval"]["upper_bound"]),
        ),
    })
}

/// `695 ns`, `12.3 µs`, `4.56 ms`.
pub fn format_ns(ns: f64) -> String {
    match ns {
        n if n < 1e3 => format!("{n:.0} ns"),
        n if n < 1e6 => format!("{:.2} µs", n / 1e3),
        n if n < 1e9 => format!("{:.2} ms", n / 1e6),
        n => format!("{:.2} s", n / 1e9),
    }
}
