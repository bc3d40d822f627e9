//! Phase 6, finish: the request's metrics are recorded, the response is built and handed to
//! hyper, and — only when something observes it — once it has been sent the access log line is
//! written, the LOG chain runs, the request's spans are exported and its recording written.

use std::time::Instant;

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, HeaderValue};
use http::{Method, Response};

use super::answer::Answer;
use super::chain::run_stage;
use super::context::RequestContext;
use crate::body::{self, NotifyWhenDone};
use crate::exchange::{ContextBag, Stage};
use crate::integration::strip_hop_by_hop;
use crate::otel::ServerFacts;

/// Records the request and builds the response to send.
pub(super) fn finish(mut request: RequestContext, answer: Answer) -> Response<NotifyWhenDone> {
    let route_metrics = match request.matched_route() {
        Some(route) => &route.metrics,
        None => &request.snapshot.unmatched_metrics,
    };
    route_metrics.record(
        &request.client.method,
        answer.response.status,
        request.client.started.elapsed(),
        request.integration_time,
    );
    let Answer {
        mut response,
        streaming_body,
    } = answer;
    strip_hop_by_hop(&mut response.headers);
    let request_id_header = &request.snapshot.config.gateway.request_id_header;
    if let Ok(value) = HeaderValue::from_str(request.exchange.request_id()) {
        response.headers.insert(request_id_header.clone(), value);
    }
    if let Some(route) = request.matched_route() {
        for (name, value) in &route.deprecation_headers {
            response.headers.insert(name.clone(), value.clone());
        }
    }
    let body = match (response.body_replaced, streaming_body) {
        (false, Some(stream)) => stream,
        (replaced, _) => {
            // The body is in memory: hyper sets `content-length` from it. A HEAD answer keeps
            // the backend's length, which describes the body a GET would have had.
            if replaced || request.client.method != Method::HEAD {
                response.headers.remove(CONTENT_LENGTH);
            }
            body::full(response.body.clone().unwrap_or_else(Bytes::new))
        }
    };
    let runs_log_stage = !request.chains().at(Stage::Log).is_empty() || request.recording.is_some();
    let observed =
        runs_log_stage || request.snapshot.access_log.is_some() || request.spans.is_recording();
    if !observed {
        let mut outgoing = Response::new(NotifyWhenDone::unobserved(body));
        *outgoing.status_mut() = response.status;
        *outgoing.headers_mut() = response.headers;
        return outgoing;
    }
    let (body, sent) = NotifyWhenDone::new(body);
    let mut outgoing = Response::new(body);
    *outgoing.status_mut() = response.status;
    *outgoing.headers_mut() = response.headers.clone();
    request.exchange.response = Some(response);
    tokio::spawn(async move {
        // Resolves when the response body is dropped: fully sent, or the client went away.
        let bytes_out = sent.await.unwrap_or_default();
        let sent_at = Instant::now();
        if let Some(log) = &request.snapshot.access_log {
            log.record(&access_log_entry(&request, bytes_out));
        }
        if runs_log_stage {
            run_stage(&mut request, Stage::Log).await;
        }
        if let (Some(recorder), Some(recording)) =
            (&request.snapshot.recorder, request.recording.take())
        {
            recorder.submit(recording);
        }
        if let Some(exporter) = request.snapshot.otel.clone()
            && request.spans.is_recording()
        {
            let spans = std::mem::take(&mut request.spans);
            exporter.export(spans, &server_facts(&request, sent_at));
        }
    });
    outgoing
}

/// What the request's SERVER span says, once the response was sent.
fn server_facts(request: &RequestContext, sent_at: Instant) -> ServerFacts<'_> {
    let response = request.exchange.response.as_ref();
    ServerFacts {
        method: &request.client.method,
        route: request.route_id(),
        path: &request.client.path,
        client: request.client.peer,
        status: response.map_or(http::StatusCode::OK, |r| r.status),
        request_id: request.exchange.request_id(),
        gateway_response: request.gateway_response,
        ended: sent_at,
    }
}

/// The request's access log line.
fn access_log_entry(request: &RequestContext, bytes_out: u64) -> crate::access_log::Entry<'_> {
    let exchange = &request.exchange;
    let context = &exchange.context;
    let bytes_in = exchange.request.body.as_ref().map_or_else(
        || {
            let length = exchange.request.headers.get(CONTENT_LENGTH);
            length
                .and_then(|v| v.to_str().ok()?.parse().ok())
                .unwrap_or_default()
        },
        |body| body.len() as u64,
    );
    crate::access_log::Entry {
        time: Some(request.client.arrived),
        request_id: exchange.request_id(),
        trace_id: context.get(ContextBag::TRACE_ID).unwrap_or_default(),
        client_ip: context.get(ContextBag::CLIENT_IP).unwrap_or_default(),
        method: request.client.method.as_str(),
        route: request.route_id(),
        path: &request.client.path,
        status: exchange.response.as_ref().map_or(0, |r| r.status.as_u16()),
        bytes_in,
        bytes_out,
        duration: request.client.started.elapsed(),
        integration: request.integration_time,
        plugins: exchange.plugin_time,
        principal: context.get(wasmgate_plugin_contract::context::PRINCIPAL),
        api_key_id: context.get(wasmgate_plugin_contract::context::API_KEY_ID),
        gateway_response: request.gateway_response,
        upstream: request.upstream_sent_to().map(|(name, _)| name),
        canary: request.upstream_sent_to().and_then(|(_, canary)| canary),
        stage: request
            .matched_route()
            .and_then(|route| route.stage.as_deref()),
    }
}
