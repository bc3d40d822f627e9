//! `[upstreams.<name>]`: named backends and their URLs.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use toml::Spanned;

use super::super::de::toml_key;
use super::super::model::{
    ConnectionLimits, Deployment, Upstream, UpstreamProtocol, UpstreamTarget, staged_name,
};
use super::super::surface::{Protocol, UpstreamSection};
use super::Checker;
use super::stages::{reads_stage_variables, substitute};

impl Checker<'_> {
    /// `[upstreams]`, and the names of those whose target URLs read stage variables: each of
    /// these is checked once per deployment and kept as one instance per deployment (named
    /// [`staged_name`]) and, for the routes' checks, under its own name with the first
    /// deployment's values.
    pub(super) fn upstreams(
        &mut self,
        sections: &BTreeMap<String, Spanned<UpstreamSection>>,
        deployments: &[Deployment<'_>],
    ) -> (
        BTreeMap<String, Upstream>,
        BTreeSet<String>,
        BTreeMap<String, String>,
    ) {
        let mut upstreams = BTreeMap::new();
        let mut staged = BTreeSet::new();
        let mut shared = BTreeMap::new();
        let unstaged = Deployment {
            name: None,
            stage: None,
            canary: false,
            variables: None,
        };
        for (name, section) in sections {
            if name.contains('@') {
                // `NAME@STAGE` names the instances of staged upstreams.
                let key = format!("upstreams.{}", toml_key(name));
                let message = format!("invalid upstream name `{name}`");
                let help = "upstream names cannot hold `@`: it separates a staged upstream's \
                            name from its stage's";
                self.error(section.span(), &key, message, Some(help.into()));
            }
            if !reads_stage_variables_in(section.get_ref()) {
                upstreams.insert(name.clone(), self.upstream(name, section, &unstaged));
                continue;
            }
            staged.insert(name.clone());
            for deployment in deployments {
                let mut upstream = self.upstream(name, section, deployment);
                if !upstreams.contains_key(name) {
                    upstreams.insert(name.clone(), upstream.clone());
                }
                let Some(deployment_name) = &deployment.name else {
                    continue;
                };
                upstream.name = staged_name(name, deployment_name);
                // A canary whose variables leave the upstream as its stage has it shares the
                // stage's pool (one set of limits for both sides).
                let same = |stage: &Upstream| {
                    let renamed = Upstream {
                        name: upstream.name.clone(),
                        ..stage.clone()
                    };
                    renamed == upstream
                };
                let stage_instance = deployment
                    .stage
                    .filter(|_| deployment.canary)
                    .map(|stage| staged_name(name, &stage.name))
                    .filter(|stage| upstreams.get(stage).is_some_and(same));
                if let Some(stage_instance) = stage_instance {
                    shared.insert(upstream.name, stage_instance);
                    continue;
                }
                upstreams.insert(upstream.name.clone(), upstream);
            }
        }
        (upstreams, staged, shared)
    }

    /// One `[upstreams.<name>]`, its URLs read with `deployment`'s stage variables.
    fn upstream(
        &mut self,
        name: &str,
        section: &Spanned<UpstreamSection>,
        deployment: &Deployment<'_>,
    ) -> Upstream {
        let prefix = format!("upstreams.{}", toml_key(name));
        let s = section.get_ref();
        let targets = self.targets(s, section.span(), &prefix, deployment);
        let connect = self.number(
            &s.connect_timeout_ms,
            &format!("{prefix}.connect_timeout_ms"),
            1000,
            1..=600_000,
        );
        let timeout = self.number(
            &s.timeout_ms,
            &format!("{prefix}.timeout_ms"),
            29_000,
            1..=3_600_000,
        );
        let https = targets
            .first()
            .is_some_and(|t| t.url.scheme_str() == Some("https"));
        let tls = if https {
            self.upstream_tls(&prefix, s.tls.as_ref(), section.span())
        } else {
            if let Some(table) = &s.tls {
                let message = "`tls` settings on an `http` upstream".to_owned();
                let help = "use `https://` URLs, or remove the `tls` table";
                self.error(
                    table.span(),
                    &format!("{prefix}.tls"),
                    message,
                    Some(help.into()),
                );
            }
            None
        };
        let max_requests = s.max_requests.as_ref().map(|_| {
            let key = format!("{prefix}.max_requests");
            self.number(&s.max_requests, &key, 1024, 1..=1_000_000) as u32
        });
        let max_connections = self.connection_limits(s, &prefix);
        let protocol = self.protocol(s, https, &prefix);
        let balance = self.balance(s, &prefix);
        let retries = s
            .retries
            .as_ref()
            .map(|r| self.retry_policy(r, &format!("{prefix}.retries")));
        if let (Some(policy), Some(table)) = (&retries, &s.retries)
            && policy.per_try_timeout >= Some(Duration::from_millis(timeout))
        {
            let key = format!("{prefix}.retries.per_try_timeout_ms");
            let message = format!(
                "`per_try_timeout_ms` is not below the upstream's `timeout_ms = {timeout}`"
            );
            let help = "a try must end before the whole call does, or no retry has time";
            let span = table
                .get_ref()
                .per_try_timeout_ms
                .as_ref()
                .map(Spanned::span);
            self.error(
                span.unwrap_or(table.span()),
                &key,
                message,
                Some(help.into()),
            );
        }
        let retry_budget = self.retry_budget(s.retry_budget.as_ref(), &prefix);
        let dns_refresh = self.dns_refresh(s, &targets, &prefix);
        let health_check = s
            .health_check
            .as_ref()
            .map(|h| self.health_check(h, &format!("{prefix}.health_check")));
        let outlier = s
            .outlier
            .as_ref()
            .map(|o| self.outlier(o, &format!("{prefix}.outlier")));
        // Kept even when invalid, so routes naming it get no spurious "unknown upstream".
        Upstream {
            name: name.to_owned(),
            targets,
            protocol,
            balance,
            connect_timeout: Duration::from_millis(connect),
            timeout: Duration::from_millis(timeout),
            tls,
            max_requests,
            max_connections,
            retries,
            retry_budget,
            health_check,
            outlier,
            dns_refresh,
        }
    }

    /// `dns_refresh_ms`: only for targets that name a host to resolve.
    fn dns_refresh(
        &mut self,
        s: &UpstreamSection,
        targets: &[UpstreamTarget],
        prefix: &str,
    ) -> Option<Duration> {
        let value = s.dns_refresh_ms.as_ref()?;
        let key = format!("{prefix}.dns_refresh_ms");
        let ms = self.number(&s.dns_refresh_ms, &key, 5000, 100..=3_600_000);
        let names_a_host = targets.iter().any(|t| {
            let host = t.url.host().unwrap_or_default();
            host.trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<std::net::IpAddr>()
                .is_err()
        });
        if !targets.is_empty() && !names_a_host {
            let message =
                "`dns_refresh_ms` on an upstream whose targets are all IP addresses".to_owned();
            let help = "DNS discovery resolves host names (`http://orders.internal:8080`): \
                        name one, or remove `dns_refresh_ms`";
            self.error(value.span(), &key, message, Some(help.into()));
        }
        Some(Duration::from_millis(ms))
    }

    /// `max_connections` and `max_pending`: the second only with the first.
    fn connection_limits(&mut self, s: &UpstreamSection, prefix: &str) -> Option<ConnectionLimits> {
        let pending_key = format!("{prefix}.max_pending");
        if s.max_connections.is_none() {
            if let Some(pending) = &s.max_pending {
                let message = "`max_pending` without `max_connections`".to_owned();
                let help = "requests wait for a connection only when `max_connections` bounds \
                            them: set it, or remove `max_pending`";
                self.error(pending.span(), &pending_key, message, Some(help.into()));
            }
            return None;
        }
        let connections_key = format!("{prefix}.max_connections");
        let connections = self.number(&s.max_connections, &connections_key, 1024, 1..=1_000_000);
        let pending = self.number(&s.max_pending, &pending_key, 1024, 0..=1_000_000);
        Some(ConnectionLimits {
            connections: connections as u32,
            pending: pending as u32,
        })
    }

    /// `protocol`: `h2` needs TLS to negotiate it, `h2c` is the cleartext kind.
    fn protocol(&mut self, s: &UpstreamSection, https: bool, prefix: &str) -> UpstreamProtocol {
        let Some(value) = &s.protocol else {
            return UpstreamProtocol::Http1;
        };
        let key = format!("{prefix}.protocol");
        match (*value.get_ref(), https) {
            (Protocol::Http1, _) => UpstreamProtocol::Http1,
            (Protocol::Auto, _) => UpstreamProtocol::Auto,
            (Protocol::H2, true) => UpstreamProtocol::H2,
            (Protocol::H2c, false) => UpstreamProtocol::H2c,
            (Protocol::H2, false) => {
                let message = "`protocol = \"h2\"` on an `http` upstream".to_owned();
                let help = "use `\"h2c\"` for HTTP/2 without TLS, or `https://` URLs";
                self.error(value.span(), &key, message, Some(help.into()));
                UpstreamProtocol::H2c
            }
            (Protocol::H2c, true) => {
                let message = "`protocol = \"h2c\"` on an `https` upstream".to_owned();
                let help = "use `\"h2\"` (HTTP/2 over TLS), or `http://` URLs";
                self.error(value.span(), &key, message, Some(help.into()));
                UpstreamProtocol::H2
            }
        }
    }

    /// `url`, or `targets` with their weights: exactly one of the two, every URL valid, one
    /// scheme for all, and some weight above zero.
    fn targets(
        &mut self,
        s: &UpstreamSection,
        span: std::ops::Range<usize>,
        prefix: &str,
        deployment: &Deployment<'_>,
    ) -> Vec<UpstreamTarget> {
        let list = match (&s.url, &s.targets) {
            (Some(url), None) => {
                let url = self.upstream_url(url, &format!("{prefix}.url"), deployment);
                return vec![UpstreamTarget {
                    url: url.unwrap_or_default(),
                    weight: 1,
                }];
            }
            (None, Some(list)) => list,
            (Some(url), Some(_)) => {
                let message = "an upstream has a `url` or `targets`, not both".to_owned();
                let help = "put the URL in `targets`, or remove `targets`";
                self.error(
                    url.span(),
                    &format!("{prefix}.url"),
                    message,
                    Some(help.into()),
                );
                return Vec::new();
            }
            (None, None) => {
                let message = "an upstream needs a `url` or `targets`".to_owned();
                let help = "e.g. `url = \"http://127.0.0.1:9000\"`, or \
                            `targets = [{ url = \"http://10.0.0.1:9000\" }, { url = \"http://10.0.0.2:9000\" }]`";
                self.error(span, prefix, message, Some(help.into()));
                return Vec::new();
            }
        };
        if list.get_ref().is_empty() {
            let message = "`targets` is empty".to_owned();
            let help = "list at least one `{ url = \"http://…\" }`";
            self.error(
                list.span(),
                &format!("{prefix}.targets"),
                message,
                Some(help.into()),
            );
            return Vec::new();
        }
        let mut targets = Vec::with_capacity(list.get_ref().len());
        let mut scheme: Option<String> = None;
        for (i, t) in list.get_ref().iter().enumerate() {
            let key = format!("{prefix}.targets[{i}]");
            let weight = self.number(&t.weight, &format!("{key}.weight"), 1, 0..=1000) as u32;
            let Some(url) = self.upstream_url(&t.url, &format!("{key}.url"), deployment) else {
                continue;
            };
            let this = url.scheme_str().unwrap_or_default().to_owned();
            match &scheme {
                Some(first) if *first != this => {
                    let message =
                        format!("target scheme `{this}` differs from the first target's `{first}`");
                    let help = "the targets of one upstream are all `http` or all `https`";
                    self.error(
                        t.url.span(),
                        &format!("{key}.url"),
                        message,
                        Some(help.into()),
                    );
                }
                Some(_) => {}
                None => scheme = Some(this),
            }
            targets.push(UpstreamTarget { url, weight });
        }
        if !targets.is_empty() && targets.iter().all(|t| t.weight == 0) {
            let message =
                "every target has `weight = 0`: the upstream would take no traffic".to_owned();
            let help = "give at least one target a weight above 0 (the default is 1)";
            self.error(
                list.span(),
                &format!("{prefix}.targets"),
                message,
                Some(help.into()),
            );
        }
        targets
    }

    fn upstream_url(
        &mut self,
        value: &Spanned<String>,
        key: &str,
        deployment: &Deployment<'_>,
    ) -> Option<http::Uri> {
        let raw = match substitute(value.get_ref(), deployment) {
            Ok(raw) => raw,
            Err(unresolved) => {
                // A canary's variables include its stage's: report the stage only.
                if !deployment.canary {
                    let (message, help) = unresolved.explain(deployment);
                    self.error(value.span(), key, message, Some(help));
                }
                return None;
            }
        };
        let raw = raw.as_ref();
        let example = "e.g. `http://127.0.0.1:9000` or `https://orders.internal/api`";
        let problem = match raw.parse::<http::Uri>() {
            Err(e) => Some((
                format!("invalid upstream URL `{raw}`: {e}"),
                example.to_owned(),
            )),
            Ok(uri) => match (uri.scheme_str(), uri.authority()) {
                (Some(scheme @ ("http" | "https")), Some(authority)) => {
                    if authority.as_str().contains('@') {
                        Some((
                            "credentials in upstream URLs are not supported".to_owned(),
                            "remove the `user:password@` part".to_owned(),
                        ))
                    } else if !port_ok(authority.as_str()) {
                        Some((
                            format!("invalid port in upstream URL `{raw}`"),
                            "ports go from 1 to 65535".to_owned(),
                        ))
                    } else if uri.query().is_some() || raw.contains('#') {
                        Some((
                            "upstream URLs cannot have a query or a fragment".to_owned(),
                            "remove the part from `?` or `#` on; the request's own query is \
                             passed on"
                                .to_owned(),
                        ))
                    } else {
                        // The base path without a trailing `/` (`/` when there is none).
                        let path = uri.path().trim_end_matches('/');
                        return format!("{scheme}://{authority}{path}").parse().ok();
                    }
                }
                (Some("http" | "https"), None) => Some((
                    format!("upstream URL `{raw}` has no host"),
                    example.to_owned(),
                )),
                (Some(scheme), _) => Some((
                    format!("unsupported upstream URL scheme `{scheme}`"),
                    "use an `http://` or `https://` URL".to_owned(),
                )),
                (None, _) => Some((
                    format!("upstream URL `{raw}` has no scheme"),
                    format!("write it in full, {example}"),
                )),
            },
        };
        let (message, help) = problem?;
        self.error(value.span(), key, message, Some(help));
        None
    }
}

/// The authority's port, if it has one, is a number from 1 to 65535.
fn port_ok(authority: &str) -> bool {
    let after_host = authority.rfind(']').map_or(authority, |i| &authority[i..]);
    after_host
        .rsplit_once(':')
        .is_none_or(|(_, port)| port.parse::<u16>().is_ok_and(|p| p != 0))
}

/// Whether an upstream's target URLs read stage variables.
fn reads_stage_variables_in(s: &UpstreamSection) -> bool {
    let listed = s
        .targets
        .iter()
        .flat_map(|list| list.get_ref().iter().map(|t| &t.url));
    s.url
        .iter()
        .chain(listed)
        .any(|url| reads_stage_variables(url.get_ref()))
}
