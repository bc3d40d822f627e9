//! The report's TLS section: scenarios 7 and 9 (HTTPS) against 3 and 8 (the same gateway over
//! plain HTTP), with connections kept alive and with a new connection per request.

use std::fmt::Write as _;

use super::RunReport;
use crate::harness::configs::TLS_LISTENER;
use crate::harness::scenarios::{Cell, Scenario, TLS_RATIOS};
use crate::harness::summary::{CellSummary, RatioSummary};
use crate::harness::tls::Handshakes;

impl RunReport {
    /// `## TLS`: one row per TLS ratio and workload; nothing when no HTTPS scenario ran.
    pub(super) fn tls_section(&self, out: &mut String) {
        let ratios: Vec<&RatioSummary> = self
            .ratios
            .iter()
            .filter(|r| TLS_RATIOS.contains(&(r.numerator, r.denominator)))
            .collect();
        if ratios.is_empty() {
            return;
        }
        let handshakes = self
            .cells
            .iter()
            .filter_map(|c| c.handshakes)
            .fold(Handshakes::default(), Handshakes::plus);
        let _ = writeln!(
            out,
            "## TLS (scenarios 7 to 9)\n\n\
             Scenario 3's gateway has a second listener, `{TLS_LISTENER}`, serving the same \
             routes over HTTPS with a throwaway ECDSA P-256 certificate (what `wasmgate \
             dev-cert` writes), TLS 1.2 and 1.3 (the gateway's defaults), no client \
             certificates. wrk's OpenSSL client (no certificate verification) negotiated {}. \
             Both ratios compare that one gateway process with itself, over HTTPS and over \
             plain HTTP, paired round by round:\n\n\
             - **7/3**, connections kept alive: what encryption costs per request;\n\
             - **9/8**, `Connection: close` on every request: each request in both pays a TCP \
             connection, and over HTTPS a handshake too, so the added CPU is the cost of one \
             handshake — a *resumed* one: wrk's OpenSSL client offers its previous \
             connection's session ticket, so all but the first handshake of each wrk connection \
             resume (TLS 1.3 PSK with ECDHE: a key exchange, but no certificate and no \
             signature). A new client's full handshake costs the gateway more.\n\n\
             *CPU µs / req* is the gateway's CPU per request (median over rounds). \
             *Handshakes / req* is the gateway's own count (`wasmgate_tls_handshakes_total`) \
             over the requests wrk completed: about 0 with keep-alive, about 1 with a new \
             connection per request. *Failed handshakes* (`wasmgate_tls_handshake_failures_total`) \
             include clients that leave mid-handshake, as wrk does with the connections it is \
             opening when its run ends; failed requests are in the results tables above.\n",
            handshakes.protocols()
        );
        out.push_str(
            "| ratio | workload | throughput HTTPS / HTTP | p99 HTTPS / HTTP | HTTP CPU µs / req \
             | HTTPS CPU µs / req | added CPU µs / req | handshakes / req | failed handshakes |\n\
             |---|---|---|---|---|---|---|---|---|\n",
        );
        for ratio in ratios {
            let cell = |scenario| self.cell(scenario, ratio);
            let cpu = |summary: Option<&CellSummary>| {
                summary
                    .and_then(CellSummary::proxy_cpu_us)
                    .map_or_else(|| "—".to_owned(), |s| s.format(1))
            };
            let (plain, https) = (cell(ratio.denominator), cell(ratio.numerator));
            let counted = https.and_then(|c| Some((c.handshakes?, c.requests)));
            let _ = writeln!(
                out,
                "| {} ({} / {}) | {} | {} | {} | {} | {} | {} | {} | {} |",
                ratio.label(),
                ratio.numerator.name(),
                ratio.denominator.name(),
                ratio.workload.name(),
                ratio.throughput.format(3),
                ratio.p99.format(3),
                cpu(plain),
                cpu(https),
                ratio
                    .added_cpu_us
                    .map_or_else(|| "—".to_owned(), |s| s.format(1)),
                counted.map_or_else(
                    || "—".to_owned(),
                    |(h, requests)| format!("{:.3}", h.completed() as f64 / requests.max(1) as f64)
                ),
                counted.map_or_else(|| "—".to_owned(), |(h, _)| h.failed.to_string()),
            );
        }
        out.push('\n');
    }

    fn cell(&self, scenario: Scenario, ratio: &RatioSummary) -> Option<&CellSummary> {
        let wanted = Cell {
            scenario,
            workload: ratio.workload,
        };
        self.cells.iter().find(|c| c.cell == wanted)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::super::fixture;
    use crate::harness::report::RunReport;
    use crate::harness::scenarios::{self, Scenario};

    /// One round of `--only tls,tls-close`: every request succeeded, and with `Connection:
    /// close` the gateway handshook once per request.
    fn partial_run() -> RunReport {
        let chosen = [Scenario::Tls, Scenario::TlsClose];
        let mut samples = BTreeMap::new();
        for cell in scenarios::cells(&scenarios::selection(&chosen)) {
            let (rps, handshakes) = match cell.scenario {
                Scenario::Gateway => (30_000.0, None),
                Scenario::Tls => (27_000.0, Some(64)),
                Scenario::Close => (20_000.0, None),
                _ => (4_000.0, Some(20_000)),
            };
            samples.insert(cell, vec![fixture::sample(rps, 1000, handshakes)]);
        }
        fixture::report(&chosen, &samples)
    }
    #[test]
    fn a_tls_only_run_reports_both_ratios_with_handshakes_per_request() {
        let markdown = partial_run().markdown();
        assert!(markdown.contains("**Partial run** (`--only tls,tls-close`)"));
        assert!(markdown.contains("negotiated TLSv1.3"));
        // 20,000 handshakes for 20,000 requests; 1 s of CPU for them (50 µs each) against
        // 1 s for 100,000 plain requests (10 µs each).
        assert!(
            markdown.contains(
                "| 9/8 (tls-close / close) | small | 0.200 (0.200–0.200) | 1.000 (1.000–1.000) \
                 | 10.0 (10.0–10.0) | 50.0 (50.0–50.0) | 40.0 (40.0–40.0) | 1.000 | 1 |"
            ),
            "{markdown}"
        );
        assert!(markdown.contains("| 7/3 (tls / gateway) | json | 0.900"));
        assert!(
            !markdown.contains("## Ratios"),
            "no main-table ratio was measured"
        );
        assert!(!markdown.contains("Scenario 5's chain"));
        assert!(markdown.contains("None measured in this run."));
    }

    #[test]
    fn a_run_without_https_cells_has_no_tls_section() {
        let mut report = partial_run();
        report.ratios.clear();
        assert!(!report.markdown().contains("## TLS"));
    }
}
