//! Interleaved measurement: every round runs every cell once, so drift on this shared 2-core
//! machine hits all scenarios alike; the order rotates by one cell per round, so no cell always
//! follows the same neighbour. Each run records wrk's figures and the CPU time the proxy (and
//! the backend) used during it, from `/proc/<pid>/stat`; over HTTPS, also the TLS handshakes the
//! gateway counted during it. A run in which no response was a 2xx (wrk's non-2xx count: a WAF
//! refusing the benign load, a broken proxy) stops the suite: refusing is fast, and its figures
//! would pass for speed. Occasional failures are counted and reported instead.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, bail};

use super::procfs;
use super::reload::{ReloadDriver, ReloadTarget, Reloads};
use super::scenarios::{Cell, Scenario};
use super::tls::Handshakes;
use super::workload::Workload;
use super::wrk::{self, Endpoint, LoadResult, LoadSettings, Scheme};

/// Where a scenario sends its load.
#[derive(Debug, Clone)]
pub struct Target {
    /// The address wrk loads.
    pub address: SocketAddr,
    /// Whether it serves HTTP or HTTPS.
    pub scheme: Scheme,
    /// The proxy's processes, whose CPU is measured (empty when there is no proxy).
    pub proxy_pids: Vec<u32>,
    /// For the reload scenario: the config to rewrite during each run.
    pub reload: Option<ReloadTarget>,
    /// For HTTPS targets: the gateway's admin listener, whose `/metrics` counts handshakes.
    pub handshake_counter: Option<SocketAddr>,
}

/// One wrk run of one cell.
#[derive(Debug, Clone)]
pub struct Sample {
    /// What wrk measured.
    pub load: LoadResult,
    /// CPU the proxy used during the run (none when there is no proxy).
    pub proxy_cpu: Option<Duration>,
    /// CPU the backend used during the run.
    pub backend_cpu: Duration,
    /// Reloads during the run (reload scenario only).
    pub reloads: Option<Reloads>,
    /// TLS handshakes the gateway counted during the run (HTTPS targets only).
    pub handshakes: Option<Handshakes>,
}

impl Sample {
    /// Proxy CPU-seconds per 100k requests.
    pub fn proxy_cpu_per_100k(&self) -> Option<f64> {
        Some(per_100k(self.proxy_cpu?, self.load.requests))
    }

    /// Backend CPU-seconds per 100k requests.
    pub fn backend_cpu_per_100k(&self) -> f64 {
        per_100k(self.backend_cpu, self.load.requests)
    }
}

fn per_100k(cpu: Duration, requests: u64) -> f64 {
    cpu.as_secs_f64() / requests.max(1) as f64 * 100_000.0
}

/// Everything the rounds need.
pub struct Plan<'a> {
    /// The cells, in first-round order.
    pub cells: &'a [Cell],
    /// Where each scenario's load goes.
    pub targets: &'a BTreeMap<Scenario, Target>,
    /// wrk's settings for measured runs.
    pub load: LoadSettings,
    /// Rounds to run.
    pub rounds: usize,
    /// Length of the unrecorded warm-up run per cell (zero: none).
    pub warm_up: Duration,
    /// The wrk script of each workload.
    pub scripts: &'a BTreeMap<Workload, PathBuf>,
    /// The backend's process id.
    pub backend_pid: u32,
}

/// Runs the warm-up and every round; the samples of each cell in round order.
pub fn measure(plan: &Plan<'_>) -> anyhow::Result<BTreeMap<Cell, Vec<Sample>>> {
    if !plan.warm_up.is_zero() {
        eprintln!("warm-up: {:?} per cell", plan.warm_up);
        let warm = LoadSettings {
            duration: plan.warm_up,
            ..plan.load
        };
        for cell in plan.cells {
            run_cell(plan, *cell, warm)?;
        }
    }
    let mut samples: BTreeMap<Cell, Vec<Sample>> = BTreeMap::new();
    for round in 0..plan.rounds {
        let mut order = plan.cells.to_vec();
        let shift = round % order.len().max(1);
        order.rotate_left(shift);
        for cell in order {
            let sample = run_cell(plan, cell, plan.load)?;
            eprintln!(
                "round {}/{} {}",
                round + 1,
                plan.rounds,
                progress(cell, &sample)
            );
            samples.entry(cell).or_default().push(sample);
        }
    }
    Ok(samples)
}

fn run_cell(plan: &Plan<'_>, cell: Cell, load: LoadSettings) -> anyhow::Result<Sample> {
    let target = plan
        .targets
        .get(&cell.scenario)
        .with_context(|| format!("no target for scenario {}", cell.scenario.number()))?;
    let script = &plan.scripts[&cell.workload];
    let endpoint = Endpoint {
        scheme: target.scheme,
        address: target.address,
        connections: cell.scenario.connections(),
    };
    let driver = target
        .reload
        .as_ref()
        .map(ReloadDriver::start)
        .transpose()?;
    // Read outside the CPU window: rendering /metrics costs the gateway CPU too.
    let handshakes_before = target.handshake_counter.map(Handshakes::read).transpose()?;
    let proxy_before = procfs::cpu_time(&target.proxy_pids)?;
    let backend_before = procfs::cpu_time(&[plan.backend_pid])?;
    let result = wrk::run(load, endpoint, cell.workload.path(), script)
        .with_context(|| format!("loading cell {}", cell.label()));
    let proxy_cpu = procfs::cpu_time(&target.proxy_pids)? - proxy_before;
    let backend_cpu = procfs::cpu_time(&[plan.backend_pid])? - backend_before;
    let handshakes = match (target.handshake_counter, handshakes_before) {
        (Some(admin), Some(before)) => Some(Handshakes::read(admin)?.since(before)),
        _ => None,
    };
    let reloads = driver.map(ReloadDriver::finish).transpose()?;
    let load = result?;
    if load.none_succeeded() {
        bail!(
            "cell {}: none of its {} responses was a 2xx (wrk counted {} non-2xx/3xx): scenario \
             {} ({}) refuses the benchmark's requests, so its figures would mean nothing",
            cell.label(),
            load.requests,
            load.non_success,
            cell.scenario.number(),
            cell.scenario.title()
        );
    }
    if load.non_success > 0 {
        eprintln!(
            "cell {}: {} of {} responses were not 2xx/3xx",
            cell.label(),
            load.non_success,
            load.requests
        );
    }
    Ok(Sample {
        load,
        proxy_cpu: cell.scenario.has_proxy().then_some(proxy_cpu),
        backend_cpu,
        reloads,
        handshakes,
    })
}

fn progress(cell: Cell, sample: &Sample) -> String {
    let mut line = format!(
        "{:<8} {:>9.0} req/s  p50 {:>7.0} µs  p99 {:>7.0} µs  failed {}",
        cell.label(),
        sample.load.requests_per_second,
        sample.load.p50_us,
        sample.load.p99_us,
        sample.load.failures()
    );
    if let Some(cpu) = sample.proxy_cpu_per_100k() {
        line += &format!("  proxy {cpu:.2} CPU-s/100k");
    }
    if let Some(reloads) = sample.reloads {
        line += &format!("  reloads {}/{}", reloads.applied, reloads.written);
    }
    if let Some(handshakes) = sample.handshakes {
        line += &format!(
            "  handshakes {} ({} failed)",
            handshakes.completed(),
            handshakes.failed
        );
    }
    line
}
