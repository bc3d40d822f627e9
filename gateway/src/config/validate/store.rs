//! `[store]`: the backend of the `rate-limit` and `kv` capabilities, and what happens when it
//! cannot answer.

use std::time::Duration;

use toml::Spanned;

use super::super::model::{StoreBackendDef, StoreSettings};
use super::super::surface::StoreSection;
use super::Checker;

impl Checker<'_> {
    pub(super) fn store(&mut self, s: &StoreSection) -> StoreSettings {
        let redis = match s.backend.as_ref().map(|b| (b, b.get_ref().as_str())) {
            None | Some((_, "memory")) => None,
            Some((value, "redis")) => Some(value.span()),
            Some((value, other)) => {
                let message = format!("unknown store backend `{other}`");
                let help = "use `memory` (one gateway process) or `redis` (shared by replicas)";
                self.error(
                    value.span(),
                    "store.backend",
                    message,
                    Some(help.to_owned()),
                );
                None
            }
        };
        let fail_open = match s.on_unavailable.as_ref().map(|v| (v, v.get_ref().as_str())) {
            None | Some((_, "open")) => true,
            Some((_, "closed")) => false,
            Some((value, other)) => {
                let message = format!("unknown `on_unavailable` policy `{other}`");
                let help = "use `open` (let requests through) or `closed` (answer 503)";
                let key = "store.on_unavailable";
                self.error(value.span(), key, message, Some(help.to_owned()));
                true
            }
        };
        let timeout = self.number(&s.timeout_ms, "store.timeout_ms", 50, 1..=10_000);
        let connect_timeout = self.number(
            &s.connect_timeout_ms,
            "store.connect_timeout_ms",
            1000,
            1..=60_000,
        );
        let backend = if let Some(backend_span) = redis {
            let url = self.redis_url(s.url.as_ref(), backend_span);
            StoreBackendDef::Redis {
                url: url.unwrap_or_default(),
                timeout: Duration::from_millis(timeout),
                connect_timeout: Duration::from_millis(connect_timeout),
                key_prefix: s
                    .key_prefix
                    .as_ref()
                    .map_or_else(|| "wasmgate".to_owned(), |p| p.get_ref().clone()),
            }
        } else {
            let redis_only = [
                ("url", s.url.as_ref().map(Spanned::span)),
                ("key_prefix", s.key_prefix.as_ref().map(Spanned::span)),
            ];
            for (key, span) in redis_only {
                if let Some(span) = span {
                    let message = format!("`store.{key}` only applies to the redis backend");
                    let help = "add `backend = \"redis\"`, or remove the key";
                    self.error(
                        span,
                        &format!("store.{key}"),
                        message,
                        Some(help.to_owned()),
                    );
                }
            }
            StoreBackendDef::Memory
        };
        StoreSettings { backend, fail_open }
    }

    fn redis_url(
        &mut self,
        url: Option<&Spanned<String>>,
        backend_span: std::ops::Range<usize>,
    ) -> Option<String> {
        let help = "e.g. `url = \"redis://127.0.0.1:6379/0\"` (`rediss://` for TLS)";
        let Some(url) = url else {
            let message = "`backend = \"redis\"` needs a `url`".to_owned();
            self.error(
                backend_span,
                "store.backend",
                message,
                Some(help.to_owned()),
            );
            return None;
        };
        let raw = url.get_ref();
        let scheme_ok = raw.starts_with("redis://") || raw.starts_with("rediss://");
        if !scheme_ok || raw.parse::<http::Uri>().is_err() {
            let message = format!("invalid Redis URL `{raw}`");
            self.error(url.span(), "store.url", message, Some(help.to_owned()));
            return None;
        }
        Some(raw.clone())
    }
}
