//! The DESIGN §7 performance targets, checked against one run's figures.

use super::report::RunReport;
use super::scenarios::Scenario;
use super::summary::RatioSummary;
use super::workload::Workload;

/// Idle RSS budget with the built-in plugins loaded.
const IDLE_RSS_BUDGET_MIB: f64 = 64.0;
/// The share of the no-plugin throughput the five-plugin GET chain must keep.
const GET_CHAIN_THROUGHPUT_FLOOR: f64 = 0.75;
/// The most CPU per request the five-plugin GET chain may add, µs.
const GET_CHAIN_CPU_BUDGET_US: f64 = 15.0;
/// The most CPU per request the JSON chain may add on a 1 KB body, µs.
const JSON_CHAIN_CPU_BUDGET_US: f64 = 40.0;

/// One line per target: the figure, and whether it is met.
pub fn check(report: &RunReport) -> Vec<String> {
    let mut lines = Vec::new();
    let verdict = |met: bool| if met { "met" } else { "**not met**" };
    let ratio = |numerator, denominator, workload| {
        report.ratios.iter().find(|r: &&RatioSummary| {
            r.numerator == numerator && r.denominator == denominator && r.workload == workload
        })
    };
    for workload in [Workload::Small, Workload::Json] {
        if let Some(r) = ratio(Scenario::Gateway, Scenario::Nginx, workload) {
            lines.push(format!(
                "Gateway (no plugins) not slower than nginx, `{}`: throughput 3/2 = {:.3} — {}",
                workload.name(),
                r.throughput.median,
                verdict(r.throughput.median >= 1.0)
            ));
        }
    }
    if let Some(r) = ratio(Scenario::GetChain, Scenario::Gateway, Workload::Small) {
        lines.push(format!(
            "Five-plugin GET chain keeps at least 75% of the no-plugin throughput: 11/3 = {:.3} \
             — {}",
            r.throughput.median,
            verdict(r.throughput.median >= GET_CHAIN_THROUGHPUT_FLOOR)
        ));
        if let Some(cpu) = r.added_cpu_us {
            lines.push(format!(
                "Five-plugin GET chain adds at most {GET_CHAIN_CPU_BUDGET_US} µs CPU per \
                 request: {:.2} µs — {}",
                cpu.median,
                verdict(cpu.median <= GET_CHAIN_CPU_BUDGET_US)
            ));
        }
    }
    if let Some(r) = ratio(Scenario::Chain, Scenario::Gateway, Workload::Json) {
        if let Some(cpu) = r.added_cpu_us {
            lines.push(format!(
                "JSON chain on a 1 KB body adds at most {JSON_CHAIN_CPU_BUDGET_US} µs CPU per \
                 request: {:.2} µs (throughput 5/3 = {:.3}) — {}",
                cpu.median,
                r.throughput.median,
                verdict(cpu.median <= JSON_CHAIN_CPU_BUDGET_US)
            ));
        }
        if report.chain.iter().any(|p| p.stand_in) {
            lines.push(
                "(The JSON chain includes stand-ins; its cost will change when the real \
                 plugins land.)"
                    .to_owned(),
            );
        }
    }
    for cell in report
        .cells
        .iter()
        .filter(|c| c.cell.scenario == Scenario::Reload)
    {
        let p99 = ratio(Scenario::Reload, Scenario::Gateway, cell.cell.workload)
            .map_or_else(|| "?".to_owned(), |r| format!("{:.3}", r.p99.median));
        lines.push(format!(
            "Hot reload under load, `{}`: {} failed requests, p99 6/3 = {p99} — {}",
            cell.cell.workload.name(),
            cell.failures,
            verdict(cell.failures == 0)
        ));
    }
    if let Ok(memory) = &report.memory {
        let mib = memory.rss_warm as f64 / (1024.0 * 1024.0);
        lines.push(format!(
            "Idle RSS with the built-in plugins under {IDLE_RSS_BUDGET_MIB} MiB: {mib:.1} MiB — {}",
            verdict(mib < IDLE_RSS_BUDGET_MIB)
        ));
    }
    if let Ok(micro) = &report.micro {
        for (id, budget_ns, what) in [
            (
                "plugin_stage_call/noop_pooled_instance",
                1_000.0,
                "A stage call on a ready instance ~1 µs",
            ),
            (
                "plugin_stage_call/noop_fresh_instance",
                10_000.0,
                "A stage call on a fresh instance ≤ 10 µs",
            ),
        ] {
            if let Some(r) = micro.results.iter().find(|r| r.id == id) {
                lines.push(format!(
                    "{what}: {} — {}",
                    super::micro::format_ns(r.median_ns),
                    // "~1 µs": within 50% of it counts.
                    verdict(
                        r.median_ns <= budget_ns * if budget_ns <= 1_000.0 { 1.5 } else { 1.0 }
                    )
                ));
            }
        }
    }
    lines
}
