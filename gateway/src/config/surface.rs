//! The serde surface: the TOML file exactly as an operator writes it.
//!
//! Every table denies unknown keys, and every field's doc comment shows its TOML line. Nothing is
//! checked here beyond TOML types; [`super::validate`] turns these into the [`super::model`] types.
//! Fields an error may point at are [`Spanned`], so messages carry a line and column; optional
//! numbers stay `Option` so their defaults are applied (and documented) in one place.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

/// The whole config file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ConfigFile {
    /// `[gateway]`
    #[serde(default)]
    pub(super) gateway: GatewaySection,
    /// `[[listeners]]` (at least one)
    #[serde(default)]
    pub(super) listeners: Vec<ListenerSection>,
    /// `[admin]`
    #[serde(default)]
    pub(super) admin: AdminSection,
    /// `[reload]`
    #[serde(default)]
    pub(super) reload: ReloadSection,
    /// `[access_log]`
    #[serde(default)]
    pub(super) access_log: AccessLogSection,
    /// `[record]` (absent: nothing is recorded)
    pub(super) record: Option<Spanned<RecordSection>>,
    /// `[engine]`
    #[serde(default)]
    pub(super) engine: EngineSection,
    /// `[versioning]`
    #[serde(default)]
    pub(super) versioning: VersioningSection,
    /// `[upstreams.orders]`
    #[serde(default)]
    pub(super) upstreams: BTreeMap<String, Spanned<UpstreamSection>>,
    /// `[store]`
    #[serde(default)]
    pub(super) store: StoreSection,
    /// `[tracing]`
    #[serde(default)]
    pub(super) tracing: TracingSection,
    /// `[plugins.auth]`
    #[serde(default)]
    pub(super) plugins: BTreeMap<String, Spanned<PluginSection>>,
    /// `[chain]`
    #[serde(default)]
    pub(super) chain: ChainSection,
    /// `[[routes]]`
    #[serde(default)]
    pub(super) routes: Vec<RouteSection>,
    /// `[stages.prod]`
    #[serde(default)]
    pub(super) stages: BTreeMap<String, Spanned<StageSection>>,
    /// `[domains."api.example.com"]`
    #[serde(default)]
    pub(super) domains: BTreeMap<String, Spanned<DomainSection>>,
}

/// `[stages.<name>]`: a deployment stage.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct StageSection {
    /// `hosts = ["api.example.com", "*.prod.example.com"]`: requests for these hosts are in the
    /// stage (absent: any host)
    pub(super) hosts: Option<Vec<Spanned<String>>>,
    /// `base_path = "/prod"`: requests under this path are in the stage; it is stripped before
    /// routing
    pub(super) base_path: Option<Spanned<String>>,
    /// `variables = { backend = "http://10.0.0.1:8080" }`: read as `${stage.backend}` in
    /// upstream URLs and plugin config strings
    #[serde(default)]
    pub(super) variables: BTreeMap<String, Spanned<String>>,
    /// `throttle = { rate = 1000, burst = 2000 }`: each route's request rate limit in the stage
    pub(super) throttle: Option<Spanned<ThrottleSection>>,
    /// `[stages.prod.route_throttle]` `"GET /orders/{id}" = { rate = 50 }`: limits of single
    /// routes, by route id
    #[serde(default)]
    pub(super) route_throttle: BTreeMap<String, Spanned<ThrottleSection>>,
    /// `[stages.prod.canary]`
    pub(super) canary: Option<Spanned<StageCanarySection>>,
}

/// `throttle = { rate = 1000, burst = 2000 }`: a token bucket.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ThrottleSection {
    /// `rate = 1000`: requests per second (1 to 1000000)
    pub(super) rate: Spanned<u64>,
    /// `burst = 2000`: requests at once (the default: `rate`; 1 to 1000000)
    pub(super) burst: Option<Spanned<u64>>,
}

/// `[stages.<name>.canary]`: a share of the stage's requests served with other variables.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct StageCanarySection {
    /// `percent = 10` (the default 0; 0 to 100, fractions allowed down to 0.01)
    pub(super) percent: Option<Spanned<f64>>,
    /// `header = "x-canary"`: `true`/`1` sends the request to the canary, `false`/`0` not
    pub(super) header: Option<Spanned<String>>,
    /// `cookie = "canary"`: as `header`, from a cookie
    pub(super) cookie: Option<Spanned<String>>,
    /// `sticky = "client-ip"`, `"header:x-user-id"` or `"cookie:session"`: one client, one side
    pub(super) sticky: Option<Spanned<String>>,
    /// `variables = { backend = "http://10.0.0.2:8080" }`: overrides of the stage's variables
    #[serde(default)]
    pub(super) variables: BTreeMap<String, Spanned<String>>,
}

/// `[domains."<host>"]`: a custom domain that serves the API under a base path.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DomainSection {
    /// `base_path = "/orders"`: requests for the domain must start with it; it is stripped
    pub(super) base_path: Spanned<String>,
}

/// `[gateway]`: request handling settings. All optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct GatewaySection {
    /// `request_id_header = "x-request-id"` (the default)
    pub(super) request_id_header: Option<Spanned<String>>,
    /// `max_body_bytes = 10485760` (default 10 MiB)
    pub(super) max_body_bytes: Option<Spanned<u64>>,
    /// `shutdown_grace_ms = 30000` (default 30 s)
    pub(super) shutdown_grace_ms: Option<Spanned<u64>>,
    /// `max_header_bytes = 16384` (default 16 KiB: request line and headers)
    pub(super) max_header_bytes: Option<Spanned<u64>>,
    /// `header_read_timeout_ms = 10000` (default 10 s; also bounds the TLS handshake)
    pub(super) header_read_timeout_ms: Option<Spanned<u64>>,
    /// `idle_timeout_ms = 60000` (default 60 s)
    pub(super) idle_timeout_ms: Option<Spanned<u64>>,
    /// `max_connections = 10000` (the default; per listener)
    pub(super) max_connections: Option<Spanned<u64>>,
    /// `http2_max_concurrent_streams = 100` (the default)
    pub(super) http2_max_concurrent_streams: Option<Spanned<u64>>,
}

/// `[[listeners]]`: one traffic listener.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ListenerSection {
    /// `name = "public"` (default `listener-<index>`)
    pub(super) name: Option<Spanned<String>>,
    /// `address = "127.0.0.1:8080"`
    pub(super) address: Spanned<String>,
    /// `[listeners.tls]`: serve HTTPS on this listener
    pub(super) tls: Option<Spanned<ListenerTlsSection>>,
    /// `redirect_https_port = 8443`: answer every request with a redirect to HTTPS on this port
    pub(super) redirect_https_port: Option<Spanned<u64>>,
}

/// `[listeners.tls]`: the listener's certificates and TLS settings.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ListenerTlsSection {
    /// `certificates = [{ cert = "api.pem", key = "api-key.pem" }]` (at least one; the first is
    /// the default when SNI matches none)
    pub(super) certificates: Spanned<Vec<CertificateSection>>,
    /// `min_version = "1.2"` (the default) or `"1.3"`
    pub(super) min_version: Option<Spanned<String>>,
    /// `hsts = "max-age=31536000"`: a `Strict-Transport-Security` header on every response
    pub(super) hsts: Option<Spanned<String>>,
    /// `[listeners.tls.client_auth]`: mutual TLS
    pub(super) client_auth: Option<ClientAuthSection>,
}

/// One certificate chain and its private key, as PEM files.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CertificateSection {
    /// `cert = "api.pem"` (the leaf first, then intermediates; relative to the config file)
    pub(super) cert: Spanned<String>,
    /// `key = "api-key.pem"` (PKCS#8, PKCS#1 or SEC1)
    pub(super) key: Spanned<String>,
}

/// `[listeners.tls.client_auth]`: client certificates.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ClientAuthSection {
    /// `mode = "required"` or `"optional"`
    pub(super) mode: Spanned<String>,
    /// `ca = "clients-ca.pem"`: the CAs client certificates must chain to
    pub(super) ca: Spanned<String>,
    /// `forward_headers = false` (the default): send the client's identity upstream as
    /// `x-client-cert-*` headers
    pub(super) forward_headers: Option<bool>,
}

/// `[admin]`: the admin listener, which is always on. All optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AdminSection {
    /// `address = "127.0.0.1:9901"` (the default; port 0 picks a free one)
    pub(super) address: Option<Spanned<String>>,
    /// `token = "…"` (at least 16 characters; required, or `token_file`, off loopback)
    pub(super) token: Option<Spanned<String>>,
    /// `token_file = "admin-token.txt"` (relative to the config file; instead of `token`)
    pub(super) token_file: Option<Spanned<String>>,
}

/// `[reload]`: reloading on file changes. All optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ReloadSection {
    /// `watch = true` (the default)
    pub(super) watch: Option<bool>,
    /// `debounce_ms = 250` (the default; 10 to 60000)
    pub(super) debounce_ms: Option<Spanned<u64>>,
}

/// `[access_log]`: one JSON line per request. All optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AccessLogSection {
    /// `enabled = true` (default false)
    pub(super) enabled: Option<bool>,
    /// `path = "access.log"` (relative to the config file; `"-"`, the default, is stdout)
    pub(super) path: Option<Spanned<String>>,
    /// `fields = ["time", "request_id", "status"]` (default: every field)
    pub(super) fields: Option<Vec<Spanned<String>>>,
}

/// `[record]`: sampled requests of chosen routes written, with what every stage did, to a
/// JSON-lines file that `wasmgate replay` runs again.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RecordSection {
    /// `path = "recorded.jsonl"` (relative to the config file; appended to)
    pub(super) path: Spanned<String>,
    /// `routes = ["GET /books/{id}"]`: route ids (default: every route)
    pub(super) routes: Option<Vec<Spanned<String>>>,
    /// `sample_ratio = 0.01` (the default 1.0: every request of a recorded route)
    pub(super) sample_ratio: Option<Spanned<f64>>,
    /// `max_requests = 1000` (the default; 1 to 1000000): then recording stops until a reload
    /// changes `[record]`
    pub(super) max_requests: Option<Spanned<u64>>,
    /// `max_body_bytes = 65536` (the default; 0 to 1048576): larger bodies are left out
    pub(super) max_body_bytes: Option<Spanned<u64>>,
    /// `redact_headers = ["x-session"]`: redacted besides authorization, proxy-authorization,
    /// cookie, set-cookie and x-api-key
    pub(super) redact_headers: Option<Vec<Spanned<String>>>,
    /// `redact_query = ["api_key"]`: query parameters whose values are redacted
    pub(super) redact_query: Option<Vec<Spanned<String>>>,
    /// `keep_headers = ["authorization"]`: default-redacted headers recorded in clear (so a
    /// replay can verify tokens; the file then holds credentials)
    pub(super) keep_headers: Option<Vec<Spanned<String>>>,
}

/// `[engine]`: how the Wasm engine runs plugins. All optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct EngineSection {
    /// `cache_dir = ".wasmgate-cache"` (relative to the config file; absent: no disk cache)
    pub(super) cache_dir: Option<Spanned<String>>,
    /// `max_instances = 512` (the default; 1 to 10000)
    pub(super) max_instances: Option<Spanned<u64>>,
    /// `max_memory_mb = 256` (the default; 1 to 4096)
    pub(super) max_memory_mb: Option<Spanned<u64>>,
}

/// `[versioning]`: how clients select an API version. All optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct VersioningSection {
    /// `header = "x-api-version"` (the default)
    pub(super) header: Option<Spanned<String>>,
    /// `query_param = "version"` (the default)
    pub(super) query_param: Option<Spanned<String>>,
    /// `default_version = "v1"` (must be the `version` of some route)
    pub(super) default_version: Option<Spanned<String>>,
}

/// `[upstreams.<name>]`: a named backend: one `url`, or a pool of `targets`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct UpstreamSection {
    /// `url = "http://127.0.0.1:9000"` (may have a base path, no query); or `targets`
    pub(super) url: Option<Spanned<String>>,
    /// `targets = [{ url = "http://10.0.0.1:9000", weight = 2 }, …]`; or `url`
    pub(super) targets: Option<Spanned<Vec<TargetSection>>>,
    /// `protocol = "http1"` (the default), `"h2"` (TLS), `"h2c"` (cleartext) or `"auto"`
    pub(super) protocol: Option<Spanned<Protocol>>,
    /// `balance = "round-robin"` (the default), `"least-request"` or `"hash"`
    pub(super) balance: Option<Spanned<Balance>>,
    /// `hash_on = "header:x-user-id"`, `"cookie:session"` or `"client-ip"` (`hash` only)
    pub(super) hash_on: Option<Spanned<String>>,
    /// `connect_timeout_ms = 1000` (the default)
    pub(super) connect_timeout_ms: Option<Spanned<u64>>,
    /// `timeout_ms = 29000` (the default): the whole call, retries included
    pub(super) timeout_ms: Option<Spanned<u64>>,
    /// `max_requests = 1024` (default: no limit): concurrent requests before 503
    pub(super) max_requests: Option<Spanned<u64>>,
    /// `max_connections = 256` (default: no limit): connections open to the targets at once
    pub(super) max_connections: Option<Spanned<u64>>,
    /// `max_pending = 1024` (the default with `max_connections`): requests waiting for a
    /// connection before 503
    pub(super) max_pending: Option<Spanned<u64>>,
    /// `dns_refresh_ms = 5000` (absent: names are resolved at each connect): resolve the
    /// targets' host names this often, every address a target of its own (100 to 3600000)
    pub(super) dns_refresh_ms: Option<Spanned<u64>>,
    /// `[upstreams.<name>.retries]` (absent: no retries unless a route sets them)
    pub(super) retries: Option<Spanned<RetriesSection>>,
    /// `retry_budget = { percent = 20, min_per_second = 3 }` (the defaults)
    pub(super) retry_budget: Option<Spanned<RetryBudgetSection>>,
    /// `[upstreams.<name>.health_check]` (absent: no active checks)
    pub(super) health_check: Option<Spanned<HealthCheckSection>>,
    /// `[upstreams.<name>.outlier]` (absent: no passive ejection)
    pub(super) outlier: Option<Spanned<OutlierSection>>,
    /// `[upstreams.<name>.tls]`: how `https` upstreams are verified
    pub(super) tls: Option<Spanned<UpstreamTlsSection>>,
}

/// One of `targets = [ … ]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TargetSection {
    /// `url = "http://10.0.0.1:9000"` (same scheme as the other targets)
    pub(super) url: Spanned<String>,
    /// `weight = 1` (the default; 0 to 1000, 0 takes no traffic)
    pub(super) weight: Option<Spanned<u64>>,
}

/// `protocol = "http1"`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum Protocol {
    /// `protocol = "http1"`
    Http1,
    /// `protocol = "h2"`: HTTP/2 over TLS (ALPN `h2`), `https` only
    H2,
    /// `protocol = "h2c"`: HTTP/2 with prior knowledge over TCP, `http` only
    H2c,
    /// `protocol = "auto"`: `https`: what ALPN picks (`h2` or `http/1.1`); `http`: HTTP/1.1
    Auto,
}

/// `balance = "round-robin"`
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(super) enum Balance {
    /// `balance = "round-robin"` (weighted)
    RoundRobin,
    /// `balance = "least-request"` (the better of two random targets)
    LeastRequest,
    /// `balance = "hash"` (consistent hashing on `hash_on`)
    Hash,
}

/// `[upstreams.<name>.retries]` or `[routes.integration.retries]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RetriesSection {
    /// `attempts = 2` (the default; 1 to 10): tries in all, the first included
    pub(super) attempts: Option<Spanned<u64>>,
    /// `on = ["connect-failure", "refused-stream", "reset", "timeout", "502", "503", "504"]`
    pub(super) on: Option<Spanned<Vec<Spanned<String>>>>,
    /// `per_try_timeout_ms = 1000` (default: none, only `timeout_ms` bounds a try)
    pub(super) per_try_timeout_ms: Option<Spanned<u64>>,
    /// `backoff = { base_ms = 25, max_ms = 250 }` (the defaults)
    pub(super) backoff: Option<BackoffSection>,
}

/// `backoff = { base_ms = 25, max_ms = 250 }`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct BackoffSection {
    /// `base_ms = 25` (the default; 0 to 60000)
    pub(super) base_ms: Option<Spanned<u64>>,
    /// `max_ms = 250` (the default, at least `base_ms`; 0 to 60000)
    pub(super) max_ms: Option<Spanned<u64>>,
}

/// `retry_budget = { percent = 20, min_per_second = 3 }`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RetryBudgetSection {
    /// `percent = 20` (the default; 0 to 100): retries as a share of requests, over 10 s
    pub(super) percent: Option<Spanned<u64>>,
    /// `min_per_second = 3` (the default; 0 to 10000): retries always allowed
    pub(super) min_per_second: Option<Spanned<u64>>,
}

/// `[upstreams.<name>.health_check]`: active checks of every target.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct HealthCheckSection {
    /// `path = "/healthz"` (required): a GET that must answer 2xx or 3xx
    pub(super) path: Spanned<String>,
    /// `interval_ms = 5000` (the default; 100 to 3600000)
    pub(super) interval_ms: Option<Spanned<u64>>,
    /// `timeout_ms = 1000` (the default; 1 to 60000, at most `interval_ms`)
    pub(super) timeout_ms: Option<Spanned<u64>>,
    /// `healthy_threshold = 2` (the default; 1 to 100): passes in a row to come back
    pub(super) healthy_threshold: Option<Spanned<u64>>,
    /// `unhealthy_threshold = 3` (the default; 1 to 100): failures in a row to be taken out
    pub(super) unhealthy_threshold: Option<Spanned<u64>>,
}

/// `[upstreams.<name>.outlier]`: passive ejection of failing targets.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct OutlierSection {
    /// `consecutive_failures = 5` (the default; 1 to 1000)
    pub(super) consecutive_failures: Option<Spanned<u64>>,
    /// `base_ejection_ms = 30000` (the default; 1 to 3600000): times the ejection count
    pub(super) base_ejection_ms: Option<Spanned<u64>>,
    /// `max_ejection_ms = 300000` (the default; at least `base_ejection_ms`)
    pub(super) max_ejection_ms: Option<Spanned<u64>>,
    /// `max_ejected_percent = 50` (the default; 0 to 100)
    pub(super) max_ejected_percent: Option<Spanned<u64>>,
}

/// `[upstreams.<name>.tls]`: verifying an `https` upstream, and the gateway's client
/// certificate for upstream mutual TLS. All optional.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct UpstreamTlsSection {
    /// `ca = "upstream-ca.pem"` (default: the system's root certificates)
    pub(super) ca: Option<Spanned<String>>,
    /// `client_cert = "gateway.pem"` (with `client_key`)
    pub(super) client_cert: Option<Spanned<String>>,
    /// `client_key = "gateway-key.pem"` (with `client_cert`)
    pub(super) client_key: Option<Spanned<String>>,
    /// `server_name = "orders.internal"` (default: the URL's host)
    pub(super) server_name: Option<Spanned<String>>,
}

/// `[plugins.<name>]`: a plugin instance.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PluginSection {
    /// `path = "plugins/auth.wasm"` (relative to the config file)
    pub(super) path: Spanned<String>,
    /// `failure_policy = "closed"` (the default) or `"open"`
    pub(super) failure_policy: Option<FailurePolicy>,
    /// `instance_mode = "pooled"` (the default) or `"fresh"`
    pub(super) instance_mode: Option<InstanceMode>,
    /// `deadline_ms = 100` (the default; 1 to 60000): the plugin's own run time per call, not
    /// counting time spent queued behind other requests
    pub(super) deadline_ms: Option<Spanned<u64>>,
    /// `queue_timeout_ms = 100` (default: `deadline_ms`; 1 to 60000): how long a call waits
    /// for a free instance when all `max_instances` are busy before the request is shed (503
    /// `SERVICE_UNAVAILABLE` with `Retry-After`)
    pub(super) queue_timeout_ms: Option<Spanned<u64>>,
    /// `memory_mb = 32` (the default; at most `engine.max_memory_mb`)
    pub(super) memory_mb: Option<Spanned<u64>>,
    /// `max_instances = 64` (the default; at most `engine.max_instances`)
    pub(super) max_instances: Option<Spanned<u64>>,
    /// `grants = ["rate-limit", "kv", "metrics", "crypto"]` (default none): the capabilities the plugin
    /// may import
    pub(super) grants: Option<Spanned<Vec<Spanned<String>>>>,
    /// `[plugins.<name>.documents]`: named documents the plugin reads, e.g.
    /// `jwks = { url = "https://idp/jwks.json" }` or `schema = { file = "order.json" }`
    #[serde(default)]
    pub(super) documents: BTreeMap<String, Spanned<DocumentSection>>,
    /// `[plugins.<name>.config]` or `config = { header = "x-api-key" }`: any table, given to the
    /// plugin's `init` as JSON
    pub(super) config: Option<Spanned<toml::Table>>,
}

/// `[plugins.<name>.documents] <doc> = { … }`: a file or a URL (exactly one).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DocumentSection {
    /// `file = "schemas/order.json"` (relative to the config file; reloads with it)
    pub(super) file: Option<Spanned<String>>,
    /// `url = "https://idp.example.com/.well-known/jwks.json"` (`http` or `https`)
    pub(super) url: Option<Spanned<String>>,
    /// `refresh_ms = 300000` (URL only; the default, 5 minutes; 1000 to 86400000)
    pub(super) refresh_ms: Option<Spanned<u64>>,
    /// `timeout_ms = 5000` (URL only; the default; 1 to 60000)
    pub(super) timeout_ms: Option<Spanned<u64>>,
}

/// `[store]`: the shared state behind the `rate-limit` and `kv` capabilities. All optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct StoreSection {
    /// `backend = "memory"` (the default) or `"redis"`
    pub(super) backend: Option<Spanned<String>>,
    /// `url = "redis://127.0.0.1:6379/0"` (required with `backend = "redis"`)
    pub(super) url: Option<Spanned<String>>,
    /// `timeout_ms = 50` (the default; 1 to 10000): the longest a request waits on the store
    pub(super) timeout_ms: Option<Spanned<u64>>,
    /// `connect_timeout_ms = 1000` (the default; 1 to 60000)
    pub(super) connect_timeout_ms: Option<Spanned<u64>>,
    /// `key_prefix = "wasmgate"` (the default): prefix of every Redis key
    pub(super) key_prefix: Option<Spanned<String>>,
    /// `on_unavailable = "open"` (the default: allow) or `"closed"` (refuse) when the store
    /// cannot answer a rate-limit or quota check
    pub(super) on_unavailable: Option<Spanned<String>>,
}

/// `[tracing]`: OTLP span export. All optional; without `otlp_endpoint`, nothing is exported.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TracingSection {
    /// `otlp_endpoint = "http://127.0.0.1:4318/v1/traces"` (OTLP/HTTP protobuf; `http` only)
    pub(super) otlp_endpoint: Option<Spanned<String>>,
    /// `service_name = "wasmgate"` (the default): the `service.name` of the exported spans
    pub(super) service_name: Option<Spanned<String>>,
    /// `sample_ratio = 1.0` (the default; 0.0 to 1.0): the share of new traces exported
    pub(super) sample_ratio: Option<Spanned<f64>>,
    /// `headers = { authorization = "Bearer …" }`: sent with every export
    pub(super) headers: Option<Spanned<BTreeMap<String, Spanned<String>>>>,
    /// `timeout_ms = 10000` (the default; 1 to 60000): one export, retries included
    pub(super) timeout_ms: Option<Spanned<u64>>,
}

/// `failure_policy = "closed"`
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum FailurePolicy {
    /// `failure_policy = "closed"`
    Closed,
    /// `failure_policy = "open"`
    Open,
}

/// `instance_mode = "pooled"`
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum InstanceMode {
    /// `instance_mode = "pooled"`
    Pooled,
    /// `instance_mode = "fresh"`
    Fresh,
}

/// `[chain]`: the global chain.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ChainSection {
    /// `plugins = ["auth", "rate-limit"]` (run on every route, before the route's own)
    #[serde(default)]
    pub(super) plugins: Vec<Spanned<String>>,
}

/// `[[routes]]`: one route.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RouteSection {
    /// `id = "get-order"` (default `"<METHODS> <path>"`)
    pub(super) id: Option<Spanned<String>>,
    /// `methods = ["GET", "HEAD"]` (absent or empty: any method)
    pub(super) methods: Option<Vec<Spanned<String>>>,
    /// `host = "api.example.com"` or `"*.example.com"` (absent: any host)
    pub(super) host: Option<Spanned<String>>,
    /// `path = "/orders/{id}"`
    pub(super) path: Spanned<String>,
    /// `version = "v2"`
    pub(super) version: Option<Spanned<String>>,
    /// `plugins = ["auth"]` (after the global chain)
    #[serde(default)]
    pub(super) plugins: Vec<Spanned<String>>,
    /// `[routes.integration]`
    pub(super) integration: Spanned<IntegrationSection>,
    /// `[routes.deprecation]`
    pub(super) deprecation: Option<DeprecationSection>,
}

/// `[routes.integration]`: what answers the route. One flat table tagged by `type`, so an unknown
/// key lists every key the table may hold.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct IntegrationSection {
    /// `type = "http"` or `type = "mock"`
    #[serde(rename = "type")]
    pub(super) kind: Spanned<IntegrationKind>,
    /// `upstream = "orders"` (`http` only)
    pub(super) upstream: Option<Spanned<String>>,
    /// `status = 200` (`mock` only; default 200)
    pub(super) status: Option<Spanned<u64>>,
    /// `headers = { content-type = "application/json" }` (`mock` only)
    pub(super) headers: Option<Spanned<BTreeMap<String, Spanned<String>>>>,
    /// `body = '{"ok":true}'` (`mock` only; default empty)
    pub(super) body: Option<Spanned<String>>,
    /// `[routes.integration.retries]` (`http` only; default: the upstream's)
    pub(super) retries: Option<Spanned<RetriesSection>>,
    /// `retry_non_idempotent = false` (the default; `http` only): retry POST, PATCH too
    pub(super) retry_non_idempotent: Option<Spanned<bool>>,
    /// `canary = { upstream = "orders-v2", percent = 10 }` (`http` only)
    pub(super) canary: Option<Spanned<CanarySection>>,
}

/// `canary = { … }`: a share of a route's traffic to another upstream.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CanarySection {
    /// `upstream = "orders-v2"` (required; not the route's own)
    pub(super) upstream: Spanned<String>,
    /// `percent = 10` (the default 0; 0 to 100, fractions allowed down to 0.01)
    pub(super) percent: Option<Spanned<f64>>,
    /// `header = "x-canary"`: `true`/`1` sends the request to the canary, `false`/`0` not
    pub(super) header: Option<Spanned<String>>,
    /// `cookie = "canary"`: as `header`, from a cookie
    pub(super) cookie: Option<Spanned<String>>,
    /// `sticky = "client-ip"`, `"header:x-user-id"` or `"cookie:session"`: one client, one side
    pub(super) sticky: Option<Spanned<String>>,
}

/// `type = "http"`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum IntegrationKind {
    /// `type = "http"`
    Http,
    /// `type = "mock"`
    Mock,
}

/// `[routes.deprecation]`: a deprecation notice.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DeprecationSection {
    /// `since = 2025-01-01T00:00:00Z` (a TOML offset datetime or an RFC 3339 string)
    pub(super) since: Option<Spanned<toml::Value>>,
    /// `sunset = 2026-06-30T00:00:00Z` (a TOML offset datetime or an RFC 3339 string)
    pub(super) sunset: Option<Spanned<toml::Value>>,
    /// `link = "https://example.com/migrate"`
    pub(super) link: Option<Spanned<String>>,
}
