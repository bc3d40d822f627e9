//! How an upstream spreads and protects its traffic: `balance` and `hash_on`, `retries` (also
//! a route's), `retry_budget`, `health_check` and `outlier`.

use std::collections::BTreeMap;
use std::time::Duration;

use http::StatusCode;
use http::uri::PathAndQuery;
use toml::Spanned;

use super::super::model::{
    Balance, Canary, HashOn, HealthCheck, OutlierDetection, RetryBudgetSettings, RetryOn,
    RetryPolicy, TrafficSplit, Upstream,
};
use super::super::surface::{
    Balance as BalanceKind, CanarySection, HealthCheckSection, OutlierSection, RetriesSection,
    RetryBudgetSection, UpstreamSection,
};
use super::{Checker, listing};

/// The keys of a traffic split, as written.
pub(super) struct SplitKeys<'a> {
    /// `percent = 10`
    pub(super) percent: Option<&'a Spanned<f64>>,
    /// `header = "x-canary"`
    pub(super) header: Option<&'a Spanned<String>>,
    /// `cookie = "canary"`
    pub(super) cookie: Option<&'a Spanned<String>>,
    /// `sticky = "client-ip"`
    pub(super) sticky: Option<&'a Spanned<String>>,
}

/// The retry conditions that are not a status.
const RETRY_CONDITIONS: [&str; 4] = ["connect-failure", "refused-stream", "reset", "timeout"];

impl Checker<'_> {
    /// `balance`, and `hash_on` which only `hash` takes (and needs).
    pub(super) fn balance(&mut self, s: &UpstreamSection, prefix: &str) -> Balance {
        let kind = s.balance.as_ref().map(|b| *b.get_ref());
        let hash_key = format!("{prefix}.hash_on");
        match (kind, &s.hash_on) {
            (Some(BalanceKind::Hash), Some(on)) => {
                Balance::Hash(self.hash_on(on, &hash_key).unwrap_or(HashOn::ClientIp))
            }
            (Some(BalanceKind::Hash), None) => {
                let span = s.balance.as_ref().map(Spanned::span).unwrap_or_default();
                let message = "`balance = \"hash\"` needs `hash_on`".to_owned();
                let help = "e.g. `hash_on = \"header:x-user-id\"`, `\"cookie:session\"` or \
                            `\"client-ip\"`";
                self.error(span, &hash_key, message, Some(help.into()));
                Balance::Hash(HashOn::ClientIp)
            }
            (_, Some(on)) => {
                let message = "`hash_on` applies only to `balance = \"hash\"`".to_owned();
                let help = "set `balance = \"hash\"`, or remove `hash_on`";
                self.error(on.span(), &hash_key, message, Some(help.into()));
                Balance::RoundRobin
            }
            (Some(BalanceKind::LeastRequest), None) => Balance::LeastRequest,
            (Some(BalanceKind::RoundRobin) | None, None) => Balance::RoundRobin,
        }
    }

    pub(super) fn hash_on(&mut self, value: &Spanned<String>, key: &str) -> Option<HashOn> {
        let raw = value.get_ref();
        let help = "use `\"header:<name>\"`, `\"cookie:<name>\"` or `\"client-ip\"`";
        let parsed = match raw.split_once(':') {
            _ if raw == "client-ip" => Some(HashOn::ClientIp),
            Some(("header", name)) => http::HeaderName::from_bytes(name.as_bytes())
                .ok()
                .map(HashOn::Header),
            Some(("cookie", name)) if is_cookie_name(name) => Some(HashOn::Cookie(name.into())),
            _ => None,
        };
        if parsed.is_none() {
            let message = format!("invalid `hash_on = \"{raw}\"`");
            self.error(value.span(), key, message, Some(help.into()));
        }
        parsed
    }

    /// A `retries` table: `key` is `upstreams.<name>.retries` or `routes[N].integration.retries`.
    pub(super) fn retry_policy(
        &mut self,
        table: &Spanned<RetriesSection>,
        key: &str,
    ) -> RetryPolicy {
        let s = table.get_ref();
        let attempts = self.number(&s.attempts, &format!("{key}.attempts"), 2, 1..=10) as u32;
        let on = match &s.on {
            Some(list) => self.retry_on(list, &format!("{key}.on")),
            None => RetryOn {
                connect_failure: true,
                refused_stream: true,
                reset: false,
                timeout: false,
                statuses: Vec::new(),
            },
        };
        let per_try_timeout = s.per_try_timeout_ms.as_ref().map(|_| {
            let ms = self.number(
                &s.per_try_timeout_ms,
                &format!("{key}.per_try_timeout_ms"),
                1000,
                1..=3_600_000,
            );
            Duration::from_millis(ms)
        });
        if on.timeout && per_try_timeout.is_none() {
            let message = "retrying on `timeout` needs `per_try_timeout_ms`".to_owned();
            let help = "set `per_try_timeout_ms` below the upstream's `timeout_ms`, or remove \
                        `\"timeout\"` from `on`";
            self.error(
                table.span(),
                &format!("{key}.on"),
                message,
                Some(help.into()),
            );
        }
        let backoff = s.backoff.as_ref();
        let base_key = format!("{key}.backoff.base_ms");
        let base = self.number(
            &backoff.and_then(|b| b.base_ms.clone()),
            &base_key,
            25,
            0..=60_000,
        );
        let max_key = format!("{key}.backoff.max_ms");
        let max_value = backoff.and_then(|b| b.max_ms.clone());
        let mut max = self.number(&max_value, &max_key, 250.max(base), 0..=60_000);
        if max < base {
            let span = max_value.as_ref().map(Spanned::span).unwrap_or_default();
            let message = format!("`max_ms = {max}` is below `base_ms = {base}`");
            self.error(
                span,
                &max_key,
                message,
                Some("raise `max_ms` to at least `base_ms`".into()),
            );
            max = base;
        }
        RetryPolicy {
            attempts,
            on,
            per_try_timeout,
            backoff_base: Duration::from_millis(base),
            backoff_max: Duration::from_millis(max),
        }
    }

    fn retry_on(&mut self, list: &Spanned<Vec<Spanned<String>>>, key: &str) -> RetryOn {
        let mut on = RetryOn::default();
        for (i, condition) in list.get_ref().iter().enumerate() {
            match condition.get_ref().as_str() {
                "connect-failure" => on.connect_failure = true,
                "refused-stream" => on.refused_stream = true,
                "reset" => on.reset = true,
                "timeout" => on.timeout = true,
                status => match status
                    .parse::<u16>()
                    .ok()
                    .and_then(|n| StatusCode::from_u16(n).ok())
                {
                    Some(code) if code.is_server_error() => on.statuses.push(code),
                    _ => {
                        let message = format!("cannot retry on `{status}`");
                        let help = format!(
                            "use {}, or a 5xx status such as \"503\"",
                            RETRY_CONDITIONS.map(|c| format!("\"{c}\"")).join(", ")
                        );
                        self.error(
                            condition.span(),
                            &format!("{key}[{i}]"),
                            message,
                            Some(help),
                        );
                    }
                },
            }
        }
        if list.get_ref().is_empty() {
            let message = "`on` is empty: nothing would be retried".to_owned();
            let help = "list the failures to retry, or remove the `retries` table";
            self.error(list.span(), key, message, Some(help.into()));
        }
        on
    }

    pub(super) fn retry_budget(
        &mut self,
        table: Option<&Spanned<RetryBudgetSection>>,
        prefix: &str,
    ) -> RetryBudgetSettings {
        let key = format!("{prefix}.retry_budget");
        let s = table.map(Spanned::get_ref);
        RetryBudgetSettings {
            percent: self.number(
                &s.and_then(|s| s.percent.clone()),
                &format!("{key}.percent"),
                20,
                0..=100,
            ) as u32,
            min_per_second: self.number(
                &s.and_then(|s| s.min_per_second.clone()),
                &format!("{key}.min_per_second"),
                3,
                0..=10_000,
            ) as u32,
        }
    }

    pub(super) fn health_check(
        &mut self,
        table: &Spanned<HealthCheckSection>,
        key: &str,
    ) -> HealthCheck {
        let s = table.get_ref();
        let path_key = format!("{key}.path");
        let path = match s.path.get_ref().parse::<PathAndQuery>() {
            Ok(path) if s.path.get_ref().starts_with('/') => path,
            _ => {
                let message = format!("invalid health check path `{}`", s.path.get_ref());
                let help = "an absolute path, e.g. `/healthz`";
                self.error(s.path.span(), &path_key, message, Some(help.into()));
                PathAndQuery::from_static("/")
            }
        };
        let interval = self.number(
            &s.interval_ms,
            &format!("{key}.interval_ms"),
            5000,
            100..=3_600_000,
        );
        let timeout_key = format!("{key}.timeout_ms");
        let mut timeout = self.number(&s.timeout_ms, &timeout_key, 1000.min(interval), 1..=60_000);
        if timeout > interval {
            let span = s.timeout_ms.as_ref().map(Spanned::span).unwrap_or_default();
            let message =
                format!("`timeout_ms = {timeout}` is longer than `interval_ms = {interval}`");
            self.error(
                span,
                &timeout_key,
                message,
                Some("a check must end before the next one starts".into()),
            );
            timeout = interval;
        }
        HealthCheck {
            path,
            interval: Duration::from_millis(interval),
            timeout: Duration::from_millis(timeout),
            healthy_threshold: self.number(
                &s.healthy_threshold,
                &format!("{key}.healthy_threshold"),
                2,
                1..=100,
            ) as u32,
            unhealthy_threshold: self.number(
                &s.unhealthy_threshold,
                &format!("{key}.unhealthy_threshold"),
                3,
                1..=100,
            ) as u32,
        }
    }

    pub(super) fn outlier(
        &mut self,
        table: &Spanned<OutlierSection>,
        key: &str,
    ) -> OutlierDetection {
        let s = table.get_ref();
        let base = self.number(
            &s.base_ejection_ms,
            &format!("{key}.base_ejection_ms"),
            30_000,
            1..=3_600_000,
        );
        let max_key = format!("{key}.max_ejection_ms");
        let mut max = self.number(
            &s.max_ejection_ms,
            &max_key,
            300_000.max(base),
            1..=86_400_000,
        );
        if max < base {
            let span = s
                .max_ejection_ms
                .as_ref()
                .map(Spanned::span)
                .unwrap_or_default();
            let message = format!("`max_ejection_ms = {max}` is below `base_ejection_ms = {base}`");
            self.error(
                span,
                &max_key,
                message,
                Some("raise it to at least `base_ejection_ms`".into()),
            );
            max = base;
        }
        OutlierDetection {
            consecutive_failures: self.number(
                &s.consecutive_failures,
                &format!("{key}.consecutive_failures"),
                5,
                1..=1000,
            ) as u32,
            base_ejection: Duration::from_millis(base),
            max_ejection: Duration::from_millis(max),
            max_ejected_percent: self.number(
                &s.max_ejected_percent,
                &format!("{key}.max_ejected_percent"),
                50,
                0..=100,
            ) as u32,
        }
    }
}

/// A cookie name is an HTTP token (RFC 6265 §4.1.1).
pub(super) fn is_cookie_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b))
}

impl Checker<'_> {
    /// A route's `canary`: an upstream other than the route's, a percentage, and what may
    /// pick or pin the side.
    pub(super) fn canary(
        &mut self,
        table: &Spanned<CanarySection>,
        key: &str,
        primary: Option<&str>,
        upstreams: &BTreeMap<String, Upstream>,
    ) -> Canary {
        let s = table.get_ref();
        let upstream = s.upstream.get_ref().clone();
        let upstream_key = format!("{key}.upstream");
        if !upstreams.contains_key(&upstream) {
            let message = format!("unknown canary upstream `{upstream}`");
            let help = format!(
                "defined upstreams: {}",
                listing(upstreams.keys().map(String::as_str))
            );
            self.error(s.upstream.span(), &upstream_key, message, Some(help));
        } else if primary == Some(upstream.as_str()) {
            let message = format!("the canary upstream `{upstream}` is the route's own");
            let help = "name the upstream with the new version";
            self.error(s.upstream.span(), &upstream_key, message, Some(help.into()));
        }
        let split = self.traffic_split(
            SplitKeys {
                percent: s.percent.as_ref(),
                header: s.header.as_ref(),
                cookie: s.cookie.as_ref(),
                sticky: s.sticky.as_ref(),
            },
            key,
        );
        Canary { upstream, split }
    }

    /// A canary's `percent`, `header`, `cookie` and `sticky`.
    pub(super) fn traffic_split(&mut self, s: SplitKeys<'_>, key: &str) -> TrafficSplit {
        let basis_points = match &s.percent {
            None => 0,
            Some(p) if (0.0..=100.0).contains(p.get_ref()) => (p.get_ref() * 100.0).round() as u32,
            Some(p) => {
                let message = format!("`percent = {}` is out of range", p.get_ref());
                let help = "use a value from 0 to 100";
                self.error(
                    p.span(),
                    &format!("{key}.percent"),
                    message,
                    Some(help.into()),
                );
                0
            }
        };
        let header = s
            .header
            .and_then(|h| self.header_name(h, &format!("{key}.header")));
        let cookie = s.cookie.and_then(|c| {
            if is_cookie_name(c.get_ref()) {
                return Some(c.get_ref().clone());
            }
            let message = format!("invalid cookie name `{}`", c.get_ref());
            let help = "a cookie name is a token: letters, digits and `-`, `_`, `.`";
            self.error(
                c.span(),
                &format!("{key}.cookie"),
                message,
                Some(help.into()),
            );
            None
        });
        let sticky = s
            .sticky
            .and_then(|v| self.hash_on(v, &format!("{key}.sticky")));
        TrafficSplit {
            basis_points,
            header,
            cookie,
            sticky,
        }
    }
}
