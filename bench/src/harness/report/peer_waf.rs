//! The report's peer-WAF section: what the gateway's WAF plugin adds to the gateway (12 over 3)
//! against what ModSecurity 3 with the OWASP CRS adds to nginx (13 over 2), on the same
//! requests, in the same run.

use std::fmt::Write as _;

use super::{ReferenceStatus, RunReport};
use crate::harness::modsecurity::{EXCLUDED_RULES, PARANOIA};
use crate::harness::scenarios::{Cell, PEER_WAF_RATIOS, Scenario};
use crate::harness::summary::RatioSummary;
use crate::harness::workload::{ATTACK, Workload};

/// Each WAF, the scenario running it and the one running its proxy without it.
const WAFS: [(&str, Scenario, Scenario); 2] = [
    (
        "ModSecurity 3 + OWASP CRS, in nginx (13 vs 2)",
        Scenario::NginxModsecurity,
        Scenario::Nginx,
    ),
    (
        "wasmgate's `waf` plugin (12 vs 3)",
        Scenario::Waf,
        Scenario::Gateway,
    ),
];

impl RunReport {
    /// `## Peer WAF`: per workload, each WAF's proxy CPU per request with and without it, the
    /// difference (the WAF's own cost) and the throughput ratios; nothing when neither WAF
    /// scenario ran.
    pub(super) fn peer_waf_section(&self, out: &mut String) {
        if !self.scenarios.iter().any(|s| s.has_waf()) {
            return;
        }
        let excluded: Vec<String> = EXCLUDED_RULES
            .iter()
            .map(|(id, why)| format!("`{id}` ({why})"))
            .collect();
        let _ = writeln!(
            out,
            "## Peer WAF (scenarios 12 and 13)\n\n\
             The same requests through two WAFs, each in blocking mode at paranoia level \
             {PARANOIA}, with anomaly scoring and a threshold of 5 (one critical match blocks):\n\n\
             - **12**: scenario 3's gateway with only the built-in `waf` plugin in its chain \
             (`bench/configs/waf-only.toml`: its defaults, request bodies inspected — JSON \
             strings and keys —, headers `user-agent` and `referer`);\n\
             - **13**: scenario 2's nginx (same workers, same upstream keep-alive) with \
             `modsecurity on`: ModSecurity's recommended config as Debian ships it, with \
             `SecRuleEngine On` (blocking), `SecRequestBodyAccess On` (JSON bodies parsed by its \
             JSON processor), **`SecResponseBodyAccess Off`** — the gateway's WAF does not \
             inspect responses either —, the audit log for relevant transactions only, then \
             Debian's CRS setup with `tx.paranoia_level={PARANOIA}` and every CRS rule file. \
             Rules removed: {}. The CRS inspects every request header; the plugin only those \
             named above.\n\n\
             Before measuring, each cell's request was answered 200 through each WAF measured, \
             and the same request carrying `{ATTACK}` (in the query of `GET /small`, in the JSON \
             body of `POST /json`) was refused with a 403: each WAF inspects what it should. A \
             run in which no response was a 2xx would have stopped the suite.\n",
            excluded.join("; ")
        );
        if let ReferenceStatus::Skipped(why) = &self.modsecurity {
            let _ = writeln!(out, "Scenario 13 was **not measured**: {why}.\n");
        }
        out.push_str(
            "*CPU µs / req* is the proxy's CPU (user + system; nginx: master and workers) per \
             request, median (min–max) over rounds; *the WAF's own* is the difference with \
             the same proxy without the WAF, paired round by round.\n\n\
             | workload | WAF | proxy CPU µs / req without it | with it | the WAF's own CPU µs \
             / req | throughput with / without |\n|---|---|---|---|---|---|\n",
        );
        for workload in [Workload::Small, Workload::Json] {
            for (name, with, without) in WAFS {
                let ratio = self.peer_ratio(with, without, workload);
                let _ = writeln!(
                    out,
                    "| {} | {name} | {} | {} | {} | {} |",
                    workload.name(),
                    self.cpu_figure(without, workload),
                    self.cpu_figure(with, workload),
                    ratio
                        .and_then(|r| r.added_cpu_us)
                        .map_or_else(|| "—".to_owned(), |s| s.format(1)),
                    ratio.map_or_else(|| "—".to_owned(), |r| r.throughput.format(3)),
                );
            }
        }
        out.push_str(
            "\n| workload | throughput 12 / 13 (wasmgate + WAF over nginx + ModSecurity) | \
             ModSecurity's own CPU over the WAF plugin's |\n|---|---|---|\n",
        );
        for workload in [Workload::Small, Workload::Json] {
            let own = |with, without| {
                self.peer_ratio(with, without, workload)
                    .and_then(|r| r.added_cpu_us)
            };
            let times = match (
                own(Scenario::NginxModsecurity, Scenario::Nginx),
                own(Scenario::Waf, Scenario::Gateway),
            ) {
                (Some(theirs), Some(ours)) if ours.median > 0.0 => {
                    format!("{:.1}×", theirs.median / ours.median)
                }
                _ => "—".to_owned(),
            };
            let _ = writeln!(
                out,
                "| {} | {} | {times} |",
                workload.name(),
                self.peer_ratio(Scenario::Waf, Scenario::NginxModsecurity, workload)
                    .map_or_else(|| "—".to_owned(), |r| r.throughput.format(3)),
            );
        }
        out.push('\n');
    }

    fn peer_ratio(
        &self,
        numerator: Scenario,
        denominator: Scenario,
        workload: Workload,
    ) -> Option<&RatioSummary> {
        debug_assert!(PEER_WAF_RATIOS.contains(&(numerator, denominator)));
        self.ratios.iter().find(|r| {
            (r.numerator, r.denominator, r.workload) == (numerator, denominator, workload)
        })
    }

    /// A cell's proxy CPU per request; when some of its responses were not 2xx, says so
    /// instead: a refused request costs a WAF less than a checked one.
    fn cpu_figure(&self, scenario: Scenario, workload: Workload) -> String {
        let wanted = Cell { scenario, workload };
        let Some(cell) = self.cells.iter().find(|c| c.cell == wanted) else {
            return "—".to_owned();
        };
        if cell.non_success > 0 {
            return format!(
                "**{} of {} responses not 2xx**",
                cell.non_success, cell.requests
            );
        }
        cell.proxy_cpu_us()
            .map_or_else(|| "—".to_owned(), |s| s.format(1))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::super::fixture;
    use crate::harness::report::ReferenceStatus;
    use crate::harness::scenarios::{self, Scenario};

    #[test]
    fn the_peer_waf_table_gives_each_wafs_own_cpu_on_the_same_requests() {
        let chosen = [Scenario::Waf];
        let mut samples = BTreeMap::new();
        // 5 s runs: (requests/s, proxy CPU ms).
        for cell in scenarios::cells(&scenarios::selection(&chosen)) {
            let (rps, cpu_ms) = match cell.scenario {
                Scenario::Nginx => (40_000.0, 400),
                Scenario::NginxModsecurity => (4_000.0, 2_000),
                Scenario::Gateway => (30_000.0, 600),
                _ => (25_000.0, 750),
            };
            samples.insert(cell, vec![fixture::sample(rps, cpu_ms, None)]);
        }
        let markdown = fixture::report(&chosen, &samples).markdown();
        // nginx: 2 µs; with ModSecurity 100 µs. Gateway: 4 µs; with the WAF 6 µs.
        for row in [
            "| small | ModSecurity 3 + OWASP CRS, in nginx (13 vs 2) | 2.0 (2.0–2.0) \
             | 100.0 (100.0–100.0) | 98.0 (98.0–98.0) | 0.100 (0.100–0.100) |",
            "| json | wasmgate's `waf` plugin (12 vs 3) | 4.0 (4.0–4.0) | 6.0 (6.0–6.0) \
             | 2.0 (2.0–2.0) | 0.833 (0.833–0.833) |",
            "| json | 6.250 (6.250–6.250) | 49.0× |",
        ] {
            assert!(markdown.contains(row), "no `{row}` in:\n{markdown}");
        }
        assert!(markdown.contains("**`SecResponseBodyAccess Off`**"));
        assert!(markdown.contains("`920350` (Host header is a numeric IP address"));
    }

    #[test]
    fn a_waf_refusing_requests_shows_no_cpu_figure_and_a_skipped_peer_says_why() {
        let chosen = [Scenario::Waf];
        let mut samples = BTreeMap::new();
        for cell in scenarios::cells(&[Scenario::Gateway, Scenario::Waf]) {
            let mut sample = fixture::sample(30_000.0, 600, None);
            if cell.scenario == Scenario::Waf {
                sample.load.non_success = 10;
            }
            samples.insert(cell, vec![sample]);
        }
        let mut report = fixture::report(&chosen, &samples);
        report.modsecurity = ReferenceStatus::Skipped("switched off (--no-modsecurity)".into());
        let markdown = report.markdown();
        assert!(
            markdown.contains(
                "| small | wasmgate's `waf` plugin (12 vs 3) | 4.0 (4.0–4.0) \
             | **10 of 150000 responses not 2xx** |"
            ),
            "{markdown}"
        );
        assert!(
            markdown.contains("Scenario 13 was **not measured**: switched off (--no-modsecurity).")
        );
        assert!(
            markdown.contains(
                "| small | ModSecurity 3 + OWASP CRS, in nginx (13 vs 2) | — | — | — | — |"
            )
        );
    }
}
