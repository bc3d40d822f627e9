//! What the HTTPS scenarios (7 and 9) need besides wrk: a throwaway certificate for the HTTPS
//! listener of scenario 3's gateway, and the gateway's own count of the TLS handshakes it
//! completed and failed (from `/metrics` on its admin listener), which shows how often wrk
//! really handshook and which protocol it negotiated.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use wasmgate::metrics::{TLS_HANDSHAKE_FAILURES_TOTAL, TLS_HANDSHAKES_TOTAL};

use super::net;

/// A server certificate and its key, as PEM files.
#[derive(Debug, Clone)]
pub struct ServerCertificate {
    /// The certificate chain.
    pub cert: PathBuf,
    /// Its private key.
    pub key: PathBuf,
}

/// Writes what `wasmgate dev-cert` writes — a throwaway CA and an ECDSA P-256 certificate for
/// `localhost` and `127.0.0.1` signed by it — into `dir`.
pub fn write_certificate(dir: &Path) -> anyhow::Result<ServerCertificate> {
    let names = ["localhost".to_owned(), "127.0.0.1".to_owned()];
    let files = wasmgate::tls::write_dev_certificates(dir, &names, None)
        .map_err(anyhow::Error::msg)
        .with_context(|| format!("writing a test certificate into {}", dir.display()))?;
    let (cert, key) = files.server;
    Ok(ServerCertificate { cert, key })
}

/// TLS handshakes the gateway counted, over all its listeners.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Handshakes {
    /// Completed with TLS 1.2.
    pub tls12: u64,
    /// Completed with TLS 1.3.
    pub tls13: u64,
    /// Failed, for any reason (a client that goes away mid-handshake counts too).
    pub failed: u64,
}

impl Handshakes {
    /// The gateway's counters now, from `GET /metrics` on its admin listener.
    pub fn read(admin: SocketAddr) -> anyhow::Result<Handshakes> {
        let response = net::get(admin, "/metrics")?;
        Ok(Handshakes::parse(&response.body))
    }

    /// The counters in Prometheus text; absent series count as zero.
    pub fn parse(metrics: &str) -> Handshakes {
        let mut handshakes = Handshakes::default();
        for line in metrics.lines().filter(|line| !line.starts_with('#')) {
            let Some((series, value)) = line.rsplit_once(' ') else {
                continue;
            };
            let Ok(value) = value.parse::<f64>() else {
                continue;
            };
            let value = value as u64;
            let name = series.split('{').next().unwrap_or(series);
            if name == TLS_HANDSHAKE_FAILURES_TOTAL {
                handshakes.failed += value;
            } else if name == TLS_HANDSHAKES_TOTAL {
                if series.contains("protocol=\"TLSv1.2\"") {
                    handshakes.tls12 += value;
                } else {
                    handshakes.tls13 += value;
                }
            }
        }
        handshakes
    }

    /// Handshakes completed, both protocols.
    pub fn completed(self) -> u64 {
        self.tls12 + self.tls13
    }

    /// What was counted between `earlier` and `self`.
    pub fn since(self, earlier: Handshakes) -> Handshakes {
        Handshakes {
            tls12: self.tls12.saturating_sub(earlier.tls12),
            tls13: self.tls13.saturating_sub(earlier.tls13),
            failed: self.failed.saturating_sub(earlier.failed),
        }
    }

    /// The sum of both.
    pub fn plus(self, other: Handshakes) -> Handshakes {
        Handshakes {
            tls12: self.tls12 + other.tls12,
            tls13: self.tls13 + other.tls13,
            failed: self.failed + other.failed,
        }
    }

    /// `TLSv1.3`, `TLSv1.2`, `TLSv1.2 and TLSv1.3`, or `none` — what the handshakes negotiated.
    pub fn protocols(self) -> &'static str {
        match (self.tls12 > 0, self.tls13 > 0) {
            (false, false) => "none",
            (true, false) => "TLSv1.2",
            (false, true) => "TLSv1.3",
            (true, true) => "TLSv1.2 and TLSv1.3",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const METRICS: &str = "\
# TYPE wasmgate_tls_handshakes_total counter
wasmgate_tls_handshakes_total{listener=\"bench-tls\",protocol=\"TLSv1.3\"} 1200
wasmgate_tls_handshakes_total{listener=\"bench-tls\",protocol=\"TLSv1.2\"} 3
# TYPE wasmgate_tls_handshake_failures_total counter
wasmgate_tls_handshake_failures_total{listener=\"bench-tls\",reason=\"error\"} 4
wasmgate_tls_handshake_failures_total{listener=\"bench-tls\",reason=\"timeout\"} 1
wasmgate_active_connections 64
";

    #[test]
    fn counts_handshakes_by_protocol_and_failures_over_every_reason() {
        let handshakes = Handshakes::parse(METRICS);
        assert_eq!(
            handshakes,
            Handshakes {
                tls12: 3,
                tls13: 1200,
                failed: 5
            }
        );
        assert_eq!(handshakes.completed(), 1203);
        assert_eq!(handshakes.protocols(), "TLSv1.2 and TLSv1.3");
    }

    #[test]
    fn a_gateway_without_handshakes_yet_counts_zero() {
        let handshakes = Handshakes::parse("wasmgate_active_connections 0\n");
        assert_eq!(handshakes, Handshakes::default());
        assert_eq!(handshakes.protocols(), "none");
    }

    #[test]
    fn counts_between_two_readings() {
        let before = Handshakes {
            tls12: 0,
            tls13: 100,
            failed: 1,
        };
        let after = Handshakes {
            tls12: 0,
            tls13: 350,
            failed: 1,
        };
        let run = after.since(before);
        assert_eq!((run.completed(), run.failed), (250, 0));
        assert_eq!(run.plus(run).tls13, 500);
    }
}
