//! The validated configuration ([`Policy`]), built from the serde surface
//! ([`Config`](crate::Config)); it never derives `Deserialize`. Every error names the key.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::keys::Algorithm;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::Value;
use wasmgate_plugin_sdk::{InitError, header};

use crate::claims::{ClaimRule, Requirements, Validation};
use crate::config::{Config, KeySection};
use crate::jwks::{self, JwksError};
use crate::keys::{self, ALL_ALGORITHMS, Key, KeySet};
use crate::source::TokenSource;

/// The default clock skew allowance.
const DEFAULT_LEEWAY: Duration = Duration::from_secs(30);

/// The validated configuration.
#[derive(Debug)]
pub(crate) struct Policy {
    /// Where the token is read from.
    pub(crate) source: TokenSource,
    /// The algorithms accepted at all.
    pub(crate) algorithms: Vec<Algorithm>,
    /// The keys of `keys` and `jwks`.
    pub(crate) inline_keys: KeySet,
    /// The name of the JWKS document, if any.
    pub(crate) jwks_document: Option<String>,
    /// The registered-claim checks.
    pub(crate) validation: Validation,
    /// What every request needs.
    pub(crate) required: Requirements,
    /// What requests on a route need on top, by route id.
    pub(crate) routes: BTreeMap<String, Requirements>,
    /// The claims copied to `auth.claim.<name>`.
    pub(crate) claims_to_context: Vec<String>,
    /// `(header, claim)`, headers lower-case.
    pub(crate) forward_headers: Vec<(String, String)>,
    /// Every claim read after verification: what a cached principal keeps.
    pub(crate) kept_claims: BTreeSet<String>,
    /// `None`: no cache.
    pub(crate) cache_ttl: Option<Duration>,
}

impl TryFrom<Config> for Policy {
    type Error = InitError;

    fn try_from(config: Config) -> Result<Self, InitError> {
        let source = TokenSource::from_config(config.token)?;
        let algorithms = match config.algorithms {
            None => ALL_ALGORITHMS.to_vec(),
            Some(names) if names.is_empty() => {
                return Err(InitError::invalid_config(
                    "algorithms",
                    "empty: list the algorithms accepted, or leave it out to accept all",
                ));
            }
            Some(names) => names
                .iter()
                .enumerate()
                .map(|(i, name)| {
                    keys::parse_algorithm(name)
                        .map_err(|err| InitError::invalid_config(&format!("algorithms[{i}]"), err))
                })
                .collect::<Result<_, _>>()?,
        };
        let mut inline = config
            .keys
            .iter()
            .enumerate()
            .map(|(i, section)| inline_key(&format!("keys[{i}]"), section, &algorithms))
            .collect::<Result<Vec<Key>, _>>()?;
        if let Some(set) = config.jwks {
            inline.extend(inline_jwks(set, &algorithms)?);
        }
        if let Some(name) = &config.jwks_document
            && name.trim().is_empty()
        {
            return Err(InitError::invalid_config(
                "jwks_document",
                "empty document name",
            ));
        }
        if inline.is_empty() && config.jwks_document.is_none() {
            return Err(InitError::invalid_config(
                "",
                "no verification key: configure `keys`, `jwks` or `jwks_document`",
            ));
        }
        let validation = Validation {
            issuers: non_empty("issuer", config.issuer.map(|list| list.0))?,
            audiences: non_empty("audience", config.audience.map(|list| list.0))?,
            leeway: duration("leeway", config.leeway.as_deref())?.unwrap_or(DEFAULT_LEEWAY),
            require_exp: config.require_exp.unwrap_or(true),
        };
        let required = requirements("", &config.scopes, &config.claims)?;
        let routes = config
            .routes
            .iter()
            .map(|(id, route)| {
                let prefix = format!("routes.{}.", quoted_key(id));
                requirements(&prefix, &route.scopes, &route.claims).map(|r| (id.clone(), r))
            })
            .collect::<Result<BTreeMap<_, _>, _>>()?;
        for (i, name) in config.claims_to_context.iter().enumerate() {
            if name.is_empty() {
                return Err(InitError::invalid_config(
                    &format!("claims_to_context[{i}]"),
                    "empty claim name",
                ));
            }
        }
        let forward_headers = forward_headers(&config.forward_headers)?;
        let mut kept_claims: BTreeSet<String> =
            ["sub", "exp", "scope", "scp"].map(str::to_owned).into();
        kept_claims.extend(required.claim_names().map(str::to_owned));
        kept_claims.extend(
            routes
                .values()
                .flat_map(|r| r.claim_names().map(str::to_owned)),
        );
        kept_claims.extend(config.claims_to_context.iter().cloned());
        kept_claims.extend(forward_headers.iter().map(|(_, claim)| claim.clone()));
        let cache_ttl =
            duration("cache_ttl", config.cache_ttl.as_deref())?.filter(|ttl| !ttl.is_zero());
        if cache_ttl.is_some() && !crate::cache::AVAILABLE {
            return Err(InitError::invalid_config(
                "cache_ttl",
                "this build has no token cache (it does not import the `kv` store): use \
                 `jwt_authorizer_cached.wasm` with grants = [\"crypto\", \"kv\"], or remove \
                 `cache_ttl`",
            ));
        }
        Ok(Policy {
            source,
            algorithms,
            inline_keys: KeySet::new(inline),
            jwks_document: config.jwks_document,
            validation,
            required,
            routes,
            claims_to_context: config.claims_to_context,
            forward_headers,
            kept_claims,
            cache_ttl,
        })
    }
}

fn inline_key(path: &str, section: &KeySection, allowed: &[Algorithm]) -> Result<Key, InitError> {
    let alg = section
        .alg
        .as_deref()
        .map(|name| {
            keys::parse_algorithm(name)
                .map_err(|err| InitError::invalid_config(&format!("{path}.alg"), err))
        })
        .transpose()?;
    let (field, parsed) = match (&section.secret, &section.secret_base64, &section.pem) {
        (Some(secret), None, None) => ("secret", keys::from_secret(secret.as_bytes())),
        (None, Some(encoded), None) => {
            let trimmed = encoded.trim();
            let secret = STANDARD
                .decode(trimmed)
                .or_else(|_| URL_SAFE_NO_PAD.decode(trimmed.trim_end_matches('=')))
                .map_err(|_| {
                    InitError::invalid_config(
                        &format!("{path}.secret_base64"),
                        "not base64 or base64url",
                    )
                })?;
            ("secret_base64", keys::from_secret(&secret))
        }
        (None, None, Some(pem)) => ("pem", keys::from_pem(pem)),
        _ => {
            return Err(InitError::invalid_config(
                path,
                "set exactly one of `secret`, `secret_base64` or `pem`",
            ));
        }
    };
    let (key, fits) =
        parsed.map_err(|err| InitError::invalid_config(&format!("{path}.{field}"), err))?;
    let algorithms = keys::bind(&fits, alg, allowed).map_err(|err| {
        let key_path = if alg.is_some() {
            format!("{path}.alg")
        } else {
            path.to_owned()
        };
        InitError::invalid_config(&key_path, err)
    })?;
    Ok(Key {
        kid: section.kid.clone(),
        algorithms,
        key,
    })
}

fn inline_jwks(set: Value, allowed: &[Algorithm]) -> Result<Vec<Key>, InitError> {
    let set = match set {
        Value::String(text) => serde_json::from_str(&text).map_err(|err| {
            InitError::invalid_config("jwks", format!("not a JSON JWK set: {err}"))
        })?,
        other => other,
    };
    match jwks::parse(&set, allowed, true) {
        Ok((keys, _)) => Ok(keys.into_keys()),
        Err(JwksError::NotASet) => Err(InitError::invalid_config(
            "jwks",
            "expected a JWK set: \
             `{ keys = [{ kty = \"RSA\", kid = \"…\", n = \"…\", e = \"AQAB\" }] }`",
        )),
        Err(JwksError::Key { index, error }) => Err(InitError::invalid_config(
            &format!("jwks.keys[{index}]"),
            error,
        )),
    }
}

fn non_empty(key: &str, list: Option<Vec<String>>) -> Result<Vec<String>, InitError> {
    let list = list.unwrap_or_default();
    if list.iter().any(String::is_empty) {
        return Err(InitError::invalid_config(key, "empty value"));
    }
    Ok(list)
}

/// `"30s"`, `"5m"`, `"1h 30m"`.
fn duration(key: &str, text: Option<&str>) -> Result<Option<Duration>, InitError> {
    text.map(|text| {
        humantime::parse_duration(text).map_err(|err| {
            InitError::invalid_config(
                key,
                format!("invalid duration `{text}` ({err}): write e.g. \"30s\" or \"5m\""),
            )
        })
    })
    .transpose()
}

fn requirements(
    prefix: &str,
    scopes: &[String],
    claims: &BTreeMap<String, Value>,
) -> Result<Requirements, InitError> {
    for (i, scope) in scopes.iter().enumerate() {
        // RFC 6749 §3.3 scope-token: visible ASCII except `"` and `\`.
        let valid = !scope.is_empty()
            && scope
                .bytes()
                .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\');
        if !valid {
            return Err(InitError::invalid_config(
                &format!("{prefix}scopes[{i}]"),
                format!("invalid scope `{scope}`: visible ASCII without spaces, `\"` or `\\`"),
            ));
        }
    }
    let claims = claims
        .iter()
        .map(|(name, value)| {
            let accepted = match value {
                Value::Array(items) => items.clone(),
                scalar => vec![scalar.clone()],
            };
            let scalars = !accepted.is_empty()
                && accepted
                    .iter()
                    .all(|v| matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_)));
            if !scalars {
                return Err(InitError::invalid_config(
                    &format!("{prefix}claims.{}", quoted_key(name)),
                    "expected a string, number or boolean, or a non-empty list of them",
                ));
            }
            Ok(ClaimRule {
                name: name.clone(),
                accepted,
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(Requirements {
        scopes: scopes.to_vec(),
        claims,
    })
}

fn forward_headers(headers: &BTreeMap<String, String>) -> Result<Vec<(String, String)>, InitError> {
    headers
        .iter()
        .map(|(name, claim)| {
            let key = format!("forward_headers.{}", quoted_key(name));
            if !header::is_valid_name(name) {
                return Err(InitError::invalid_config(&key, "invalid header name"));
            }
            if claim.is_empty() {
                return Err(InitError::invalid_config(&key, "empty claim name"));
            }
            Ok((name.to_ascii_lowercase(), claim.clone()))
        })
        .collect()
}

/// A TOML key as written in a path: bare when it can be, quoted otherwise.
fn quoted_key(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if bare {
        key.to_owned()
    } else {
        format!("\"{key}\"")
    }
}
