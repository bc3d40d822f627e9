//! A report built from made-up samples, for the report's tests.

use std::collections::BTreeMap;
use std::time::Duration;

use super::{ReferenceStatus, RunReport};
use crate::harness::machine::Machine;
use crate::harness::rounds::Sample;
use crate::harness::scenarios::{self, Cell, Scenario};
use crate::harness::summary;
use crate::harness::tls::Handshakes;
use crate::harness::wrk::{LoadResult, LoadSettings};

/// One 5-second run at `rps` with `proxy_cpu_ms` of proxy CPU and, over HTTPS, `tls13`
/// handshakes (one failed).
pub(super) fn sample(rps: f64, proxy_cpu_ms: u64, tls13: Option<u64>) -> Sample {
    Sample {
        load: LoadResult {
            requests: (rps * 5.0) as u64,
            requests_per_second: rps,
            p50_us: 2000.0,
            p99_us: 4000.0,
            ..LoadResult::default()
        },
        proxy_cpu: Some(Duration::from_millis(proxy_cpu_ms)),
        backend_cpu: Duration::from_millis(200),
        reloads: None,
        handshakes: tls13.map(|tls13| Handshakes {
            tls12: 0,
            tls13,
            failed: 1,
        }),
    }
}

/// The report of a run with `--only <chosen>` (all scenarios when empty) that measured
/// `samples`; nginx, haproxy and nginx with ModSecurity ran when they have samples.
pub(super) fn report(chosen: &[Scenario], samples: &BTreeMap<Cell, Vec<Sample>>) -> RunReport {
    let ran = |scenario, version: &str| {
        if samples.keys().any(|c| c.scenario == scenario) {
            ReferenceStatus::Ran {
                version: version.into(),
                workers: 2,
            }
        } else {
            ReferenceStatus::Skipped("not selected (--only)".into())
        }
    };
    RunReport {
        date: "2026-11-22".into(),
        smoke: false,
        scenarios: scenarios::selection(chosen),
        only: chosen.to_vec(),
        machine: Machine {
            cpus: 2,
            cpu_model: "test".into(),
            kernel: "6.0".into(),
            load_at_start: "1.00".into(),
            commit: "abc1234".into(),
            uncommitted: false,
        },
        load_at_end: "1.00".into(),
        elapsed: Duration::from_secs(200),
        load: LoadSettings {
            threads: 1,
            connections: 64,
            duration: Duration::from_secs(5),
        },
        wrk_version: "wrk 4.1.0".into(),
        rounds: 1,
        warm_up: Duration::ZERO,
        gateway_threads: 2,
        backend_threads: 2,
        nginx: ran(Scenario::Nginx, "nginx version: nginx/1.22.1"),
        haproxy: ran(Scenario::Haproxy, "HAProxy version 2.6.12"),
        modsecurity: ran(
            Scenario::NginxModsecurity,
            "nginx version: nginx/1.22.1, ModSecurity-nginx 1.0.3, libmodsecurity 3.0.9, \
             OWASP CRS 3.3.4",
        ),
        chain: Vec::new(),
        get_chain: Vec::new(),
        waf_chain: Vec::new(),
        cells: summary::cells(samples),
        ratios: summary::ratios(samples),
        memory: Err("skipped (--no-memory)".into()),
        gateway_problems: Vec::new(),
        start_rss: Vec::new(),
        micro: Err("skipped (--no-micro)".into()),
        chart: Err("not drawn".into()),
    }
}
