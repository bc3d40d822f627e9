//! The validated configuration: what the rest of the gateway consumes.
//!
//! These types never derive `Deserialize`; they are built from the serde surface types in
//! `config::surface` by `config::validate`, which checks every cross-reference (plugin names in
//! chains, upstream names in routes, path templates, durations) and resolves file paths relative
//! to the config file. Anything that holds one of these can rely on it being coherent.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use http::{HeaderName, HeaderValue, Method, StatusCode};

/// A fully validated gateway configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file the configuration was read from (absolute).
    pub source: PathBuf,
    /// SHA-256 of the config file's bytes, lower-case hex.
    pub source_digest: String,
    /// Every file the configuration references (plugin `.wasm` files, document files, the admin
    /// token file),
    /// absolute, sorted, without duplicates; not `source` itself. A change to any of them, or to
    /// `source`, is a reason to reload.
    pub watched_files: Vec<PathBuf>,
    /// Where the gateway accepts traffic. At least one.
    pub listeners: Vec<Listener>,
    /// The admin listener (always on).
    pub admin: AdminSettings,
    /// Reloading on file changes.
    pub reload: ReloadSettings,
    /// Gateway-wide request handling settings.
    pub gateway: GatewaySettings,
    /// The access log.
    pub access_log: AccessLogSettings,
    /// Request recording for `wasmgate replay` (`None`: nothing is recorded).
    pub record: Option<RecordSettings>,
    /// How the Wasm engine runs plugins.
    pub engine: EngineSettings,
    /// How clients select an API version.
    pub versioning: Versioning,
    /// Named backends, by name.
    pub upstreams: BTreeMap<String, Upstream>,
    /// The shared store behind the `rate-limit` and `kv` capabilities.
    pub store: StoreSettings,
    /// Span export over OTLP.
    pub tracing: TracingSettings,
    /// Plugin instances, by name.
    pub plugins: BTreeMap<String, PluginDef>,
    /// Plugins run on every route before the route's own, in order (names of `plugins`).
    pub global_chain: Vec<String>,
    /// Routes, in config order.
    pub routes: Vec<Route>,
    /// Stages, in name order (empty: every request is served outside any stage).
    pub stages: Vec<StageDef>,
    /// Custom domains that mount the API under a base path.
    pub domains: Vec<DomainMount>,
    /// Upstreams and plugins whose definition reads stage variables: each has one instance
    /// per deployment, named [`staged_name`]`(name, deployment)` in `upstreams` and `plugins`.
    pub staged: StagedNames,
}

impl Config {
    /// The deployments requests are served by: one per stage and one per stage canary, in
    /// that order (stage `i` is deployment `i`); a single unnamed one when there are no
    /// stages.
    pub fn deployments(&self) -> Vec<Deployment<'_>> {
        deployments(&self.stages)
    }

    /// The name of the upstream `name` as deployment `deployment` uses it.
    pub fn upstream_in<'a>(&self, name: &'a str, deployment: &Deployment<'_>) -> Cow<'a, str> {
        match &deployment.name {
            Some(key) if self.staged.upstreams.contains(name) => {
                shared_instance(&self.staged.shared_upstreams, staged_name(name, key)).into()
            }
            _ => name.into(),
        }
    }

    /// The name of the plugin `name` as deployment `deployment` uses it.
    pub fn plugin_in<'a>(&self, name: &'a str, deployment: &Deployment<'_>) -> Cow<'a, str> {
        match &deployment.name {
            Some(key) if self.staged.plugins.contains(name) => {
                shared_instance(&self.staged.shared_plugins, staged_name(name, key)).into()
            }
            _ => name.into(),
        }
    }
}

/// The deployments of `stages` (see [`Config::deployments`]).
pub fn deployments(stages: &[StageDef]) -> Vec<Deployment<'_>> {
    if stages.is_empty() {
        return vec![Deployment {
            name: None,
            stage: None,
            canary: false,
            variables: None,
        }];
    }
    let primaries = stages.iter().map(|stage| Deployment {
        name: Some(stage.name.clone()),
        stage: Some(stage),
        canary: false,
        variables: Some(&stage.variables),
    });
    let canaries = stages.iter().filter_map(|stage| {
        let canary = stage.canary.as_ref()?;
        Some(Deployment {
            name: Some(format!("{}/canary", stage.name)),
            stage: Some(stage),
            canary: true,
            variables: Some(&canary.variables),
        })
    });
    primaries.chain(canaries).collect()
}

/// The instance of the staged upstream or plugin `name` in the deployment named `deployment`:
/// `orders@prod`, `orders@prod/canary` (user names cannot hold `@`).
pub fn staged_name(name: &str, deployment: &str) -> String {
    format!("{name}@{deployment}")
}

/// One set of stage variables requests are served with: a stage, or its canary.
#[derive(Debug, Clone)]
pub struct Deployment<'a> {
    /// `prod` or `prod/canary`; `None` without stages.
    pub name: Option<String>,
    /// The stage.
    pub stage: Option<&'a StageDef>,
    /// Whether this is the stage's canary.
    pub canary: bool,
    /// The variables `${stage.NAME}` reads (the canary's: the stage's with its overrides).
    pub variables: Option<&'a BTreeMap<String, String>>,
}

/// Names of the upstreams and plugins that have one instance per deployment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StagedNames {
    /// Upstreams whose target URLs read stage variables.
    pub upstreams: BTreeSet<String>,
    /// Plugins whose config reads stage variables.
    pub plugins: BTreeSet<String>,
    /// Upstream instances a stage canary shares with its stage, because the canary's
    /// variables leave their definition unchanged (`orders@prod/canary` → `orders@prod`): one
    /// pool, one set of limits, for both sides.
    pub shared_upstreams: BTreeMap<String, String>,
    /// Plugin instances a stage canary shares with its stage, likewise.
    pub shared_plugins: BTreeMap<String, String>,
}

/// The instance that serves under `staged` (a [`staged_name`]): itself, or the stage's
/// instance `shared` says a canary's shares.
fn shared_instance(shared: &BTreeMap<String, String>, staged: String) -> String {
    shared.get(&staged).cloned().unwrap_or(staged)
}

/// `[stages.NAME]`: one deployment stage of the API (`dev`, `prod`), with its variables, how
/// requests are assigned to it, and its throttling.
#[derive(Debug, Clone, PartialEq)]
pub struct StageDef {
    /// The stage's name (the `stage` metrics label and context value).
    pub name: String,
    /// Hosts whose requests are in the stage (lower-case names or `*.suffix` patterns);
    /// empty: any host.
    pub hosts: Vec<String>,
    /// A path prefix selecting the stage, stripped before routing (`/dev`, no trailing `/`).
    pub base_path: Option<String>,
    /// The values of `${stage.NAME}`.
    pub variables: BTreeMap<String, String>,
    /// Each route's request rate limit in this stage, unless `route_throttle` names it.
    pub throttle: Option<Throttle>,
    /// Limits of single routes, by route id.
    pub route_throttle: BTreeMap<String, Throttle>,
    /// A share of the stage's requests served with other variables.
    pub canary: Option<StageCanary>,
}

impl StageDef {
    /// The limit of route `route` in this stage.
    pub fn throttle_of(&self, route: &str) -> Option<Throttle> {
        self.route_throttle.get(route).copied().or(self.throttle)
    }
}

/// A stage canary: which requests are served with the canary's variables.
#[derive(Debug, Clone, PartialEq)]
pub struct StageCanary {
    /// Which requests go to the canary.
    pub split: TrafficSplit,
    /// The stage's variables with the canary's overrides.
    pub variables: BTreeMap<String, String>,
}

/// A request rate limit: a token bucket refilled at `rate_per_second`, holding `burst`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttle {
    /// Requests per second, sustained.
    pub rate_per_second: u32,
    /// Requests at once, after a quiet spell.
    pub burst: u32,
}

/// `[domains."api.example.com"]`: a custom domain whose requests carry a base path, stripped
/// before stage selection and routing (AWS's base path mappings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainMount {
    /// The domain, lower-case: a name or a `*.suffix` pattern.
    pub host: String,
    /// The base path (`/orders`, no trailing `/`).
    pub base_path: String,
}

/// Where access log lines go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessLogTarget {
    /// Standard output.
    Stdout,
    /// Appended to this file (absolute).
    File(PathBuf),
}

/// The access log: one JSON line per request, written off the request path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessLogSettings {
    /// Whether lines are written at all.
    pub enabled: bool,
    /// Where they go.
    pub target: AccessLogTarget,
    /// The fields written, in order (names from [`ACCESS_LOG_FIELDS`]).
    pub fields: Vec<&'static str>,
}

/// Every access log field, in the default order.
pub const ACCESS_LOG_FIELDS: &[&str] = &[
    "time",
    "request_id",
    "trace_id",
    "client_ip",
    "method",
    "route",
    "path",
    "status",
    "bytes_in",
    "bytes_out",
    "duration_ms",
    "integration_ms",
    "plugin_ms",
    "principal",
    "api_key_id",
    "gateway_response",
    "upstream",
    "canary",
    "stage",
];

/// `[record]`: which requests are recorded, where, and what is kept out of the file.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordSettings {
    /// The JSON-lines file recordings are appended to (absolute).
    pub path: PathBuf,
    /// The ids of the recorded routes; empty: every route.
    pub routes: Vec<String>,
    /// The share of a recorded route's requests that are recorded, 0.0 to 1.0.
    pub sample_ratio: f64,
    /// How many requests are recorded at most (per `[record]` settings: a reload that leaves
    /// them unchanged keeps counting).
    pub max_requests: u64,
    /// Bodies larger than this are left out (their size is kept).
    pub max_body_bytes: usize,
    /// Headers whose values are replaced by `[redacted]`: the defaults and `redact_headers`,
    /// less `keep_headers`.
    pub redact_headers: Vec<HeaderName>,
    /// Query parameters whose values are replaced by `[redacted]`.
    pub redact_query: Vec<String>,
}

/// Headers a recording never holds the value of.
pub const ALWAYS_REDACTED_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
];

/// A traffic listener.
#[derive(Debug, Clone)]
pub struct Listener {
    /// A name for logs and metrics.
    pub name: String,
    /// The socket address to bind (port 0 picks a free port).
    pub address: SocketAddr,
    /// HTTPS: the listener's certificates and TLS settings (`None`: plain HTTP and h2c).
    pub tls: Option<ListenerTls>,
    /// A redirect-only listener: every request is answered `308` to `https://` on this port.
    pub redirect_https_port: Option<u16>,
}

/// A listener's TLS: the rustls server config built from its certificate files, and what the
/// gateway does with the connection's identity.
#[derive(Debug, Clone)]
pub struct ListenerTls {
    /// TLS 1.2 and 1.3 (or 1.3 only), modern suites, ALPN `h2` and `http/1.1`, certificates
    /// chosen by SNI, and the client certificate verifier when `client_auth` is set.
    pub server_config: Arc<rustls::ServerConfig>,
    /// The `Strict-Transport-Security` value added to every response, if any.
    pub hsts: Option<HeaderValue>,
    /// Client certificates: `None` when the listener asks for none.
    pub client_auth: Option<ClientAuthMode>,
    /// Whether a verified client identity is sent upstream as `x-client-cert-*` headers.
    pub forward_client_identity: bool,
}

/// Whether a listener with a client CA requires a client certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuthMode {
    /// The handshake fails without a valid client certificate.
    Required,
    /// A client may present none; one it presents must be valid.
    Optional,
}

/// The admin listener: separate from traffic, always on.
///
/// `Debug` shows whether a token is set, never the token.
#[derive(Clone, PartialEq, Eq)]
pub struct AdminSettings {
    /// The socket address to bind (default `127.0.0.1:9901`; port 0 picks a free port). Never a
    /// traffic listener's address (but for port 0).
    pub address: SocketAddr,
    /// The bearer token admin calls must present (`Authorization: Bearer <token>`): at least 16
    /// visible ASCII characters. Always set when `address` is not a loopback address; `None`
    /// means admin calls need no token.
    pub token: Option<String>,
}

impl fmt::Debug for AdminSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdminSettings")
            .field("address", &self.address)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Reloading when the config file or a file it references changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReloadSettings {
    /// Whether to watch `Config::source` and `Config::watched_files` and reload on a change
    /// (default `true`).
    pub watch: bool,
    /// File events closer together than this become one reload (default 250 ms; 10 ms to 60 s).
    pub debounce: Duration,
}

/// Gateway-wide request handling settings.
#[derive(Debug, Clone)]
pub struct GatewaySettings {
    /// The header carrying the request id; generated when the client sent none.
    pub request_id_header: HeaderName,
    /// The largest body the gateway buffers for plugins that read bodies (bytes).
    pub max_body_bytes: u64,
    /// How long in-flight requests may run after SIGTERM/SIGINT before the process exits.
    pub shutdown_grace: Duration,
    /// The most bytes of request line and headers a request may have (else 431).
    pub max_header_bytes: usize,
    /// How long a new connection may take to finish its TLS handshake and send its first
    /// request's headers, and a kept-alive one to send the rest of a request's headers.
    pub header_read_timeout: Duration,
    /// How long a connection may stay open with no request in flight.
    pub idle_timeout: Duration,
    /// The most connections each listener keeps open; more are closed as they arrive.
    pub max_connections: usize,
    /// The most concurrent HTTP/2 streams per connection.
    pub http2_max_concurrent_streams: u32,
}

/// How the Wasm engine runs plugins.
#[derive(Debug, Clone)]
pub struct EngineSettings {
    /// Where compiled components are cached on disk (`None`: no disk cache).
    pub cache_dir: Option<PathBuf>,
    /// The most plugin instances alive at once, over all plugins (sizes the pooling allocator).
    pub max_instances: u32,
    /// The largest linear memory any plugin may be granted (bytes).
    pub max_memory_bytes: u64,
}

/// How clients select an API version.
#[derive(Debug, Clone)]
pub struct Versioning {
    /// The header naming the version (default `x-api-version`).
    pub header: HeaderName,
    /// The query parameter naming the version (default `version`).
    pub query_param: String,
    /// The version assumed when the client names none.
    pub default_version: Option<String>,
}

/// A named backend: a pool of one or more targets.
#[derive(Debug, Clone, PartialEq)]
pub struct Upstream {
    /// The upstream's name in config.
    pub name: String,
    /// Where requests go (at least one; all of one scheme).
    pub targets: Vec<UpstreamTarget>,
    /// The HTTP version spoken to the targets.
    pub protocol: UpstreamProtocol,
    /// How a request's target is chosen.
    pub balance: Balance,
    /// How long to wait for a TCP connection.
    pub connect_timeout: Duration,
    /// How long the whole backend call may take, retries included (default 29 s, like a
    /// managed gateway).
    pub timeout: Duration,
    /// For `https` URLs: the rustls client config (roots, optional client certificate) and
    /// the name verified. `None` for `http`.
    pub tls: Option<UpstreamTls>,
    /// Circuit breaking: requests in flight beyond which new ones get 503 at once.
    pub max_requests: Option<u32>,
    /// Circuit breaking: connections open to the targets at once, and requests that may
    /// wait for one.
    pub max_connections: Option<ConnectionLimits>,
    /// The retry policy of routes that set none.
    pub retries: Option<RetryPolicy>,
    /// How many retries the upstream takes, whatever the routes' policies say.
    pub retry_budget: RetryBudgetSettings,
    /// Active health checks.
    pub health_check: Option<HealthCheck>,
    /// Passive ejection of targets that keep failing.
    pub outlier: Option<OutlierDetection>,
    /// DNS discovery: how often the targets' host names are resolved again; each address
    /// they resolve to is a target of its own (`None`: a name is resolved at each connect,
    /// and is one target whatever its addresses).
    pub dns_refresh: Option<Duration>,
}

/// An upstream's `max_connections` and `max_pending`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Connections open to the upstream's targets at once, all targets together.
    pub connections: u32,
    /// Requests waiting for a connection at once; beyond them, 503 at once.
    pub pending: u32,
}

/// One target of an upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamTarget {
    /// The base URL: scheme, authority and an optional base path prepended to the request
    /// path. The base path has no trailing `/`; `url.path()` is `/` when there is none.
    pub url: http::Uri,
    /// Its share of the traffic relative to the other targets' (0: none).
    pub weight: u32,
}

/// The HTTP version an upstream's targets speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpstreamProtocol {
    /// HTTP/1.1, connections kept alive and reused one request at a time.
    Http1,
    /// HTTP/2 over TLS (ALPN `h2`): one connection per target, requests multiplexed on it;
    /// trailers pass both ways (gRPC).
    H2,
    /// HTTP/2 with prior knowledge over plain TCP (gRPC backends without TLS).
    H2c,
    /// Over TLS, whatever ALPN settles (`h2` preferred, else HTTP/1.1); over TCP, HTTP/1.1.
    Auto,
}

/// How a request's target is chosen among the available ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Balance {
    /// Weighted round robin: even spread when targets are alike.
    RoundRobin,
    /// The target with fewer requests in flight (per weight) of two picked at random: for
    /// targets of unequal speed or requests of unequal cost.
    LeastRequest,
    /// Consistent hashing: requests with the same key go to the same target while it is
    /// available, and few keys move when targets come and go (for per-target caches).
    Hash(HashOn),
}

/// What a consistent hash is computed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HashOn {
    /// A request header's value.
    Header(HeaderName),
    /// A request cookie's value.
    Cookie(String),
    /// The client's IP address.
    ClientIp,
}

/// When and how a failed try is retried.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Tries in all, the first included (at least 1).
    pub attempts: u32,
    /// Which failures are retried.
    pub on: RetryOn,
    /// The longest one try may take (`None`: only the upstream timeout bounds it).
    pub per_try_timeout: Option<Duration>,
    /// The first retry's backoff ceiling; each later retry doubles it, up to `backoff_max`.
    /// The wait is drawn uniformly below the ceiling (full jitter).
    pub backoff_base: Duration,
    /// The backoff ceiling's cap.
    pub backoff_max: Duration,
}

/// The failures a retry policy retries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetryOn {
    /// No connection could be made to the target.
    pub connect_failure: bool,
    /// The target closed the connection before the request was sent.
    pub refused_stream: bool,
    /// The connection failed after the request was sent, before the response head.
    pub reset: bool,
    /// The try ran past `per_try_timeout`.
    pub timeout: bool,
    /// Response statuses (5xx) that are retried.
    pub statuses: Vec<StatusCode>,
}

/// The share of an upstream's requests that may be retries (as Finagle's and Linkerd's retry
/// budgets): during an outage retries cannot multiply the load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryBudgetSettings {
    /// Retries may be this percentage of the requests of the last 10 seconds…
    pub percent: u32,
    /// …or this many per second, whichever is more.
    pub min_per_second: u32,
}

/// Active health checks: a GET of `path` on every target, every `interval`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthCheck {
    /// The path (and query) checked; a 2xx or 3xx answer passes.
    pub path: http::uri::PathAndQuery,
    /// Time between checks of a target.
    pub interval: Duration,
    /// A check not answered within this fails.
    pub timeout: Duration,
    /// Passes in a row that bring an unhealthy target back.
    pub healthy_threshold: u32,
    /// Failures in a row that take a healthy target out.
    pub unhealthy_threshold: u32,
}

/// Passive outlier ejection: a target that fails `consecutive_failures` tries in a row
/// (connection failures, timeouts, 5xx) takes no traffic for a while.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutlierDetection {
    /// Failures in a row that eject a target.
    pub consecutive_failures: u32,
    /// The first ejection's length; the n-th lasts n times as long…
    pub base_ejection: Duration,
    /// …up to this.
    pub max_ejection: Duration,
    /// At most this share of the targets is ejected at once (at least one of two or more).
    pub max_ejected_percent: u32,
}

/// How an `https` upstream is verified and what the gateway presents to it.
///
/// Two are equal when they were built from the same files (by content) and server name.
#[derive(Debug, Clone)]
pub struct UpstreamTls {
    /// Trusted roots (the system's or a configured CA) and the gateway's client certificate,
    /// if any.
    pub client_config: Arc<rustls::ClientConfig>,
    /// SHA-256 of the CA, client certificate and key files it was built from, in that order
    /// (empty for one not configured).
    pub files_digest: [String; 3],
    /// The name sent as SNI and verified against the certificate, when it is not the URL's
    /// host.
    pub server_name: Option<String>,
}

impl PartialEq for UpstreamTls {
    fn eq(&self, other: &Self) -> bool {
        self.files_digest == other.files_digest && self.server_name == other.server_name
    }
}

/// What happens to a request when a plugin fails (traps, hits its deadline or memory cap).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailurePolicy {
    /// Answer with a `PLUGIN_FAILURE` 500 gateway response.
    Closed,
    /// Skip the plugin and go on with the chain.
    Open,
}

/// How plugin instances are reused between requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstanceMode {
    /// Initialised instances are kept in a pool and reused; a failed one is discarded.
    Pooled,
    /// Every request gets a newly instantiated and initialised instance (strongest isolation).
    Fresh,
}

/// A plugin instance definition.
#[derive(Debug, Clone)]
pub struct PluginDef {
    /// The plugin's name in config (used in chains, logs and metrics).
    pub name: String,
    /// The component file (absolute).
    pub path: PathBuf,
    /// The plugin's own config section, passed to its `init` as JSON (an empty object when the
    /// plugin has none; TOML date-times become RFC 3339 strings).
    pub config: serde_json::Value,
    /// What happens to a request when the plugin fails.
    pub failure_policy: FailurePolicy,
    /// How instances are reused.
    pub instance_mode: InstanceMode,
    /// Run-time budget of one call (epoch deadline; time spent suspended is not counted).
    pub deadline: Duration,
    /// How long a call waits for a free instance before the request is shed.
    pub queue_timeout: Duration,
    /// Linear memory cap per instance (bytes).
    pub memory_limit_bytes: u64,
    /// The most instances of this plugin alive at once.
    pub max_instances: u32,
    /// The capabilities the plugin may import (`grants`).
    pub grants: BTreeSet<Capability>,
    /// Where a missing grant is reported: the `grants` key, or the plugin's table without one.
    pub grants_origin: Origin,
    /// The documents attached to the plugin, by name.
    pub documents: BTreeMap<String, DocumentDef>,
    /// Where the `path` key is in the config file, for a missing or invalid `.wasm`.
    pub path_origin: Origin,
    /// Where the `config` key is (or the plugin's table when it has none), for a plugin that
    /// rejects its config in `init`.
    pub config_origin: Origin,
}

/// A host capability a plugin must be granted before it may import it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Capability {
    /// `rate-limit`: token buckets and quota counters in the shared store.
    RateLimit,
    /// `kv`: the key-value store with expiry.
    Kv,
    /// `metrics`: the plugin's own counters, histograms and gauges.
    Metrics,
    /// `crypto`: signature verification with host-held keys, digests, constant-time comparison.
    Crypto,
}

impl Capability {
    /// Every capability, in the order they are listed in messages.
    pub const ALL: [Capability; 4] = [
        Capability::RateLimit,
        Capability::Kv,
        Capability::Metrics,
        Capability::Crypto,
    ];

    /// The name used in `grants` — also the WIT interface's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Capability::RateLimit => "rate-limit",
            Capability::Kv => "kv",
            Capability::Metrics => "metrics",
            Capability::Crypto => "crypto",
        }
    }

    /// The capability named `name` in `grants`.
    pub fn from_name(name: &str) -> Option<Capability> {
        Capability::ALL.into_iter().find(|c| c.as_str() == name)
    }
}

/// A document attached to a plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentDef {
    /// Where its content comes from.
    pub source: DocumentSource,
    /// Where it is defined, for a file that cannot be read.
    pub origin: Origin,
}

/// Where a document's content comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocumentSource {
    /// A file (absolute path), read at load; a change reloads the config.
    File(PathBuf),
    /// A URL fetched at load and then every `refresh`.
    Url {
        /// `http` or `https`.
        url: http::Uri,
        /// Time between fetches.
        refresh: Duration,
        /// The budget of one fetch.
        timeout: Duration,
    },
}

/// `[store]`: where rate-limit buckets, quotas and key-value entries live. The default: in
/// memory, failing open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreSettings {
    /// The backend.
    pub backend: StoreBackendDef,
    /// Whether a rate-limit or quota check the store cannot answer lets the request through.
    pub fail_open: bool,
}

impl Default for StoreSettings {
    fn default() -> Self {
        StoreSettings {
            backend: StoreBackendDef::Memory,
            fail_open: true,
        }
    }
}

/// The store's backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreBackendDef {
    /// In the gateway's memory (one process).
    Memory,
    /// A Redis server shared by every replica.
    Redis {
        /// `redis://host:port/db`.
        url: String,
        /// The longest a request waits on one command.
        timeout: Duration,
        /// The longest a (background) connection attempt takes.
        connect_timeout: Duration,
        /// Prefix of every key.
        key_prefix: String,
    },
}

/// `[tracing]`: span export. The default: none.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TracingSettings {
    /// Where spans go; `None`: nothing is exported and nothing is recorded per request.
    pub otlp: Option<OtlpExport>,
}

/// Span export over OTLP/HTTP with protobuf bodies.
///
/// `Debug` shows header names, never their values (they often hold credentials).
#[derive(Clone, PartialEq)]
pub struct OtlpExport {
    /// The collector's traces URL (`http`), e.g. `http://127.0.0.1:4318/v1/traces`.
    pub endpoint: http::Uri,
    /// The `service.name` resource attribute of every span.
    pub service_name: String,
    /// The share of new traces (no `traceparent` from the client) that are sampled, from 0.0
    /// to 1.0; a client's `traceparent` sampled flag decides for its own trace.
    pub sample_ratio: f64,
    /// Headers sent with every export (e.g. `authorization`).
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// The budget of one export, retries included.
    pub timeout: Duration,
}

impl fmt::Debug for OtlpExport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<_> = self
            .headers
            .iter()
            .map(|(name, _)| (name.as_str(), "<redacted>"))
            .collect();
        f.debug_struct("OtlpExport")
            .field("endpoint", &self.endpoint)
            .field("service_name", &self.service_name)
            .field("sample_ratio", &self.sample_ratio)
            .field("headers", &headers)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// A place in a config file: used to point load errors found after parsing at the right line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The config file, as the operator named it.
    pub file: PathBuf,
    /// 1-based line of the key's value (or of the table's header, for a whole table).
    pub line: u32,
    /// 1-based column, in characters, of the key's value (or of the table's header).
    pub column: u32,
    /// The dotted key path, e.g. `plugins.auth.path`.
    pub key: String,
}

/// A route: which requests it matches and what answers them.
#[derive(Debug, Clone)]
pub struct Route {
    /// A stable id for logs and metrics. Defaults to `METHODS path` (`GET,HEAD /orders/{id}`,
    /// `ANY /health`), followed by ` (version)` on a versioned route.
    pub id: String,
    /// The methods matched; empty means any method.
    pub methods: Vec<Method>,
    /// The host matched, lower-case: a name (`api.example.com`) or a wildcard over its
    /// subdomains (`*.example.com`); `None` matches any host.
    pub host: Option<String>,
    /// The path template, matchit syntax: `/v1/orders/{id}`, catch-all `/files/{*rest}`.
    pub path: String,
    /// The API version this route belongs to (`None`: unversioned).
    pub version: Option<String>,
    /// Plugins run after the global chain, in order (names of `Config::plugins`).
    pub plugins: Vec<String>,
    /// What answers the request.
    pub integration: Integration,
    /// Deprecation notice sent with every response of the route.
    pub deprecation: Option<Deprecation>,
}

/// What answers a route's requests.
#[derive(Debug, Clone)]
pub enum Integration {
    /// Proxy to a named upstream.
    Http {
        /// The upstream's name (a key of `Config::upstreams`).
        upstream: String,
        /// The route's own retry policy (`None`: the upstream's).
        retries: Option<RetryPolicy>,
        /// Whether requests with non-idempotent methods (POST, PATCH) are retried too.
        retry_non_idempotent: bool,
        /// A share of the requests that goes to another upstream.
        canary: Option<Canary>,
    },
    /// A fixed response from config.
    Mock(MockResponse),
}

/// A canary release: which of a route's requests go to another upstream.
#[derive(Debug, Clone, PartialEq)]
pub struct Canary {
    /// The canary's upstream (a key of `Config::upstreams`).
    pub upstream: String,
    /// Which requests go to it.
    pub split: TrafficSplit,
}

/// Which requests of a canary release go to the canary.
///
/// A request that names a side (`header` or `cookie` set to `true`/`1` or `false`/`0`) goes
/// there; the others go to the canary with probability `basis_points / 10000` — drawn per
/// request, or from a hash of the `sticky` key so that a client stays on one side.
#[derive(Debug, Clone, PartialEq)]
pub struct TrafficSplit {
    /// The share of traffic, in hundredths of a percent (0 to 10000).
    pub basis_points: u32,
    /// A request header that picks the side.
    pub header: Option<HeaderName>,
    /// A cookie that picks the side.
    pub cookie: Option<String>,
    /// What keeps a client on one side.
    pub sticky: Option<HashOn>,
}

/// A fixed response from config.
#[derive(Debug, Clone)]
pub struct MockResponse {
    /// The status code.
    pub status: StatusCode,
    /// Response headers.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// The body.
    pub body: bytes::Bytes,
}

/// A deprecation notice for a route (RFC 9745 `Deprecation`, RFC 8594 `Sunset`).
#[derive(Debug, Clone)]
pub struct Deprecation {
    /// When the route was deprecated, as Unix seconds (`Deprecation: @<seconds>`).
    pub since: Option<i64>,
    /// When the route goes away, as Unix seconds (`Sunset: <HTTP-date>`).
    pub sunset: Option<i64>,
    /// A link to migration docs (`Link: <url>; rel="deprecation"`).
    pub link: Option<String>,
}
