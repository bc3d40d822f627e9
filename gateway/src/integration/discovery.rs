//! An upstream's set of targets, and DNS discovery, which changes it.
//!
//! Without discovery an upstream's targets are its configured URLs, fixed for its life; a URL
//! that names a host is resolved by the system resolver at each connect. With
//! `dns_refresh_ms`, the host names are resolved every refresh (as Envoy's strict DNS
//! clusters do) and every address is a target of its own, connecting to that address while
//! requests keep the name in `Host` and TLS SNI. A new set replaces the old one atomically;
//! an address found again keeps its target — its connections, health and ejection state —
//! and a target whose address went away is dropped once the requests on it end. A failed
//! resolution keeps the current set: DNS trouble never takes targets away.

use std::collections::BTreeSet;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll};
use std::time::Duration;

use arc_swap::ArcSwap;
use http::Uri;
use hyper_util::client::legacy::connect::dns::{GaiResolver, Name};
use tokio::sync::watch;
use tower_service::Service;

use super::balance::Balancer;
use super::target::Target;
use super::upstream::HttpUpstream;
use crate::config::{Balance, UpstreamTarget};

/// How a target's connections find their address.
#[derive(Clone)]
pub(super) enum TargetResolver {
    /// The system resolver, at each connect (a configured URL).
    System(GaiResolver),
    /// This address, whatever the URL names (a target DNS discovery found).
    Pinned(IpAddr),
}

impl Service<Name> for TargetResolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = std::io::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        match self {
            TargetResolver::System(system) => system.poll_ready(cx),
            TargetResolver::Pinned(_) => Poll::Ready(Ok(())),
        }
    }

    fn call(&mut self, name: Name) -> Self::Future {
        match self {
            TargetResolver::System(system) => {
                let resolving = system.call(name);
                Box::pin(async move { Ok(resolving.await?.collect::<Vec<_>>().into_iter()) })
            }
            // The connector puts the URL's port on it.
            TargetResolver::Pinned(ip) => {
                let address = SocketAddr::new(*ip, 0);
                Box::pin(std::future::ready(Ok(vec![address].into_iter())))
            }
        }
    }
}

/// Where a target came from: a configured target, and the address discovery pinned it to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct TargetKey {
    /// Its index in the upstream's `targets`.
    pub(super) configured: usize,
    /// The address it connects to (`None`: the URL's host, resolved at each connect).
    pub(super) address: Option<IpAddr>,
}

/// The targets requests are spread over at one time, and the balancer built for them.
pub(super) struct TargetSet {
    pub(super) targets: Vec<Arc<Target>>,
    pub(super) keys: Vec<TargetKey>,
    pub(super) balancer: Balancer,
}

impl TargetSet {
    /// The set of `targets` (with their keys), balanced by `balance`.
    pub(super) fn new(balance: &Balance, entries: Vec<(TargetKey, Arc<Target>)>) -> Self {
        let weights: Vec<u32> = entries.iter().map(|(_, t)| t.weight).collect();
        let ids: Vec<String> = entries.iter().map(|(_, t)| t.label.clone()).collect();
        let (keys, targets) = entries.into_iter().unzip();
        TargetSet {
            balancer: Balancer::new(balance, &weights, &ids),
            targets,
            keys,
        }
    }
}

/// An upstream's targets: fixed, or replaced by DNS discovery.
pub(super) enum Targets {
    /// The configured targets, for the upstream's life.
    Fixed(TargetSet),
    /// The latest set discovery found.
    Discovered(ArcSwap<TargetSet>),
}

/// The target set one request works with, from start to end.
pub(super) enum CurrentTargets<'a> {
    Fixed(&'a TargetSet),
    Discovered(Arc<TargetSet>),
}

impl std::ops::Deref for CurrentTargets<'_> {
    type Target = TargetSet;

    fn deref(&self) -> &TargetSet {
        match self {
            CurrentTargets::Fixed(set) => set,
            CurrentTargets::Discovered(set) => set,
        }
    }
}

impl Targets {
    /// The current set (a fixed one costs no atomic operation).
    pub(super) fn current(&self) -> CurrentTargets<'_> {
        match self {
            Targets::Fixed(set) => CurrentTargets::Fixed(set),
            Targets::Discovered(set) => CurrentTargets::Discovered(set.load_full()),
        }
    }
}

/// The base URL `url` with its host replaced by `address` (a discovered target's label).
pub(super) fn with_address(url: &Uri, address: IpAddr) -> String {
    let scheme = url.scheme_str().unwrap_or("http");
    let port = port_of(url);
    let host = match address {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    };
    format!("{scheme}://{host}:{port}{}", url.path())
}

/// The keys of the set a resolution makes: every address of every resolved target, and the
/// configured targets not resolved (IP literals), in configuration order; `None` when a name
/// resolved to no address (the current set is kept).
pub(super) fn resolved_keys(
    targets: &[UpstreamTarget],
    resolved: &[Option<Vec<IpAddr>>],
) -> Option<Vec<TargetKey>> {
    let mut keys = Vec::new();
    for (configured, (_, addresses)) in targets.iter().zip(resolved).enumerate() {
        match addresses {
            None => keys.push(TargetKey {
                configured,
                address: None,
            }),
            Some(addresses) if addresses.is_empty() => return None,
            Some(addresses) => {
                let unique: BTreeSet<IpAddr> = addresses.iter().copied().collect();
                keys.extend(unique.into_iter().map(|address| TargetKey {
                    configured,
                    address: Some(address),
                }));
            }
        }
    }
    Some(keys)
}

/// The host a target URL names, when it is a name to resolve (not an IP literal).
pub(super) fn host_name(url: &Uri) -> Option<&str> {
    let host = url.host()?;
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.parse::<IpAddr>().is_err().then_some(bare)
}

/// The port a target URL connects to: its own, else its scheme's.
fn port_of(url: &Uri) -> u16 {
    url.port_u16().unwrap_or(match url.scheme_str() {
        Some("https") => 443,
        _ => 80,
    })
}

/// Resolves `host` (port `port`) with the system resolver: its addresses, `None` on failure.
async fn resolve(host: &str, port: u16) -> Option<Vec<IpAddr>> {
    match tokio::net::lookup_host((host, port)).await {
        Ok(addresses) => Some(addresses.map(|a| a.ip()).collect()),
        Err(error) => {
            tracing::warn!(%host, %error, "cannot resolve an upstream target's host name");
            None
        }
    }
}

/// Resolves the upstream's names now and then every `refresh`, replacing its target set when
/// the addresses change, until the upstream is dropped (`stop` closes).
pub(super) async fn discover_while_alive(
    upstream: Weak<HttpUpstream>,
    refresh: Duration,
    mut stop: watch::Receiver<()>,
) {
    let mut tick = tokio::time::interval(refresh);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        let Some(configured) = upstream.upgrade().map(|u| u.definition().targets.clone()) else {
            return;
        };
        let mut resolved = Vec::with_capacity(configured.len());
        let mut failed = false;
        for target in &configured {
            let Some(host) = host_name(&target.url) else {
                resolved.push(None);
                continue;
            };
            let addresses = resolve(host, port_of(&target.url)).await;
            failed |= addresses.is_none();
            resolved.push(Some(addresses.unwrap_or_default()));
        }
        let Some(upstream) = upstream.upgrade() else {
            return;
        };
        match resolved_keys(&configured, &resolved).filter(|_| !failed) {
            Some(keys) => upstream.rediscovered(keys),
            None => upstream.count_discovery_failure(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(url: &str) -> UpstreamTarget {
        UpstreamTarget {
            url: url.parse().unwrap(),
            weight: 1,
        }
    }

    #[test]
    fn every_address_of_a_name_is_a_target_and_literals_stay_as_they_are() {
        let targets = [
            target("http://orders.internal:8080"),
            target("http://10.0.0.9:80"),
        ];
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.2".parse().unwrap(), "::1".parse().unwrap());
        let keys = resolved_keys(&targets, &[Some(vec![b, a, a]), None]).unwrap();
        let key = |configured, address| TargetKey {
            configured,
            address,
        };
        assert_eq!(keys, [key(0, Some(a)), key(0, Some(b)), key(1, None)]);
        assert_eq!(resolved_keys(&targets, &[Some(vec![]), None]), None);
    }

    #[test]
    fn an_address_found_again_keeps_its_target_and_a_new_one_gets_its_own() {
        let mut definition = super::super::test_upstream("found", "http://orders.internal:8080");
        definition.dns_refresh = Some(Duration::from_secs(5));
        let upstream = HttpUpstream::new(&definition);
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let key = |address| TargetKey {
            configured: 0,
            address: Some(address),
        };
        let labels = || {
            let set = upstream.targets.current();
            let labels: Vec<String> = set.targets.iter().map(|t| t.label.clone()).collect();
            (labels, set.targets.first().cloned())
        };
        upstream.rediscovered(vec![key(a)]);
        let (found, first) = labels();
        assert_eq!(found, ["http://10.0.0.1:8080/"]);
        upstream.rediscovered(vec![key(a), key(b)]);
        let (found, again) = labels();
        assert_eq!(found, ["http://10.0.0.1:8080/", "http://10.0.0.2:8080/"]);
        assert!(
            Arc::ptr_eq(&first.unwrap(), &again.unwrap()),
            "kept, with its state"
        );
        upstream.rediscovered(vec![key(b)]);
        assert_eq!(labels().0, ["http://10.0.0.2:8080/"]);
    }

    #[test]
    fn a_discovered_target_is_labelled_with_its_address() {
        let url: Uri = "https://orders.internal/api".parse().unwrap();
        assert_eq!(
            with_address(&url, "10.0.0.2".parse().unwrap()),
            "https://10.0.0.2:443/api"
        );
        let url: Uri = "http://orders.internal:8080/".parse().unwrap();
        assert_eq!(
            with_address(&url, "::1".parse().unwrap()),
            "http://[::1]:8080/"
        );
        assert_eq!(host_name(&url), Some("orders.internal"));
        assert_eq!(host_name(&"http://[::1]:80".parse().unwrap()), None);
        assert_eq!(host_name(&"http://10.0.0.1".parse().unwrap()), None);
    }
}
