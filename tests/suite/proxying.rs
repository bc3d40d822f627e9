//! Proxying to an HTTP upstream: forwarded headers, request ids, upstream failures, HTTP/2.

use http::Method;
use wasmgate_tests::{EchoUpstream, TestGateway, http1, http2};

async fn gateway_to(upstream_url: &str, timeout_ms: u64) -> TestGateway {
    TestGateway::start(&format!(
        r#"
[upstreams.backend]
url = "{upstream_url}"
connect_timeout_ms = 500
timeout_ms = {timeout_ms}

[[routes]]
path = "/{{*rest}}"
integration = {{ type = "http", upstream = "backend" }}
"#
    ))
    .await
}

#[tokio::test]
async fn request_id_is_generated_passed_upstream_and_returned() {
    let upstream = EchoUpstream::start().await;
    let gateway = gateway_to(&upstream.url(), 5000).await;
    let response = http1().get(&gateway.url("/items")).await;
    let returned = response
        .header("x-request-id")
        .expect("request id returned");
    assert_eq!(returned.len(), 36, "a UUID: {returned}");
    assert_eq!(response.json()["headers"]["x-request-id"][0], returned);
}

#[tokio::test]
async fn a_client_request_id_is_kept() {
    let upstream = EchoUpstream::start().await;
    let gateway = gateway_to(&upstream.url(), 5000).await;
    let response = http1()
        .send(
            Method::GET,
            &gateway.url("/items"),
            &[("x-request-id", "abc-123")],
            "",
        )
        .await;
    assert_eq!(response.header("x-request-id"), Some("abc-123"));
    assert_eq!(response.json()["headers"]["x-request-id"][0], "abc-123");
}

#[tokio::test]
async fn forwarded_headers_are_added_and_hop_by_hop_headers_dropped() {
    let upstream = EchoUpstream::start().await;
    let gateway = gateway_to(&upstream.url(), 5000).await;
    let response = http1()
        .send(
            Method::POST,
            &gateway.url("/items?a=1"),
            &[
                ("x-forwarded-for", "203.0.113.9"),
                ("proxy-authorization", "secret"),
                ("te", "trailers"),
            ],
            "hello",
        )
        .await;
    let seen = response.json();
    assert_eq!(seen["method"], "POST");
    assert_eq!(seen["body"], "hello");
    assert_eq!(
        seen["headers"]["x-forwarded-for"][0],
        "203.0.113.9, 127.0.0.1"
    );
    assert_eq!(seen["headers"]["x-forwarded-proto"][0], "http");
    assert_eq!(
        seen["headers"]["x-forwarded-host"][0].as_str(),
        Some(gateway.url("").trim_start_matches("http://"))
    );
    assert!(seen["headers"].get("proxy-authorization").is_none());
    assert!(seen["headers"].get("te").is_none());
}

#[tokio::test]
async fn refused_upstream_is_a_502() {
    // Bind then drop a listener: nothing listens on that port afterwards.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let gateway = gateway_to(&format!("http://{closed}"), 5000).await;
    let response = http1().get(&gateway.url("/items")).await;
    assert_eq!(response.status, 502);
    let body = response.json();
    assert_eq!(body["type"], "INTEGRATION_FAILURE");
    assert_eq!(body["requestId"].as_str(), response.header("x-request-id"));
}

#[tokio::test]
async fn upstream_slower_than_the_timeout_is_a_504() {
    let upstream = EchoUpstream::start().await;
    let gateway = gateway_to(&upstream.url(), 200).await;
    let started = std::time::Instant::now();
    let response = http1().get(&gateway.url("/slow")).await;
    assert_eq!(response.status, 504);
    assert_eq!(response.json()["type"], "INTEGRATION_TIMEOUT");
    assert!(started.elapsed() < std::time::Duration::from_secs(4));
}

#[tokio::test]
async fn http2_requests_are_served() {
    let upstream = EchoUpstream::start().await;
    let gateway = gateway_to(&upstream.url(), 5000).await;
    let response = http2().get(&gateway.url("/items")).await;
    assert_eq!(response.version, http::Version::HTTP_2);
    assert_eq!(response.status, 200);
    assert_eq!(response.json()["path"], "/items");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_lets_in_flight_requests_finish_and_stops_accepting() {
    let upstream = EchoUpstream::start().await;
    let gateway = gateway_to(&upstream.url(), 5000).await;
    let url = gateway.url("/delay/300");
    let in_flight = tokio::spawn(async move { http1().get(&url).await });
    upstream.received.notified().await;

    let address = gateway.inner().address();
    gateway.shutdown().await;

    let finished = in_flight.await.unwrap();
    assert_eq!(finished.status, 200);
    assert_eq!(finished.json()["path"], "/delay/300");
    assert!(
        tokio::net::TcpStream::connect(address).await.is_err(),
        "still accepting"
    );
}

#[tokio::test]
async fn a_client_traceparent_reaches_the_upstream_with_a_new_span() {
    let upstream = EchoUpstream::start().await;
    let gateway = gateway_to(&upstream.url(), 5000).await;
    let sent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let response = http1()
        .send(
            Method::GET,
            &gateway.url("/items"),
            &[("traceparent", sent), ("tracestate", "vendor=1")],
            "",
        )
        .await;
    let seen = response.json();
    let forwarded = seen["headers"]["traceparent"][0].as_str().unwrap();
    let parts: Vec<&str> = forwarded.split('-').collect();
    assert_eq!(parts.len(), 4, "{forwarded}");
    assert_eq!(parts[1], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_ne!(parts[2], "00f067aa0ba902b7");
    assert_eq!(parts[3], "01");
    assert_eq!(seen["headers"]["tracestate"][0], "vendor=1");
}

#[tokio::test]
async fn a_traceparent_is_generated_when_absent_or_malformed() {
    let upstream = EchoUpstream::start().await;
    let gateway = gateway_to(&upstream.url(), 5000).await;
    for sent in [None, Some("00-not-a-trace-01")] {
        let headers: Vec<(&str, &str)> = sent.map(|v| ("traceparent", v)).into_iter().collect();
        let response = http1()
            .send(Method::GET, &gateway.url("/items"), &headers, "")
            .await;
        let forwarded = response.json()["headers"]["traceparent"][0]
            .as_str()
            .unwrap()
            .to_owned();
        let parts: Vec<&str> = forwarded.split('-').collect();
        assert_eq!(
            (parts[0], parts[1].len(), parts[2].len()),
            ("00", 32, 16),
            "{forwarded}"
        );
        assert_ne!(parts[1], "0".repeat(32));
    }
}
