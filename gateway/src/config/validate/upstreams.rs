//! `[upstreams.<name>]`: named backends and their URLs.

use std::collections::BTreeMap;
use std::time::Duration;

use toml::Spanned;

use super::super::de::toml_key;
use super::super::model::Upstream;
use super::super::surface::UpstreamSection;
use super::Checker;

impl Checker<'_> {
    pub(super) fn upstreams(
        &mut self,
        sections: &BTreeMap<String, Spanned<UpstreamSection>>,
    ) -> BTreeMap<String, Upstream> {
        let mut upstreams = BTreeMap::new();
        for (name, s) in sections {
            let prefix = format!("upstreams.{}", toml_key(name));
            let s = s.get_ref();
            let url = self.upstream_url(&s.url, &format!("{prefix}.url"));
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
            let https = url
                .as_ref()
                .is_some_and(|u| u.scheme_str() == Some("https"));
            let tls = if https {
                self.upstream_tls(&prefix, s.tls.as_ref(), s.url.span())
            } else {
                if let Some(section) = &s.tls {
                    let message = "`tls` settings on an `http` upstream".to_owned();
                    let help = "use an `https://` URL, or remove the `tls` table";
                    self.error(
                        section.span(),
                        &format!("{prefix}.tls"),
                        message,
                        Some(help.into()),
                    );
                }
                None
            };
            // Kept even when invalid, so routes naming it get no spurious "unknown upstream".
            let url = url.unwrap_or_default();
            upstreams.insert(
                name.clone(),
                Upstream {
                    name: name.clone(),
                    url,
                    connect_timeout: Duration::from_millis(connect),
                    timeout: Duration::from_millis(timeout),
                    tls,
                },
            );
        }
        upstreams
    }

    fn upstream_url(&mut self, value: &Spanned<String>, key: &str) -> Option<http::Uri> {
        let raw = value.get_ref();
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
