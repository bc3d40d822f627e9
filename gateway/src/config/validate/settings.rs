//! `[gateway]`, `[[listeners]]`, `[access_log]`, `[reload]`, `[engine]` and `[versioning]`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use http::HeaderName;
use toml::Spanned;

use super::super::model::{
    ACCESS_LOG_FIELDS, AccessLogSettings, AccessLogTarget, EngineSettings, GatewaySettings,
    Listener, ReloadSettings, Route, Versioning,
};
use super::super::surface::{
    AccessLogSection, EngineSection, GatewaySection, ListenerSection, ReloadSection,
    VersioningSection,
};
use super::{Checker, MIB, listing};

impl Checker<'_> {
    pub(super) fn gateway(&mut self, s: &GatewaySection) -> GatewaySettings {
        let request_id_header = s
            .request_id_header
            .as_ref()
            .and_then(|h| self.header_name(h, "gateway.request_id_header"))
            .unwrap_or(HeaderName::from_static("x-request-id"));
        let max_body_bytes = self.number(
            &s.max_body_bytes,
            "gateway.max_body_bytes",
            10 * MIB,
            0..=u64::MAX,
        );
        let grace = self.number(
            &s.shutdown_grace_ms,
            "gateway.shutdown_grace_ms",
            30_000,
            0..=3_600_000,
        );
        let max_header_bytes = self.number(
            &s.max_header_bytes,
            "gateway.max_header_bytes",
            16 * 1024,
            1024..=MIB,
        );
        let header_read_timeout = self.number(
            &s.header_read_timeout_ms,
            "gateway.header_read_timeout_ms",
            10_000,
            100..=600_000,
        );
        let idle_timeout = self.number(
            &s.idle_timeout_ms,
            "gateway.idle_timeout_ms",
            60_000,
            100..=3_600_000,
        );
        let max_connections = self.number(
            &s.max_connections,
            "gateway.max_connections",
            10_000,
            1..=1_000_000,
        );
        let streams = self.number(
            &s.http2_max_concurrent_streams,
            "gateway.http2_max_concurrent_streams",
            100,
            1..=10_000,
        );
        GatewaySettings {
            request_id_header,
            max_body_bytes,
            shutdown_grace: Duration::from_millis(grace),
            max_header_bytes: max_header_bytes as usize,
            header_read_timeout: Duration::from_millis(header_read_timeout),
            idle_timeout: Duration::from_millis(idle_timeout),
            max_connections: max_connections as usize,
            http2_max_concurrent_streams: streams as u32,
        }
    }

    pub(super) fn listeners(&mut self, sections: &[ListenerSection]) -> Vec<Listener> {
        if sections.is_empty() {
            self.errors.push(self.loc.error(
                None,
                Some("listeners".to_owned()),
                "no listeners",
                Some("add one: `[[listeners]]` with `address = \"127.0.0.1:8080\"`".to_owned()),
            ));
        }
        let mut names: HashMap<String, usize> = HashMap::new();
        let mut addresses: HashMap<SocketAddr, usize> = HashMap::new();
        let mut listeners = Vec::new();
        for (i, s) in sections.iter().enumerate() {
            let name = match &s.name {
                Some(name) => name.get_ref().clone(),
                None => format!("listener-{i}"),
            };
            let name_span = s.name.as_ref().map_or(s.address.span(), Spanned::span);
            if name.is_empty() {
                self.error(
                    name_span.clone(),
                    &format!("listeners[{i}].name"),
                    "empty listener name".into(),
                    None,
                );
            } else if let Some(first) = names.insert(name.clone(), i) {
                let help =
                    format!("listeners[{first}] has the same name; listener names must be unique");
                let message = format!("duplicate listener name `{name}`");
                self.error(
                    name_span,
                    &format!("listeners[{i}].name"),
                    message,
                    Some(help),
                );
            }
            let key = format!("listeners[{i}].address");
            let Ok(address) = s.address.get_ref().parse::<SocketAddr>() else {
                let help = "write an IP address and a port, e.g. `127.0.0.1:8080` or `[::]:8080` \
                            (host names are not resolved)";
                let message = format!("invalid listener address `{}`", s.address.get_ref());
                self.error(s.address.span(), &key, message, Some(help.to_owned()));
                continue;
            };
            if address.port() != 0
                && let Some(first) = addresses.insert(address, i)
            {
                let help = format!("listeners[{first}] binds it already; use another port");
                let message = format!("listener address `{address}` is used twice");
                self.error(s.address.span(), &key, message, Some(help));
            }
            let tls = s.tls.as_ref().and_then(|tls| self.listener_tls(i, tls));
            let redirect_https_port = s.redirect_https_port.as_ref().and_then(|port| {
                let key = format!("listeners[{i}].redirect_https_port");
                if s.tls.is_some() {
                    let message = "a listener either serves TLS or redirects to it".to_owned();
                    let help = "put `redirect_https_port` on a second, plain listener";
                    self.error(port.span(), &key, message, Some(help.into()));
                    return None;
                }
                let valid = u16::try_from(*port.get_ref()).ok().filter(|p| *p != 0);
                if valid.is_none() {
                    let message =
                        format!("`redirect_https_port = {}` is out of range", port.get_ref());
                    self.error(
                        port.span(),
                        &key,
                        message,
                        Some("use a port from 1 to 65535".into()),
                    );
                }
                valid
            });
            listeners.push(Listener {
                name,
                address,
                tls,
                redirect_https_port,
            });
        }
        listeners
    }

    pub(super) fn reload(&mut self, s: &ReloadSection) -> ReloadSettings {
        let debounce = self.number(&s.debounce_ms, "reload.debounce_ms", 250, 10..=60_000);
        ReloadSettings {
            watch: s.watch.unwrap_or(true),
            debounce: Duration::from_millis(debounce),
        }
    }

    pub(super) fn access_log(&mut self, s: &AccessLogSection) -> AccessLogSettings {
        let target = match &s.path {
            Some(path) if path.get_ref() != "-" => self
                .file_path(path, "access_log.path")
                .map_or(AccessLogTarget::Stdout, AccessLogTarget::File),
            _ => AccessLogTarget::Stdout,
        };
        let fields = match &s.fields {
            None => ACCESS_LOG_FIELDS.to_vec(),
            Some(fields) => fields
                .iter()
                .enumerate()
                .filter_map(|(i, field)| {
                    let known = ACCESS_LOG_FIELDS.iter().find(|f| **f == field.get_ref());
                    if known.is_none() {
                        let help = format!("fields are {}", ACCESS_LOG_FIELDS.join(", "));
                        self.error(
                            field.span(),
                            &format!("access_log.fields[{i}]"),
                            format!("unknown access log field `{}`", field.get_ref()),
                            Some(help),
                        );
                    }
                    known.copied()
                })
                .collect(),
        };
        AccessLogSettings {
            enabled: s.enabled.unwrap_or(false),
            target,
            fields,
        }
    }

    pub(super) fn engine(&mut self, s: &EngineSection) -> EngineSettings {
        let cache_dir = s
            .cache_dir
            .as_ref()
            .and_then(|dir| self.file_path(dir, "engine.cache_dir"));
        let max_instances = self.number(&s.max_instances, "engine.max_instances", 512, 1..=10_000);
        let max_memory_mb = self.number(&s.max_memory_mb, "engine.max_memory_mb", 256, 1..=4096);
        EngineSettings {
            cache_dir,
            max_instances: u32::try_from(max_instances).unwrap_or(u32::MAX),
            max_memory_bytes: max_memory_mb * MIB,
        }
    }

    pub(super) fn versioning(&mut self, s: &VersioningSection, routes: &[Route]) -> Versioning {
        let header = s
            .header
            .as_ref()
            .and_then(|h| self.header_name(h, "versioning.header"))
            .unwrap_or(HeaderName::from_static("x-api-version"));
        let query_param = match &s.query_param {
            Some(p) if !is_query_name(p.get_ref()) => {
                let help = "use letters, digits, `-`, `_`, `.` or `~`, e.g. `version`";
                let message = format!("invalid query parameter name `{}`", p.get_ref());
                self.error(
                    p.span(),
                    "versioning.query_param",
                    message,
                    Some(help.into()),
                );
                "version".to_owned()
            }
            Some(p) => p.get_ref().clone(),
            None => "version".to_owned(),
        };
        if let Some(default) = &s.default_version {
            let used: Vec<&str> = routes.iter().filter_map(|r| r.version.as_deref()).collect();
            if !used.contains(&default.get_ref().as_str()) {
                let help = if used.is_empty() {
                    "no route has a `version`: remove `default_version`, or set `version` on routes"
                        .to_owned()
                } else {
                    let mut used = used;
                    used.sort_unstable();
                    used.dedup();
                    format!("versions used by routes: {}", listing(used))
                };
                let message = format!(
                    "default version `{}` is not the version of any route",
                    default.get_ref()
                );
                self.error(
                    default.span(),
                    "versioning.default_version",
                    message,
                    Some(help),
                );
            }
        }
        Versioning {
            header,
            query_param,
            default_version: s.default_version.as_ref().map(|v| v.get_ref().clone()),
        }
    }
}

fn is_query_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~'))
}
