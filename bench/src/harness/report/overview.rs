//! The report's first table: per target and workload, requests/s, throughput over nginx's and
//! the proxy's CPU per request — the figures to read first.

use std::fmt::Write as _;

use super::RunReport;
use crate::harness::scenarios::REFERENCE;
use crate::harness::summary::CellSummary;

impl RunReport {
    /// `## Summary`: the first table. One row per target and workload: requests/s, throughput
    /// over nginx's (paired round by round) and the proxy's CPU per request.
    pub(super) fn summary_table(&self, out: &mut String) {
        if self.cells.is_empty() {
            return;
        }
        let reference = REFERENCE.name();
        let _ = writeln!(
            out,
            "## Summary\n\nPer target and workload, the median over rounds (min–max): \
             requests/s; throughput over {reference}'s on the same workload, taken per round \
             (above 1: more requests/s than {reference}; — when {reference} did not run); the \
             proxy's own CPU (user + system) per request. Details and latency in the tables \
             below.\n"
        );
        let _ = writeln!(
            out,
            "| # | target | workload | requests/s | throughput vs {reference} | \
             proxy CPU µs / req |\n|---|---|---|---|---|---|"
        );
        let mut rows: Vec<&CellSummary> = self.cells.iter().collect();
        rows.sort_by_key(|row| (row.cell.workload, row.cell.scenario));
        for row in rows {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                row.cell.scenario.number(),
                row.cell.scenario.title(),
                row.cell.workload.name(),
                row.rps.format(0),
                row.vs_reference
                    .map_or_else(|| "—".to_owned(), |s| s.format(3)),
                row.proxy_cpu_us()
                    .map_or_else(|| "—".to_owned(), |s| s.format(1)),
            );
        }
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::super::fixture;
    use crate::harness::scenarios::{self, Scenario};

    #[test]
    fn the_first_table_gives_each_targets_throughput_vs_nginx_and_cpu_per_request() {
        let chosen = [Scenario::Haproxy, Scenario::GetChain];
        let mut samples = BTreeMap::new();
        for cell in scenarios::cells(&scenarios::selection(&chosen)) {
            let (rps, cpu_ms) = match cell.scenario {
                Scenario::Nginx => (40_000.0, 400),
                Scenario::Haproxy => (44_000.0, 330),
                Scenario::Gateway => (30_000.0, 600),
                _ => (24_000.0, 600),
            };
            samples.insert(cell, vec![fixture::sample(rps, cpu_ms, None)]);
        }
        let mut report = fixture::report(&chosen, &samples);
        report.machine.uncommitted = true;
        let markdown = report.markdown();
        let first_table = markdown
            .lines()
            .skip_while(|line| !line.starts_with('|'))
            .take_while(|line| line.starts_with('|'))
            .collect::<Vec<_>>()
            .join("\n");
        // 330 ms for 220,000 requests: 1.5 µs each; 44,000 / 40,000 req/s.
        for row in [
            "| target | workload | requests/s | throughput vs nginx | proxy CPU µs / req |",
            "| 10 | haproxy, HTTP mode | small | 44000 (44000–44000) | 1.100 (1.100–1.100) \
             | 1.5 (1.5–1.5) |",
            "| 11 | wasmgate, five-plugin GET chain | small | 24000 (24000–24000) | 0.600 \
             (0.600–0.600) | 5.0 (5.0–5.0) |",
            "| 2 | nginx proxy_pass | json | 40000 (40000–40000) | 1.000 (1.000–1.000) | 2.0",
        ] {
            assert!(first_table.contains(row), "no `{row}` in:\n{first_table}");
        }
        assert!(markdown.contains("commit `abc1234` **with uncommitted changes**"));
        assert!(
            markdown.contains("- haproxy: HAProxy version 2.6.12, one process with `nbthread 2`")
        );
        // The GET chain's ratio to the gateway: 0.8 of its throughput, 1 µs more per request.
        assert!(
            markdown.contains(
                "| 11/3 (wasmgate, five-plugin GET chain / wasmgate, no plugins) | small \
                 | 0.800 (0.800–0.800) | 1.000 (1.000–1.000) | 1.00 (1.00–1.00) |"
            ),
            "{markdown}"
        );
        assert!(markdown.contains("| 10/2 (haproxy, HTTP mode / nginx proxy_pass) | json | 1.100"));
    }
}
