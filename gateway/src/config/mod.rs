//! The gateway's configuration: one TOML file, read into serde surface types and validated into the
//! [`model`] types the rest of the gateway consumes.
//!
//! ```text
//! TOML text ──► surface (serde, deny_unknown_fields) ──► validate ──► model::Config
//!              syntax and shape errors stop here         every problem is reported
//! ```
//!
//! Errors say what is wrong, where (file, line, column, key path) and how to fix it; see
//! [`ConfigError`]. Files the config names (plugin `.wasm` files, the engine cache, the admin
//! token file) resolve against the config file's directory. The admin token file is read here;
//! plugin files are checked by the plugin host, which points its errors at
//! [`PluginDef::path_origin`] with [`ConfigError::at`]. [`Config::watched_files`] lists every
//! file the config references, for reloading when one changes.
//!
//! # The format
//!
//! Every key, with its default where it has one:
//!
//! ```toml
//! [gateway]                           # all optional
//! request_id_header = "x-request-id"  # the header carrying the request id
//! max_body_bytes = 10485760           # 10 MiB: the largest request body (413 beyond it,
//!                                     # streamed or buffered); also the plugins' buffering cap
//! max_header_bytes = 16384            # request line + headers (431 beyond; 1024 to 1048576)
//! header_read_timeout_ms = 10000      # TLS handshake, and each request's headers (100 to 600000)
//! idle_timeout_ms = 60000             # a connection with no request in flight is closed
//! max_connections = 10000             # per listener; more are closed as they arrive
//! http2_max_concurrent_streams = 100  # per HTTP/2 connection (1 to 10000)
//! shutdown_grace_ms = 30000           # in-flight requests' time after SIGTERM (0 to 3600000)
//!
//! [[listeners]]                       # at least one
//! name = "public"                     # default "listener-<index>"; unique
//! address = "127.0.0.1:8080"          # an IP address and a port; port 0 picks a free one
//! [listeners.tls]                     # optional: HTTPS (TLS 1.2 and 1.3, ALPN h2 + http/1.1)
//! certificates = [                    # PEM files relative to this file; watched, a change
//!   { cert = "api.pem", key = "api-key.pem" },   # reloads; SNI picks by DNS SAN (wildcards
//!   { cert = "admin.pem", key = "admin-key.pem" },   # too); the first when none matches
//! ]
//! min_version = "1.2"                 # or "1.3"
//! hsts = "max-age=31536000"           # optional Strict-Transport-Security on every response
//! [listeners.tls.client_auth]         # optional: mutual TLS
//! mode = "required"                   # required: no valid client certificate, no handshake
//!                                     # optional: a certificate presented must be valid
//! ca = "clients-ca.pem"               # the CAs client certificates chain to
//! forward_headers = false             # true: x-client-cert-subject/-sans/-fingerprint/-serial
//!                                     # upstream (client-sent copies removed); the identity is
//!                                     # always in the context, `gateway.tls.client.*`
//!
//! [[listeners]]
//! address = "0.0.0.0:80"
//! redirect_https_port = 443           # answers everything with 308 to https://<host>:443
//!
//! [admin]                             # all optional; the admin listener is always on
//! address = "127.0.0.1:9901"          # not a listener's address (but for port 0)
//! token = "…"                         # bearer token for admin calls; at least 16 visible ASCII
//!                                     # characters; required when `address` is not loopback
//! # token_file = "admin-token.txt"    # instead of `token`: a file holding it, relative to this
//!                                     # file, read at load (trailing whitespace trimmed)
//!
//! [access_log]                        # all optional
//! enabled = true                      # default false: one JSON line per request
//! path = "access.log"                 # relative to this file; "-" (the default) is stdout
//! fields = ["time", "request_id", "route", "status", "duration_ms"]   # default: all fields
//!
//! [record]                            # optional: requests recorded for `wasmgate replay`
//! path = "recorded.jsonl"             # required; relative to this file; appended to
//! routes = ["GET /books/{id}"]        # route ids (default: every route)
//! sample_ratio = 1.0                  # share of those routes' requests (0.0 to 1.0)
//! max_requests = 1000                 # then sampling stops until `[record]` changes (1 to 1000000)
//! max_body_bytes = 65536              # larger bodies are left out (0 to 1048576)
//! redact_headers = ["x-session"]      # besides authorization, proxy-authorization, cookie,
//!                                     # set-cookie and x-api-key
//! redact_query = ["api_key"]          # query parameters whose values are redacted
//! keep_headers = ["authorization"]    # default-redacted headers recorded in clear (the file
//!                                     # then holds credentials: for replaying token checks)
//!
//! [reload]                            # all optional
//! watch = true                        # reload when this file or a file it names changes
//! debounce_ms = 250                   # file events this close together: one reload (10 to 60000)
//!
//! [engine]                            # all optional
//! cache_dir = ".wasmgate-cache"       # compiled plugins, relative to this file; absent: no cache
//! max_instances = 512                 # plugin instances alive at once, all plugins (1 to 10000)
//! max_memory_mb = 256                 # ceiling for any plugin's `memory_mb` (1 to 4096)
//!
//! [versioning]                        # all optional
//! header = "x-api-version"            # the header naming the version
//! query_param = "version"             # the query parameter naming the version
//! default_version = "v1"              # when the client names none; must be some route's version
//!
//! [upstreams.orders]                  # a named backend
//! url = "http://127.0.0.1:9000/api"   # http or https; optional base path; no query
//! # targets = [{ url = "http://10.0.0.1:9000", weight = 2 }, { url = "http://10.0.0.2:9000" }]
//! #                                   # instead of `url`: a pool (one scheme; weight 0 to 1000,
//! #                                   # default 1)
//! protocol = "http1"                  # http1 | h2 (https, ALPN) | h2c (http, prior
//! #                                   # knowledge) | auto (https: ALPN h2 or http/1.1)
//! balance = "round-robin"             # round-robin (weighted) | least-request | hash
//! # hash_on = "header:x-user-id"      # hash only: header:NAME | cookie:NAME | client-ip
//! connect_timeout_ms = 1000           # TCP connect timeout (1 to 600000)
//! timeout_ms = 29000                  # the whole backend call, retries included (1 to 3600000)
//! max_requests = 1024                 # circuit breaker: in flight beyond this → 503 (default:
//! #                                   # no limit)
//! max_connections = 256               # open to all targets at once (default: no limit); a
//! #                                   # request finding none free waits for one…
//! max_pending = 1024                  # …and beyond this many waiting → 503 (the default;
//! #                                   # 0 to 1000000; only with max_connections)
//! # dns_refresh_ms = 5000             # DNS discovery: resolve the targets' host names this
//! #                                   # often, each address a target (100 to 3600000; absent:
//! #                                   # a name is resolved at each connect, one target)
//! retry_budget = { percent = 20, min_per_second = 3 }  # retries ≤ 20 % of requests over
//! #                                   # 10 s, or 3 per second (the defaults)
//! [upstreams.orders.retries]          # absent: no retries (a route may set its own)
//! attempts = 2                        # tries in all, the first included (1 to 10)
//! on = ["connect-failure", "refused-stream"]  # the default; also "reset", "timeout"
//! #                                   # (needs per_try_timeout_ms) and 5xx statuses ("503")
//! per_try_timeout_ms = 1000           # default: none
//! backoff = { base_ms = 25, max_ms = 250 }  # full jitter below base × 2^(retry-1), capped
//! [upstreams.orders.health_check]     # absent: no active checks
//! path = "/healthz"                   # required; 2xx or 3xx passes (and ends an ejection)
//! interval_ms = 5000                  # 100 to 3600000
//! timeout_ms = 1000                   # 1 to 60000, at most interval_ms
//! healthy_threshold = 2               # passes in a row to come back (1 to 100)
//! unhealthy_threshold = 3             # failures in a row to be taken out (1 to 100)
//! [upstreams.orders.outlier]          # absent: no passive ejection
//! consecutive_failures = 5            # 5xx or no answer, in a row (1 to 1000)
//! base_ejection_ms = 30000            # the n-th ejection lasts n × this…
//! max_ejection_ms = 300000            # …up to this
//! max_ejected_percent = 50            # of the targets at once (one of two or more always may)
//! [upstreams.orders.tls]              # https only, all optional
//! ca = "orders-ca.pem"                # default: the system's root certificates
//! client_cert = "gateway.pem"         # with client_key: upstream mutual TLS
//! client_key = "gateway-key.pem"
//! server_name = "orders.internal"     # SNI and the name verified; default: the URL's host
//!
//! [store]                             # all optional: state behind `rate-limit` and `kv`
//! backend = "memory"                  # memory (this process) | redis (shared by replicas)
//! url = "redis://127.0.0.1:6379/0"    # redis only: required (`rediss://` for TLS)
//! timeout_ms = 50                     # the longest a request waits on the store (1 to 10000)
//! connect_timeout_ms = 1000           # redis only: (re)connection attempts (1 to 60000)
//! key_prefix = "wasmgate"             # redis only: prefix of every key
//! on_unavailable = "open"             # store down: open = allow the request | closed = 503
//!
//! [tracing]                           # all optional; no `otlp_endpoint`: no span export
//! otlp_endpoint = "http://127.0.0.1:4318/v1/traces"   # an OTLP/HTTP (protobuf) collector;
//!                                     # http only (no https yet); no path: `/v1/traces`
//! service_name = "wasmgate"           # the spans' `service.name`
//! sample_ratio = 1.0                  # share of new traces exported (0.0 to 1.0); a client's
//!                                     # `traceparent` sampled flag decides for its own trace
//! headers = { authorization = "Bearer …" }   # sent with every export
//! timeout_ms = 10000                  # one export, retries included (1 to 60000)
//!
//! [plugins.auth]                      # a plugin; name: lower-case letters, digits, `_`, `-`
//! path = "plugins/auth.wasm"          # the component, relative to this file
//! failure_policy = "closed"           # when the plugin fails: closed = a 500 | open = skip it
//! instance_mode = "pooled"            # pooled = reuse initialised instances | fresh = per call
//! deadline_ms = 100                   # run-time budget per call, time queued behind other
//!                                     # requests not counted (1 to 60000)
//! memory_mb = 32                      # linear memory cap (1 to engine.max_memory_mb)
//! max_instances = 64                  # instances alive at once (1 to engine.max_instances)
//! queue_timeout_ms = 100              # wait for a free instance, then shed the request with
//!                                     # 503 + Retry-After (default deadline_ms; 1 to 60000)
//! grants = ["rate-limit", "kv", "metrics", "crypto"]  # capabilities it may import; default none: a
//!                                     # component importing one not granted does not load
//! [plugins.auth.documents]            # named documents the plugin reads (no grant needed)
//! keys = { file = "keys.json" }       # relative to this file; a change reloads
//! jwks = { url = "http://idp/jwks.json", refresh_ms = 300000, timeout_ms = 5000 }
//!                                     # http or https (system roots); fetched at load and every refresh
//! [plugins.auth.config]               # any table, given to the plugin's `init` as JSON
//! header = "x-api-key"                # (date-times become RFC 3339 strings; absent: `{}`)
//!
//! [chain]
//! plugins = ["auth"]                  # the global chain: runs first, on every route
//!
//! [[routes]]
//! id = "get-order"                    # unique; default "<METHODS> <host><path>", e.g. "ANY /x",
//!                                     # "GET,HEAD /orders/{id}", "GET api.example.com/x",
//!                                     # plus " (v2)" when versioned
//! methods = ["GET", "HEAD"]           # absent or empty: any method
//! host = "api.example.com"            # absent: any host; "*.example.com": its subdomains at
//!                                     # any depth. The first of exact host, longest wildcard,
//!                                     # any host with a route on the path answers (or 405)
//! path = "/orders/{id}"               # `{name}` parameter, `{*rest}` catch-all at the end,
//!                                     # `{{` and `}}` literal braces
//! version = "v2"                      # absent: unversioned
//! plugins = ["rate-limit"]            # after the global chain; no plugin twice in the two
//! [routes.integration]
//! type = "http"                       # proxy to an upstream
//! upstream = "orders"
//! retry_non_idempotent = false        # retry POST, PATCH, CONNECT too (the default: false)
//! # retries = { attempts = 3, on = ["503"] }  # this route's own policy (as the upstream's);
//! #                                   # on a route taking POST/PATCH/any method it needs
//! #                                   # retry_non_idempotent = true
//! # canary = { upstream = "orders-v2", percent = 10, header = "x-canary", cookie = "canary",
//! #            sticky = "client-ip" }     # a share (0 to 100) to another upstream; a header
//! #                                   # or cookie `true`/`1`, `false`/`0` picks the side;
//! #                                   # sticky: client-ip | header:NAME | cookie:NAME
//! [routes.deprecation]                # optional; RFC 9745 `Deprecation`, RFC 8594 `Sunset`
//! since = 2025-01-01T00:00:00Z        # a TOML offset date-time or an RFC 3339 string
//! sunset = 2026-06-30T00:00:00Z       # not before `since`
//! link = "https://example.com/migrate"
//!
//! [[routes]]
//! path = "/health"
//! [routes.integration]
//! type = "mock"                       # a fixed response
//! status = 200                        # 100 to 599; default 200
//! headers = { content-type = "application/json" }
//! body = '{"ok":true}'                # default empty
//!
//! [stages.prod]                       # optional; name: lower-case letters, digits, `_`, `-`.
//!                                     # With stages, every request is in the one whose
//!                                     # hosts and base path take it (an exact host beats a
//!                                     # wildcard beats none, then the longest base path), or
//!                                     # it is answered 404
//! hosts = ["api.example.com"]         # absent: any host
//! base_path = "/prod"                 # absent: none; stripped before routing
//! variables = { backend = "http://10.0.0.1:8080" }  # `${stage.backend}` in upstream URLs,
//!                                     # plugin paths and plugin config strings (so mapper
//!                                     # templates); every stage must define what they read
//! throttle = { rate = 1000, burst = 2000 }  # each route's requests per second in the stage
//!                                     # (1 to 1000000; burst default: rate); over it: 429
//!                                     # THROTTLED with Retry-After
//! [stages.prod.route_throttle]
//! "GET /orders/{id}" = { rate = 50 }  # one route's own limit, by route id
//! [stages.prod.canary]                # a share of the stage served with other variables
//! percent = 10                        # as a route canary: percent, header, cookie, sticky
//! variables = { backend = "http://10.0.0.2:8080" }  # overrides of the stage's
//!
//! [domains."api.example.com"]         # a custom domain (or "*.example.com")
//! base_path = "/orders"               # its requests must start with it; stripped before the
//!                                     # stages' base paths and routing
//! ```
//!
//! An upstream or plugin that reads stage variables has one instance per stage (and stage
//! canary, unless the canary's variables leave it as the stage has it), named `NAME@STAGE`
//! (`orders@prod`, `orders@prod/canary`) in metrics and logs. Route
//! metrics of a config with stages carry a `stage` label, the access log a `stage` field and
//! plugins the context key `gateway.stage`.
//!
//! Two routes may not match the same (host, version, path template, method); a route without
//! `methods` overlaps every route on its template. Templates the router cannot tell apart
//! (`/{a}` and `/{b}`) are rejected too.

mod de;
mod error;
pub mod model;
mod surface;
mod validate;

use std::path::Path;

use sha2::{Digest, Sha256};

pub use error::{ConfigError, ConfigErrors};
pub use model::*;

/// Read, parse and validate a config file. `path` is kept as the operator named it for messages;
/// `Config::source` is made absolute.
pub fn load(path: &Path) -> Result<Config, ConfigErrors> {
    let bytes = std::fs::read(path).map_err(|e| {
        ConfigError::in_file(path, format!("cannot read the config file: {e}"), None)
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let valid = std::str::from_utf8(valid).unwrap_or_default();
        let end = Some(valid.len()..valid.len());
        let help = Some("save the file as UTF-8".to_owned());
        error::Locator::new(path, valid).error(
            end,
            None,
            "the config file is not valid UTF-8",
            help,
        )
    })?;
    parse(path, &text)
}

/// Parse and validate config text that came from `path` (relative file references resolve against
/// path's directory).
pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigErrors> {
    let loc = error::Locator::new(path, text);
    let file = de::parse_surface(&loc, text)?;
    let source = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    validate::validate(&loc, file, source, sha256_hex(text.as_bytes()))
}

fn sha256_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    Sha256::digest(bytes)
        .iter()
        .fold(String::with_capacity(64), |mut hex, b| {
            let _ = write!(hex, "{b:02x}");
            hex
        })
}

#[cfg(test)]
mod tests;
