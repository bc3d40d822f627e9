//! The plugin's config: the serde surface ([`Config`]) and the validated [`Policy`], which never
//! derives `Deserialize`.

use serde::Deserialize;
use wasmgate_plugin_sdk::{InitError, header};

/// The `config` table of a `cors` plugin; see the crate docs for a full example.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `allow_origins = ["https://app.example.com", "https://*.example.com"]`, or `["*"]` for
    /// any origin (not with `allow_credentials`). Required.
    allow_origins: Vec<String>,
    /// `allow_methods = ["GET", "POST"]`, or `["*"]` (default `["GET", "HEAD", "POST"]`).
    allow_methods: Option<Vec<String>>,
    /// `allow_headers = ["content-type", "x-api-key"]`, or `["*"]` for any (default: none
    /// beyond the CORS-safelisted ones).
    #[serde(default)]
    allow_headers: Vec<String>,
    /// `expose_headers = ["x-request-id"]`: response headers scripts may read (default none).
    #[serde(default)]
    expose_headers: Vec<String>,
    /// `allow_credentials = true`: allow cookies and HTTP auth (default false).
    #[serde(default)]
    allow_credentials: bool,
    /// `max_age_secs = 600`: how long browsers cache a preflight (default: not sent).
    max_age_secs: Option<u32>,
}

/// An allowed origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OriginRule {
    /// `*`: any origin.
    Any,
    /// An exact, lower-case origin such as `https://app.example.com:8443` (or `null`).
    Exact(String),
    /// `https://*.example.com`: the scheme, then any subdomain (one or more labels) of the
    /// suffix (which includes the port, if any).
    Subdomains { scheme: String, suffix: String },
}

impl OriginRule {
    pub(crate) fn matches(&self, origin: &str) -> bool {
        match self {
            OriginRule::Any => true,
            OriginRule::Exact(exact) => exact == origin,
            OriginRule::Subdomains { scheme, suffix } => origin
                .strip_prefix(scheme.as_str())
                .and_then(|rest| rest.strip_prefix("://"))
                .and_then(|host| host.strip_suffix(suffix.as_str()))
                .and_then(|labels| labels.strip_suffix('.'))
                .is_some_and(|labels| {
                    !labels.is_empty()
                        && labels
                            .split('.')
                            .all(|label| !label.is_empty() && label.bytes().all(is_host_byte))
                }),
        }
    }
}

/// A list that is either explicit or `*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum List {
    Any,
    Only(Vec<String>),
}

/// The validated policy.
#[derive(Debug)]
pub(crate) struct Policy {
    pub(crate) origins: Vec<OriginRule>,
    pub(crate) methods: List,
    pub(crate) headers: List,
    /// `, `-joined, empty for none.
    pub(crate) expose_headers: String,
    pub(crate) credentials: bool,
    pub(crate) max_age: Option<u32>,
}

impl TryFrom<Config> for Policy {
    type Error = InitError;

    fn try_from(config: Config) -> Result<Self, InitError> {
        if config.allow_origins.is_empty() {
            return Err(InitError::invalid_config(
                "allow_origins",
                "empty: list the origins allowed, e.g. [\"https://app.example.com\"]",
            ));
        }
        let origins = config
            .allow_origins
            .iter()
            .enumerate()
            .map(|(index, origin)| origin_rule(&format!("allow_origins[{index}]"), origin))
            .collect::<Result<Vec<_>, _>>()?;
        if config.allow_credentials && origins.contains(&OriginRule::Any) {
            return Err(InitError::invalid_config(
                "allow_origins",
                "`*` cannot be combined with `allow_credentials = true` (browsers refuse it): \
                 list the origins",
            ));
        }
        let default_methods = || ["GET", "HEAD", "POST"].map(str::to_owned).to_vec();
        let methods = list(
            "allow_methods",
            config.allow_methods.unwrap_or_else(default_methods),
            |method| method.to_owned(),
        )?;
        let headers = list(
            "allow_headers",
            config.allow_headers,
            str::to_ascii_lowercase,
        )?;
        let List::Only(expose) = list(
            "expose_headers",
            config.expose_headers,
            str::to_ascii_lowercase,
        )?
        else {
            return Err(InitError::invalid_config(
                "expose_headers",
                "`*` is not supported: list the headers",
            ));
        };
        Ok(Policy {
            origins,
            methods,
            headers,
            expose_headers: expose.join(", "),
            credentials: config.allow_credentials,
            max_age: config.max_age_secs,
        })
    }
}

/// Validates an `allow_origins` entry.
fn origin_rule(key: &str, origin: &str) -> Result<OriginRule, InitError> {
    let origin = origin.to_ascii_lowercase();
    if origin == "*" {
        return Ok(OriginRule::Any);
    }
    if origin == "null" {
        return Ok(OriginRule::Exact(origin));
    }
    let fix = "write `scheme://host[:port]` without a path or trailing slash, e.g. \
               `https://app.example.com` or `https://*.example.com`";
    let Some((scheme, host)) = origin.split_once("://") else {
        return Err(InitError::invalid_config(
            key,
            format!("not an origin: {fix}"),
        ));
    };
    let scheme_ok = !scheme.is_empty()
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b));
    let (hostname, port) = match host.rsplit_once(':') {
        Some((hostname, port)) => (hostname, Some(port)),
        None => (host, None),
    };
    let port_ok = port.is_none_or(|port| !port.is_empty() && port.parse::<u16>().is_ok());
    let (wildcard, hostname) = match hostname.strip_prefix("*.") {
        Some(rest) => (true, rest),
        None => (false, hostname),
    };
    let host_ok = !hostname.is_empty()
        && hostname
            .split('.')
            .all(|label| !label.is_empty() && label.bytes().all(is_host_byte));
    if !(scheme_ok && port_ok && host_ok) {
        return Err(InitError::invalid_config(
            key,
            format!("not an origin: {fix}"),
        ));
    }
    if wildcard {
        let suffix = match port {
            Some(port) => format!("{hostname}:{port}"),
            None => hostname.to_owned(),
        };
        Ok(OriginRule::Subdomains {
            scheme: scheme.to_owned(),
            suffix,
        })
    } else {
        Ok(OriginRule::Exact(origin))
    }
}

fn is_host_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_'
}

/// A method or header list: `["*"]`, or valid tokens.
fn list(key: &str, items: Vec<String>, normalise: fn(&str) -> String) -> Result<List, InitError> {
    if items.iter().any(|item| item == "*") {
        return if items.len() == 1 {
            Ok(List::Any)
        } else {
            Err(InitError::invalid_config(key, "`*` must be the only entry"))
        };
    }
    let mut normalised: Vec<String> = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        if !header::is_valid_name(item) {
            return Err(InitError::invalid_config(
                &format!("{key}[{index}]"),
                format!("`{item}` is not a valid token (letters, digits, `-`, …)"),
            ));
        }
        let item = normalise(item);
        if !normalised.contains(&item) {
            normalised.push(item);
        }
    }
    Ok(List::Only(normalised))
}
