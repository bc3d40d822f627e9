//! `[routes.integration]` and `[routes.deprecation]`: what answers a route, and its deprecation
//! notice.

use std::collections::BTreeMap;

use http::{HeaderName, HeaderValue, Method, StatusCode};
use toml::Spanned;

use super::super::de::toml_key;
use super::super::model::{Deprecation, Integration, MockResponse, Upstream};
use super::super::surface::{DeprecationSection, IntegrationKind, IntegrationSection};
use super::{Checker, listing, time};

impl Checker<'_> {
    pub(super) fn integration(
        &mut self,
        table: &Spanned<IntegrationSection>,
        prefix: &str,
        upstreams: &BTreeMap<String, Upstream>,
        methods: &[Method],
    ) -> Integration {
        let prefix = format!("{prefix}.integration");
        let s = table.get_ref();
        let kind = *s.kind.get_ref();
        let (own, other) = if kind == IntegrationKind::Http {
            ("http", "mock")
        } else {
            ("mock", "http")
        };
        let misplaced = |c: &mut Self, span: std::ops::Range<usize>, name: &str| {
            let help = format!("remove it, or set `type = \"{other}\"`");
            c.error(
                span,
                &format!("{prefix}.{name}"),
                format!("`{name}` does not apply to `type = \"{own}\"`"),
                Some(help),
            );
        };
        if kind == IntegrationKind::Http {
            for (span, name) in [
                (s.status.as_ref().map(Spanned::span), "status"),
                (s.headers.as_ref().map(Spanned::span), "headers"),
                (s.body.as_ref().map(Spanned::span), "body"),
            ] {
                if let Some(span) = span {
                    misplaced(self, span, name);
                }
            }
            let defined = if upstreams.is_empty() {
                "no upstreams are defined: add an `[upstreams.<name>]` table with a `url`"
                    .to_owned()
            } else {
                format!(
                    "defined upstreams: {}",
                    listing(upstreams.keys().map(String::as_str))
                )
            };
            let retries = s
                .retries
                .as_ref()
                .map(|r| self.retry_policy(r, &format!("{prefix}.retries")));
            let retry_non_idempotent = s
                .retry_non_idempotent
                .as_ref()
                .is_some_and(|v| *v.get_ref());
            if let Some(table) = &s.retries
                && !retry_non_idempotent
            {
                self.retried_methods(table.span(), &prefix, methods);
            }
            let primary = s.upstream.as_ref().map(|u| u.get_ref().as_str());
            let canary = s
                .canary
                .as_ref()
                .map(|c| self.canary(c, &format!("{prefix}.canary"), primary, upstreams));
            let Some(upstream) = &s.upstream else {
                let message = "an `http` integration needs an `upstream`".to_owned();
                self.error(table.span(), &prefix, message, Some(defined));
                return Integration::Http {
                    upstream: String::new(),
                    retries,
                    retry_non_idempotent,
                    canary,
                };
            };
            if !upstreams.contains_key(upstream.get_ref()) {
                let message = format!("unknown upstream `{}`", upstream.get_ref());
                self.error(
                    upstream.span(),
                    &format!("{prefix}.upstream"),
                    message,
                    Some(defined),
                );
            }
            return Integration::Http {
                upstream: upstream.get_ref().clone(),
                retries,
                retry_non_idempotent,
                canary,
            };
        }
        for (span, name) in [
            (s.upstream.as_ref().map(Spanned::span), "upstream"),
            (s.retries.as_ref().map(Spanned::span), "retries"),
            (
                s.retry_non_idempotent.as_ref().map(Spanned::span),
                "retry_non_idempotent",
            ),
            (s.canary.as_ref().map(Spanned::span), "canary"),
        ] {
            if let Some(span) = span {
                misplaced(self, span, name);
            }
        }
        Integration::Mock(self.mock(s, &prefix))
    }

    /// A route's own `retries` on methods that are not idempotent (RFC 9110 §9.2.2) — POST,
    /// PATCH, CONNECT, or any method when the route names none — needs
    /// `retry_non_idempotent = true`: a retried POST may be applied twice.
    fn retried_methods(&mut self, span: std::ops::Range<usize>, prefix: &str, methods: &[Method]) {
        let unsafe_methods: Vec<&str> = if methods.is_empty() {
            vec!["any method"]
        } else {
            methods
                .iter()
                .filter(|m| !m.is_idempotent())
                .map(Method::as_str)
                .collect()
        };
        if unsafe_methods.is_empty() {
            return;
        }
        let message = format!(
            "`retries` on a route that takes {}, which is not idempotent",
            unsafe_methods.join(", ")
        );
        let help = "a retried request may be applied twice: set `retry_non_idempotent = true` if \
                    the backend tolerates that, or limit the route's `methods`";
        self.error(
            span,
            &format!("{prefix}.retries"),
            message,
            Some(help.into()),
        );
    }

    fn mock(&mut self, s: &IntegrationSection, prefix: &str) -> MockResponse {
        let status = match &s.status {
            None => StatusCode::OK,
            Some(v) => match u16::try_from(*v.get_ref())
                .ok()
                .filter(|n| (100..=599).contains(n))
            {
                Some(n) => StatusCode::from_u16(n).expect("100..=599 is a valid status"),
                None => {
                    let message = format!("`status = {}` is not an HTTP status code", v.get_ref());
                    self.error(
                        v.span(),
                        &format!("{prefix}.status"),
                        message,
                        Some("use a status code from 100 to 599".into()),
                    );
                    StatusCode::OK
                }
            },
        };
        let mut headers = Vec::new();
        for (name, value) in s
            .headers
            .as_ref()
            .map(|h| h.get_ref().iter())
            .into_iter()
            .flatten()
        {
            let key = format!("{prefix}.headers.{}", toml_key(name));
            let Ok(header) = HeaderName::from_bytes(name.as_bytes()) else {
                let help = "header names are tokens: letters, digits and `-`, e.g. `content-type`";
                self.error(
                    value.span(),
                    &key,
                    format!("invalid header name `{name}`"),
                    Some(help.into()),
                );
                continue;
            };
            let Ok(v) = HeaderValue::from_str(value.get_ref()) else {
                let help = "header values are visible ASCII, spaces and tabs, without line breaks";
                self.error(
                    value.span(),
                    &key,
                    format!("invalid value for header `{name}`"),
                    Some(help.into()),
                );
                continue;
            };
            headers.push((header, v));
        }
        let body = s
            .body
            .as_ref()
            .map(|b| bytes::Bytes::from(b.get_ref().clone()))
            .unwrap_or_default();
        MockResponse {
            status,
            headers,
            body,
        }
    }

    pub(super) fn deprecation(&mut self, s: &DeprecationSection, prefix: &str) -> Deprecation {
        let prefix = format!("{prefix}.deprecation");
        let time = |c: &mut Self, value: &Option<Spanned<toml::Value>>, name: &str| {
            let value = value.as_ref()?;
            time::unix_seconds(value.get_ref())
                .map_err(|(message, help)| {
                    c.error(
                        value.span(),
                        &format!("{prefix}.{name}"),
                        message,
                        Some(help),
                    )
                })
                .ok()
        };
        let since = time(self, &s.since, "since");
        let sunset = time(self, &s.sunset, "sunset");
        if let (Some(since), Some(sunset), Some(value)) = (since, sunset, &s.sunset)
            && sunset < since
        {
            let help = "a route is deprecated first and removed later: `sunset` must not be \
                        earlier than `since`";
            let message = "`sunset` is before `since`".to_owned();
            self.error(
                value.span(),
                &format!("{prefix}.sunset"),
                message,
                Some(help.into()),
            );
        }
        if let Some(link) = &s.link {
            let ok = link
                .get_ref()
                .parse::<http::Uri>()
                .is_ok_and(|u| u.scheme().is_some() && u.authority().is_some());
            if !ok {
                let message = format!("invalid deprecation link `{}`", link.get_ref());
                let help = "use an absolute URL, e.g. `https://example.com/migrate`";
                self.error(
                    link.span(),
                    &format!("{prefix}.link"),
                    message,
                    Some(help.into()),
                );
            }
        }
        Deprecation {
            since,
            sunset,
            link: s.link.as_ref().map(|l| l.get_ref().clone()),
        }
    }
}
