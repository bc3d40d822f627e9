//! A small HTTP client for tests, over HTTP/1.1 or HTTP/2 prior knowledge.

use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// A response, fully read.
#[derive(Debug)]
pub struct TestResponse {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
    /// The HTTP version the response came over.
    pub version: http::Version,
}

impl TestResponse {
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// A header's value as a string, if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A client speaking HTTP/1.1 or HTTP/2 with prior knowledge.
#[derive(Clone)]
pub struct TestClient {
    client: Client<HttpConnector, Full<Bytes>>,
}

/// An HTTP/1.1 client.
pub fn http1() -> TestClient {
    TestClient {
        client: Client::builder(TokioExecutor::new()).build_http(),
    }
}

/// An HTTP/2 (h2c prior knowledge) client.
pub fn http2() -> TestClient {
    TestClient {
        client: Client::builder(TokioExecutor::new())
            .http2_only(true)
            .build_http(),
    }
}

impl TestClient {
    /// `GET url`.
    pub async fn get(&self, url: &str) -> TestResponse {
        self.send(Method::GET, url, &[], Bytes::new()).await
    }

    /// Sends a request and reads the whole response.
    pub async fn send(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> TestResponse {
        let mut request = Request::builder().method(method).uri(url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(Full::new(body.into())).expect("valid request");
        let response = self
            .client
            .request(request)
            .await
            .unwrap_or_else(|e| panic!("request to {url} failed: {e}"));
        let (parts, body) = response.into_parts();
        let body = body.collect().await.expect("read response body").to_bytes();
        TestResponse {
            status: parts.status,
            headers: parts.headers,
            body,
            version: parts.version,
        }
    }
}
