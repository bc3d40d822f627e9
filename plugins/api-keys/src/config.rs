//! The serde surface of the plugin's config and of the keys document. The validated forms live
//! in `plan`, `keys` and `source` and never derive `Deserialize`.

use std::collections::BTreeMap;

use serde::Deserialize;
use wasmgate_plugin_sdk::rate_limit::Window;

/// The `config` table of an `api_keys` plugin; see the crate docs for a full example.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `source = { header = "x-api-key" }` or `source = { query = "api_key" }`: where clients
    /// send their key (default: the `x-api-key` header).
    pub(crate) source: Option<SourceConfig>,
    /// `forward_key = true`: leave the key in the request the backend sees (default false: the
    /// header or query parameter is removed once the key is accepted).
    #[serde(default)]
    pub(crate) forward_key: bool,
    /// `quota_headers = true`: add `X-Quota-Limit`, `X-Quota-Remaining` and `X-Quota-Reset` to
    /// responses of keys whose plan has a quota (default false).
    #[serde(default)]
    pub(crate) quota_headers: bool,
    /// `keys_document = "keys"`: the attached document (`[plugins.<name>.documents]`) holding
    /// more keys, in the same `[[keys]]` TOML shape as below. Re-read when it changes.
    pub(crate) keys_document: Option<String>,
    /// `[[plugins.<name>.config.keys]]`: `id = "k-42"`, `hash = "<sha-256 hex>"`,
    /// `plan = "gold"`, optional `enabled = false`.
    #[serde(default)]
    pub(crate) keys: Vec<KeyConfig>,
    /// `[plugins.<name>.config.plans.gold]`: `throttle = { rate = 100, burst = 200, period = "1s" }`
    /// and `quota = { limit = 10000, period = "day" }`, both optional.
    #[serde(default)]
    pub(crate) plans: BTreeMap<String, PlanConfig>,
}

/// `{ header = "x-api-key" }` or `{ query = "api_key" }`: exactly one of the two.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SourceConfig {
    /// `header = "x-api-key"`: the first value of this request header.
    pub(crate) header: Option<String>,
    /// `query = "api_key"`: the first value of this query parameter (percent-decoded).
    pub(crate) query: Option<String>,
}

/// One key: `{ id = "k-42", hash = "9f86…", plan = "gold", enabled = true }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct KeyConfig {
    /// `id = "k-42"`: the name the access log and later plugins see (`api-key.id`); visible
    /// ASCII, at most 128 characters, unique.
    pub(crate) id: String,
    /// `hash = "9f86d081…"`: the lower- or upper-case hex SHA-256 of the key, unique.
    pub(crate) hash: String,
    /// `plan = "gold"`: a plan of `plans`.
    pub(crate) plan: String,
    /// `enabled = false` refuses the key like an unknown one (default true).
    #[serde(default = "enabled_by_default")]
    pub(crate) enabled: bool,
}

fn enabled_by_default() -> bool {
    true
}

/// The keys document: `[[keys]]` tables, each a [`KeyConfig`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct KeysDocument {
    /// `[[keys]]` entries.
    #[serde(default)]
    pub(crate) keys: Vec<KeyConfig>,
}

/// A usage plan: `{ throttle = {…}, quota = {…} }`, both optional.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PlanConfig {
    /// `throttle = { rate = 100, burst = 200, period = "1s" }`.
    pub(crate) throttle: Option<ThrottleConfig>,
    /// `quota = { limit = 10000, period = "day" }`.
    pub(crate) quota: Option<QuotaConfig>,
}

/// `throttle = { rate = 100, burst = 200, period = "1s" }`: `burst` requests at once, then
/// `rate` per `period`, per key.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ThrottleConfig {
    /// `rate = 100`: requests per period, at least 1.
    pub(crate) rate: u32,
    /// `burst = 200`: requests at once on a rested key (default: `rate`).
    pub(crate) burst: Option<u32>,
    /// `period = "1s"`: `<number><unit>` with unit `ms`, `s`, `m`, `h` or `d` (default `"1s"`).
    pub(crate) period: Option<String>,
}

/// `quota = { limit = 10000, period = "month" }`: uses per UTC calendar window, per key.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct QuotaConfig {
    /// `limit = 10000`: requests per window, at least 1.
    pub(crate) limit: u64,
    /// `period = "day"`, `"week"` (from Monday) or `"month"`, in UTC.
    pub(crate) period: Window,
}
