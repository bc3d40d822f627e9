//! The `wasmgate` command: run a gateway (SIGHUP reloads, SIGTERM/SIGINT drain and stop), or
//! check a config without serving.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

/// Per-thread free lists: no allocator lock shared by the worker threads on the request path.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A programmable API gateway whose request stages run sandboxed WebAssembly plugins.
#[derive(Parser)]
#[command(name = "wasmgate", version, about)]
struct Cli {
    /// Diagnostics log format (the level comes from `WASMGATE_LOG`, e.g. `info`,
    /// `wasmgate=debug,plugin=trace`).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

/// How diagnostics are written to stderr.
#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log pipelines.
    Json,
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
    /// Print the SHA-256 to put in the `api-keys` plugin's config for an API key: of KEY, of a
    /// line read from stdin (keeps the key out of shell history), or of a new random key.
    HashKey {
        /// The key to hash (default: read one line from stdin).
        #[arg(value_name = "KEY", conflicts_with = "generate")]
        key: Option<String>,
        /// Generate a new random key; print it, then its hash.
        #[arg(long)]
        generate: bool,
    },
    /// Write a throwaway CA and a server certificate signed by it (and optionally a client
    /// certificate) for trying a TLS or mutual-TLS listener locally. Not for production.
    DevCert {
        /// The directory to write `ca.pem`, `server.pem`, `server-key.pem` (and `client.pem`,
        /// `client-key.pem`) into.
        #[arg(long, value_name = "DIR", default_value = "certs")]
        out: PathBuf,
        /// A name the server certificate is for (DNS name or IP address); repeatable.
        #[arg(long = "name", value_name = "NAME", default_values = ["localhost", "127.0.0.1"])]
        names: Vec<String>,
        /// Also issue a client certificate with this common name.
        #[arg(long, value_name = "CN")]
        client: Option<String>,
    },
    /// Run the requests a `[record]` section recorded through the chains of a config (no
    /// listener, no backend: each stage starts from the recorded exchange) and show where the
    /// outcome differs; exit non-zero when one does.
    Replay {
        /// The recording (JSON lines, as `[record] path` writes them).
        #[arg(value_name = "FILE")]
        recording: PathBuf,
        /// The gateway config whose chains run the requests.
        #[arg(short, long, value_name = "FILE")]
        config: PathBuf,
        /// Replay only this plugin's recorded calls, each on the exchange as it found it.
        #[arg(long, value_name = "NAME")]
        plugin: Option<String>,
    },
    /// Write, build and test plugins: `plugin new NAME`, then `plugin build` and `plugin test`
    /// inside the new crate.
    Plugin {
        #[command(subcommand)]
        command: PluginCommand,
    },
}

/// `wasmgate plugin …`.
#[derive(Subcommand)]
enum PluginCommand {
    /// Write a new plugin crate: a config struct, a handler per stage, native tests on the
    /// SDK's fake host, a README and `fixtures/basic.toml`. It depends on the SDK of the
    /// checkout this binary was built from, by path.
    New {
        /// The crate name (lowercase letters, digits, `-`, `_`).
        #[arg(value_name = "NAME")]
        name: String,
        /// A stage the plugin implements (repeatable; default method-request).
        #[arg(long = "stage", value_name = "STAGE", value_parser = parse_stage)]
        stages: Vec<wasmgate::exchange::Stage>,
        /// A capability the plugin uses: rate-limit, kv, metrics or crypto (repeatable).
        #[arg(long = "capability", value_name = "CAPABILITY")]
        capabilities: Vec<String>,
        /// Where to write the crate (default ./NAME); must be missing or empty.
        #[arg(long, value_name = "PATH")]
        dir: Option<PathBuf>,
    },
    /// Build the plugin crate at PATH (default .) into a wasm32-wasip2 component, in release
    /// and stripped; print its path, size and the capabilities it imports.
    Build {
        /// The plugin crate's directory.
        #[arg(value_name = "PATH")]
        path: Option<PathBuf>,
    },
    /// Build the plugin crate at PATH (default .), then run its fixtures/*.toml against the
    /// component in the gateway's real plugin host; exit non-zero on any failure.
    Test {
        /// The plugin crate's directory.
        #[arg(value_name = "PATH")]
        path: Option<PathBuf>,
    },
}

fn parse_stage(name: &str) -> Result<wasmgate::exchange::Stage, String> {
    let stages = wasmgate::plugin_kit::SCAFFOLD_STAGES;
    stages
        .into_iter()
        .find(|s| s.name() == name)
        .ok_or_else(|| {
            let names: Vec<&str> = stages.iter().map(|s| s.name()).collect();
            format!("choose from {}", names.join(", "))
        })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // rustls warns about each odd handshake (an IP address as SNI, a renegotiation attempt):
    // at `info` any client could fill the log, so only its errors are shown by default.
    let filter = EnvFilter::try_from_env("WASMGATE_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,rustls=error"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().init(),
    }
    if let Command::HashKey { key, generate } = &cli.command {
        return hash_key(key.as_deref(), *generate);
    }
    if let Command::DevCert { out, names, client } = &cli.command {
        return dev_cert(out, names, client.as_deref());
    }
    if let Command::Plugin {
        command:
            PluginCommand::New {
                name,
                stages,
                capabilities,
                dir,
            },
    } = &cli.command
    {
        return plugin_new(name, stages, capabilities, dir.as_deref());
    }
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
            Command::Replay {
                recording,
                config,
                plugin,
            } => replay(&recording, &config, plugin.as_deref()).await,
            Command::Plugin {
                command: PluginCommand::Build { path },
            } => plugin_build(path.as_deref()),
            Command::Plugin {
                command: PluginCommand::Test { path },
            } => plugin_test(path.as_deref()).await,
            Command::HashKey { .. }
            | Command::DevCert { .. }
            | Command::Plugin {
                command: PluginCommand::New { .. },
            } => {
                unreachable!("answered before starting the runtime")
            }
        }
    })
}

fn hash_key(key: Option<&str>, generate: bool) -> ExitCode {
    let key = match (key, generate) {
        (Some(key), _) => key.to_owned(),
        (None, true) => {
            let key = wasmgate::api_key::generate_key();
            println!("key:  {key}");
            key
        }
        (None, false) => {
            let mut line = String::new();
            if let Err(error) = std::io::stdin().read_line(&mut line) {
                eprintln!("error: cannot read the key from stdin: {error}");
                return ExitCode::FAILURE;
            }
            line.trim_end_matches(['\r', '\n']).to_owned()
        }
    };
    if key.is_empty() {
        eprintln!("error: empty key");
        return ExitCode::FAILURE;
    }
    let hash = wasmgate::api_key::hash_key(&key);
    if generate {
        println!("hash: {hash}");
    } else {
        println!("{hash}");
    }
    ExitCode::SUCCESS
}

fn dev_cert(out: &std::path::Path, names: &[String], client: Option<&str>) -> ExitCode {
    match wasmgate::tls::write_dev_certificates(out, names, client) {
        Ok(files) => {
            println!("CA (trust it, e.g. curl --cacert):  {}", files.ca.display());
            let (cert, key) = files.server;
            println!("server certificate:                 {}", cert.display());
            println!("server key:                         {}", key.display());
            if let Some((cert, key)) = files.client {
                println!("client certificate:                 {}", cert.display());
                println!("client key:                         {}", key.display());
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn plugin_new(
    name: &str,
    stages: &[wasmgate::exchange::Stage],
    capabilities: &[String],
    dir: Option<&std::path::Path>,
) -> ExitCode {
    let request = wasmgate::plugin_kit::NewPlugin {
        name: name.to_owned(),
        stages: stages.to_vec(),
        capabilities: capabilities.to_vec(),
        dir: dir.map(PathBuf::from),
    };
    match wasmgate::plugin_kit::new_plugin(&request) {
        Ok(dir) => {
            let dir = dir.display();
            print_out(&format!(
                "created plugin `{name}` in {dir}\n\nnext:\n  cd {dir}\n  wasmgate plugin build\n  wasmgate plugin test\n"
            ));
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn plugin_build(path: Option<&std::path::Path>) -> ExitCode {
    use wasmgate::plugin_kit;
    let built = plugin_kit::crate_dir(path).and_then(|dir| {
        let engine = plugin_kit::fixture_engine(None)?;
        plugin_kit::build_plugin(&engine, &dir, &plugin_kit::default_target_dir(&dir))
    });
    match built {
        Ok(built) => {
            print_out(&format!("{built}\n"));
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn plugin_test(path: Option<&std::path::Path>) -> ExitCode {
    use wasmgate::plugin_kit;
    let dir = match plugin_kit::crate_dir(path) {
        Ok(dir) => dir,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    match plugin_kit::test_plugin(&dir, &plugin_kit::default_target_dir(&dir)).await {
        Ok((built, report)) => printed(&format!("{built}\n\n{report}\n"), report.passed()),
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: PathBuf) -> ExitCode {
    // Installed before the gateway says it is serving: a SIGTERM right after that line drains
    // the gateway instead of killing it with the default disposition.
    let signals = StopSignals::install();
    let gateway = match wasmgate::RunningGateway::start(&config).await {
        Ok(gateway) => gateway,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    let snapshot = gateway.snapshot();
    for (name, address) in gateway.addresses() {
        let listener = snapshot.config.listeners.iter().find(|l| &l.name == name);
        let scheme = match listener {
            Some(l) if l.tls.is_some() => "https",
            _ => "http",
        };
        let redirect = match listener.and_then(|l| l.redirect_https_port) {
            Some(port) => format!(" (redirects to https on port {port})"),
            None => String::new(),
        };
        eprintln!("wasmgate: listener `{name}` serving on {scheme}://{address}{redirect}");
    }
    drop(snapshot);
    eprintln!("wasmgate: admin on http://{}", gateway.admin_address());
    signals.serve_until_stop(&gateway).await;
    eprintln!("wasmgate: shutting down, letting in-flight requests finish");
    gateway.shutdown().await;
    ExitCode::SUCCESS
}

/// Writes `text` to stdout. A reader that went away (`wasmgate check … | head`) is not an
/// error worth a panic, which `println!` would make of it.
/// Prints a report; the exit status says whether it `passed`.
fn printed(report: &str, passed: bool) -> ExitCode {
    print_out(report);
    if passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn print_out(text: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    if let Err(error) = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        && error.kind() != std::io::ErrorKind::BrokenPipe
    {
        eprintln!("error: cannot write to stdout: {error}");
    }
}

async fn replay(
    recording: &std::path::Path,
    config: &std::path::Path,
    plugin: Option<&str>,
) -> ExitCode {
    match wasmgate::record::replay_file(config, recording, plugin).await {
        Ok(report) => printed(&format!("{report}\n"), report.passed()),
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(2)
        }
    }
}

async fn check(config: PathBuf) -> ExitCode {
    match wasmgate::check(&config).await {
        Ok(report) => {
            let mut out = format!(
                "{}: ok ({} routes, {} plugins)\n",
                config.display(),
                report.routes,
                report.plugins.len()
            );
            for (name, digest) in report.plugins {
                out.push_str(&format!("  plugin {name}: sha256 {digest}\n"));
            }
            print_out(&out);
            ExitCode::SUCCESS
        }
        Err(errors) => {
            eprintln!("{errors}");
            eprintln!("{}: {} problem(s) found", config.display(), errors.0.len());
            ExitCode::FAILURE
        }
    }
}

/// The signals `wasmgate run` answers: SIGTERM and SIGINT stop it (draining), SIGHUP reloads.
#[cfg(unix)]
struct StopSignals(Option<[tokio::signal::unix::Signal; 3]>);

#[cfg(unix)]
impl StopSignals {
    /// Installs the handlers (in place of the default dispositions) at once.
    fn install() -> Self {
        use tokio::signal::unix::{SignalKind, signal};
        let installed = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
            signal(SignalKind::hangup()),
        );
        match installed {
            (Ok(terminate), Ok(interrupt), Ok(hangup)) => {
                StopSignals(Some([terminate, interrupt, hangup]))
            }
            _ => {
                eprintln!("wasmgate: cannot install signal handlers; stop with Ctrl-C");
                StopSignals(None)
            }
        }
    }

    /// Returns on SIGTERM or SIGINT; reloads the config on every SIGHUP meanwhile.
    async fn serve_until_stop(self, gateway: &wasmgate::RunningGateway) {
        let Some([mut terminate, mut interrupt, mut hangup]) = self.0 else {
            let _ = tokio::signal::ctrl_c().await;
            return;
        };
        loop {
            tokio::select! {
                _ = terminate.recv() => return,
                _ = interrupt.recv() => return,
                _ = hangup.recv() => {
                    // The reloader logs the outcome; a failure keeps the previous config.
                    let _ = gateway.reload(wasmgate::reload::Trigger::Signal).await;
                }
            }
        }
    }
}

/// Ctrl-C stops the gateway (no other signals off Unix).
#[cfg(not(unix))]
struct StopSignals;

#[cfg(not(unix))]
impl StopSignals {
    fn install() -> Self {
        StopSignals
    }

    async fn serve_until_stop(self, _gateway: &wasmgate::RunningGateway) {
        let _ = tokio::signal::ctrl_c().await;
    }
}
