//! From raw samples to the figures the report, the chart and the console print: per cell the
//! median and spread of each measure, and the round-paired ratios between scenarios.

use std::collections::BTreeMap;

use super::rounds::Sample;
use super::scenarios::{Cell, PEER_WAF_RATIOS, RATIOS, REFERENCE, Scenario, TLS_RATIOS};
use super::stats::{Spread, paired_ratios};
use super::tls::Handshakes;
use super::workload::Workload;

/// One cell's figures over all rounds.
#[derive(Debug, Clone)]
pub struct CellSummary {
    /// The cell.
    pub cell: Cell,
    /// Requests per second.
    pub rps: Spread,
    /// Throughput over the [`REFERENCE`] proxy's (nginx) on the same workload, paired round by
    /// round (none when it did not run).
    pub vs_reference: Option<Spread>,
    /// Median latency, µs.
    pub p50_us: Spread,
    /// 99th-percentile latency, µs.
    pub p99_us: Spread,
    /// Proxy CPU-seconds per 100k requests (none without a proxy).
    pub proxy_cpu_100k: Option<Spread>,
    /// Backend CPU-seconds per 100k requests.
    pub backend_cpu_100k: Spread,
    /// Failed requests over all rounds: non-2xx/3xx responses + socket errors.
    pub failures: u64,
    /// Of `failures`, responses with a status outside 2xx/3xx.
    pub non_success: u64,
    /// Of `failures`, wrk's socket errors (connect, read, write, timeout).
    pub socket_errors: u64,
    /// Requests completed over all rounds.
    pub requests: u64,
    /// Reloads (rewrites made, reloads applied) over all rounds, reload scenario only.
    pub reloads: Option<(u64, u64)>,
    /// TLS handshakes the gateway counted over all rounds, HTTPS scenarios only.
    pub handshakes: Option<Handshakes>,
}

impl CellSummary {
    /// Proxy CPU per request, µs (CPU-s per 100k requests × 1e6 / 1e5).
    pub fn proxy_cpu_us(&self) -> Option<Spread> {
        Some(self.proxy_cpu_100k?.scaled(10.0))
    }
}

/// A ratio between two scenarios on one workload, paired round by round.
#[derive(Debug, Clone)]
pub struct RatioSummary {
    /// Numerator scenario.
    pub numerator: Scenario,
    /// Denominator scenario.
    pub denominator: Scenario,
    /// The workload both ran.
    pub workload: Workload,
    /// Throughput ratio (req/s over req/s).
    pub throughput: Spread,
    /// p99 latency ratio.
    pub p99: Spread,
    /// Proxy CPU per request, numerator minus denominator, µs (both must have a proxy).
    pub added_cpu_us: Option<Spread>,
}

impl RatioSummary {
    /// `3/1`.
    pub fn label(&self) -> String {
        format!("{}/{}", self.numerator.number(), self.denominator.number())
    }
}

/// Summarises every cell.
pub fn cells(samples: &BTreeMap<Cell, Vec<Sample>>) -> Vec<CellSummary> {
    let rps =
        |runs: &[Sample]| -> Vec<f64> { runs.iter().map(|s| s.load.requests_per_second).collect() };
    samples
        .iter()
        .filter_map(|(cell, runs)| {
            let reference = samples.get(&Cell {
                scenario: REFERENCE,
                workload: cell.workload,
            });
            let vs_reference = reference
                .and_then(|reference| Spread::of(paired_ratios(&rps(runs), &rps(reference))));
            let proxy: Vec<f64> = runs.iter().filter_map(Sample::proxy_cpu_per_100k).collect();
            let reloads = runs.iter().filter_map(|s| s.reloads).fold(None, |sum, r| {
                let (w, a) = sum.unwrap_or((0, 0));
                Some((w + r.written, a + r.applied))
            });
            let handshakes = runs
                .iter()
                .filter_map(|s| s.handshakes)
                .reduce(Handshakes::plus);
            Some(CellSummary {
                cell: *cell,
                rps: Spread::of(rps(runs))?,
                vs_reference,
                p50_us: Spread::of(runs.iter().map(|s| s.load.p50_us))?,
                p99_us: Spread::of(runs.iter().map(|s| s.load.p99_us))?,
                proxy_cpu_100k: Spread::of(proxy),
                backend_cpu_100k: Spread::of(runs.iter().map(Sample::backend_cpu_per_100k))?,
                failures: runs.iter().map(|s| s.load.failures()).sum(),
                non_success: runs.iter().map(|s| s.load.non_success).sum(),
                socket_errors: runs.iter().map(|s| s.load.socket_errors).sum(),
                requests: runs.iter().map(|s| s.load.requests).sum(),
                reloads,
                handshakes,
            })
        })
        .collect()
}

/// The [`RATIOS`], the [`TLS_RATIOS`] and the [`PEER_WAF_RATIOS`], for every workload both
/// scenarios ran.
pub fn ratios(samples: &BTreeMap<Cell, Vec<Sample>>) -> Vec<RatioSummary> {
    let mut ratios = Vec::new();
    for (numerator, denominator) in RATIOS.into_iter().chain(TLS_RATIOS).chain(PEER_WAF_RATIOS) {
        for workload in [Workload::Small, Workload::Json] {
            let runs = |scenario| samples.get(&Cell { scenario, workload });
            let (Some(top), Some(bottom)) = (runs(numerator), runs(denominator)) else {
                continue;
            };
            let series = |runs: &[Sample], f: fn(&Sample) -> f64| -> Vec<f64> {
                runs.iter().map(f).collect()
            };
            let rps = |s: &Sample| s.load.requests_per_second;
            let p99 = |s: &Sample| s.load.p99_us;
            let (Some(throughput), Some(p99)) = (
                Spread::of(paired_ratios(&series(top, rps), &series(bottom, rps))),
                Spread::of(paired_ratios(&series(top, p99), &series(bottom, p99))),
            ) else {
                continue;
            };
            let added_cpu_us = Spread::of(top.iter().zip(bottom).filter_map(|(t, b)| {
                // CPU-s per 100k requests → µs per request: × 1e6 / 1e5.
                Some((t.proxy_cpu_per_100k()? - b.proxy_cpu_per_100k()?) * 10.0)
            }));
            ratios.push(RatioSummary {
                numerator,
                denominator,
                workload,
                throughput,
                p99,
                added_cpu_us,
            });
        }
    }
    ratios
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::harness::wrk::LoadResult;

    fn sample(rps: f64, cpu_ms: u64, handshakes: Option<Handshakes>) -> Sample {
        Sample {
            load: LoadResult {
                requests: (rps * 5.0) as u64,
                requests_per_second: rps,
                p50_us: 500.0,
                p99_us: 1000.0,
                ..LoadResult::default()
            },
            proxy_cpu: Some(Duration::from_millis(cpu_ms)),
            backend_cpu: Duration::from_millis(100),
            reloads: None,
            handshakes,
        }
    }

    #[test]
    fn the_handshake_ratio_pairs_https_with_plain_new_connections() {
        let per_run = Handshakes {
            tls12: 0,
            tls13: 10_000,
            failed: 2,
        };
        let mut samples = BTreeMap::new();
        for (scenario, rps, cpu_ms, handshakes) in [
            (Scenario::Close, 4000.0, 1000, None),
            (Scenario::TlsClose, 2000.0, 1000, Some(per_run)),
        ] {
            let cell = Cell {
                scenario,
                workload: Workload::Small,
            };
            let runs = vec![sample(rps, cpu_ms, handshakes); 2];
            samples.insert(cell, runs);
        }
        let ratios = ratios(&samples);
        assert_eq!(ratios.len(), 1);
        let ratio = &ratios[0];
        assert_eq!(ratio.label(), "9/8");
        assert_eq!(ratio.throughput.median, 0.5);
        // 1 s of CPU for 10,000 HTTPS requests (100 µs each) minus 1 s for 20,000 plain ones.
        let added = ratio.added_cpu_us.unwrap().median;
        assert!((added - 50.0).abs() < 1e-9, "{added}");

        let cells = cells(&samples);
        let tls = cells
            .iter()
            .find(|c| c.cell.scenario == Scenario::TlsClose)
            .unwrap();
        assert_eq!(tls.handshakes.unwrap().completed(), 20_000);
        assert_eq!(tls.handshakes.unwrap().failed, 4);
        assert!((tls.proxy_cpu_us().unwrap().median - 100.0).abs() < 1e-9);
        assert_eq!(cells[0].handshakes, None);
        assert_eq!(tls.vs_reference, None, "nginx did not run");
    }

    #[test]
    fn every_cell_is_compared_with_nginx_and_the_get_chain_with_the_gateway() {
        let mut samples = BTreeMap::new();
        for (scenario, rounds) in [
            (Scenario::Nginx, [(40_000.0, 400), (50_000.0, 500)]),
            (Scenario::Gateway, [(30_000.0, 600), (30_000.0, 600)]),
            (Scenario::Haproxy, [(44_000.0, 440), (45_000.0, 450)]),
            (Scenario::GetChain, [(24_000.0, 600), (21_000.0, 525)]),
        ] {
            let cell = Cell {
                scenario,
                workload: Workload::Small,
            };
            let runs = rounds.map(|(rps, cpu_ms)| sample(rps, cpu_ms, None));
            samples.insert(cell, runs.to_vec());
        }
        let cells = cells(&samples);
        let vs_nginx = |scenario| {
            cells
                .iter()
                .find(|c| c.cell.scenario == scenario)
                .and_then(|c| c.vs_reference)
                .unwrap()
        };
        assert_eq!(vs_nginx(Scenario::Nginx).median, 1.0);
        // Round 1: 44,000 / 40,000; round 2: 45,000 / 50,000.
        let haproxy = vs_nginx(Scenario::Haproxy);
        assert!((haproxy.min - 0.9).abs() < 1e-9 && (haproxy.max - 1.1).abs() < 1e-9);

        let ratios = ratios(&samples);
        let labels: Vec<_> = ratios.iter().map(RatioSummary::label).collect();
        assert_eq!(labels, ["3/2", "10/2", "11/3"]);
        let get_chain = &ratios[2];
        assert!((get_chain.throughput.median - 0.75).abs() < 1e-9);
        // Gateway: 600 ms for 150,000 requests = 4 µs each; the chain: 5 µs each.
        let added = get_chain.added_cpu_us.unwrap().median;
        assert!((added - 1.0).abs() < 1e-9, "{added}");
    }
}
