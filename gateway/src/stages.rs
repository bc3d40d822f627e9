//! Which deployment serves a request, before it is routed: a custom domain's base path is
//! stripped, then the request is assigned to the stage whose hosts and base path take it (the
//! most specific one), and a stage with a canary sends a share of its requests to the canary's
//! deployment. The path left over is what the routes are matched against.
//!
//! Also the stages' per-route request throttles (token buckets, GCRA).

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use http::HeaderMap;
use metrics::Counter;

use crate::config::{Config, DomainMount, StageDef, Throttle, TrafficSplit};
use crate::integration::picks_canary;
use crate::metrics::STAGE_CANARY_REQUESTS_TOTAL;
use crate::routing::normalize_host;

/// The deployment a request was assigned to, and its path without the base paths.
#[derive(Debug, PartialEq, Eq)]
pub struct Assigned<'p> {
    /// Index into the config's deployments ([`Config::deployments`]).
    pub deployment: usize,
    /// The path routes are matched against (`/` when nothing is left).
    pub path: &'p str,
}

/// Stage selection for one config: `None` in a snapshot whose config has neither stages nor
/// domains (every request is deployment 0, its path unchanged).
pub struct StageSelector {
    domains: Vec<DomainMount>,
    stages: Vec<StageChoice>,
    /// Whether some stage or domain names a host (else the host is not looked at).
    names_hosts: bool,
}

/// One stage's selection.
struct StageChoice {
    hosts: Vec<String>,
    base_path: Option<String>,
    deployment: usize,
    canary: Option<CanaryChoice>,
}

/// A stage's canary: its split and deployment, and the requests sent to each side.
struct CanaryChoice {
    split: TrafficSplit,
    deployment: usize,
    to_canary: Counter,
    to_primary: Counter,
}

impl StageSelector {
    /// The selector of `config`, `None` when it has neither stages nor domains.
    pub fn new(config: &Config) -> Option<Self> {
        if config.stages.is_empty() && config.domains.is_empty() {
            return None;
        }
        let deployments = config.deployments();
        let stages = config
            .stages
            .iter()
            .enumerate()
            .map(|(index, stage)| StageChoice {
                hosts: stage.hosts.clone(),
                base_path: stage.base_path.clone(),
                deployment: index,
                canary: stage.canary.as_ref().map(|canary| {
                    let deployment = deployments
                        .iter()
                        .position(|d| d.canary && d.stage.is_some_and(|s| s.name == stage.name))
                        .expect("a stage canary has a deployment");
                    CanaryChoice {
                        split: canary.split.clone(),
                        deployment,
                        to_canary: canary_counter(stage, "true"),
                        to_primary: canary_counter(stage, "false"),
                    }
                }),
            })
            .collect();
        let names_hosts =
            !config.domains.is_empty() || config.stages.iter().any(|stage| !stage.hosts.is_empty());
        Some(StageSelector {
            domains: config.domains.clone(),
            stages,
            names_hosts,
        })
    }

    /// The deployment of a request for `host` (the `Host` header or `:authority`) and
    /// `path`; `None` when a domain's base path or every stage refuses it (404).
    pub fn assign<'p>(
        &self,
        host: Option<&[u8]>,
        path: &'p str,
        headers: &HeaderMap,
        client_ip: &[u8],
    ) -> Option<Assigned<'p>> {
        let host = host.filter(|_| self.names_hosts).and_then(normalize_host);
        let host = host.as_deref();
        let mut path = path;
        if let Some(domain) = host.and_then(|host| self.domain_of(host)) {
            path = strip_base_path(path, &domain.base_path)?;
        }
        if self.stages.is_empty() {
            return Some(Assigned {
                deployment: 0,
                path,
            });
        }
        let (stage, rest) = self
            .stages
            .iter()
            .filter_map(|stage| {
                let host_rank = host_rank(&stage.hosts, host)?;
                let rest = match &stage.base_path {
                    Some(base) => strip_base_path(path, base)?,
                    None => path,
                };
                let base_rank = stage.base_path.as_ref().map_or(0, String::len);
                Some(((host_rank, base_rank), stage, rest))
            })
            .max_by_key(|(rank, _, _)| *rank)
            .map(|(_, stage, rest)| (stage, rest))?;
        let deployment = match &stage.canary {
            Some(canary) if picks_canary(&canary.split, headers, client_ip) => {
                canary.to_canary.increment(1);
                canary.deployment
            }
            Some(canary) => {
                canary.to_primary.increment(1);
                stage.deployment
            }
            None => stage.deployment,
        };
        Some(Assigned {
            deployment,
            path: rest,
        })
    }

    /// The domain `host` is: its exact name, else the longest wildcard that covers it.
    fn domain_of(&self, host: &str) -> Option<&DomainMount> {
        self.domains.iter().find(|d| d.host == host).or_else(|| {
            self.domains
                .iter()
                .filter(|d| covers(&d.host, host))
                .max_by_key(|d| d.host.len())
        })
    }
}

fn canary_counter(stage: &StageDef, canary: &'static str) -> Counter {
    metrics::counter!(STAGE_CANARY_REQUESTS_TOTAL, "stage" => stage.name.clone(), "canary" => canary)
}

/// How well a stage's `hosts` take `host`: an exact name beats a wildcard (the longer the
/// better), which beats a stage for any host; `None` when they don't take it.
fn host_rank(hosts: &[String], host: Option<&str>) -> Option<usize> {
    if hosts.is_empty() {
        return Some(0);
    }
    let host = host?;
    hosts
        .iter()
        .filter_map(|pattern| {
            if pattern == host {
                Some(usize::MAX)
            } else if covers(pattern, host) {
                Some(pattern.len())
            } else {
                None
            }
        })
        .max()
}

/// Whether the wildcard `pattern` (`*.example.com`) covers `host` (any depth of subdomain).
fn covers(pattern: &str, host: &str) -> bool {
    pattern
        .strip_prefix('*')
        .is_some_and(|suffix| host.len() > suffix.len() && host.ends_with(suffix))
}

/// `path` without the base path `base` (`/` when nothing is left); `None` when it is not
/// under it (`/prodx` is not under `/prod`).
fn strip_base_path<'p>(path: &'p str, base: &str) -> Option<&'p str> {
    let rest = path.strip_prefix(base)?;
    match rest.as_bytes().first() {
        None => Some("/"),
        Some(b'/') => Some(rest),
        Some(_) => None,
    }
}

/// A route's request throttle in one stage: a token bucket shared by the stage's canary.
pub struct RouteThrottle {
    limit: Throttle,
    limiter: RateLimiter<NotKeyed, InMemoryState, DefaultClock>,
    clock: DefaultClock,
}

impl RouteThrottle {
    /// A full bucket of `throttle.burst` requests, refilled at `throttle.rate_per_second`.
    pub fn new(throttle: Throttle) -> Self {
        let rate = NonZeroU32::new(throttle.rate_per_second).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(throttle.burst).unwrap_or(NonZeroU32::MIN);
        RouteThrottle {
            limit: throttle,
            limiter: RateLimiter::direct(Quota::per_second(rate).allow_burst(burst)),
            clock: DefaultClock::default(),
        }
    }

    /// The limit it enforces.
    pub fn limit(&self) -> Throttle {
        self.limit
    }

    /// Takes a request from the bucket; when it is empty, how long until one is back.
    pub fn admit(&self) -> Result<(), Duration> {
        self.limiter
            .check()
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_paths_are_whole_segments() {
        assert_eq!(strip_base_path("/prod/orders", "/prod"), Some("/orders"));
        assert_eq!(strip_base_path("/prod", "/prod"), Some("/"));
        assert_eq!(strip_base_path("/prod/", "/prod"), Some("/"));
        assert_eq!(strip_base_path("/production", "/prod"), None);
        assert_eq!(strip_base_path("/dev/orders", "/prod"), None);
    }

    #[test]
    fn an_exact_host_beats_a_wildcard_which_beats_any_host() {
        let exact = vec!["api.example.com".to_owned()];
        let wildcard = vec!["*.example.com".to_owned()];
        let host = Some("api.example.com");
        assert!(host_rank(&exact, host) > host_rank(&wildcard, host));
        assert!(host_rank(&wildcard, host) > host_rank(&[], host));
        assert_eq!(host_rank(&wildcard, Some("example.com")), None);
        assert_eq!(host_rank(&exact, None), None);
    }

    #[test]
    fn a_throttle_lets_its_burst_through_then_says_when_to_come_back() {
        let throttle = RouteThrottle::new(Throttle {
            rate_per_second: 1,
            burst: 3,
        });
        assert!((0..3).all(|_| throttle.admit().is_ok()));
        let wait = throttle.admit().expect_err("the bucket is empty");
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(1),
            "{wait:?}"
        );
    }
}
