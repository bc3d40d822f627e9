//! `[listeners.tls]` and `[upstreams.<name>.tls]`: reads the PEM files they name and builds
//! the rustls configs, so a bad certificate fails the load with its file and key.

use std::path::PathBuf;
use std::sync::Arc;

use http::HeaderValue;
use toml::Spanned;

use super::super::model::{ClientAuthMode, ListenerTls, UpstreamTls};
use super::super::surface::{ListenerTlsSection, UpstreamTlsSection};
use super::Checker;
use crate::tls::{self, ServerTlsSettings};

impl Checker<'_> {
    /// The TLS of listener `index`; `None` (with errors recorded) when something is wrong.
    pub(super) fn listener_tls(
        &mut self,
        index: usize,
        section: &Spanned<ListenerTlsSection>,
    ) -> Option<ListenerTls> {
        let prefix = format!("listeners[{index}].tls");
        let s = section.get_ref();
        if s.certificates.get_ref().is_empty() {
            let help = "add one: `certificates = [{ cert = \"api.pem\", key = \"api-key.pem\" }]`";
            let key = format!("{prefix}.certificates");
            let message = "a TLS listener needs at least one certificate".to_owned();
            self.error(s.certificates.span(), &key, message, Some(help.into()));
        }
        let mut certificates = Vec::new();
        for (i, entry) in s.certificates.get_ref().iter().enumerate() {
            let key = format!("{prefix}.certificates[{i}]");
            let chain = self.pem_file(&entry.cert, &format!("{key}.cert"), tls::read_certificates);
            let private = self.pem_file(&entry.key, &format!("{key}.key"), tls::read_private_key);
            if let (Some(chain), Some(private)) = (chain, private) {
                certificates.push((chain, private));
            }
        }
        let tls13_only = match s.min_version.as_ref() {
            None => false,
            Some(v) if v.get_ref() == "1.2" => false,
            Some(v) if v.get_ref() == "1.3" => true,
            Some(v) => {
                let message = format!("unsupported TLS version `{}`", v.get_ref());
                let help = "use \"1.2\" (TLS 1.2 and 1.3, the default) or \"1.3\"; older versions \
                            are not offered";
                self.error(
                    v.span(),
                    &format!("{prefix}.min_version"),
                    message,
                    Some(help.into()),
                );
                false
            }
        };
        let hsts = s.hsts.as_ref().and_then(|value| {
            let parsed = HeaderValue::from_str(value.get_ref()).ok();
            if parsed.is_none() || !value.get_ref().starts_with("max-age=") {
                let message = format!("invalid HSTS value `{}`", value.get_ref());
                let help = "e.g. `hsts = \"max-age=31536000; includeSubDomains\"`";
                self.error(
                    value.span(),
                    &format!("{prefix}.hsts"),
                    message,
                    Some(help.into()),
                );
                return None;
            }
            parsed
        });
        let client_auth = s.client_auth.as_ref().and_then(|auth| {
            let key = format!("{prefix}.client_auth");
            let mode = match auth.mode.get_ref().as_str() {
                "required" => Some(ClientAuthMode::Required),
                "optional" => Some(ClientAuthMode::Optional),
                other => {
                    let message = format!("unknown client certificate mode `{other}`");
                    let help = "use \"required\" or \"optional\"";
                    self.error(
                        auth.mode.span(),
                        &format!("{key}.mode"),
                        message,
                        Some(help.into()),
                    );
                    None
                }
            };
            let roots = self.pem_file(&auth.ca, &format!("{key}.ca"), tls::read_roots);
            Some((mode?, roots?, auth.forward_headers.unwrap_or(false)))
        });
        if s.client_auth.is_some() && client_auth.is_none()
            || certificates.len() != s.certificates.get_ref().len()
        {
            return None;
        }
        let settings = ServerTlsSettings {
            certificates,
            tls13_only,
            client_auth: client_auth
                .as_ref()
                .map(|(mode, roots, _)| (*mode, roots.clone())),
        };
        match tls::server_config(settings) {
            Ok(config) => Some(ListenerTls {
                server_config: Arc::new(config),
                hsts,
                client_auth: client_auth.as_ref().map(|(mode, _, _)| *mode),
                forward_client_identity: client_auth.is_some_and(|(_, _, forward)| forward),
            }),
            Err(error) => {
                match error.certificate {
                    // The certificate's file is to blame: point at its `cert` key.
                    Some(i) => {
                        let entry = &s.certificates.get_ref()[i];
                        let file = self.base_dir.join(entry.cert.get_ref());
                        let key = format!("{prefix}.certificates[{i}].cert");
                        let message = format!("`{}`: {}", file.display(), error.message);
                        self.error(entry.cert.span(), &key, message, None);
                    }
                    None => self.error(section.span(), &prefix, error.message, None),
                }
                None
            }
        }
    }

    /// The TLS of an `https` upstream (`section` may be absent: system roots, no client
    /// certificate).
    pub(super) fn upstream_tls(
        &mut self,
        prefix: &str,
        section: Option<&Spanned<UpstreamTlsSection>>,
        url_span: std::ops::Range<usize>,
    ) -> Option<UpstreamTls> {
        let key = format!("{prefix}.tls");
        let s = section.map(Spanned::get_ref);
        let roots = match s.and_then(|s| s.ca.as_ref()) {
            Some(ca) => Some(self.pem_file(ca, &format!("{key}.ca"), tls::read_roots)?),
            None => None,
        };
        let client = s.map(|s| (&s.client_cert, &s.client_key));
        let client_certificate = match client {
            Some((Some(cert), Some(private))) => {
                let chain =
                    self.pem_file(cert, &format!("{key}.client_cert"), tls::read_certificates);
                let private =
                    self.pem_file(private, &format!("{key}.client_key"), tls::read_private_key);
                Some((chain?, private?))
            }
            Some((Some(only), None)) | Some((None, Some(only))) => {
                let message = "`client_cert` and `client_key` go together".to_owned();
                let help = "set both (the gateway's certificate chain and its key), or neither";
                self.error(only.span(), &key, message, Some(help.into()));
                return None;
            }
            _ => None,
        };
        let server_name = s.and_then(|s| s.server_name.as_ref()).and_then(|name| {
            let valid = rustls::pki_types::ServerName::try_from(name.get_ref().as_str()).is_ok();
            if !valid {
                let message = format!("invalid server name `{}`", name.get_ref());
                let help = "a DNS name or an IP address, e.g. `orders.internal`";
                self.error(
                    name.span(),
                    &format!("{key}.server_name"),
                    message,
                    Some(help.into()),
                );
            }
            valid.then(|| name.get_ref().clone())
        });
        let digest = |value: Option<&Spanned<String>>| {
            let path = value.map(|v| self.base_dir.join(v.get_ref()));
            path.and_then(|p| crate::file_digest::file_digest(&p))
                .unwrap_or_default()
        };
        let files_digest = [
            digest(s.and_then(|s| s.ca.as_ref())),
            digest(s.and_then(|s| s.client_cert.as_ref())),
            digest(s.and_then(|s| s.client_key.as_ref())),
        ];
        match tls::upstream_client_config(roots, client_certificate) {
            Ok(config) => Some(UpstreamTls {
                client_config: Arc::new(config),
                files_digest,
                server_name,
            }),
            Err(error) => {
                let span = section.map_or(url_span, Spanned::span);
                let help = "name the CA that signed the upstream's certificate: `ca = \"ca.pem\"`";
                self.error(span, &key, error.to_string(), Some(help.into()));
                None
            }
        }
    }

    /// Reads the PEM file `value` names with `read`, recording it as a file to watch; an
    /// error is recorded at `value`'s span under `key`.
    fn pem_file<T>(
        &mut self,
        value: &Spanned<String>,
        key: &str,
        read: fn(&std::path::Path) -> Result<T, String>,
    ) -> Option<T> {
        let path: PathBuf = self.file_path(value, key)?;
        self.referenced_files.push(path.clone());
        match read(&path) {
            Ok(read) => Some(read),
            Err(message) => {
                self.error(value.span(), key, message, None);
                None
            }
        }
    }
}
