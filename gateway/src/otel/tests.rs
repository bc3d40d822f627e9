//! Sampling and span building, without a collector.

use std::time::{Duration, Instant, SystemTime};

use http::{HeaderMap, HeaderValue, Method, StatusCode};
use opentelemetry::trace::{SpanId, SpanKind, Status, TraceId};

use super::*;

const CLIENT_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CLIENT_SPAN: &str = "00f067aa0ba902b7";

fn settings(sample_ratio: f64) -> OtlpExport {
    OtlpExport {
        endpoint: "http://127.0.0.1:9/v1/traces".parse().unwrap(),
        service_name: "wasmgate".into(),
        sample_ratio,
        headers: Vec::new(),
        timeout: Duration::from_millis(100),
    }
}

fn traceparent(flags: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    let value = format!("00-{CLIENT_TRACE}-{CLIENT_SPAN}-{flags}");
    headers.insert("traceparent", HeaderValue::from_str(&value).unwrap());
    headers
}

fn facts(ended: Instant) -> ServerFacts<'static> {
    ServerFacts {
        method: &Method::GET,
        route: Some("orders"),
        path: "/orders/7",
        client: "127.0.0.1:5000".parse().unwrap(),
        status: StatusCode::BAD_GATEWAY,
        request_id: "req-1",
        gateway_response: Some("INTEGRATION_FAILURE"),
        ended,
    }
}

#[tokio::test]
async fn honours_the_clients_sampled_flag_whatever_the_ratio() {
    let never = OtlpExporter::start(&settings(0.0)).unwrap();
    let (trace, spans) = begin(
        Some(&never),
        &traceparent("01"),
        Instant::now(),
        SystemTime::now(),
    );
    assert!(trace.sampled() && spans.is_recording());
    assert_eq!(
        (trace.trace_id.as_str(), trace.span_id.as_str()),
        (CLIENT_TRACE, CLIENT_SPAN)
    );

    let always = OtlpExporter::start(&settings(1.0)).unwrap();
    let (trace, spans) = begin(
        Some(&always),
        &traceparent("00"),
        Instant::now(),
        SystemTime::now(),
    );
    assert!(!trace.sampled() && !spans.is_recording());
}

#[tokio::test]
async fn samples_new_traces_at_the_ratio_and_says_so_upstream() {
    let never = OtlpExporter::start(&settings(0.0)).unwrap();
    let (trace, spans) = begin(
        Some(&never),
        &HeaderMap::new(),
        Instant::now(),
        SystemTime::now(),
    );
    assert_eq!((trace.flags.as_str(), spans.is_recording()), ("00", false));

    let half = OtlpExporter::start(&settings(0.5)).unwrap();
    assert!(half.samples_new_trace("ffffffffffffffffff0000000000000f"));
    assert!(!half.samples_new_trace("000000000000000000ffffffffffffff"));
    let sampled = (0..1000)
        .filter(|_| half.samples_new_trace(&TraceParent::generate().trace_id))
        .count();
    assert!((350..650).contains(&sampled), "{sampled} of 1000");
}

#[test]
fn records_nothing_without_an_exporter() {
    let (trace, spans) = begin(None, &HeaderMap::new(), Instant::now(), SystemTime::now());
    assert!(trace.sampled(), "new traces stay sampled for the backend");
    assert!(!spans.is_recording());
}

#[test]
fn builds_a_server_span_with_stage_plugin_and_client_children() {
    let started = Instant::now();
    let mut spans = RequestSpans::record(
        CLIENT_TRACE,
        Some(CLIENT_SPAN),
        None,
        started,
        SystemTime::now(),
    );
    let call_start = started + Duration::from_millis(1);
    spans.plugin_call(
        "auth",
        started,
        call_start,
        &Ok(crate::plugin::StageAction::Continue),
    );
    spans.stage(crate::exchange::Stage::MethodRequest, started, false);
    spans.integration(IntegrationRecord {
        span_id: "1111111111111111".into(),
        method: Method::POST,
        upstream: "orders".into(),
        url: Some("http://127.0.0.1:9000/api".parse().unwrap()),
        start: call_start,
        end: call_start + Duration::from_millis(2),
        result: Err("INTEGRATION_FAILURE"),
    });
    let scope = InstrumentationScope::builder("wasmgate").build();
    let ended = started + Duration::from_millis(5);
    let spans = spans.finish(&facts(ended), &scope);
    assert_eq!(spans.len(), 4);
    let [plugin, stage, client, server] = &spans[..] else {
        unreachable!()
    };
    let trace_id = TraceId::from_hex(CLIENT_TRACE).unwrap();
    assert!(spans.iter().all(|s| s.span_context.trace_id() == trace_id));

    assert_eq!(server.span_kind, SpanKind::Server);
    assert_eq!(server.name, "GET orders");
    assert_eq!(
        server.parent_span_id,
        SpanId::from_hex(CLIENT_SPAN).unwrap()
    );
    assert!(server.parent_span_is_remote);
    assert!(
        matches!(&server.status, Status::Error { description } if description == "INTEGRATION_FAILURE")
    );
    assert_eq!(
        server.end_time.duration_since(server.start_time).unwrap(),
        Duration::from_millis(5)
    );

    let server_id = server.span_context.span_id();
    assert_eq!(
        (stage.name.as_ref(), stage.parent_span_id),
        ("method-request", server_id)
    );
    assert_eq!(plugin.parent_span_id, stage.span_context.span_id());
    assert_eq!(plugin.name, "plugin auth");
    assert_eq!(client.span_kind, SpanKind::Client);
    assert_eq!(
        client.span_context.span_id(),
        SpanId::from_hex("1111111111111111").unwrap()
    );
    assert_eq!(client.parent_span_id, server_id);
    assert!(matches!(client.status, Status::Error { .. }));
    let attribute = |key: &str| {
        let found = client.attributes.iter().find(|kv| kv.key.as_str() == key);
        found.map(|kv| kv.value.to_string())
    };
    assert_eq!(attribute("server.address").as_deref(), Some("127.0.0.1"));
    assert_eq!(attribute("server.port").as_deref(), Some("9000"));
    assert_eq!(
        attribute("error.type").as_deref(),
        Some("INTEGRATION_FAILURE")
    );
}

#[test]
fn a_new_trace_gets_a_root_server_span() {
    let started = Instant::now();
    let spans = RequestSpans::record(CLIENT_TRACE, None, None, started, SystemTime::now());
    let scope = InstrumentationScope::builder("wasmgate").build();
    let spans = spans.finish(&facts(started), &scope);
    assert_eq!(spans.len(), 1);
    assert_eq!(spans[0].parent_span_id, SpanId::INVALID);
    assert!(!spans[0].parent_span_is_remote);
}
