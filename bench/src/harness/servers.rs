//! Starting what the load goes through — the backend, nginx (with and without ModSecurity),
//! haproxy, one gateway per gateway scenario (scenarios 7 to 9 load scenario 3's) — and probing
//! every cell once before measuring, so a misconfigured chain (a 400 answered fast) can never
//! pass for a fast gateway, nor a WAF that inspects nothing for a fast WAF.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context as _, bail};

use super::backend::READY_PREFIX;
use super::children::{self, ChildProcess};
use super::configs::ConfigContext;
use super::gateway::GatewayProcess;
use super::haproxy::Haproxy;
use super::modsecurity::ModSecurity;
use super::net;
use super::nginx::Nginx;
use super::reload::ReloadTarget;
use super::rounds::Target;
use super::scenarios::{Cell, Scenario};
use super::tls::ServerCertificate;
use super::workload::{ATTACK, ORIGIN, Workload};
use super::wrk::{self, Endpoint, Scheme};

/// The backend process.
pub struct Backend {
    process: ChildProcess,
    /// Where it listens.
    pub address: SocketAddr,
}

impl Backend {
    /// Starts `harness backend` (this very executable) with `threads` worker threads.
    pub fn start(dir: &Path, threads: usize) -> anyhow::Result<Self> {
        let exe = std::env::current_exe().context("locating the harness executable")?;
        let log = dir.join("backend.log");
        let mut command = children::command(exe);
        command
            .args(["backend", "--threads", &threads.to_string()])
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&log)?)
            .stderr(Stdio::inherit());
        let mut process = ChildProcess::spawn("backend", command)?;
        let address =
            net::wait_for_line(&mut process, &log, READY_PREFIX, Duration::from_secs(10))?;
        Ok(Backend {
            process,
            address: address.parse().context("backend address")?,
        })
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }
}

/// The proxies under test, kept alive for all rounds.
pub struct Proxies {
    /// nginx, when it runs.
    pub nginx: Option<Nginx>,
    /// haproxy, when it runs.
    pub haproxy: Option<Haproxy>,
    /// nginx with ModSecurity and the CRS (scenario 13), when it runs.
    pub nginx_modsecurity: Option<Nginx>,
    /// One gateway per gateway scenario (keyed by scenarios 3 to 6, 11 and 12; scenarios 7 to
    /// 9 load scenario 3's).
    pub gateways: BTreeMap<Scenario, GatewayProcess>,
}

/// What the proxies are started with.
pub struct ProxySetup<'a> {
    /// `target/release/wasmgate`.
    pub gateway_binary: &'a Path,
    /// nginx, when scenario 2 runs.
    pub nginx_binary: Option<&'a Path>,
    /// haproxy, when scenario 10 runs.
    pub haproxy_binary: Option<&'a Path>,
    /// nginx, when scenario 13 runs (ModSecurity and the CRS are installed).
    pub modsecurity_nginx_binary: Option<&'a Path>,
    /// Where configs and logs go.
    pub dir: &'a Path,
    /// What the configs point at.
    pub context: &'a ConfigContext,
    /// Scenario 5's chain.
    pub chain_fragment: &'a str,
    /// Scenario 11's chain.
    pub get_chain_fragment: &'a str,
    /// Scenario 12's chain (the WAF alone).
    pub waf_fragment: &'a str,
    /// The certificate of scenario 3's HTTPS listener.
    pub certificate: &'a ServerCertificate,
    /// Worker threads (Tokio's, nginx's workers, haproxy's threads).
    pub threads: usize,
}

impl Proxies {
    /// Starts nginx, nginx with ModSecurity and haproxy (when their binaries are given) and the
    /// gateways `scenarios` load.
    pub fn start(setup: &ProxySetup<'_>, scenarios: &[Scenario]) -> anyhow::Result<Self> {
        let context = setup.context;
        let nginx = setup
            .nginx_binary
            .map(|binary| Nginx::start(binary, setup.dir, context.backend, setup.threads, None))
            .transpose()?;
        let nginx_modsecurity = setup
            .modsecurity_nginx_binary
            .map(|binary| {
                let waf = ModSecurity::find()
                    .context("ModSecurity or the OWASP CRS is no longer installed")?;
                eprintln!("starting nginx with ModSecurity and the OWASP CRS (scenario 13)");
                Nginx::start(
                    binary,
                    setup.dir,
                    context.backend,
                    setup.threads,
                    Some(&waf),
                )
            })
            .transpose()?;
        let haproxy = setup
            .haproxy_binary
            .map(|binary| Haproxy::start(binary, setup.dir, context.backend, setup.threads))
            .transpose()?;
        let mut gateways = BTreeMap::new();
        for (scenario, name, config) in [
            (
                Scenario::Gateway,
                "no-plugins",
                context.no_plugins(setup.certificate),
            ),
            (Scenario::Noop, "noop", context.noop_chain()),
            (
                Scenario::Chain,
                "realistic-chain",
                context.realistic_chain(setup.chain_fragment),
            ),
            (Scenario::Reload, "reloading", context.reloading(0)),
            (
                Scenario::GetChain,
                "get-chain",
                context.get_chain(setup.get_chain_fragment),
            ),
            (
                Scenario::Waf,
                "waf-only",
                context.waf_only(setup.waf_fragment),
            ),
            (Scenario::Pool, "pool", context.pool()),
        ] {
            if !scenarios.iter().any(|s| s.server() == scenario) {
                continue;
            }
            eprintln!("starting gateway `{name}` (scenario {})", scenario.number());
            let gateway = GatewayProcess::start(
                setup.gateway_binary,
                setup.dir,
                name,
                &config,
                setup.threads,
            )?;
            gateways.insert(scenario, gateway);
        }
        Ok(Proxies {
            nginx,
            haproxy,
            nginx_modsecurity,
            gateways,
        })
    }

    /// Where each of `scenarios` sends its load (nginx's and haproxy's scenarios are left out
    /// when they do not run).
    pub fn targets(
        &self,
        backend: &Backend,
        context: &ConfigContext,
        scenarios: &[Scenario],
    ) -> anyhow::Result<BTreeMap<Scenario, Target>> {
        let plain = |address, proxy_pids| Target {
            address,
            scheme: Scheme::Http,
            proxy_pids,
            reload: None,
            handshake_counter: None,
        };
        let mut targets = BTreeMap::new();
        for &scenario in scenarios {
            let target = match scenario {
                Scenario::Direct => plain(backend.address, Vec::new()),
                Scenario::Nginx => match &self.nginx {
                    Some(nginx) => plain(nginx.address, nginx.pids()),
                    None => continue,
                },
                Scenario::Haproxy => match &self.haproxy {
                    Some(haproxy) => plain(haproxy.address, haproxy.pids()),
                    None => continue,
                },
                Scenario::NginxModsecurity => match &self.nginx_modsecurity {
                    Some(nginx) => plain(nginx.address, nginx.pids()),
                    None => continue,
                },
                _ => {
                    let gateway = self.gateways.get(&scenario.server()).with_context(|| {
                        format!("no gateway for scenario {}", scenario.number())
                    })?;
                    let mut target = plain(gateway.address, vec![gateway.pid()]);
                    if scenario.scheme() == Scheme::Https {
                        target.address = gateway.tls_address.with_context(|| {
                            format!(
                                "the gateway of scenario {} serves no HTTPS; see {}",
                                scenario.number(),
                                gateway.log_path.display()
                            )
                        })?;
                        target.scheme = Scheme::Https;
                        target.handshake_counter = Some(gateway.admin);
                    }
                    if scenario == Scenario::Reload {
                        target.reload = Some(ReloadTarget::new(
                            gateway.config_path.clone(),
                            gateway.admin,
                            context.clone(),
                        ));
                    }
                    target
                }
            };
            targets.insert(scenario, target);
        }
        Ok(targets)
    }
}

/// Sends each cell's request once and checks the answer is the backend's 200 (and, for the
/// plugin chains, that the chain ran: see [`chain_evidence`]); to the WAF scenarios, also the
/// same request carrying an attack, which must be refused with a 403 (see
/// [`Workload::raw_attack`]).
///
/// Plain cells are probed with one request on a socket; HTTPS cells with a one-request wrk run
/// (the same TLS client as the load; a second each), whose script is written to `dir`.
pub fn probe(
    cells: &[Cell],
    targets: &BTreeMap<Scenario, Target>,
    dir: &Path,
) -> anyhow::Result<()> {
    for cell in cells {
        let target = &targets[&cell.scenario];
        let (status, head, body) = match target.scheme {
            Scheme::Http => {
                let response = net::exchange(
                    target.address,
                    &cell.workload.raw_request(&target.address.to_string(), true),
                )
                .with_context(|| format!("probing cell {}", cell.label()))?;
                (response.status, response.head, response.body)
            }
            Scheme::Https => {
                let endpoint = Endpoint {
                    scheme: target.scheme,
                    address: target.address,
                    connections: cell.scenario.connections(),
                };
                let path = cell.workload.path();
                let script = cell.workload.wrk_script();
                let probed = wrk::probe(endpoint, path, &script, dir)
                    .with_context(|| format!("probing cell {}", cell.label()))?;
                (probed.status, probed.head, probed.body)
            }
        };
        if status != 200 {
            bail!(
                "cell {} answered {status} instead of 200: {body}",
                cell.label()
            );
        }
        let missing = missing_evidence(cell.scenario, &head);
        if !missing.is_empty() {
            bail!(
                "cell {}: the chain of scenario {} did not run (no {} header):\n{head}",
                cell.label(),
                cell.scenario.number(),
                missing.join(" / ")
            );
        }
        if cell.scenario.has_waf() {
            probe_attack(*cell, target)?;
        }
    }
    Ok(())
}

/// Sends `cell`'s request with an attack in it (plain HTTP only) and checks it is refused.
fn probe_attack(cell: Cell, target: &Target) -> anyhow::Result<()> {
    let request = cell.workload.raw_attack(&target.address.to_string());
    let response = net::exchange(target.address, &request)
        .with_context(|| format!("probing cell {} with an attack", cell.label()))?;
    if response.status != 403 {
        bail!(
            "cell {}: the WAF of scenario {} let `{ATTACK}` through (answered {} instead of \
             403), so it does not inspect the request's {}",
            cell.label(),
            cell.scenario.number(),
            response.status,
            match cell.workload {
                Workload::Small => "query",
                Workload::Json => "JSON body",
            },
        );
    }
    Ok(())
}

/// The response headers (lower-case `name: value` prefixes) that prove a scenario's plugin
/// chain ran. Its 200 already proves the JWT authorizer accepted the token (it answers 401
/// otherwise); the rate limiter, the mapper, CORS and the headers plugin leave a header each.
pub fn chain_evidence(scenario: Scenario) -> Vec<String> {
    match scenario {
        Scenario::Chain => vec!["x-mapped: true".to_owned(), "ratelimit-limit:".to_owned()],
        Scenario::GetChain => vec![
            "ratelimit-limit:".to_owned(),
            format!("access-control-allow-origin: {ORIGIN}"),
            "x-served-by: wasmgate".to_owned(),
        ],
        _ => Vec::new(),
    }
}

/// The lines of [`chain_evidence`] missing from the response head `head`.
fn missing_evidence(scenario: Scenario, head: &str) -> Vec<String> {
    let lines: Vec<String> = head.lines().map(str::to_ascii_lowercase).collect();
    chain_evidence(scenario)
        .into_iter()
        .filter(|wanted| !lines.iter().any(|line| line.starts_with(wanted.as_str())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_get_chain_probe_wants_cors_rate_limit_and_headers_evidence() {
        let head = "HTTP/1.1 200 OK\r\ncontent-length: 13\r\nRateLimit-Limit: 1000000\r\n\
                    Access-Control-Allow-Origin: https://app.example.com\r\nvary: Origin\r\n\
                    x-served-by: wasmgate";
        assert!(missing_evidence(Scenario::GetChain, head).is_empty());
        let without_cors = head.replace("Access-Control-Allow-Origin", "x-other");
        assert_eq!(
            missing_evidence(Scenario::GetChain, &without_cors),
            ["access-control-allow-origin: https://app.example.com"]
        );
        assert!(missing_evidence(Scenario::Gateway, "HTTP/1.1 200 OK").is_empty());
        assert_eq!(missing_evidence(Scenario::Chain, head).len(), 1);
    }
}
