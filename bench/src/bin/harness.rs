//! The benchmark harness: the whole load-test suite in one command, in release mode.
//!
//! Run (from the repository root; `bench/run` also installs wrk, nginx, haproxy, ModSecurity and
//! the OWASP CRS):
//!
//! ```text
//! cargo run --release -p wasmgate-bench --bin harness            # full: ~13 minutes
//! cargo run --release -p wasmgate-bench --bin harness -- --smoke # a few seconds, for CI
//! ```
//!
//! It writes `bench/results/<date>.md` and `<date>.png` (smoke: `target/bench-smoke/`), prints
//! the ratios, and exits non-zero if any request failed. See bench/README.md.

use std::process::ExitCode;

use clap::Parser as _;
use wasmgate_bench::harness::options::{Cli, Command};
use wasmgate_bench::harness::{backend, suite};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Some(Command::Backend { threads }) => backend::run(threads).map(|()| true),
        None => {
            let workspace = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .parent()
                .unwrap_or(std::path::Path::new("."));
            suite::run(&cli.suite.settings(workspace))
        }
    };
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("harness: some requests failed (see the report)");
            ExitCode::FAILURE
        }
        Err(error) => {
            wasmgate_bench::harness::children::kill_all();
            eprintln!("harness: {error:#}");
            ExitCode::FAILURE
        }
    }
}
