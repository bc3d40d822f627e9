//! Active health checks: a GET of the configured path on every target of an upstream, every
//! interval. A target that fails `unhealthy_threshold` checks in a row takes no traffic until
//! it passes `healthy_threshold` in a row. Targets start healthy, so that a new or reloaded
//! config serves at once.

use std::sync::{Arc, Weak};

use http::{Request, header};
use http_body_util::BodyExt;
use tokio::sync::watch;

use super::pool::Sender;
use super::target::Target;
use super::upstream::HttpUpstream;
use crate::body;
use crate::config::HealthCheck;

/// The `User-Agent` of health checks, so backends can tell them from traffic.
const USER_AGENT: &str = "wasmgate-health-check";

/// Starts one checking task per target in `targets` of `upstream`, within a tokio runtime
/// (none outside one: `wasmgate check` builds no traffic). Each ends when the upstream is
/// dropped, or when its target is (DNS discovery no longer finds its address).
pub(super) fn start(
    upstream: &Arc<HttpUpstream>,
    targets: &[Arc<Target>],
    check: &HealthCheck,
    stop: watch::Receiver<()>,
) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    for target in targets {
        let task = check_while_alive(
            Arc::downgrade(upstream),
            Arc::downgrade(target),
            check.clone(),
            stop.clone(),
        );
        runtime.spawn(task);
    }
}

/// Checks `target` every interval while it and its upstream live: `stop` ends the task as
/// soon as the upstream is dropped (its sender goes with it), not at the next tick.
async fn check_while_alive(
    upstream: Weak<HttpUpstream>,
    target: Weak<Target>,
    check: HealthCheck,
    mut stop: watch::Receiver<()>,
) {
    let mut tick = tokio::time::interval(check.interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // Passes (positive) or failures (negative) in a row.
    let mut streak: i64 = 0;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        let (Some(upstream), Some(target)) = (upstream.upgrade(), target.upgrade()) else {
            return;
        };
        let passed = probe(&target, &check).await;
        streak = match (passed, streak) {
            (true, s) if s > 0 => s + 1,
            (true, _) => 1,
            (false, s) if s < 0 => s - 1,
            (false, _) => -1,
        };
        let verdict = if streak >= i64::from(check.healthy_threshold) {
            Some(true)
        } else if -streak >= i64::from(check.unhealthy_threshold) {
            Some(false)
        } else {
            None
        };
        if let Some(healthy) = verdict
            && target.set_healthy(healthy)
        {
            let state = if healthy { "healthy" } else { "unhealthy" };
            tracing::warn!(upstream = upstream.name(), target = %target.label, "upstream target is {state}");
        }
        if verdict == Some(true) && target.uneject(upstream.epoch.now_ms()) {
            tracing::warn!(upstream = upstream.name(), target = %target.label, "upstream target passed its health check: its ejection ends");
        }
    }
}

/// One check: a 2xx or 3xx answer, its body read to the end, within the timeout.
async fn probe(target: &Target, check: &HealthCheck) -> bool {
    let base_path = target.base.path().trim_end_matches('/');
    let Ok(uri) = format!("{base_path}{}", check.path).parse::<http::Uri>() else {
        return false;
    };
    let mut request = Request::new(body::empty());
    *request.uri_mut() = uri;
    if let Some(host) = &target.host {
        request.headers_mut().insert(header::HOST, host.clone());
    }
    request.headers_mut().insert(
        header::USER_AGENT,
        header::HeaderValue::from_static(USER_AGENT),
    );
    let exchange = async {
        let response = target.pool.send(request, Sender::Probe).await.ok()?;
        let status = response.status();
        response.into_body().collect().await.ok()?;
        Some(status.is_success() || status.is_redirection())
    };
    matches!(
        tokio::time::timeout(check.timeout, exchange).await,
        Ok(Some(true))
    )
}
