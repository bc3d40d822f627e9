//! Starting what the load goes through — the backend, nginx, one gateway per gateway scenario —
//! and probing every cell once before measuring, so a misconfigured chain (a 400 answered fast)
//! can never pass for a fast gateway.

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
    /// One gateway per gateway scenario.
    pub gateways: BTreeMap<Scenario, GatewayProcess>,
}

impl Proxies {
    /// Starts nginx (when `nginx_binary` is given) and the gateways of scenarios 3 to 6.
    pub fn start(
        gateway_binary: &Path,
        nginx_binary: Option<&Path>,
        dir: &Path,
        context: &ConfigContext,
        chain_fragment: &str,
        threads: usize,
    ) -> anyhow::Result<Self> {
        let nginx = nginx_binary
            .map(|binary| Nginx::start(binary, dir, context.backend, threads))
            .transpose()?;
        let mut gateways = BTreeMap::new();
        for (scenario, name, config) in [
            (Scenario::Gateway, "no-plugins", context.no_plugins()),
            (Scenario::Noop, "noop", context.noop_chain()),
            (
                Scenario::Chain,
                "realistic-chain",
                context.realistic_chain(chain_fragment),
            ),
            (Scenario::Reload, "reloading", context.reloading(0)),
        ] {
            eprintln!("starting gateway `{name}` (scenario {})", scenario.number());
            let gateway = GatewayProcess::start(gateway_binary, dir, name, &config, threads)?;
            gateways.insert(scenario, gateway);
        }
        Ok(Proxies { nginx, gateways })
    }

    /// Where each scenario's load goes.
    pub fn targets(
        &self,
        backend: &Backend,
        context: &ConfigContext,
    ) -> BTreeMap<Scenario, Target> {
        let mut targets = BTreeMap::new();
        targets.insert(
            Scenario::Direct,
            Target {
                address: backend.address,
                proxy_pids: Vec::new(),
                reload: None,
            },
        );
        if let Some(nginx) = &self.nginx {
            targets.insert(
                Scenario::Nginx,
                Target {
                    address: nginx.address,
                    proxy_pids: nginx.pids(),
                    reload: None,
                },
            );
        }
        for (scenario, gateway) in &self.gateways {
            let reload = (*scenario == Scenario::Reload).then(|| {
                ReloadTarget::new(gateway.config_path.clone(), gateway.admin, context.clone())
            });
            targets.insert(
                *scenario,
                Target {
                    address: gateway.address,
                    proxy_pids: vec![gateway.pid()],
                    reload,
                },
            );
        }
        targets
    }
}

/// Sends each cell's request once and checks the answer is the backend's 200 (and, for the
/// realistic chain, that the chain ran: the mapper's and the API-key stand-in's headers).
pub fn probe(cells: &[Cell], targets: &BTreeMap<Scenario, Target>) -> anyhow::Result<()> {
    for cell in cells {
        let target = &targets[&cell.scenario];
        let response = net::exchange(
            target.address,
            &cell.workload.raw_request(&target.address.to_string(), true),
        )
        .with_context(|| format!("probing cell {}", cell.label()))?;
        if response.status != 200 {
            bail!(
                "cell {} answered {} instead of 200: {}",
                cell.label(),
                response.status,
                response.body
            );
        }
        // A 200 means the JWT authorizer accepted the token (it answers 401 otherwise); the
        // rate limiter and the mapper leave their headers.
        let head = response.head.to_ascii_lowercase();
        if cell.scenario == Scenario::Chain
            && !(head.contains("x-mapped: true") && head.contains("ratelimit-limit:"))
        {
            bail!(
                "cell {}: the realistic chain did not run (no x-mapped / ratelimit-limit \
                 header):\n{}",
                cell.label(),
                response.head
            );
        }
    }
    Ok(())
}
