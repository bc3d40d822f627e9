//! The load-test harness behind `cargo run --release -p wasmgate-bench --bin harness` (and
//! `bench/run`): wrk against the backend alone, nginx, haproxy and wasmgate in fourteen scenarios
//! (three of them over HTTPS or with a new connection per request; two comparing the gateway's
//! WAF with nginx + ModSecurity + the OWASP CRS), measured in interleaved rounds on loopback,
//! reported as medians, round-paired ratios and proxy CPU per request, plus memory and the
//! criterion micro-benchmarks.
//!
//! ```text
//! build ─► backend ─► certificate ─► nginx (± ModSecurity) + haproxy + 6 gateways ─► probe each
//!       cell (and attack each WAF) ─► warm-up
//!       ─► rounds × cells (wrk) ─► memory (idle RSS, idle connections) ─► cargo bench
//!       ─► report.md + chart.png
//! ```
//!
//! Every child process runs in its own process group and is killed when the harness ends,
//! panics or is interrupted ([`children`]).

pub mod backend;
pub mod chart;
pub mod children;
pub mod configs;
pub mod gateway;
pub mod haproxy;
pub mod machine;
pub mod memory;
pub mod micro;
pub mod modsecurity;
pub mod net;
pub mod nginx;
pub mod options;
pub mod procfs;
pub mod reference;
pub mod reload;
pub mod report;
pub mod rounds;
pub mod scenarios;
pub mod servers;
pub mod stats;
pub mod suite;
pub mod summary;
pub mod targets;
pub mod tls;
pub mod workload;
pub mod wrk;
