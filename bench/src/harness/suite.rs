//! The whole suite, start to end: build, start the servers, probe, measure the interleaved
//! rounds, measure memory, run the micro-benchmarks, write the report and the chart. `--only`
//! narrows the scenarios measured (and the servers started).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Instant;

use anyhow::{Context as _, bail};

use super::children::{self, ChildProcess};
use super::configs::{self, ConfigContext};
use super::haproxy::Haproxy;
use super::machine::{self, Machine};
use super::modsecurity::ModSecurity;
use super::nginx::Nginx;
use super::options::Settings;
use super::reference::Reference;
use super::report::RunReport;
use super::rounds::{self, Plan};
use super::scenarios::{self, Scenario};
use super::servers::{self, Backend, Proxies, ProxySetup};
use super::stats::Spread;
use super::workload::Workload;
use super::wrk::{self, LoadSettings};
use super::{chart, gateway, memory, micro, procfs, summary, tls};

/// Where things are.
struct Paths {
    workspace: PathBuf,
    target: PathBuf,
    gateway: PathBuf,
    plugins: PathBuf,
}

impl Paths {
    fn find() -> Paths {
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| workspace.join("target"));
        Paths {
            gateway: target.join("release/wasmgate"),
            plugins: PathBuf::from(env!("WASMGATE_PLUGINS_DIR")),
            workspace,
            target,
        }
    }
}

/// Runs the suite; returns whether every request succeeded (the report is written either way).
pub fn run(settings: &Settings) -> anyhow::Result<bool> {
    let started = Instant::now();
    children::install_cleanup()?;
    let paths = Paths::find();
    let machine = Machine::read(&paths.workspace);
    if settings.build {
        build_gateway(&paths.workspace)?;
    }
    let wrk_version = wrk::version().context(
        "wrk is not installed: run bench/run (it installs it), or `apt-get install wrk`",
    )?;
    let selection = settings.scenarios();
    let threads = machine::cpus();
    let nginx = Reference {
        name: "nginx",
        packages: "nginx",
        scenario: Scenario::Nginx,
        switch: "--no-nginx",
        enabled: settings.nginx,
        binary: Nginx::binary,
        version: Nginx::version,
    }
    .find(&selection, settings.smoke)?;
    let haproxy = Reference {
        name: "haproxy",
        packages: "haproxy",
        scenario: Scenario::Haproxy,
        switch: "--no-haproxy",
        enabled: settings.haproxy,
        binary: Haproxy::binary,
        version: Haproxy::version,
    }
    .find(&selection, settings.smoke)?;
    let modsecurity = Reference {
        name: "nginx with ModSecurity and the OWASP CRS",
        packages: "libnginx-mod-http-modsecurity modsecurity-crs",
        scenario: Scenario::NginxModsecurity,
        switch: "--no-modsecurity",
        enabled: settings.modsecurity,
        binary: ModSecurity::nginx_binary,
        version: ModSecurity::version,
    }
    .find(&selection, settings.smoke)?;
    let allowed_connections = memory::raise_fd_limit(settings.idle_connections);

    let scratch = std::env::temp_dir().join(format!("wasmgate-bench-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)?;
    children::register_scratch(&scratch);
    let backend = Backend::start(&scratch, threads)?;
    let context = ConfigContext {
        backend: backend.address,
        plugins_dir: paths.plugins.clone(),
        cache_dir: paths.target.join("wasmgate-bench-cache"),
    };
    let fragment = configs::read_realistic_chain()?;
    let chain = ConfigContext::chain_plugins(&fragment)?;
    let get_fragment = configs::read_get_chain()?;
    let get_chain = ConfigContext::chain_plugins(&get_fragment)?;
    let waf_fragment = configs::read_waf_only()?;
    let waf_chain = ConfigContext::chain_plugins(&waf_fragment)?;
    let certificate = tls::write_certificate(&scratch.join("certs"))?;

    let proxies = Proxies::start(
        &ProxySetup {
            gateway_binary: &paths.gateway,
            nginx_binary: nginx.binary(),
            haproxy_binary: haproxy.binary(),
            modsecurity_nginx_binary: modsecurity.binary(),
            dir: &scratch,
            context: &context,
            chain_fragment: &fragment,
            get_chain_fragment: &get_fragment,
            waf_fragment: &waf_fragment,
            certificate: &certificate,
            threads,
        },
        &selection,
    )?;
    let targets = proxies.targets(&backend, &context, &selection)?;
    let start_rss = proxies
        .gateways
        .iter()
        .filter_map(|(scenario, g)| Some((*scenario, procfs::rss_bytes(g.pid()).ok()?)))
        .collect();
    let present: Vec<Scenario> = selection
        .into_iter()
        .filter(|s| targets.contains_key(s))
        .collect();
    let cells = scenarios::cells(&present);
    servers::probe(&cells, &targets, &scratch)?;
    let scripts = write_scripts(&scratch)?;
    let load = LoadSettings {
        threads: settings.wrk_threads,
        connections: settings.connections,
        duration: settings.duration,
    };
    let samples = rounds::measure(&Plan {
        cells: &cells,
        targets: &targets,
        load,
        rounds: settings.rounds,
        warm_up: settings.warm_up,
        scripts: &scripts,
        backend_pid: backend.pid(),
    })?;
    let gateway_problems = proxies
        .gateways
        .iter()
        .map(|(scenario, gateway)| {
            let (count, distinct) = gateway::logged_problems(&gateway.log_path, 5);
            (*scenario, count, distinct)
        })
        .collect();
    drop(proxies);

    let memory = if settings.memory {
        eprintln!("memory: idle RSS and {allowed_connections} idle connections");
        memory::measure(
            &paths.gateway,
            &scratch,
            &context,
            &fragment,
            threads,
            settings.idle_connections,
            allowed_connections,
        )
        .map_err(|e| format!("{e:#}"))
    } else {
        Err("skipped (--no-memory)".to_owned())
    };
    drop(backend);
    let micro = if settings.micro {
        eprintln!("micro-benchmarks: cargo bench -p wasmgate-bench");
        micro::run(&cargo(), &paths.workspace, &paths.target.join("criterion"))
            .map_err(|e| format!("{e:#}"))
    } else {
        Err("skipped (--smoke or --no-micro)".to_owned())
    };

    let date = machine::today();
    let stem = settings.report_stem(&date);
    std::fs::create_dir_all(&settings.out)?;
    let cell_summaries = summary::cells(&samples);
    let chart_file = format!("{stem}.png");
    let chart = chart::draw(
        &settings.out.join(&chart_file),
        &format!("wasmgate benchmark {date}: throughput per scenario·workload"),
        &cell_summaries,
    )
    .map(|()| chart_file)
    .map_err(|e| format!("{e:#}"));
    let report = RunReport {
        date: date.clone(),
        smoke: settings.smoke,
        scenarios: present,
        only: settings.only.clone(),
        machine,
        load_at_end: machine::load_average(),
        elapsed: started.elapsed(),
        load,
        wrk_version,
        rounds: settings.rounds,
        warm_up: settings.warm_up,
        gateway_threads: threads,
        backend_threads: threads,
        nginx: nginx.status(threads),
        haproxy: haproxy.status(threads),
        modsecurity: modsecurity.status(threads),
        chain,
        get_chain,
        waf_chain,
        cells: cell_summaries,
        ratios: summary::ratios(&samples),
        memory,
        gateway_problems,
        start_rss,
        micro,
        chart,
    };
    let report_path = settings.out.join(format!("{stem}.md"));
    std::fs::write(&report_path, report.markdown())
        .with_context(|| format!("writing {}", report_path.display()))?;
    let _ = std::fs::remove_dir_all(&scratch);
    print_summary(&report, &report_path);
    Ok(report.cells.iter().all(|c| c.failures == 0))
}

fn cargo() -> PathBuf {
    std::env::var_os("CARGO").map_or_else(|| PathBuf::from("cargo"), PathBuf::from)
}

/// `cargo build --release -p wasmgate -p wasmgate-bench --bins`: the gateway binary, and the
/// built-in plugins its build script compiles into target/plugins/. The same command as
/// `bench/run`'s, so when the harness runs from there it is a no-op: a different package set
/// would unify features differently, rebuild wasmtime and replace this very binary.
fn build_gateway(workspace: &Path) -> anyhow::Result<()> {
    eprintln!("building: cargo build --release -p wasmgate -p wasmgate-bench --bins");
    let mut command = children::command(cargo());
    command
        .current_dir(workspace)
        .args([
            "build",
            "--release",
            "-p",
            "wasmgate",
            "-p",
            "wasmgate-bench",
            "--bins",
        ])
        .stdin(Stdio::null());
    let status = ChildProcess::spawn("cargo build", command)?.wait()?;
    if !status.success() {
        bail!("cargo build --release -p wasmgate -p wasmgate-bench --bins failed ({status})");
    }
    Ok(())
}

fn write_scripts(dir: &Path) -> anyhow::Result<BTreeMap<Workload, PathBuf>> {
    let mut scripts = BTreeMap::new();
    for workload in [Workload::Small, Workload::Json] {
        let path = dir.join(format!("{}.lua", workload.name()));
        std::fs::write(&path, workload.wrk_script())?;
        scripts.insert(workload, path);
    }
    Ok(scripts)
}

fn print_summary(report: &RunReport, path: &Path) {
    println!("\nratios (median over rounds, min–max):");
    for ratio in &report.ratios {
        let cpu = ratio.added_cpu_us.map_or_else(String::new, |s| {
            format!(", added CPU {} µs/req", s.format(2))
        });
        println!(
            "  {} {:<5} throughput {}, p99 {}{cpu}",
            ratio.label(),
            ratio.workload.name(),
            ratio.throughput.format(3),
            ratio.p99.format(3)
        );
    }
    println!("per cell (median): requests/s, throughput vs nginx, proxy CPU µs/req:");
    for cell in &report.cells {
        let figure = |spread: Option<Spread>, decimals: usize| {
            spread.map_or_else(|| "—".to_owned(), |s| format!("{:.*}", decimals, s.median))
        };
        println!(
            "  {:<8} {:>8.0}  {:>5}  {:>6}",
            cell.cell.label(),
            cell.rps.median,
            figure(cell.vs_reference, 3),
            figure(cell.proxy_cpu_us(), 1)
        );
    }
    let failed: u64 = report.cells.iter().map(|c| c.failures).sum();
    println!("failed requests, all cells: {failed}");
    if let Ok(memory) = &report.memory {
        println!(
            "memory: idle RSS {:.1} MiB, {:.1} KiB per idle connection ({} connections)",
            memory.rss_warm as f64 / 1048576.0,
            memory.bytes_per_connection() / 1024.0,
            memory.connections_opened
        );
    }
    println!("report: {}", path.display());
}
