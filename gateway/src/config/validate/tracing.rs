//! `[tracing]`: where spans are exported (OTLP over HTTP), how new traces are sampled, and the
//! headers (often credentials) sent with every export.
//!
//! Header values may be secrets: messages name the header, never its value.

use std::collections::BTreeMap;
use std::time::Duration;

use http::{HeaderName, HeaderValue, Uri};
use toml::Spanned;

use super::super::de::toml_key;
use super::super::model::{OtlpExport, TracingSettings};
use super::super::surface::TracingSection;
use super::Checker;

/// Where OTLP/HTTP collectors take traces: appended to an endpoint written without a path.
const TRACES_PATH: &str = "/v1/traces";

const EXAMPLE: &str = "e.g. `otlp_endpoint = \"http://127.0.0.1:4318/v1/traces\"`";

impl Checker<'_> {
    pub(super) fn tracing(&mut self, s: &TracingSection) -> TracingSettings {
        let Some(endpoint) = &s.otlp_endpoint else {
            self.export_keys_need_an_endpoint(s);
            return TracingSettings::default();
        };
        let endpoint = self.otlp_endpoint(endpoint);
        let service_name = match &s.service_name {
            None => "wasmgate".to_owned(),
            Some(name) if name.get_ref().trim().is_empty() => {
                let help = "name the service as trace viewers should show it, e.g. `wasmgate`";
                let message = "empty `service_name`".to_owned();
                self.error(
                    name.span(),
                    "tracing.service_name",
                    message,
                    Some(help.into()),
                );
                "wasmgate".to_owned()
            }
            Some(name) => name.get_ref().clone(),
        };
        let sample_ratio = self.sample_ratio(s.sample_ratio.as_ref(), "tracing.sample_ratio");
        let headers = s
            .headers
            .as_ref()
            .map(|h| self.export_headers(h.get_ref()))
            .unwrap_or_default();
        let timeout = self.number(&s.timeout_ms, "tracing.timeout_ms", 10_000, 1..=60_000);
        TracingSettings {
            otlp: endpoint.map(|endpoint| OtlpExport {
                endpoint,
                service_name,
                sample_ratio,
                headers,
                timeout: Duration::from_millis(timeout),
            }),
        }
    }

    /// Every export setting is an error without an endpoint to export to.
    fn export_keys_need_an_endpoint(&mut self, s: &TracingSection) {
        let keys = [
            ("service_name", s.service_name.as_ref().map(Spanned::span)),
            ("sample_ratio", s.sample_ratio.as_ref().map(Spanned::span)),
            ("headers", s.headers.as_ref().map(Spanned::span)),
            ("timeout_ms", s.timeout_ms.as_ref().map(Spanned::span)),
        ];
        for (key, span) in keys {
            if let Some(span) = span {
                let message = format!("`tracing.{key}` only applies with an `otlp_endpoint`");
                let help = format!("set the collector's URL, {EXAMPLE}, or remove the key");
                self.error(span, &format!("tracing.{key}"), message, Some(help));
            }
        }
    }

    /// An `http` URL; without a path, the collector's conventional `/v1/traces`.
    fn otlp_endpoint(&mut self, value: &Spanned<String>) -> Option<Uri> {
        let raw = value.get_ref();
        let problem = match raw.parse::<Uri>() {
            Err(e) => Some((
                format!("invalid OTLP endpoint `{raw}`: {e}"),
                EXAMPLE.to_owned(),
            )),
            Ok(uri) => match (uri.scheme_str(), uri.authority()) {
                (Some("https"), _) => Some((
                    "https OTLP endpoints are not supported yet".to_owned(),
                    "use an `http://` URL, e.g. a collector or agent on the same host: \
                     `http://127.0.0.1:4318/v1/traces`"
                        .to_owned(),
                )),
                (Some("http"), Some(authority)) if authority.as_str().contains('@') => Some((
                    "credentials in the OTLP endpoint are not supported".to_owned(),
                    "remove the `user:password@` part; send credentials with \
                     `headers = { authorization = \"…\" }`"
                        .to_owned(),
                )),
                (Some("http"), Some(authority)) if !port_ok(authority.as_str()) => Some((
                    format!("invalid port in OTLP endpoint `{raw}`"),
                    "ports go from 1 to 65535 (OTLP/HTTP collectors listen on 4318)".to_owned(),
                )),
                (Some("http"), Some(_)) if matches!(uri.path(), "" | "/") => {
                    let authority = uri.authority().map_or("", |a| a.as_str());
                    return format!("http://{authority}{TRACES_PATH}").parse().ok();
                }
                (Some("http"), Some(_)) => return Some(uri),
                (Some("http"), None) => Some((
                    format!("OTLP endpoint `{raw}` has no host"),
                    EXAMPLE.to_owned(),
                )),
                (Some(scheme), _) => Some((
                    format!("unsupported OTLP endpoint scheme `{scheme}`"),
                    "spans are exported as OTLP over HTTP (protobuf): use an `http://` URL, \
                     usually on port 4318 (4317 is OTLP over gRPC)"
                        .to_owned(),
                )),
                (None, _) => Some((
                    format!("OTLP endpoint `{raw}` has no scheme"),
                    format!("write it in full, {EXAMPLE}"),
                )),
            },
        };
        let (message, help) = problem?;
        self.error(value.span(), "tracing.otlp_endpoint", message, Some(help));
        None
    }

    /// A share from 0.0 to 1.0 (default 1.0), at `key`.
    pub(super) fn sample_ratio(&mut self, value: Option<&Spanned<f64>>, key: &str) -> f64 {
        let Some(value) = value else { return 1.0 };
        let ratio = *value.get_ref();
        if (0.0..=1.0).contains(&ratio) {
            return ratio;
        }
        let help = "use a value from 0.0 (none is sampled) to 1.0 (every one is), e.g. `0.1` \
                    for one in ten";
        let message = format!("`sample_ratio = {ratio}` is out of range");
        self.error(value.span(), key, message, Some(help.into()));
        1.0
    }

    fn export_headers(
        &mut self,
        headers: &BTreeMap<String, Spanned<String>>,
    ) -> Vec<(HeaderName, HeaderValue)> {
        let mut valid = Vec::with_capacity(headers.len());
        for (name, value) in headers {
            let key = format!("tracing.headers.{}", toml_key(name));
            let Ok(header) = HeaderName::from_bytes(name.as_bytes()) else {
                let help = "header names are tokens: letters, digits and `-`, e.g. `authorization`";
                let message = format!("invalid header name `{name}`");
                self.error(value.span(), &key, message, Some(help.into()));
                continue;
            };
            let Ok(mut v) = HeaderValue::from_str(value.get_ref()) else {
                let help = "header values are visible ASCII, spaces and tabs, without line breaks";
                let message = format!("invalid value for header `{name}`");
                self.error(value.span(), &key, message, Some(help.into()));
                continue;
            };
            v.set_sensitive(true);
            valid.push((header, v));
        }
        valid
    }
}

/// The authority's port, if it has one, is a number from 1 to 65535.
fn port_ok(authority: &str) -> bool {
    let after_host = authority.rfind(']').map_or(authority, |i| &authority[i..]);
    after_host
        .rsplit_once(':')
        .is_none_or(|(_, port)| port.parse::<u16>().is_ok_and(|p| p != 0))
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Duration;

    use super::super::super::{Config, ConfigError, parse};

    const LISTENER: &str = "[[listeners]]\naddress = \"127.0.0.1:8080\"\n";

    fn config(tracing: &str) -> Result<Config, Vec<ConfigError>> {
        parse(
            Path::new("gw.toml"),
            &format!("{LISTENER}[tracing]\n{tracing}"),
        )
        .map_err(|e| e.0)
    }

    /// The only error for a `[tracing]` table.
    fn error(tracing: &str) -> ConfigError {
        let mut errors = config(tracing).expect_err("an error");
        assert_eq!(errors.len(), 1, "{errors:#?}");
        errors.remove(0)
    }

    #[test]
    fn exports_nothing_without_an_endpoint() {
        let minimal = parse(Path::new("gw.toml"), LISTENER).unwrap();
        assert_eq!(minimal.tracing.otlp, None);
        assert_eq!(config("").unwrap().tracing.otlp, None);
    }

    #[test]
    fn applies_defaults_and_keeps_every_key() {
        let defaults = config("otlp_endpoint = \"http://127.0.0.1:4318/v1/traces\"\n").unwrap();
        let otlp = defaults.tracing.otlp.unwrap();
        assert_eq!(otlp.endpoint, "http://127.0.0.1:4318/v1/traces");
        assert_eq!(
            (otlp.service_name.as_str(), otlp.sample_ratio),
            ("wasmgate", 1.0)
        );
        assert_eq!(
            (otlp.headers.len(), otlp.timeout),
            (0, Duration::from_secs(10))
        );

        let full = config(
            "otlp_endpoint = \"http://collector:4318/custom\"\nservice_name = \"edge\"\n\
             sample_ratio = 0.25\nheaders = { authorization = \"Bearer s3cret\" }\n\
             timeout_ms = 500\n",
        )
        .unwrap();
        let otlp = full.tracing.otlp.unwrap();
        assert_eq!(otlp.endpoint, "http://collector:4318/custom");
        assert_eq!(
            (otlp.service_name.as_str(), otlp.sample_ratio),
            ("edge", 0.25)
        );
        assert_eq!(otlp.headers[0].0, "authorization");
        assert_eq!(otlp.timeout, Duration::from_millis(500));
        let debug = format!("{otlp:?}");
        assert!(
            debug.contains("authorization") && !debug.contains("s3cret"),
            "{debug}"
        );
    }

    #[test]
    fn adds_the_traces_path_to_an_endpoint_without_one() {
        for written in ["http://collector:4318", "http://collector:4318/"] {
            let line = format!("otlp_endpoint = \"{written}\"\n");
            let otlp = config(&line).unwrap().tracing.otlp.unwrap();
            assert_eq!(otlp.endpoint, "http://collector:4318/v1/traces");
        }
    }

    #[test]
    fn accepts_a_whole_number_as_the_ratio() {
        let text = "otlp_endpoint = \"http://c:4318\"\nsample_ratio = 0\n";
        assert_eq!(
            config(text).unwrap().tracing.otlp.unwrap().sample_ratio,
            0.0
        );
    }

    #[test]
    fn refuses_endpoints_it_cannot_export_to() {
        for (endpoint, message) in [
            (
                "https://c:4318/v1/traces",
                "https OTLP endpoints are not supported yet",
            ),
            ("grpc://c:4317", "unsupported OTLP endpoint scheme `grpc`"),
            (
                "collector:4318",
                "OTLP endpoint `collector:4318` has no scheme",
            ),
            (
                "http://u:p@c:4318/v1/traces",
                "credentials in the OTLP endpoint are not supported",
            ),
            (
                "http://c:0/v1/traces",
                "invalid port in OTLP endpoint `http://c:0/v1/traces`",
            ),
        ] {
            let e = error(&format!("otlp_endpoint = \"{endpoint}\"\n"));
            assert_eq!(e.message, message);
            assert_eq!(
                (e.key.as_deref(), e.line),
                (Some("tracing.otlp_endpoint"), Some(4))
            );
            assert!(e.help.is_some());
        }
    }

    #[test]
    fn refuses_a_ratio_outside_zero_to_one() {
        let e = error("otlp_endpoint = \"http://c:4318\"\nsample_ratio = 1.5\n");
        assert_eq!(e.message, "`sample_ratio = 1.5` is out of range");
        assert_eq!(
            (e.key.as_deref(), e.line, e.column),
            (Some("tracing.sample_ratio"), Some(5), Some(16))
        );
    }

    #[test]
    fn names_a_bad_header_without_showing_its_value() {
        let e =
            error("otlp_endpoint = \"http://c:4318\"\nheaders = { authorization = \"a\\nb\" }\n");
        assert_eq!(e.message, "invalid value for header `authorization`");
        assert_eq!(e.key.as_deref(), Some("tracing.headers.authorization"));
        let e = error("otlp_endpoint = \"http://c:4318\"\nheaders = { \"x y\" = \"v\" }\n");
        assert_eq!(e.message, "invalid header name `x y`");
    }

    #[test]
    fn refuses_export_settings_without_an_endpoint() {
        let e = error("service_name = \"edge\"\n");
        assert_eq!(
            e.message,
            "`tracing.service_name` only applies with an `otlp_endpoint`"
        );
        assert_eq!(e.key.as_deref(), Some("tracing.service_name"));
        let errors = config("sample_ratio = 0.5\ntimeout_ms = 5\n").unwrap_err();
        assert_eq!(errors.len(), 2);
    }

    #[test]
    fn refuses_an_empty_service_name() {
        let e = error("otlp_endpoint = \"http://c:4318\"\nservice_name = \" \"\n");
        assert_eq!(e.message, "empty `service_name`");
    }
}
