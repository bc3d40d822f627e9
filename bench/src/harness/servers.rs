//! Starting what the load goes through — the backend, nginx, one gateway per gateway scenario
//! (scenarios 7 to 9 load scenario 3's) — and probing every cell once before measuring, so a
//! misconfigured chain (a 400 answered fast) can never pass for a fast gateway.

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
use super::net;
use super::nginx::Nginx;
use super::reload::ReloadTarget;
use super::rounds::Target;
use super::scenarios::{Cell, Scenario};
use super::tls::ServerCertificate;
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
    /// One gateway per gateway scenario (keyed by scenarios 3 to 6; scenarios 7 to 9 load
    /// scenario 3's).
    pub gateways: BTreeMap<Scenario, GatewayProcess>,
}

/// What the proxies are started with.
pub struct ProxySetup<'a> {
    /// `target/release/wasmgate`.
    pub gateway_binary: &'a Path,
    /// nginx, when scenario 2 runs.
    pub nginx_binary: Option<&'a Path>,
    /// Where configs and logs go.
    pub dir: &'a Path,
    /// What the configs point at.
    pub context: &'a ConfigContext,
    /// Scenario 5's chain.
    pub chain_fragment: &'a str,
    /// The certificate of scenario 3's HTTPS listener.
    pub certificate: &'a ServerCertificate,
    /// Worker threads (Tokio's, nginx's workers).
    pub threads: usize,
}

impl Proxies {
    /// Starts nginx (when `setup.nginx_binary` is given) and the gateways `scenarios` load.
    pub fn start(setup: &ProxySetup<'_>, scenarios: &[Scenario]) -> anyhow::Result<Self> {
        let context = setup.context;
        let nginx = setup
            .nginx_binary
            .map(|binary| Nginx::start(binary, setup.dir, context.backend, setup.threads))
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
        Ok(Proxies { nginx, gateways })
    }

    /// Where each of `scenarios` sends its load (nginx's scenario is left out when nginx does
    /// not run).
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
/// realistic chain, that the chain ran: the mapper's and the API-key stand-in's headers).
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
        // A 200 means the JWT authorizer accepted the token (it answers 401 otherwise); the
        // rate limiter and the mapper leave their headers.
        let lower = head.to_ascii_lowercase();
        if cell.scenario == Scenario::Chain
            && !(lower.contains("x-mapped: true") && lower.contains("ratelimit-limit:"))
        {
            bail!(
                "cell {}: the realistic chain did not run (no x-mapped / ratelimit-limit \
                 header):\n{head}",
                cell.label()
            );
        }
    }
    Ok(())
}
