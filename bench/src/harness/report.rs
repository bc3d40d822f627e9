//! The dated Markdown report: the summary table ([`overview`]: per target, req/s, throughput
//! vs nginx, proxy CPU per request), setup, per-scenario tables, ratios, TLS ([`tls`]), the
//! peer WAF ([`peer_waf`]), reload, memory, the DESIGN §7 targets and the micro-benchmarks.

#[cfg(test)]
mod fixture;
mod overview;
mod peer_waf;
mod tls;

use std::fmt::Write as _;
use std::time::Duration;

use super::configs::{ChainPlugin, GET_CHAIN_FILE, REALISTIC_CHAIN_FILE, WAF_ONLY_FILE};
use super::machine::Machine;
use super::memory::MemoryReport;
use super::micro::{MicroRun, format_ns};
use super::reload::RELOAD_INTERVAL;
use super::scenarios::{RATIOS, Scenario};
use super::summary::{CellSummary, RatioSummary};
use super::targets;
use super::workload::Workload;
use super::wrk::LoadSettings;

/// Whether a reference proxy (nginx, haproxy, nginx with ModSecurity) ran, and how.
#[derive(Debug, Clone)]
pub enum ReferenceStatus {
    /// It ran with this many workers (nginx's `worker_processes`, haproxy's `nbthread`).
    Ran {
        /// `nginx -v`, `haproxy -v`.
        version: String,
        /// Worker processes or threads.
        workers: usize,
    },
    /// It was skipped: not selected, switched off, or not installed in smoke mode.
    Skipped(String),
}

/// Everything one run produced, ready to write out.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// A smoke run (checks the harness works; figures are not meaningful).
    pub smoke: bool,
    /// The scenarios measured, in report order.
    pub scenarios: Vec<Scenario>,
    /// The scenarios `--only` named (empty: a full run).
    pub only: Vec<Scenario>,
    /// The machine.
    pub machine: Machine,
    /// The 1-minute load average when the run ended.
    pub load_at_end: String,
    /// How long the run took.
    pub elapsed: Duration,
    /// wrk's settings.
    pub load: LoadSettings,
    /// `wrk -v`.
    pub wrk_version: String,
    /// Measured rounds.
    pub rounds: usize,
    /// Warm-up per cell.
    pub warm_up: Duration,
    /// The gateway's Tokio worker threads.
    pub gateway_threads: usize,
    /// The backend's Tokio worker threads.
    pub backend_threads: usize,
    /// nginx's part.
    pub nginx: ReferenceStatus,
    /// haproxy's part.
    pub haproxy: ReferenceStatus,
    /// nginx with ModSecurity and the OWASP CRS's part (scenario 13).
    pub modsecurity: ReferenceStatus,
    /// Scenario 5's chain.
    pub chain: Vec<ChainPlugin>,
    /// Scenario 11's chain.
    pub get_chain: Vec<ChainPlugin>,
    /// Scenario 12's chain (the WAF alone).
    pub waf_chain: Vec<ChainPlugin>,
    /// Per-cell figures.
    pub cells: Vec<CellSummary>,
    /// Ratios.
    pub ratios: Vec<RatioSummary>,
    /// Memory figures, or why they are missing.
    pub memory: Result<MemoryReport, String>,
    /// Per load-test gateway: warning and error lines it logged, and up to five distinct ones.
    pub gateway_problems: Vec<(Scenario, usize, Vec<String>)>,
    /// RSS of each load-test gateway right after it started (before any load), bytes.
    pub start_rss: Vec<(Scenario, u64)>,
    /// Micro-benchmarks, or why they are missing.
    pub micro: Result<MicroRun, String>,
    /// The chart's file name, next to the report, or why there is none.
    pub chart: Result<String, String>,
}

impl RunReport {
    /// The report as Markdown.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# wasmgate benchmark — {}\n", self.date);
        if self.smoke {
            out += "> **Smoke run**: one short round with few connections, to check that the \
                    harness works. The figures below are not measurements.\n\n";
        }
        out += "How to read this report: see [bench/README.md](../README.md). Every \
                throughput figure is compared only with figures from the same run (ratios \
                paired round by round); CPU is the proxy's own user + system time per request \
                (per 100k requests in the results tables).\n\n";
        let _ = writeln!(
            out,
            "Produced from commit `{}`{}.\n",
            self.machine.commit,
            if self.machine.uncommitted {
                " **with uncommitted changes** (the working tree differed from it)"
            } else {
                ""
            }
        );
        self.summary_table(&mut out);
        self.setup(&mut out);
        for workload in [Workload::Small, Workload::Json] {
            self.results_table(&mut out, workload);
        }
        self.ratio_table(&mut out);
        self.tls_section(&mut out);
        self.peer_waf_section(&mut out);
        self.reload_section(&mut out);
        self.problems_section(&mut out);
        self.memory_section(&mut out);
        let _ = writeln!(out, "## DESIGN §7 targets\n");
        let lines = targets::check(self);
        if lines.is_empty() {
            out += "None measured in this run.\n";
        }
        for line in lines {
            let _ = writeln!(out, "- {line}");
        }
        out.push('\n');
        self.micro_section(&mut out);
        match &self.chart {
            Ok(file) => {
                let _ = writeln!(out, "## Chart\n\n![throughput and latency]({file})\n");
            }
            Err(why) => {
                let _ = writeln!(out, "## Chart\n\nNo chart: {why}\n");
            }
        }
        out
    }

    fn setup(&self, out: &mut String) {
        let m = &self.machine;
        let _ = writeln!(out, "## Setup\n");
        let _ = writeln!(
            out,
            "- Machine: {} CPUs ({}), Linux {}; 1-minute load {} at start, {} at end \
             (other work on the machine shares the CPUs); commit `{}`{}; run took {:.0} s.",
            m.cpus,
            m.cpu_model,
            m.kernel,
            m.load_at_start,
            self.load_at_end,
            m.commit,
            if m.uncommitted {
                " with uncommitted changes"
            } else {
                ""
            },
            self.elapsed.as_secs_f64()
        );
        let _ = writeln!(
            out,
            "- Load: {}, `-t{} -c{} -d{}s --latency`, keep-alive (scenarios 8 and 9: \
             `-H \"Connection: close\"`, a new connection per request); {} interleaved round(s) \
             (every cell once per round, order rotated each round) after a {} s warm-up per \
             cell. wrk, the backend and the proxy share the same CPUs.",
            self.wrk_version,
            self.load.threads,
            self.load.connections,
            self.load.duration.as_secs(),
            self.rounds,
            self.warm_up.as_secs()
        );
        let _ = writeln!(
            out,
            "- Backend: hyper HTTP/1.1 on loopback, {} worker threads, own process.",
            self.backend_threads
        );
        let _ = writeln!(
            out,
            "- wasmgate: `target/release/wasmgate run`, {} Tokio worker threads \
             (`TOKIO_WORKER_THREADS`), logs at `warn`, no access log.",
            self.gateway_threads
        );
        match &self.nginx {
            ReferenceStatus::Ran { version, workers } => {
                let _ = writeln!(
                    out,
                    "- nginx: {version}, `worker_processes {workers}` (= the gateway's \
                     threads, for fairness), `proxy_pass` over HTTP/1.1 to an upstream with \
                     `keepalive 128`, no access log; CPU is master + workers."
                );
            }
            ReferenceStatus::Skipped(why) => {
                let _ = writeln!(out, "- nginx: **skipped** — {why}.");
            }
        }
        match &self.haproxy {
            ReferenceStatus::Ran { version, workers } => {
                let _ = writeln!(
                    out,
                    "- haproxy: {version}, one process with `nbthread {workers}` (= the \
                     gateway's threads), HTTP mode, keep-alive on both sides with idle backend \
                     connections shared by all clients (`http-reuse always`), no logging; CPU \
                     is its process (all threads)."
                );
            }
            ReferenceStatus::Skipped(why) => {
                let _ = writeln!(out, "- haproxy: **skipped** — {why}.");
            }
        }
        match &self.modsecurity {
            ReferenceStatus::Ran { version, workers } => {
                let _ = writeln!(
                    out,
                    "- nginx + ModSecurity: {version}; nginx as above (`worker_processes \
                     {workers}`) plus `modsecurity on` with the OWASP CRS: see Peer WAF below."
                );
            }
            ReferenceStatus::Skipped(why) => {
                let _ = writeln!(out, "- nginx + ModSecurity: **skipped** — {why}.");
            }
        }
        for workload in [Workload::Small, Workload::Json] {
            let _ = writeln!(
                out,
                "- Workload `{}`: {}.",
                workload.name(),
                workload.description()
            );
        }
        let _ = writeln!(out, "\nScenarios:\n");
        if !self.only.is_empty() {
            let names: Vec<&str> = self.only.iter().map(|s| s.name()).collect();
            let _ = writeln!(
                out,
                "**Partial run** (`--only {}`): only these scenarios, and those their ratios \
                 divide by, were measured.\n",
                names.join(",")
            );
        }
        for &scenario in &self.scenarios {
            let workloads: Vec<&str> = scenario.workloads().iter().map(|w| w.name()).collect();
            let _ = writeln!(
                out,
                "- {}: {} (workloads: {})",
                scenario.number(),
                scenario.title(),
                workloads.join(", ")
            );
        }
        out.push('\n');
        for (scenario, file, chain) in [
            (Scenario::Chain, REALISTIC_CHAIN_FILE, &self.chain),
            (Scenario::GetChain, GET_CHAIN_FILE, &self.get_chain),
            (Scenario::Waf, WAF_ONLY_FILE, &self.waf_chain),
        ] {
            if !self.scenarios.contains(&scenario) {
                continue;
            }
            let _ = writeln!(
                out,
                "Scenario {}'s chain (from `bench/{file}`, global chain, in order):\n",
                scenario.number()
            );
            for plugin in chain {
                let label = if plugin.stand_in {
                    " — **STAND-IN** (the real plugin does not exist yet)"
                } else {
                    ""
                };
                let _ = writeln!(out, "- `{}` → `{}`{label}", plugin.name, plugin.wasm_file);
            }
            out.push('\n');
        }
    }

    fn results_table(&self, out: &mut String, workload: Workload) {
        let rows: Vec<&CellSummary> = self
            .cells
            .iter()
            .filter(|c| c.cell.workload == workload)
            .collect();
        if rows.is_empty() {
            return;
        }
        let _ = writeln!(
            out,
            "## Results, `{}` workload\n\nMedian over rounds, (min–max).\n",
            workload.name()
        );
        out.push_str(
            "| # | scenario | requests/s | p50 µs | p99 µs | proxy CPU-s / 100k req | \
             backend CPU-s / 100k req | failed (non-2xx/3xx + socket errors) of requests |\n\
             |---|---|---|---|---|---|---|---|\n",
        );
        for row in rows {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} ({} + {}) of {} |",
                row.cell.scenario.number(),
                row.cell.scenario.title(),
                row.rps.format(0),
                row.p50_us.format(0),
                row.p99_us.format(0),
                row.proxy_cpu_100k
                    .map_or_else(|| "—".to_owned(), |s| s.format(2)),
                row.backend_cpu_100k.format(2),
                row.failures,
                row.non_success,
                row.socket_errors,
                row.requests
            );
        }
        out.push('\n');
    }

    fn ratio_table(&self, out: &mut String) {
        let ratios: Vec<&RatioSummary> = self
            .ratios
            .iter()
            .filter(|r| RATIOS.contains(&(r.numerator, r.denominator)))
            .collect();
        if ratios.is_empty() {
            return;
        }
        let _ = writeln!(
            out,
            "## Ratios\n\nEach ratio is taken per round (the two runs minutes apart at most), \
             then the median (min–max) over rounds. Throughput above 1 means the numerator \
             scenario served more; \"added CPU\" is the numerator proxy's CPU per request minus \
             the denominator's.\n"
        );
        out.push_str(
            "| ratio | workload | throughput | p99 latency | added proxy CPU µs / req |\n\
             |---|---|---|---|---|\n",
        );
        for ratio in ratios {
            let _ = writeln!(
                out,
                "| {} ({} / {}) | {} | {} | {} | {} |",
                ratio.label(),
                ratio.numerator.title(),
                ratio.denominator.title(),
                ratio.workload.name(),
                ratio.throughput.format(3),
                ratio.p99.format(3),
                ratio
                    .added_cpu_us
                    .map_or_else(|| "—".to_owned(), |s| s.format(2))
            );
        }
        out.push('\n');
    }

    fn reload_section(&self, out: &mut String) {
        let rows: Vec<&CellSummary> = self
            .cells
            .iter()
            .filter(|c| c.cell.scenario == Scenario::Reload)
            .collect();
        if rows.is_empty() {
            return;
        }
        let _ = writeln!(
            out,
            "## Reload under load (scenario 6)\n\nThe config file is rewritten (write + rename, \
             a new mock-route body each time) every {} ms while wrk runs; the gateway's file \
             watcher (10 ms debounce) reloads it. Reloads applied = config generations advanced \
             (admin `GET /config`).\n",
            RELOAD_INTERVAL.as_millis()
        );
        for row in rows {
            let (written, applied) = row.reloads.unwrap_or_default();
            let _ = writeln!(
                out,
                "- `{}`: {written} rewrites, {applied} reloads applied, **{} failed requests** \
                 (non-2xx/3xx + socket errors, from wrk) of {}.",
                row.cell.workload.name(),
                row.failures,
                row.requests
            );
        }
        out.push('\n');
    }

    fn problems_section(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "## Gateway warnings and errors\n\nWhat each load-test gateway logged at `warn` or \
             above during the whole run (distinct messages, per-request ids removed):\n"
        );
        for (scenario, count, distinct) in &self.gateway_problems {
            let _ = writeln!(
                out,
                "- scenario {} ({}): {count} line(s)",
                scenario.number(),
                scenario.title()
            );
            for message in distinct {
                let _ = writeln!(out, "  - `{message}`");
            }
        }
        out.push('\n');
    }

    fn memory_section(&self, out: &mut String) {
        let _ = writeln!(out, "## Memory\n");
        let memory = match &self.memory {
            Ok(memory) => memory,
            Err(why) => {
                let _ = writeln!(out, "Not measured: {why}\n");
                return;
            }
        };
        let mib = |bytes: u64| bytes as f64 / (1024.0 * 1024.0);
        let _ = writeln!(
            out,
            "Gateway with every built-in plugin configured and chained on `POST /json`: the \
             scenario 5 chain ({}) plus cors and headers.\n\n\
             - RSS after start (all plugins compiled, instantiated, initialised): {:.1} MiB\n\
             - RSS at idle after requests through the chain, then 1 s: **{:.1} MiB** \
             ({:.1} MiB anonymous, {:.1} MiB file-backed: the binary's and the compiled \
             plugins' mapped pages)\n\
             - Idle keep-alive connections: {} opened (one `GET /small` each, then idle; the \
             gateway's `wasmgate_active_connections` gauge read {}), RSS {:.1} MiB → \
             **{:.1} KiB per connection**",
            self.chain
                .iter()
                .map(|p| format!("{} → {}", p.name, p.wasm_file))
                .collect::<Vec<_>>()
                .join(", "),
            mib(memory.rss_started),
            mib(memory.rss_warm),
            mib(memory.rss_warm_anon),
            mib(memory.rss_warm_file),
            memory.connections_opened,
            memory
                .connections_seen_by_gateway
                .map_or_else(|| "?".to_owned(), |n| n.to_string()),
            mib(memory.rss_with_connections),
            memory.bytes_per_connection() / 1024.0
        );
        for (scenario, rss) in &self.start_rss {
            let _ = writeln!(
                out,
                "- For comparison, RSS of the scenario {} gateway ({}) right after start: \
                 {:.1} MiB",
                scenario.number(),
                scenario.title(),
                mib(*rss)
            );
        }
        if let Some(note) = &memory.limit_note {
            let _ = writeln!(out, "- Fewer connections than asked for: {note}.");
        }
        out.push('\n');
    }

    fn micro_section(&self, out: &mut String) {
        let _ = writeln!(out, "## Micro-benchmarks (criterion)\n");
        match &self.micro {
            Ok(run) => {
                if let Some(failure) = &run.failure {
                    let _ = writeln!(
                        out,
                        "**{failure}.** The benchmarks below are those that completed.\n"
                    );
                }
                out.push_str(
                    "Median time per iteration with its 95% confidence interval, from \
                     `cargo bench -p wasmgate-bench` (1 s warm-up, 3 s measurement), \
                     single-threaded CPU work.\n\n| benchmark | median | 95% CI |\n|---|---|---|\n",
                );
                for r in &run.results {
                    let _ = writeln!(
                        out,
                        "| `{}` | {} | {} – {} |",
                        r.id,
                        format_ns(r.median_ns),
                        format_ns(r.interval_ns.0),
                        format_ns(r.interval_ns.1)
                    );
                }
                out.push('\n');
            }
            Err(why) => {
                let _ = writeln!(out, "Not run: {why}\n");
            }
        }
    }
}
