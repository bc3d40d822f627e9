//! The fourteen scenarios, the (scenario, workload) cells that are measured, the ratios the report
//! prints, and `--only`'s selection of scenarios.
//!
//! A scenario's number is its place in [`Scenario::ALL`]; scenarios added later go at the end,
//! so the numbers of earlier reports keep their meaning.

use super::workload::Workload;
use super::wrk::{Connections, Scheme};

/// One way of reaching the backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scenario {
    /// 1: straight to the backend — the ceiling.
    Direct,
    /// 2: nginx `proxy_pass` with upstream keep-alive.
    Nginx,
    /// 3: wasmgate, no plugins.
    Gateway,
    /// 4: wasmgate, the no-op plugin at every stage.
    Noop,
    /// 5: wasmgate, the realistic chain (WAF, JWT authorizer, rate limiter, validator, mapper).
    Chain,
    /// 6: scenario 3 while the config file is rewritten every 100 ms.
    Reload,
    /// 7: scenario 3's gateway over HTTPS, connections kept alive.
    Tls,
    /// 8: scenario 3's gateway over plain HTTP, a new connection per request.
    Close,
    /// 9: scenario 3's gateway over HTTPS, a new connection (and handshake) per request.
    TlsClose,
    /// 10: haproxy in HTTP mode with upstream keep-alive (`http-reuse always`).
    Haproxy,
    /// 11: wasmgate, the five-plugin GET chain (WAF, JWT authorizer, rate limiter, CORS,
    /// headers).
    GetChain,
    /// 12: wasmgate, the built-in WAF alone (anomaly mode, paranoia 1, blocking, bodies
    /// inspected) — our side of the peer-WAF comparison.
    Waf,
    /// 13: scenario 2's nginx plus ModSecurity 3 with the OWASP CRS (paranoia 1, blocking,
    /// request bodies inspected, response bodies not) — the peer WAF.
    NginxModsecurity,
    /// 14: scenario 3 with its upstream a pool of three targets (least request, retries,
    /// active health checks, outlier detection): what a pool costs over a single target.
    Pool,
}

impl Scenario {
    /// All scenarios, in report order.
    pub const ALL: [Scenario; 14] = [
        Scenario::Direct,
        Scenario::Nginx,
        Scenario::Gateway,
        Scenario::Noop,
        Scenario::Chain,
        Scenario::Reload,
        Scenario::Tls,
        Scenario::Close,
        Scenario::TlsClose,
        Scenario::Haproxy,
        Scenario::GetChain,
        Scenario::Waf,
        Scenario::NginxModsecurity,
        Scenario::Pool,
    ];

    /// Its number in the issue and the report (1 to 14).
    pub fn number(self) -> usize {
        Scenario::ALL
            .iter()
            .position(|s| *s == self)
            .map_or(0, |i| i + 1)
    }

    /// Its name on the command line (`--only tls,tls-close`).
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Direct => "direct",
            Scenario::Nginx => "nginx",
            Scenario::Gateway => "gateway",
            Scenario::Noop => "noop",
            Scenario::Chain => "chain",
            Scenario::Reload => "reload",
            Scenario::Tls => "tls",
            Scenario::Close => "close",
            Scenario::TlsClose => "tls-close",
            Scenario::Haproxy => "haproxy",
            Scenario::GetChain => "get-chain",
            Scenario::Waf => "waf",
            Scenario::NginxModsecurity => "nginx-modsecurity",
            Scenario::Pool => "pool",
        }
    }

    /// The scenario named `name` (see [`Scenario::name`]), or an error listing the names.
    pub fn from_name(name: &str) -> Result<Scenario, String> {
        Scenario::ALL
            .into_iter()
            .find(|s| s.name() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = Scenario::ALL.iter().map(|s| s.name()).collect();
                format!(
                    "no scenario `{name}`; the scenarios are {}",
                    names.join(", ")
                )
            })
    }

    /// A short title.
    pub fn title(self) -> &'static str {
        match self {
            Scenario::Direct => "direct to the backend",
            Scenario::Nginx => "nginx proxy_pass",
            Scenario::Gateway => "wasmgate, no plugins",
            Scenario::Noop => "wasmgate, no-op plugin at every stage",
            Scenario::Chain => "wasmgate, realistic chain",
            Scenario::Reload => "wasmgate, no plugins, reload every 100 ms",
            Scenario::Tls => "wasmgate, no plugins, HTTPS",
            Scenario::Close => "wasmgate, no plugins, new connection per request",
            Scenario::TlsClose => "wasmgate, no plugins, HTTPS, new connection per request",
            Scenario::Haproxy => "haproxy, HTTP mode",
            Scenario::GetChain => "wasmgate, five-plugin GET chain",
            Scenario::Waf => "wasmgate, WAF only",
            Scenario::NginxModsecurity => "nginx + ModSecurity 3 + OWASP CRS",
            Scenario::Pool => "wasmgate, no plugins, 3-target pool",
        }
    }

    /// The workloads it is measured with: the realistic chain validates a JSON body, so it
    /// runs `json` only; the GET chain is the cost of plugins on a `GET`, and the pool the
    /// cost of balancing, so they run `small` only; every other scenario runs both.
    pub fn workloads(self) -> &'static [Workload] {
        match self {
            Scenario::Chain => &[Workload::Json],
            Scenario::GetChain | Scenario::Pool => &[Workload::Small],
            _ => &[Workload::Small, Workload::Json],
        }
    }

    /// Whether a proxy process sits between wrk and the backend (its CPU is measured).
    pub fn has_proxy(self) -> bool {
        self != Scenario::Direct
    }

    /// Whether a WAF must refuse an attack sent to it: the probe checks it does, so a WAF that
    /// inspects nothing can never pass for a fast one.
    pub fn has_waf(self) -> bool {
        matches!(self, Scenario::Waf | Scenario::NginxModsecurity)
    }

    /// Whether wrk speaks HTTPS to it.
    pub fn scheme(self) -> Scheme {
        match self {
            Scenario::Tls | Scenario::TlsClose => Scheme::Https,
            _ => Scheme::Http,
        }
    }

    /// Whether wrk keeps its connections open or sends `Connection: close` on every request.
    pub fn connections(self) -> Connections {
        match self {
            Scenario::Close | Scenario::TlsClose => Connections::PerRequest,
            _ => Connections::KeepAlive,
        }
    }

    /// The scenario whose server it loads: scenario 3's gateway for 7 to 9 (on its plain or
    /// its HTTPS listener), its own for the others.
    pub fn server(self) -> Scenario {
        match self {
            Scenario::Tls | Scenario::Close | Scenario::TlsClose => Scenario::Gateway,
            _ => self,
        }
    }
}

/// One measured combination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cell {
    /// The scenario.
    pub scenario: Scenario,
    /// The request sent.
    pub workload: Workload,
}

impl Cell {
    /// `3/json`-style label.
    pub fn label(self) -> String {
        format!("{}/{}", self.scenario.number(), self.workload.name())
    }
}

/// The cells for `scenarios`, grouped by workload (all `small` cells first).
pub fn cells(scenarios: &[Scenario]) -> Vec<Cell> {
    let mut cells: Vec<Cell> = scenarios
        .iter()
        .flat_map(|&scenario| {
            scenario
                .workloads()
                .iter()
                .map(move |&workload| Cell { scenario, workload })
        })
        .collect();
    cells.sort_by_key(|c| (c.workload, c.scenario));
    cells
}

/// The ratios of the main table: numerator over denominator scenario, per workload both run.
pub const RATIOS: [(Scenario, Scenario); 8] = [
    (Scenario::Gateway, Scenario::Direct),
    (Scenario::Gateway, Scenario::Nginx),
    (Scenario::Haproxy, Scenario::Nginx),
    (Scenario::Noop, Scenario::Gateway),
    (Scenario::Chain, Scenario::Gateway),
    (Scenario::GetChain, Scenario::Gateway),
    (Scenario::Reload, Scenario::Gateway),
    (Scenario::Pool, Scenario::Gateway),
];

/// The peer-WAF comparison (the report's "Peer WAF" section): each WAF over its own proxy
/// without it (13/2: what ModSecurity and the CRS add to nginx; 12/3: what the WAF plugin adds
/// to the gateway), and the two proxies with their WAF (12/13).
pub const PEER_WAF_RATIOS: [(Scenario, Scenario); 3] = [
    (Scenario::NginxModsecurity, Scenario::Nginx),
    (Scenario::Waf, Scenario::Gateway),
    (Scenario::Waf, Scenario::NginxModsecurity),
];

/// The scenario every target's throughput is compared with in the report's first table.
pub const REFERENCE: Scenario = Scenario::Nginx;

/// The ratios of the TLS table: the same gateway over HTTPS and over plain HTTP, with
/// connections kept alive (7/3: the cost of encryption) and with a new connection per request
/// (9/8: the cost of a handshake).
pub const TLS_RATIOS: [(Scenario, Scenario); 2] = [
    (Scenario::Tls, Scenario::Gateway),
    (Scenario::TlsClose, Scenario::Close),
];

/// The scenarios to measure for `--only <chosen>`: the chosen ones plus the denominators of
/// their ratios, in report order; every scenario when `chosen` is empty. Either WAF scenario
/// brings the whole peer-WAF comparison (2, 3, 12 and 13): its table is read as a whole.
pub fn selection(chosen: &[Scenario]) -> Vec<Scenario> {
    if chosen.is_empty() {
        return Scenario::ALL.to_vec();
    }
    let peer_waf = chosen
        .iter()
        .any(|s| matches!(s, Scenario::Waf | Scenario::NginxModsecurity));
    Scenario::ALL
        .into_iter()
        .filter(|scenario| {
            chosen.contains(scenario)
                || RATIOS
                    .iter()
                    .chain(&TLS_RATIOS)
                    .any(|(top, bottom)| bottom == scenario && chosen.contains(top))
                || (peer_waf
                    && PEER_WAF_RATIOS
                        .iter()
                        .any(|(top, bottom)| top == scenario || bottom == scenario))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chains_and_the_pool_run_one_workload_each_and_everything_else_both() {
        let cells = cells(&Scenario::ALL);
        assert_eq!(cells.len(), 25);
        assert!(!cells.contains(&Cell {
            scenario: Scenario::Chain,
            workload: Workload::Small
        }));
        assert!(!cells.contains(&Cell {
            scenario: Scenario::GetChain,
            workload: Workload::Json
        }));
        assert_eq!(cells[0].label(), "1/small");
        assert_eq!(cells[9].label(), "11/small");
    }

    #[test]
    fn numbers_of_earlier_reports_keep_their_meaning() {
        let numbers: Vec<_> = [
            Scenario::Chain,
            Scenario::TlsClose,
            Scenario::Haproxy,
            Scenario::GetChain,
            Scenario::Waf,
            Scenario::NginxModsecurity,
            Scenario::Pool,
        ]
        .map(Scenario::number)
        .to_vec();
        assert_eq!(numbers, [5, 9, 10, 11, 12, 13, 14]);
    }

    #[test]
    fn tls_scenarios_speak_https_and_close_scenarios_reconnect() {
        let https: Vec<_> = Scenario::ALL
            .into_iter()
            .filter(|s| s.scheme() == Scheme::Https)
            .collect();
        let per_request: Vec<_> = Scenario::ALL
            .into_iter()
            .filter(|s| s.connections() == Connections::PerRequest)
            .collect();
        assert_eq!(https, [Scenario::Tls, Scenario::TlsClose]);
        assert_eq!(per_request, [Scenario::Close, Scenario::TlsClose]);
    }

    #[test]
    fn each_tls_ratio_compares_scenarios_that_differ_only_in_the_scheme() {
        for (tls, plain) in TLS_RATIOS {
            assert_eq!(
                (tls.scheme(), plain.scheme()),
                (Scheme::Https, Scheme::Http)
            );
            assert_eq!(tls.connections(), plain.connections());
            assert_eq!(
                (tls.server(), plain.server()),
                (Scenario::Gateway, Scenario::Gateway)
            );
        }
    }

    #[test]
    fn only_adds_the_denominators_of_the_chosen_scenarios() {
        let chosen = [Scenario::TlsClose, Scenario::Tls];
        assert_eq!(
            selection(&chosen),
            [
                Scenario::Gateway,
                Scenario::Tls,
                Scenario::Close,
                Scenario::TlsClose
            ]
        );
        assert_eq!(
            selection(&[Scenario::Chain]),
            [Scenario::Gateway, Scenario::Chain]
        );
        assert_eq!(
            selection(&[Scenario::Haproxy, Scenario::GetChain]),
            [
                Scenario::Nginx,
                Scenario::Gateway,
                Scenario::Haproxy,
                Scenario::GetChain
            ]
        );
        assert_eq!(selection(&[]), Scenario::ALL);
    }

    #[test]
    fn either_waf_brings_the_whole_peer_waf_comparison() {
        let comparison = [
            Scenario::Nginx,
            Scenario::Gateway,
            Scenario::Waf,
            Scenario::NginxModsecurity,
        ];
        assert_eq!(selection(&[Scenario::Waf]), comparison);
        assert_eq!(selection(&[Scenario::NginxModsecurity]), comparison);
        for (top, bottom) in PEER_WAF_RATIOS {
            assert_eq!(top.workloads(), bottom.workloads(), "the same requests");
        }
    }

    #[test]
    fn names_round_trip_and_unknown_names_list_the_choices() {
        for scenario in Scenario::ALL {
            assert_eq!(Scenario::from_name(scenario.name()), Ok(scenario));
        }
        let error = Scenario::from_name("https").unwrap_err();
        assert!(
            error.contains("tls, close, tls-close, haproxy, get-chain, waf, nginx-modsecurity"),
            "{error}"
        );
    }
}
