//! `[record]`: which routes' requests are recorded for `wasmgate replay`, where, and what is
//! redacted.

use toml::Spanned;

use super::super::model::{ALWAYS_REDACTED_HEADERS, RecordSettings, Route};
use super::super::surface::RecordSection;
use super::{Checker, listing};

impl Checker<'_> {
    pub(super) fn record(
        &mut self,
        section: &Spanned<RecordSection>,
        routes: &[Route],
    ) -> RecordSettings {
        let s = section.get_ref();
        let path = self.file_path(&s.path, "record.path").unwrap_or_default();
        let recorded_routes = s.routes.iter().flatten().enumerate();
        let recorded_routes = recorded_routes
            .filter(|(i, id)| self.known_route(id, routes, &format!("record.routes[{i}]")))
            .map(|(_, id)| id.get_ref().clone())
            .collect();
        let sample_ratio = self.sample_ratio(s.sample_ratio.as_ref(), "record.sample_ratio");
        let max_requests = self.number(&s.max_requests, "record.max_requests", 1000, 1..=1_000_000);
        let max_body_bytes = self.number(
            &s.max_body_bytes,
            "record.max_body_bytes",
            64 * 1024,
            0..=1024 * 1024,
        );
        let mut redact_headers: Vec<_> = ALWAYS_REDACTED_HEADERS
            .iter()
            .map(|name| http::HeaderName::from_static(name))
            .collect();
        for (i, name) in s.redact_headers.iter().flatten().enumerate() {
            let key = format!("record.redact_headers[{i}]");
            if let Some(name) = self.header_name(name, &key) {
                redact_headers.push(name);
            }
        }
        for (i, name) in s.keep_headers.iter().flatten().enumerate() {
            let key = format!("record.keep_headers[{i}]");
            if let Some(name) = self.header_name(name, &key) {
                redact_headers.retain(|redacted| *redacted != name);
            }
        }
        redact_headers.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        redact_headers.dedup();
        let redact_query = s.redact_query.iter().flatten();
        RecordSettings {
            path,
            routes: recorded_routes,
            sample_ratio,
            max_requests,
            max_body_bytes: usize::try_from(max_body_bytes).unwrap_or(usize::MAX),
            redact_headers,
            redact_query: redact_query.map(|name| name.get_ref().clone()).collect(),
        }
    }

    /// Whether `id` names a route; an error at its span when not.
    fn known_route(&mut self, id: &Spanned<String>, routes: &[Route], key: &str) -> bool {
        if routes.iter().any(|route| route.id == *id.get_ref()) {
            return true;
        }
        let help = format!(
            "route ids are {}",
            listing(routes.iter().map(|r| r.id.as_str()))
        );
        let message = format!("no route has the id `{}`", id.get_ref());
        self.error(id.span(), key, message, Some(help));
        false
    }
}
