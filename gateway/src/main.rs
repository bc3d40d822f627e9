//! The `wasmgate` command: run a gateway, or check a config without serving.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

/// A programmable API gateway whose request stages run sandboxed WebAssembly plugins.
#[derive(Parser)]
#[command(name = "wasmgate", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve traffic with a config file until SIGTERM or SIGINT.
    Run {
        /// The gateway config (TOML).
        #[arg(short, long, value_name = "FILE")]
        config: PathBuf,
    },
    /// Load a config completely (parse, validate, compile and init every plugin) without
    /// serving; exit non-zero with every problem found.
    Check {
        /// The gateway config (TOML).
        #[arg(value_name = "FILE")]
        config: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("WASMGATE_LOG").unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        match cli.command {
            Command::Run { config } => run(config).await,
            Command::Check { config } => check(config).await,
        }
    })
}

async fn run(config: PathBuf) -> ExitCode {
    let gateway = match wasmgate::RunningGateway::start(&config).await {
        Ok(gateway) => gateway,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    for (name, address) in gateway.addresses() {
        eprintln!("wasmgate: listener `{name}` serving on http://{address}");
    }
    wait_for_stop_signal().await;
    eprintln!("wasmgate: shutting down, letting in-flight requests finish");
    gateway.shutdown().await;
    ExitCode::SUCCESS
}

async fn check(config: PathBuf) -> ExitCode {
    match wasmgate::check(&config).await {
        Ok(report) => {
            println!(
                "{}: ok ({} routes, {} plugins)",
                config.display(),
                report.routes,
                report.plugins.len()
            );
            for (name, digest) in report.plugins {
                println!("  plugin {name}: sha256 {digest}");
            }
            ExitCode::SUCCESS
        }
        Err(errors) => {
            eprintln!("{errors}");
            eprintln!("{}: {} problem(s) found", config.display(), errors.0.len());
            ExitCode::FAILURE
        }
    }
}

/// Resolves on SIGTERM or SIGINT (Ctrl-C).
async fn wait_for_stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = terminate.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
