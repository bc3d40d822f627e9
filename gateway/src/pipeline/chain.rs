//! Running one stage's chain of plugins on a request, in chain order, until one answers.

use std::time::Instant;

use super::context::{RequestContext, chains_of};
use crate::config::FailurePolicy;
use crate::exchange::{Exchange, ResponseState, Stage};
use crate::gateway_response::GatewayError;
use crate::otel::RequestSpans;
use crate::plugin::{ConfiguredPlugin, PluginCall, PluginFailure, StageAction};
use crate::record::Recording;

/// How a stage's chain ended.
pub(crate) enum ChainOutcome {
    /// Every plugin let the request go on (possibly with edits).
    Continue,
    /// A plugin answered: the client's response (request side), or the replacement of the
    /// response (response side).
    Respond(ResponseState),
    /// A plugin failed under the `closed` policy, or could not be run at all: the gateway
    /// answers (see [`super::rescue`]).
    Failed(GatewayError),
}

/// Runs the serving chains' plugins at `stage` on `request`. A chain that ran is a span of
/// the request; a recorded request records the stage, even one with no plugin (a replay on
/// another config may have some).
pub(super) async fn run_stage(request: &mut RequestContext, stage: Stage) -> ChainOutcome {
    let RequestContext {
        snapshot,
        route,
        deployment,
        exchange,
        spans,
        recording,
        ..
    } = request;
    let mut recording = recording.as_deref_mut();
    if let Some(recording) = recording.as_deref_mut() {
        recording.begin_stage(stage, exchange, route.is_none());
    }
    let plugins = chains_of(snapshot, *route, *deployment).at(stage);
    if plugins.is_empty() {
        return ChainOutcome::Continue;
    }
    let started = spans.is_recording().then(Instant::now);
    // Boxed: the chain's future (kilobytes of nested plugin-call state) would otherwise be
    // embedded in, and copied with, every phase's and the request's future.
    let outcome = Box::pin(run_plugins(stage, plugins, exchange, spans, recording)).await;
    if let Some(started) = started {
        let answered = !matches!(outcome, ChainOutcome::Continue);
        spans.stage(stage, started, answered);
    }
    outcome
}

/// Calls `plugins` at `stage` on `exchange` in order, until one answers or fails under the
/// `closed` policy; each call is a span, and recorded when `recording` is given. Replay runs
/// recorded stages through here too, so it decides exactly as the pipeline does.
pub(crate) async fn run_plugins(
    stage: Stage,
    plugins: &[std::sync::Arc<ConfiguredPlugin>],
    exchange: &mut Box<Exchange>,
    spans: &mut RequestSpans,
    mut recording: Option<&mut Recording>,
) -> ChainOutcome {
    for plugin in plugins {
        let PluginCall {
            result,
            started,
            ended,
        } = plugin.call(stage, exchange).await;
        exchange.plugin_time += ended - started;
        spans.plugin_call(plugin.name(), started, ended, &result);
        if let Some(recording) = recording.as_deref_mut() {
            recording.called(plugin.name(), &result, ended - started, exchange);
        }
        let failure = match result {
            Ok(StageAction::Continue) => continue,
            Ok(StageAction::Respond(response)) => return ChainOutcome::Respond(response),
            Err(failure) => failure,
        };
        let closed = plugin.failure_policy() == FailurePolicy::Closed && stage != Stage::Log;
        if closed && let PluginFailure::Saturated(max_instances) = &failure {
            // Not the plugin's fault: the gateway is saturated, and sheds the request.
            return ChainOutcome::Failed(GatewayError::Saturated {
                plugin: plugin.name().to_owned(),
                max_instances: *max_instances,
            });
        }
        tracing::warn!(
            plugin = plugin.name(),
            %stage,
            request_id = exchange.request_id(),
            failure = failure.kind(),
            policy = ?plugin.failure_policy(),
            "{failure}"
        );
        if closed {
            return ChainOutcome::Failed(GatewayError::Plugin {
                plugin: plugin.name().to_owned(),
                stage,
                failure,
            });
        }
    }
    ChainOutcome::Continue
}
