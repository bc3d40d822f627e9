//! OTLP span export: a request through a real gateway (a plugin at every stage, the echo
//! upstream) reaches a fake collector as a SERVER span under the client's trace, a span per
//! stage chain and per plugin call, and a CLIENT span whose id is the one the upstream received
//! in `traceparent`. New traces, sampling, gateway responses, reload, shutdown and a collector
//! that is down are covered too.

use std::sync::Arc;
use std::time::Duration;

use http::Method;
use wasmgate::reload::Trigger;
use wasmgate_tests::otlp_collector::{OtlpCollector, ReceivedSpan};
use wasmgate_tests::{EchoUpstream, TestGateway, TestResponse, http1, plugin_path};

const CLIENT_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CLIENT_SPAN: &str = "00f067aa0ba902b7";
const WAIT: Duration = Duration::from_secs(10);

const STAGES: [&str; 5] = [
    "method-request",
    "integration-request",
    "integration-response",
    "method-response",
    "log",
];

/// A gateway exporting to `endpoint`, with the stage probe at every stage of `/traced` (proxied
/// to `upstream`) and `extra` TOML in `[tracing]`.
fn config(endpoint: &str, upstream: &str, extra: &str) -> String {
    format!(
        r#"
[tracing]
otlp_endpoint = "{endpoint}"
{extra}

[upstreams.echo]
url = "{upstream}"

[upstreams.down]
url = "http://127.0.0.1:9"
connect_timeout_ms = 500

[plugins.probe]
path = "{probe}"
config = {{ stages = {STAGES:?} }}

[[routes]]
id = "traced"
methods = ["GET"]
path = "/traced"
plugins = ["probe"]
integration = {{ type = "http", upstream = "echo" }}

[[routes]]
id = "broken"
path = "/broken"
integration = {{ type = "http", upstream = "down" }}
"#,
        probe = plugin_path("stage_probe"),
    )
}

/// `GET path` with the client's `traceparent` (flags `flags`), when given.
async fn get(gateway: &TestGateway, path: &str, flags: Option<&str>) -> TestResponse {
    let header = flags.map(|f| format!("00-{CLIENT_TRACE}-{CLIENT_SPAN}-{f}"));
    let headers: Vec<(&str, &str)> = header.iter().map(|h| ("traceparent", h.as_str())).collect();
    http1()
        .send(Method::GET, &gateway.url(path), &headers, "")
        .await
}

/// The `traceparent` the echo upstream received: (trace id, span id, flags).
fn upstream_traceparent(response: &TestResponse) -> (String, String, String) {
    let echo = response.json();
    let value = echo["headers"]["traceparent"][0].as_str().unwrap();
    let parts: Vec<&str> = value.split('-').collect();
    assert_eq!(parts.len(), 4, "{value}");
    (parts[1].into(), parts[2].into(), parts[3].into())
}

fn only<'a>(spans: &'a [ReceivedSpan], kind: &str) -> &'a ReceivedSpan {
    let found: Vec<_> = spans.iter().filter(|s| s.kind() == kind).collect();
    assert_eq!(found.len(), 1, "one {kind} span expected: {spans:#?}");
    found[0]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_the_request_its_stages_and_the_integration_call_under_the_clients_trace() {
    let collector = OtlpCollector::start().await;
    let upstream = EchoUpstream::start().await;
    let extra = "service_name = \"edge-test\"\nheaders = { authorization = \"Bearer t0ken\" }";
    let gateway = TestGateway::start(&config(&collector.endpoint(), &upstream.url(), extra)).await;

    let response = get(&gateway, "/traced", Some("01")).await;
    assert_eq!(response.status, 200);
    let (trace_id, hop_span, flags) = upstream_traceparent(&response);
    assert_eq!((trace_id.as_str(), flags.as_str()), (CLIENT_TRACE, "01"));
    assert_ne!(hop_span, CLIENT_SPAN);

    // The server span, a span per stage and per plugin call, the client span.
    let spans = collector.wait_for_trace(CLIENT_TRACE, 12, WAIT).await;
    assert_eq!(spans.len(), 12, "{spans:#?}");
    assert!(
        spans
            .iter()
            .all(|s| s.service_name.as_deref() == Some("edge-test"))
    );
    let authorization = collector.last_headers().get("authorization").cloned();
    assert_eq!(authorization.unwrap(), "Bearer t0ken");

    let server = only(&spans, "server");
    assert_eq!(server.name(), "GET traced");
    assert_eq!(server.parent_span_id(), CLIENT_SPAN);
    assert!(!server.is_error());
    for (key, value) in [
        ("http.request.method", "GET"),
        ("http.route", "traced"),
        ("http.response.status_code", "200"),
        ("url.path", "/traced"),
        ("client.address", "127.0.0.1"),
        (
            "wasmgate.request_id",
            response.header("x-request-id").unwrap(),
        ),
    ] {
        assert_eq!(server.attribute(key).as_deref(), Some(value), "{key}");
    }
    assert_eq!(server.attribute("wasmgate.gateway_response"), None);

    let client = only(&spans, "client");
    assert_eq!(
        client.span_id(),
        hop_span,
        "the backend's parent is the client span"
    );
    assert_eq!(client.parent_span_id(), server.span_id());
    assert_eq!(
        client.attribute("wasmgate.upstream").as_deref(),
        Some("echo")
    );
    assert_eq!(
        client.attribute("http.response.status_code").as_deref(),
        Some("200")
    );
    assert!(client.span.start_time_unix_nano >= server.span.start_time_unix_nano);
    assert!(client.span.end_time_unix_nano <= server.span.end_time_unix_nano);

    let stages: Vec<_> = spans
        .iter()
        .filter(|s| STAGES.contains(&s.name()))
        .collect();
    let mut names: Vec<_> = stages.iter().map(|s| s.name()).collect();
    names.sort_unstable();
    let mut expected = STAGES.to_vec();
    expected.sort_unstable();
    assert_eq!(names, expected);
    assert!(stages.iter().all(|s| s.kind() == "internal"));
    assert!(
        stages
            .iter()
            .all(|s| s.parent_span_id() == server.span_id())
    );

    let plugins: Vec<_> = spans
        .iter()
        .filter(|s| s.name() == "plugin probe")
        .collect();
    assert_eq!(plugins.len(), 5);
    for plugin in plugins {
        let stage = plugin.attribute("wasmgate.stage").unwrap();
        let parent = stages.iter().find(|s| s.name() == stage).unwrap();
        assert_eq!(plugin.parent_span_id(), parent.span_id(), "{stage}");
        assert_eq!(
            plugin.attribute("wasmgate.plugin").as_deref(),
            Some("probe")
        );
        assert_eq!(
            plugin.attribute("wasmgate.plugin.outcome").as_deref(),
            Some("continue")
        );
    }
    gateway.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starts_a_new_trace_when_the_client_sent_none() {
    let collector = OtlpCollector::start().await;
    let upstream = EchoUpstream::start().await;
    let gateway = TestGateway::start(&config(&collector.endpoint(), &upstream.url(), "")).await;

    let response = get(&gateway, "/traced", None).await;
    let (trace_id, hop_span, flags) = upstream_traceparent(&response);
    assert_ne!(trace_id, CLIENT_TRACE);
    assert_eq!(flags, "01", "sample_ratio defaults to 1.0");

    let spans = collector.wait_for_trace(&trace_id, 12, WAIT).await;
    let server = only(&spans, "server");
    assert_eq!(
        server.parent_span_id(),
        "",
        "a new trace starts at the gateway"
    );
    assert_eq!(only(&spans, "client").span_id(), hop_span);
    gateway.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn marks_gateway_responses_and_backend_failures_on_the_server_span() {
    let collector = OtlpCollector::start().await;
    let upstream = EchoUpstream::start().await;
    let gateway = TestGateway::start(&config(&collector.endpoint(), &upstream.url(), "")).await;

    assert_eq!(get(&gateway, "/broken", Some("01")).await.status, 502);
    let spans = collector.wait_for_trace(CLIENT_TRACE, 2, WAIT).await;
    let server = only(&spans, "server");
    assert_eq!(server.name(), "GET broken");
    assert!(server.is_error());
    assert_eq!(
        server.attribute("wasmgate.gateway_response").as_deref(),
        Some("INTEGRATION_FAILURE")
    );
    let client = only(&spans, "client");
    assert!(client.is_error());
    assert_eq!(
        client.attribute("error.type").as_deref(),
        Some("INTEGRATION_FAILURE")
    );
    assert_eq!(
        client.attribute("wasmgate.upstream").as_deref(),
        Some("down")
    );
    gateway.shutdown().await;

    // No route: the global chain (empty here) and a span named after the method alone.
    let gateway = TestGateway::start(&config(&collector.endpoint(), &upstream.url(), "")).await;
    let response = get(&gateway, "/nowhere", None).await;
    assert_eq!(response.status, 404);
    gateway.shutdown().await;
    let missing = collector
        .spans()
        .into_iter()
        .find(|s| s.attribute("wasmgate.request_id").as_deref() == response.header("x-request-id"))
        .expect("the 404's span, flushed at shutdown");
    assert_eq!((missing.name(), missing.is_error()), ("GET", false));
    assert_eq!(
        missing.attribute("wasmgate.gateway_response").as_deref(),
        Some("RESOURCE_NOT_FOUND")
    );
    assert_eq!(missing.attribute("http.route"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn samples_new_traces_at_the_ratio_and_follows_the_clients_flag() {
    let collector = OtlpCollector::start().await;
    let upstream = EchoUpstream::start().await;
    let gateway = TestGateway::start(&config(
        &collector.endpoint(),
        &upstream.url(),
        "sample_ratio = 0.0",
    ))
    .await;

    let (new_trace, _, flags) = upstream_traceparent(&get(&gateway, "/traced", None).await);
    assert_eq!(flags, "00", "the upstream learns the trace is not sampled");
    let (_, _, flags) = upstream_traceparent(&get(&gateway, "/traced", Some("00")).await);
    assert_eq!(flags, "00");
    let (_, _, flags) = upstream_traceparent(&get(&gateway, "/traced", Some("01")).await);
    assert_eq!(flags, "01");

    // Sent last, the sampled request's spans arrive after any the others would have had.
    collector.wait_for_trace(CLIENT_TRACE, 12, WAIT).await;
    gateway.shutdown().await;
    let spans = collector.spans();
    assert_eq!(spans.len(), 12, "only the sampled request: {spans:#?}");
    assert!(spans.iter().all(|s| s.trace_id() != new_trace));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_keeps_the_exporter_until_tracing_changes() {
    let first = OtlpCollector::start().await;
    let second = OtlpCollector::start().await;
    let upstream = EchoUpstream::start().await;
    let gateway = TestGateway::start(&config(&first.endpoint(), &upstream.url(), "")).await;
    let exporter = gateway
        .inner()
        .snapshot()
        .otel
        .clone()
        .expect("an exporter");

    // Same `[tracing]`, another route set: the same exporter.
    let with_extra_route = format!(
        "{}\n[[routes]]\npath = \"/extra\"\nintegration = {{ type = \"mock\" }}\n",
        config(&first.endpoint(), &upstream.url(), "")
    );
    gateway.rewrite(&with_extra_route);
    gateway.inner().reload(Trigger::Admin).await.unwrap();
    let kept = gateway.inner().snapshot().otel.clone().unwrap();
    assert!(Arc::ptr_eq(&exporter, &kept));
    drop((exporter, kept));

    // Another collector: a new exporter, live for the next request.
    gateway.rewrite(&config(&second.endpoint(), &upstream.url(), ""));
    gateway.inner().reload(Trigger::Admin).await.unwrap();
    let response = get(&gateway, "/traced", None).await;
    let (trace_id, _, _) = upstream_traceparent(&response);
    second.wait_for_trace(&trace_id, 12, WAIT).await;
    assert!(first.spans().iter().all(|s| s.trace_id() != trace_id));

    // No endpoint: no exporter.
    gateway.rewrite(
        &config(&second.endpoint(), &upstream.url(), "")
            .replace(&format!("otlp_endpoint = \"{}\"", second.endpoint()), ""),
    );
    gateway.inner().reload(Trigger::Admin).await.unwrap();
    assert!(gateway.inner().snapshot().otel.is_none());
    gateway.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_flushes_the_spans_still_queued() {
    let collector = OtlpCollector::start().await;
    let upstream = EchoUpstream::start().await;
    let gateway = TestGateway::start(&config(&collector.endpoint(), &upstream.url(), "")).await;
    let response = get(&gateway, "/traced", Some("01")).await;
    assert_eq!(response.status, 200);
    gateway.shutdown().await;
    // Exported before `shutdown` returned, not at the next batch tick.
    let spans = collector.spans();
    assert_eq!(spans.len(), 12, "{spans:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_are_unaffected_when_the_collector_is_down() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}/v1/traces", closed.local_addr().unwrap());
    drop(closed);
    let upstream = EchoUpstream::start().await;
    let gateway = TestGateway::start(&config(&endpoint, &upstream.url(), "timeout_ms = 200")).await;
    let client = http1();
    for _ in 0..20 {
        let response = client.get(&gateway.url("/traced")).await;
        assert_eq!(response.status, 200);
    }
    // The failed exports are counted (the metrics are process-wide: at least these).
    let failed = wasmgate_tests::prometheus::key(
        wasmgate::metrics::TRACE_SPANS_DROPPED_TOTAL,
        &[("reason", "export_failed")],
    );
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let page = client.get(&gateway.admin_url("/metrics")).await;
        let samples = wasmgate_tests::prometheus::parse(std::str::from_utf8(&page.body).unwrap());
        if samples.get(&failed).is_some_and(|n| *n >= 12.0) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no failed export counted"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    gateway.shutdown().await;
}
