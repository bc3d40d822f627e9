//! Redirect-only listeners: every request is sent to the same host and path over HTTPS.

use http::header::{HOST, LOCATION};
use http::{HeaderValue, Request, Response, StatusCode};

use crate::body::{self, GatewayBody};

/// The `308 Permanent Redirect` to `https://<host>:<port><path and query>` (no port for 443),
/// or `400` when the request names no host.
pub(super) fn to_https<B>(request: &Request<B>, https_port: u16) -> Response<GatewayBody> {
    let host = request
        .headers()
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| request.uri().authority().map(|a| a.as_str()))
        .map(host_without_port);
    let Some(host) = host.filter(|h| !h.is_empty()) else {
        return plain(StatusCode::BAD_REQUEST, "a Host header is required\n");
    };
    let port = if https_port == 443 {
        String::new()
    } else {
        format!(":{https_port}")
    };
    let path = request.uri().path_and_query().map_or("/", |p| p.as_str());
    let location = format!("https://{host}{port}{path}");
    let Ok(location) = HeaderValue::from_str(&location) else {
        return plain(StatusCode::BAD_REQUEST, "invalid Host header\n");
    };
    let mut response = Response::new(body::empty());
    *response.status_mut() = StatusCode::PERMANENT_REDIRECT;
    response.headers_mut().insert(LOCATION, location);
    response
}

/// `example.com:8080` → `example.com`; `[::1]:8080` → `[::1]`.
fn host_without_port(authority: &str) -> &str {
    match authority.rfind(']') {
        Some(end) => &authority[..=end],
        None => authority.split(':').next().unwrap_or(authority),
    }
}

fn plain(status: StatusCode, message: &'static str) -> Response<GatewayBody> {
    let mut response = Response::new(body::full(message));
    *response.status_mut() = status;
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn location(host: &str, target: &str, port: u16) -> String {
        let request = Request::get(target).header(HOST, host).body(()).unwrap();
        let response = to_https(&request, port);
        assert_eq!(response.status(), StatusCode::PERMANENT_REDIRECT);
        response.headers()[LOCATION].to_str().unwrap().to_owned()
    }

    #[test]
    fn keeps_host_path_and_query_and_swaps_the_port() {
        assert_eq!(
            location("example.test:8080", "/x?y=1", 8443),
            "https://example.test:8443/x?y=1"
        );
        assert_eq!(location("example.test", "/", 443), "https://example.test/");
        assert_eq!(location("[::1]:8080", "/a", 8443), "https://[::1]:8443/a");
    }

    #[test]
    fn a_request_without_host_is_refused() {
        let request = Request::get("/x").body(()).unwrap();
        assert_eq!(to_https(&request, 443).status(), StatusCode::BAD_REQUEST);
    }
}
