//! The serde surface of the plugin's config. The validated forms live in `limits` and `subject`
//! and never derive `Deserialize`.

use std::collections::BTreeMap;

use serde::Deserialize;

/// The `config` table of a `rate_limiter` plugin; see the crate docs for a full example.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `key = "client-ip"` (default), `"api-key"`, `"principal"`, `"route"` or
    /// `{ header = "x-tenant-id" }`: whom each bucket counts.
    pub(crate) key: Option<KeyConfig>,
    /// `when_absent = "client-ip"` (default) or `"skip"`: what to do when the request has no
    /// value for `key` (no API key id, no principal, no header).
    pub(crate) when_absent: Option<WhenAbsentConfig>,
    /// `response_headers = false`: leave allowed responses without `RateLimit-*` headers
    /// (default true; refusals always carry them).
    #[serde(default = "yes")]
    pub(crate) response_headers: bool,
    /// `default = { rate = 100, burst = 200, period = "1s" }`: the limit of every route without
    /// its own.
    #[serde(rename = "default")]
    pub(crate) global: Option<LimitConfig>,
    /// `[plugins.<name>.config.routes.<route id>]`: `rate`, `burst`, `period` and
    /// `methods = { POST = { rate = 10 } }`, replacing the default on that route (method).
    #[serde(default)]
    pub(crate) routes: BTreeMap<String, RouteConfig>,
}

fn yes() -> bool {
    true
}

/// `"client-ip"`, `"api-key"`, `"principal"`, `"route"` or `{ header = "x-tenant-id" }`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) enum KeyConfig {
    /// `"client-ip"`: the context's `gateway.client-ip`.
    ClientIp,
    /// `"api-key"`: the context's `api-key.id`, set by the `api_keys` plugin.
    ApiKey,
    /// `"principal"`: the context's `auth.principal`, set by an authorizer.
    Principal,
    /// `"route"`: the context's `gateway.route-id`: one bucket per route for all clients.
    Route,
    /// `{ header = "x-tenant-id" }`: the first value of a request header.
    Header(String),
}

/// `"client-ip"` or `"skip"`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum WhenAbsentConfig {
    /// Count the request under the client's IP address instead.
    ClientIp,
    /// Do not limit the request.
    Skip,
}

/// `{ rate = 100, burst = 200, period = "1s" }`: `burst` requests at once, then `rate` per
/// `period`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LimitConfig {
    /// `rate = 100`: requests per period, at least 1.
    pub(crate) rate: u32,
    /// `burst = 200`: requests at once on a rested bucket (default: `rate`).
    pub(crate) burst: Option<u32>,
    /// `period = "1s"`: `<number><unit>` with unit `ms`, `s`, `m`, `h` or `d` (default `"1s"`).
    pub(crate) period: Option<String>,
}

/// A route's limits: its own (optional) and its methods'.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RouteConfig {
    /// `rate = 10`: the route's own limit (without it, methods not listed use the default).
    pub(crate) rate: Option<u32>,
    /// `burst = 20` (default: `rate`).
    pub(crate) burst: Option<u32>,
    /// `period = "1s"` (default `"1s"`).
    pub(crate) period: Option<String>,
    /// `methods = { POST = { rate = 2, burst = 5 } }`: per-method limits on this route.
    #[serde(default)]
    pub(crate) methods: BTreeMap<String, LimitConfig>,
}
