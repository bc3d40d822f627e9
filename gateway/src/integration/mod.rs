//! Integrations: what answers a route once the request-side chains let it through — an HTTP
//! upstream pool (balanced targets with keep-alive connections, retries, health checks,
//! ejection and a circuit breaker) or a mock response from config.

mod balance;
mod body_fault;
mod canary;
mod connection_limit;
mod discovery;
mod health;
mod pool;
mod retry;
mod target;
mod upstream;

use std::sync::Arc;

use http::header::{self, HeaderMap, HeaderName, HeaderValue};

pub use canary::{CanarySplit, picks_canary};
pub use pool::PooledBody;
pub use target::InFlight;
pub use upstream::{Answered, HttpUpstream, OutgoingBody, RouteRetries};

use crate::config::MockResponse;
use crate::exchange::ResponseState;

/// What answers a route.
pub enum IntegrationRuntime {
    /// Proxy to an upstream.
    Http {
        /// The upstream pool (shared by the routes that name it).
        upstream: Arc<HttpUpstream>,
        /// The route's retry settings.
        retries: RouteRetries,
        /// The share of requests that goes to a canary upstream instead.
        canary: Option<Box<CanarySplit>>,
    },
    /// A fixed response.
    Mock(MockResponse),
}

impl IntegrationRuntime {
    /// The mock's response, as plugins see it.
    pub fn mock_response(mock: &MockResponse) -> ResponseState {
        let mut headers = HeaderMap::with_capacity(mock.headers.len());
        for (name, value) in &mock.headers {
            headers.append(name.clone(), value.clone());
        }
        ResponseState {
            status: mock.status,
            headers,
            body: Some(mock.body.clone()),
            body_replaced: true,
        }
    }
}

/// An `http` upstream's connector wraps the same TLS connector type (one client type for
/// every upstream) but never uses it: `HttpsConnector` passes `http` URLs straight through.
fn plain_only_tls_config() -> std::sync::Arc<rustls::ClientConfig> {
    static CONFIG: std::sync::OnceLock<std::sync::Arc<rustls::ClientConfig>> =
        std::sync::OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let config = rustls::ClientConfig::builder_with_provider(crate::tls::provider())
                .with_safe_default_protocol_versions()
                .expect("the ring provider supports TLS 1.2 and 1.3")
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth();
            std::sync::Arc::new(config)
        })
        .clone()
}

/// Where the client's request came from, for the `X-Forwarded-*` headers.
pub struct Forwarded<'a> {
    /// The client's IP address as text.
    pub client_ip: &'a HeaderValue,
    /// The `Host` (or `:authority`) the client asked for.
    pub host: Option<&'a HeaderValue>,
    /// `http` or `https`.
    pub proto: &'static str,
    /// The `traceparent` for the upstream hop (same trace, the gateway's span).
    pub traceparent: HeaderValue,
}

/// The error and its cause chain in one line (hyper's top-level messages alone are vague).
pub(crate) fn describe_error(error: &(dyn std::error::Error + 'static)) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// Whether `error` (or an error it wraps) is an HTTP/2 `REFUSED_STREAM` (RFC 9113 §8.7): the
/// server processed nothing of the request, so it may be sent again elsewhere.
pub(crate) fn stream_refused(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(e) = current {
        if e.downcast_ref::<h2::Error>()
            .is_some_and(|h2| h2.reason() == Some(h2::Reason::REFUSED_STREAM))
        {
            return true;
        }
        current = e.source();
    }
    false
}

/// Headers that describe one connection, not the message (RFC 9110 §7.6.1); never forwarded.
const HOP_BY_HOP: [HeaderName; 8] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
];

/// Whether `name` describes one connection: a standard hop-by-hop header or the old
/// `proxy-connection`.
fn is_hop_by_hop(name: &HeaderName) -> bool {
    HOP_BY_HOP.contains(name) || name == "proxy-connection"
}

/// Whether `name` frames the message or describes the connection: plugins may not edit these,
/// and the gateway never forwards them as received.
pub fn is_connection_header(name: &HeaderName) -> bool {
    is_hop_by_hop(name) || name == header::CONTENT_LENGTH
}

/// Removes hop-by-hop headers, including those the `Connection` header names.
///
/// One pass over the names present, with the `Connection` tokens read once: most messages
/// carry no hop-by-hop header or only `Connection: keep-alive`, and then nothing is parsed or
/// allocated (this runs three times per proxied request).
pub fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<&str> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .filter(|token| !is_connection_option(token))
        .collect();
    let doomed: Vec<HeaderName> = headers
        .keys()
        .filter(|name| {
            is_hop_by_hop(name)
                || named
                    .iter()
                    .any(|token| token.eq_ignore_ascii_case(name.as_str()))
        })
        .cloned()
        .collect();
    for name in &doomed {
        headers.remove(name);
    }
}

/// Whether a `Connection` token names no header worth looking for: empty, `close`, or a
/// hop-by-hop header that is removed anyway.
fn is_connection_option(token: &str) -> bool {
    token.is_empty()
        || token.eq_ignore_ascii_case("close")
        || token.eq_ignore_ascii_case("keep-alive")
        || token.eq_ignore_ascii_case("upgrade")
}

/// HTTP/2 clients send each cookie as its own field; HTTP/1.1 backends expect one `cookie`
/// line (RFC 9113 §8.2.3).
fn join_cookies(headers: &mut HeaderMap) {
    if headers.get_all(header::COOKIE).iter().nth(1).is_none() {
        return;
    }
    let joined = headers
        .get_all(header::COOKIE)
        .iter()
        .map(|v| v.as_bytes())
        .collect::<Vec<_>>()
        .join(&b"; "[..]);
    if let Ok(value) = HeaderValue::from_bytes(&joined) {
        headers.insert(header::COOKIE, value);
    }
}

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
const X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");

/// Sets `X-Forwarded-For` (the client's chain plus the client), `-Proto` and `-Host`, and the
/// upstream hop's `traceparent`. Names are constants and the client's address was written once
/// per connection: nothing here parses a name or formats an address.
fn add_forwarded(headers: &mut HeaderMap, forwarded: &Forwarded<'_>) {
    let mut chain: Vec<&str> = headers
        .get_all(&X_FORWARDED_FOR)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let xff = if chain.is_empty() {
        Some(forwarded.client_ip.clone())
    } else {
        chain.push(forwarded.client_ip.to_str().unwrap_or_default());
        HeaderValue::from_str(&chain.join(", ")).ok()
    };
    if let Some(value) = xff {
        headers.insert(X_FORWARDED_FOR, value);
    }
    headers.insert(X_FORWARDED_PROTO, HeaderValue::from_static(forwarded.proto));
    headers.insert(TRACEPARENT, forwarded.traceparent.clone());
    match forwarded.host {
        Some(host) => headers.insert(X_FORWARDED_HOST, host.clone()),
        None => headers.remove(X_FORWARDED_HOST),
    };
}

/// A one-target upstream `name` at `url` with no policies, for unit tests.
#[cfg(test)]
fn test_upstream(name: &str, url: &str) -> crate::config::Upstream {
    use std::time::Duration;
    crate::config::Upstream {
        name: name.into(),
        targets: vec![crate::config::UpstreamTarget {
            url: url.parse().expect("a test URL"),
            weight: 1,
        }],
        protocol: crate::config::UpstreamProtocol::Http1,
        balance: crate::config::Balance::RoundRobin,
        connect_timeout: Duration::from_secs(1),
        timeout: Duration::from_secs(1),
        tls: None,
        max_requests: None,
        max_connections: None,
        retries: None,
        retry_budget: crate::config::RetryBudgetSettings {
            percent: 20,
            min_per_second: 3,
        },
        health_check: None,
        outlier: None,
        dns_refresh: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An error that wraps another, as hyper's wrap h2's.
    #[derive(Debug)]
    struct Wrapped(h2::Error);

    impl std::fmt::Display for Wrapped {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("stream error")
        }
    }

    impl std::error::Error for Wrapped {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn a_refused_http2_stream_is_told_from_other_resets() {
        let refused = Wrapped(h2::Error::from(h2::Reason::REFUSED_STREAM));
        assert!(stream_refused(&refused));
        let cancelled = Wrapped(h2::Error::from(h2::Reason::CANCEL));
        assert!(!stream_refused(&cancelled));
        assert!(!stream_refused(&std::io::Error::other("reset")));
    }

    #[test]
    fn strips_hop_by_hop_headers_and_those_named_by_connection() {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONNECTION, "keep-alive, x-secret".parse().unwrap());
        headers.insert("x-secret", "1".parse().unwrap());
        headers.insert("keep-alive", "timeout=5".parse().unwrap());
        headers.insert(header::TRANSFER_ENCODING, "chunked".parse().unwrap());
        headers.insert("x-kept", "1".parse().unwrap());
        strip_hop_by_hop(&mut headers);
        assert_eq!(
            headers.keys().map(|k| k.as_str()).collect::<Vec<_>>(),
            ["x-kept"]
        );
    }

    #[test]
    fn strips_names_from_every_connection_line_in_any_case_and_keeps_the_rest() {
        let mut headers = HeaderMap::new();
        headers.append(header::CONNECTION, "X-One".parse().unwrap());
        headers.append(header::CONNECTION, " x-two ,close".parse().unwrap());
        headers.insert("x-one", "1".parse().unwrap());
        headers.insert("x-two", "2".parse().unwrap());
        headers.insert("proxy-connection", "keep-alive".parse().unwrap());
        headers.insert(header::ACCEPT, "*/*".parse().unwrap());
        headers.append("x-kept", "a".parse().unwrap());
        headers.append("x-kept", "b".parse().unwrap());
        strip_hop_by_hop(&mut headers);
        let mut left: Vec<_> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.to_str().unwrap()))
            .collect();
        left.sort();
        assert_eq!(left, [("accept", "*/*"), ("x-kept", "a"), ("x-kept", "b")]);
    }

    #[test]
    fn a_message_without_connection_headers_is_left_alone() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, "example.com".parse().unwrap());
        headers.insert(header::CONTENT_LENGTH, "3".parse().unwrap());
        let before = headers.clone();
        strip_hop_by_hop(&mut headers);
        assert_eq!(headers, before);
    }
}
