//! The harness's command line.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use super::scenarios::{self, Scenario};

/// Load-tests wasmgate against the backend alone, nginx and haproxy, and writes a dated report.
#[derive(Debug, Parser)]
#[command(name = "harness", about)]
pub struct Cli {
    /// What to run (default: the suite).
    #[command(subcommand)]
    pub command: Option<Command>,
    /// The suite's settings.
    #[command(flatten)]
    pub suite: SuiteOptions,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the benchmark backend (started by the suite itself).
    #[command(hide = true)]
    Backend {
        /// Tokio worker threads.
        #[arg(long, default_value_t = 2)]
        threads: usize,
    },
}

/// How the suite runs. `--smoke` changes the defaults of every unset option to a few-second run.
#[derive(Debug, Clone, Args)]
pub struct SuiteOptions {
    /// Check that the harness works: 1 round of 1 s per cell, 4 connections, 200 idle
    /// connections, no warm-up, no micro-benchmarks, nginx, haproxy and ModSecurity each
    /// skipped if not installed; the report goes to target/bench-smoke/.
    #[arg(long)]
    pub smoke: bool,
    /// Measured rounds (default 5).
    #[arg(long)]
    pub rounds: Option<usize>,
    /// Seconds per wrk run (default 5).
    #[arg(long)]
    pub duration: Option<u64>,
    /// wrk connections (default 64).
    #[arg(long)]
    pub connections: Option<usize>,
    /// wrk threads (default 1).
    #[arg(long)]
    pub wrk_threads: Option<usize>,
    /// Unrecorded warm-up seconds per cell before the first round (default 2).
    #[arg(long)]
    pub warm_up: Option<u64>,
    /// Idle keep-alive connections for the memory measurement (default 10000).
    #[arg(long)]
    pub idle_connections: Option<usize>,
    /// Measure only these scenarios (comma-separated names: direct, nginx, gateway, noop,
    /// chain, reload, tls, close, tls-close, haproxy, get-chain, waf, nginx-modsecurity, pool),
    /// plus the ones their ratios divide by (waf or nginx-modsecurity: the whole peer-WAF
    /// comparison, 2, 3, 12 and 13); the report is then named `<date>-only-<names>.md`.
    #[arg(long, value_delimiter = ',', value_parser = Scenario::from_name, value_name = "NAMES")]
    pub only: Vec<Scenario>,
    /// Skip the memory measurement (idle RSS and idle connections).
    #[arg(long)]
    pub no_memory: bool,
    /// Skip the criterion micro-benchmarks.
    #[arg(long)]
    pub no_micro: bool,
    /// Skip nginx (scenario 2) even if it is installed.
    #[arg(long)]
    pub no_nginx: bool,
    /// Skip haproxy (scenario 10) even if it is installed.
    #[arg(long)]
    pub no_haproxy: bool,
    /// Skip nginx + ModSecurity + the OWASP CRS (scenario 13) even if they are installed.
    #[arg(long)]
    pub no_modsecurity: bool,
    /// Use the existing target/release/wasmgate instead of running `cargo build --release -p
    /// wasmgate` first.
    #[arg(long)]
    pub no_build: bool,
    /// Where to write `<date>.md` and `<date>.png` (default bench/results, or
    /// target/bench-smoke with --smoke).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// The options with every default applied.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Smoke mode.
    pub smoke: bool,
    /// Measured rounds.
    pub rounds: usize,
    /// Per wrk run.
    pub duration: Duration,
    /// wrk connections.
    pub connections: usize,
    /// wrk threads.
    pub wrk_threads: usize,
    /// Warm-up per cell.
    pub warm_up: Duration,
    /// Idle connections for the memory measurement.
    pub idle_connections: usize,
    /// The scenarios named by `--only` (empty: all).
    pub only: Vec<Scenario>,
    /// Run the memory measurement.
    pub memory: bool,
    /// Run the micro-benchmarks.
    pub micro: bool,
    /// Run nginx (unless `--no-nginx`).
    pub nginx: bool,
    /// Run haproxy (unless `--no-haproxy`).
    pub haproxy: bool,
    /// Run nginx with ModSecurity (unless `--no-modsecurity`).
    pub modsecurity: bool,
    /// Build the gateway first.
    pub build: bool,
    /// The output directory.
    pub out: PathBuf,
}

impl SuiteOptions {
    /// Applies the full or smoke defaults; `workspace` is the repository root.
    pub fn settings(&self, workspace: &std::path::Path) -> Settings {
        let (rounds, duration, connections, warm_up, idle, out) = if self.smoke {
            (1, 1, 4, 0, 200, workspace.join("target/bench-smoke"))
        } else {
            (5, 5, 64, 2, 10_000, workspace.join("bench/results"))
        };
        Settings {
            smoke: self.smoke,
            rounds: self.rounds.unwrap_or(rounds).max(1),
            duration: Duration::from_secs(self.duration.unwrap_or(duration).max(1)),
            connections: self.connections.unwrap_or(connections).max(1),
            wrk_threads: self.wrk_threads.unwrap_or(1).max(1),
            warm_up: Duration::from_secs(self.warm_up.unwrap_or(warm_up)),
            idle_connections: self.idle_connections.unwrap_or(idle),
            only: self.only.clone(),
            memory: !self.no_memory,
            micro: !self.no_micro && !self.smoke,
            nginx: !self.no_nginx,
            haproxy: !self.no_haproxy,
            modsecurity: !self.no_modsecurity,
            build: !self.no_build,
            out: self.out.clone().unwrap_or(out),
        }
    }
}

impl Settings {
    /// The scenarios to measure: `--only`'s and the denominators of their ratios, or all.
    pub fn scenarios(&self) -> Vec<Scenario> {
        scenarios::selection(&self.only)
    }

    /// The report's file name without extension: the date, and for an `--only` run the
    /// scenarios named, so a partial run never replaces the day's full report.
    pub fn report_stem(&self, date: &str) -> String {
        if self.only.is_empty() {
            return date.to_owned();
        }
        let mut chosen = self.only.clone();
        chosen.sort();
        chosen.dedup();
        let names: Vec<&str> = chosen.iter().map(|s| s.name()).collect();
        format!("{date}-only-{}", names.join("+"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(arguments: &[&str]) -> Settings {
        let cli = Cli::try_parse_from([&["harness"], arguments].concat()).unwrap();
        cli.suite.settings(std::path::Path::new("/repo"))
    }

    #[test]
    fn a_full_run_measures_everything_into_the_dated_report() {
        let settings = settings(&[]);
        assert_eq!(settings.scenarios(), Scenario::ALL);
        assert!(settings.memory && settings.micro);
        assert_eq!(settings.report_stem("2026-11-22"), "2026-11-22");
    }

    #[test]
    fn only_names_its_report_after_the_scenarios_chosen() {
        let settings = settings(&["--only", "tls-close,tls", "--no-memory"]);
        assert_eq!(settings.only, [Scenario::TlsClose, Scenario::Tls]);
        assert_eq!(settings.scenarios().len(), 4);
        assert!(!settings.memory);
        assert_eq!(
            settings.report_stem("2026-11-22"),
            "2026-11-22-only-tls+tls-close"
        );
    }

    #[test]
    fn only_accepts_haproxy_and_the_get_chain() {
        let settings = settings(&["--only", "haproxy,get-chain", "--no-haproxy"]);
        assert_eq!(settings.only, [Scenario::Haproxy, Scenario::GetChain]);
        assert_eq!(
            settings.scenarios(),
            [
                Scenario::Nginx,
                Scenario::Gateway,
                Scenario::Haproxy,
                Scenario::GetChain
            ]
        );
        assert!(!settings.haproxy && settings.nginx);
        assert_eq!(
            settings.report_stem("2026-11-22"),
            "2026-11-22-only-haproxy+get-chain"
        );
    }

    #[test]
    fn the_peer_waf_runs_unless_switched_off() {
        let settings = settings(&["--only", "waf", "--no-modsecurity"]);
        assert_eq!(settings.scenarios().len(), 4);
        assert!(!settings.modsecurity && settings.nginx);
        assert!(self::settings(&[]).modsecurity);
    }

    #[test]
    fn only_refuses_an_unknown_scenario() {
        let error = Cli::try_parse_from(["harness", "--only", "tls,ssl"]).unwrap_err();
        assert!(error.to_string().contains("no scenario `ssl`"), "{error}");
    }
}
