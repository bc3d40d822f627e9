//! An upstream pool: its targets, how a request's target is chosen, and the tries a request
//! makes — with retries, the retry budget, outlier ejection and the circuit breaker.

use std::sync::Arc;
use std::sync::atomic::AtomicU32;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderValue};
use http::uri::PathAndQuery;
use http::{Request, Response, Uri};
use hyper_rustls::{FixedServerNameResolver, HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::dns::GaiResolver;
use metrics::Counter;
use rustls::pki_types::ServerName;
use tokio::sync::watch;

use super::balance::KeySource;
use super::body_fault::{BodyFault, Fault};
use super::connection_limit::{ConnectionLimit, count_one_below};
use super::discovery::{
    TargetKey, TargetResolver, TargetSet, Targets, discover_while_alive, with_address,
};
use super::pool::{ConnectionPool, PooledBody, SendError, Sender, Unanswered};
use super::retry::{RetryBudget, TryFailure, backoff, method_retriable};
use super::target::{AtInstant, Epoch, InFlight, Target, TryOutcome};
use super::{
    Forwarded, add_forwarded, describe_error, join_cookies, stream_refused, strip_hop_by_hop,
};
use crate::body::{self, GatewayBody};
use crate::config::{OutlierDetection, RetryPolicy, Upstream, UpstreamProtocol};
use crate::exchange::RequestState;
use crate::gateway_response::GatewayError;
use crate::metrics::{
    UPSTREAM_DNS_FAILURES_TOTAL, UPSTREAM_RETRIES_TOTAL, UPSTREAM_RETRY_BUDGET_EXHAUSTED_TOTAL,
    UPSTREAM_UNAVAILABLE_TOTAL,
};

/// An upstream: its targets with their connection pools, and what protects them.
pub struct HttpUpstream {
    name: String,
    /// What it was built from: a reload with the same definition keeps this upstream, its
    /// connections, health and ejections.
    definition: Upstream,
    pub(super) targets: Targets,
    /// The connection limits its targets' pools share.
    limit: Option<Arc<ConnectionLimit>>,
    /// The clock of outlier ejections.
    pub(super) epoch: Epoch,
    /// Whether a target can become unavailable (health checks or outlier ejection): when
    /// not, picking a target reads no clock.
    can_fail_targets: bool,
    timeout: Duration,
    protocol: UpstreamProtocol,
    retries: Option<RetryPolicy>,
    budget: RetryBudget,
    outlier: Option<OutlierDetection>,
    max_requests: Option<u32>,
    in_flight: Arc<AtomicU32>,
    metrics: UpstreamMetrics,
    /// Dropped with the upstream: its health checks and DNS discovery stop.
    _stop_checks: watch::Sender<()>,
    /// What tasks started later (checks of discovered targets) wait on to stop.
    stopped: watch::Receiver<()>,
}

struct UpstreamMetrics {
    retries: Counter,
    budget_exhausted: Counter,
    breaker_open: Counter,
    pending_full: Counter,
    no_target: Counter,
    discovery_failures: Counter,
}

/// What a route adds to its upstream's policy.
#[derive(Debug, Clone, Default)]
pub struct RouteRetries {
    /// The route's own retry policy (`None`: the upstream's).
    pub policy: Option<RetryPolicy>,
    /// Whether POST and PATCH requests are retried too.
    pub non_idempotent: bool,
}

/// A request body as the integration sends it.
pub enum OutgoingBody {
    /// In memory (or empty): every try sends it again.
    Replayable(Bytes),
    /// Streamed from the client: sent once, so retried only when no byte of the request
    /// was written.
    Streaming(GatewayBody),
}

/// A response, and which target gave it.
pub struct Answered {
    /// The response, its body still streaming from the target.
    pub response: Response<PooledBody>,
    /// The index of the target that answered (see [`HttpUpstream::target_url`]).
    pub target: usize,
}

impl HttpUpstream {
    /// The pool of `upstream`: a connection pool per target, over TLS for `https`. Within a
    /// tokio runtime, active health checks start with it and end when it is dropped.
    pub fn new(upstream: &Upstream) -> Arc<Self> {
        let limit = upstream
            .max_connections
            .map(|limits| ConnectionLimit::new(&upstream.name, limits.connections, limits.pending));
        let entries: Vec<(TargetKey, Arc<Target>)> = (0..upstream.targets.len())
            .map(|configured| {
                let key = TargetKey {
                    configured,
                    address: None,
                };
                (key, build_target(upstream, &limit, key))
            })
            .collect();
        let set = TargetSet::new(&upstream.balance, entries);
        if let Some(limit) = &limit {
            limit.share_with(pools_of(&set));
        }
        let label = upstream.name.clone();
        let metrics = UpstreamMetrics {
            retries: metrics::counter!(UPSTREAM_RETRIES_TOTAL, "upstream" => label.clone()),
            budget_exhausted: metrics::counter!(UPSTREAM_RETRY_BUDGET_EXHAUSTED_TOTAL, "upstream" => label.clone()),
            breaker_open: metrics::counter!(UPSTREAM_UNAVAILABLE_TOTAL, "upstream" => label.clone(), "reason" => "max_requests"),
            pending_full: metrics::counter!(UPSTREAM_UNAVAILABLE_TOTAL, "upstream" => label.clone(), "reason" => "max_pending"),
            no_target: metrics::counter!(UPSTREAM_UNAVAILABLE_TOTAL, "upstream" => label.clone(), "reason" => "no_available_target"),
            discovery_failures: metrics::counter!(UPSTREAM_DNS_FAILURES_TOTAL, "upstream" => label),
        };
        let (stop_checks, stopped) = watch::channel(());
        let initial = set.targets.clone();
        let targets = match upstream.dns_refresh {
            None => Targets::Fixed(set),
            Some(_) => Targets::Discovered(ArcSwap::from_pointee(set)),
        };
        let this = Arc::new(HttpUpstream {
            name: upstream.name.clone(),
            definition: upstream.clone(),
            targets,
            limit,
            epoch: Epoch::new(),
            can_fail_targets: upstream.health_check.is_some() || upstream.outlier.is_some(),
            timeout: upstream.timeout,
            protocol: upstream.protocol,
            retries: upstream.retries.clone(),
            budget: RetryBudget::new(upstream.retry_budget),
            outlier: upstream.outlier,
            max_requests: upstream.max_requests,
            in_flight: Arc::new(AtomicU32::new(0)),
            metrics,
            _stop_checks: stop_checks,
            stopped: stopped.clone(),
        });
        if let Some(check) = &upstream.health_check {
            super::health::start(&this, &initial, check, stopped.clone());
        }
        if let (Some(refresh), Ok(runtime)) =
            (upstream.dns_refresh, tokio::runtime::Handle::try_current())
        {
            runtime.spawn(discover_while_alive(
                Arc::downgrade(&this),
                refresh,
                stopped,
            ));
        }
        this
    }

    /// Replaces the target set with one of the targets `keys` name, when they differ from the
    /// current ones: a target found again is kept as it is (connections, health, ejection).
    pub(super) fn rediscovered(self: &Arc<Self>, keys: Vec<TargetKey>) {
        let Targets::Discovered(current) = &self.targets else {
            return;
        };
        let old = current.load_full();
        if old.keys == keys {
            return;
        }
        let entries: Vec<(TargetKey, Arc<Target>)> = keys
            .iter()
            .map(|key| {
                let kept = old.keys.iter().position(|k| k == key);
                let target = match kept {
                    Some(i) => old.targets[i].clone(),
                    None => build_target(&self.definition, &self.limit, *key),
                };
                (*key, target)
            })
            .collect();
        let fresh: Vec<Arc<Target>> = entries
            .iter()
            .filter(|(key, _)| !old.keys.contains(key))
            .map(|(_, target)| target.clone())
            .collect();
        let set = TargetSet::new(&self.definition.balance, entries);
        let labels: Vec<&str> = set.targets.iter().map(|t| t.label.as_str()).collect();
        tracing::info!(upstream = self.name, targets = ?labels, "DNS discovery changed the upstream's targets");
        if let Some(limit) = &self.limit {
            limit.share_with(pools_of(&set));
        }
        current.store(Arc::new(set));
        if let Some(check) = &self.definition.health_check {
            super::health::start(self, &fresh, check, self.stopped.clone());
        }
    }

    /// Counts a resolution that failed (the targets stay as they were).
    pub(super) fn count_discovery_failure(&self) {
        self.metrics.discovery_failures.increment(1);
    }

    /// The upstream's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The definition it was built from.
    pub fn definition(&self) -> &Upstream {
        &self.definition
    }

    /// The integration timeout: the whole call, retries included.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Sends the request as the chains left it, with `body`, to a target, and waits for a
    /// response head within the integration timeout, retrying as the route's (or else the
    /// upstream's) policy says. A body cut off at `body_limit` (see
    /// [`crate::body::stream_limited`]) is a [`GatewayError::BodyTooLarge`].
    pub async fn send(
        &self,
        retries: &RouteRetries,
        request: &RequestState,
        body: OutgoingBody,
        body_limit: u64,
        forwarded: Forwarded<'_>,
    ) -> Result<Answered, GatewayError> {
        let held = match self.max_requests {
            None => None,
            Some(max) => match self.admit(max) {
                Some(held) => Some(held),
                None => {
                    self.metrics.breaker_open.increment(1);
                    return Err(self.unavailable("`max_requests` requests are in flight"));
                }
            },
        };
        let policy = retries
            .policy
            .as_ref()
            .or(self.retries.as_ref())
            .filter(|_| method_retriable(&request.method, retries.non_idempotent));
        if policy.is_some() {
            self.budget.deposit();
        }
        let mut headers = request.headers.clone();
        strip_hop_by_hop(&mut headers);
        join_cookies(&mut headers);
        add_forwarded(&mut headers, &forwarded);
        if self.protocol != UpstreamProtocol::Http1 && accepts_trailers(&request.headers) {
            // The one `TE` HTTP/2 allows, and gRPC servers expect.
            headers.insert(header::TE, HeaderValue::from_static("trailers"));
        }
        // A streamed body says when it fails, so that the client's fault (an aborted upload,
        // a body over the limit) is not taken for the target's.
        let (body, body_fault) = match body {
            OutgoingBody::Streaming(streamed) => {
                let (watched, fault) = BodyFault::watch(streamed);
                (OutgoingBody::Streaming(watched), Some(fault))
            }
            replayable => (replayable, None),
        };
        let targets = self.targets.current();
        let tries = Tries {
            upstream: self,
            targets: &targets,
            policy,
            request,
            key: KeySource {
                headers: &request.headers,
                client_ip: forwarded.client_ip.as_bytes(),
            },
            body_limit,
            body_fault,
            deadline: tokio::time::Instant::now() + self.timeout,
        };
        // The loop is here, not in a function of its own: every future nested in another is
        // moved into it whole, and these hold a connection's send future.
        let attempts = policy.map_or(1, |p| p.attempts);
        let mut body = Some(body);
        let mut headers = Some(headers);
        let mut held = held;
        let mut tried: Vec<usize> = Vec::new();
        let Some(mut index) = self.pick(tries.targets, &tries.key, &tried) else {
            self.metrics.no_target.increment(1);
            return Err(self.unavailable("no target is available (health checks or ejections)"));
        };
        for attempt in 1..=attempts {
            let target = &*tries.targets.targets[index];
            let last = attempt == attempts;
            let outgoing = match body.take() {
                Some(OutgoingBody::Replayable(bytes)) => {
                    let once = if bytes.is_empty() {
                        body::empty()
                    } else {
                        body::full(bytes.clone())
                    };
                    body = Some(OutgoingBody::Replayable(bytes));
                    once
                }
                Some(OutgoingBody::Streaming(streamed)) => streamed,
                None => unreachable!("a try is made only with a body to send"),
            };
            // The last try takes the headers; earlier ones send a copy.
            let these = if last {
                headers.take()
            } else {
                headers.clone()
            };
            let outgoing = tries.outgoing(target, these.unwrap_or_default(), outgoing)?;
            let in_flight = InFlight::enter(&target.in_flight);
            let started = Instant::now();
            let try_deadline = tries.try_deadline();
            let sent =
                tokio::time::timeout_at(try_deadline, target.pool.send(outgoing, Sender::Request))
                    .await;
            let elapsed = started.elapsed();
            let (failure, outcome) = match tries.classify(target, sent, try_deadline) {
                Ok(mut response) => {
                    let status = response.status();
                    let outcome = if status.is_server_error() {
                        TryOutcome::Failed
                    } else {
                        TryOutcome::Answered
                    };
                    tries.count(target, outcome, elapsed);
                    // A streamed body went with this try: there is nothing to send again.
                    let next = match last || body.is_none() {
                        true => None,
                        false => {
                            tries.next_try(TryFailure::Status(status), index, &mut tried, attempt)
                        }
                    };
                    let Some(next) = next else {
                        response.body_mut().hold(in_flight, held.take());
                        return Ok(Answered {
                            response,
                            target: index,
                        });
                    };
                    // Dropped unread: its connection closes, the next try gets another.
                    drop(response);
                    (TryFailure::Status(status), next)
                }
                Err((TryError::Request(error) | TryError::Shed(error), _)) => return Err(error),
                Err((TryError::Failed(failure, error), unsent)) => {
                    tries.count(target, TryOutcome::Failed, elapsed);
                    if let Some(unsent) = unsent
                        && body.is_none()
                    {
                        body = Some(OutgoingBody::Streaming(unsent));
                    }
                    let next = match last || body.is_none() {
                        true => None,
                        false => tries.next_try(failure, index, &mut tried, attempt),
                    };
                    let Some(next) = next else {
                        return Err(error);
                    };
                    (failure, next)
                }
            };
            drop(in_flight);
            let (next, wait) = outcome;
            tracing::debug!(upstream = self.name, target = %target.base, ?failure, ?wait, "retrying");
            tokio::time::sleep(wait).await;
            self.metrics.retries.increment(1);
            index = next;
        }
        unreachable!("the last try returns")
    }

    /// Counts one more request in flight, unless `max` already are (the check and the count
    /// are one atomic step, so that concurrent requests cannot all slip past the limit).
    fn admit(&self, max: u32) -> Option<InFlight> {
        count_one_below(&self.in_flight, max).then(|| InFlight::adopt(&self.in_flight))
    }

    /// A target of `set` for the next try, avoiding `tried` while another is available.
    fn pick(&self, set: &TargetSet, key: &KeySource<'_>, tried: &[usize]) -> Option<usize> {
        let candidates = AtInstant {
            targets: &set.targets,
            now_ms: self.now_ms(),
        };
        set.balancer.pick(&candidates, key, tried)
    }

    /// What target `index` (see [`Answered::target`]) is called in metrics: its base URL, or
    /// for a target DNS discovery found, the address it connects to. Read from the current
    /// targets: if discovery replaced them since the request picked one, it may name another
    /// (`None` when the index is gone).
    pub fn target_label(&self, index: usize) -> Option<String> {
        let set = self.targets.current();
        set.targets.get(index).map(|target| target.label.clone())
    }

    fn unavailable(&self, reason: &'static str) -> GatewayError {
        GatewayError::UpstreamUnavailable {
            upstream: self.name.clone(),
            reason,
        }
    }

    /// Whether one more target may be ejected: at most `max_ejected_percent` of the targets
    /// are ejected at once, and one of two or more always may be (a single target never is).
    fn may_eject(&self, set: &TargetSet, policy: &OutlierDetection, now_ms: u64) -> bool {
        let n = set.targets.len();
        if n < 2 || policy.max_ejected_percent == 0 {
            return false;
        }
        let allowed = (n * policy.max_ejected_percent as usize / 100).max(1);
        let ejected = set.targets.iter().filter(|t| t.ejected_at(now_ms)).count();
        ejected < allowed
    }

    fn now_ms(&self) -> u64 {
        if self.can_fail_targets {
            self.epoch.now_ms()
        } else {
            0
        }
    }
}

/// One request's tries.
struct Tries<'a> {
    upstream: &'a HttpUpstream,
    /// The targets as they were when the request started.
    targets: &'a TargetSet,
    policy: Option<&'a RetryPolicy>,
    request: &'a RequestState,
    key: KeySource<'a>,
    body_limit: u64,
    /// The streamed body's failure, when the body is streamed.
    body_fault: Option<Arc<BodyFault>>,
    /// When the upstream's timeout runs out, retries included.
    deadline: tokio::time::Instant,
}

/// What ended a try that gave no response to return.
enum TryError {
    /// The try failed in a way a policy may retry.
    Failed(TryFailure, GatewayError),
    /// The request's body is at fault: no retry, and the target is not blamed.
    Request(GatewayError),
    /// The upstream is at its connection limits: no retry, and no target is blamed.
    Shed(GatewayError),
}

impl Tries<'_> {
    /// When the current try must have its response head: the per-try timeout, within what
    /// is left of the upstream's.
    fn try_deadline(&self) -> tokio::time::Instant {
        match self.policy.and_then(|p| p.per_try_timeout) {
            Some(limit) => self.deadline.min(tokio::time::Instant::now() + limit),
            None => self.deadline,
        }
    }

    /// The upstream's timeout, spent.
    fn timed_out(&self) -> GatewayError {
        GatewayError::UpstreamTimeout {
            upstream: self.upstream.name.clone(),
            timeout_ms: self.upstream.timeout.as_millis(),
        }
    }

    /// Whether `failure` of the try number `attempt` on target `index` is retried, and
    /// where to and after what wait: the policy must retry it, enough of the upstream's
    /// timeout must be left for another try (its per-try timeout, or a tenth of the
    /// upstream's), a target must be available, and the budget must allow it — checked in
    /// that order, so that the budget pays only for retries that happen.
    fn next_try(
        &self,
        failure: TryFailure,
        index: usize,
        tried: &mut Vec<usize>,
        attempt: u32,
    ) -> Option<(usize, Duration)> {
        let policy = self.policy.filter(|p| failure.retried_by(p))?;
        let wait = backoff(policy, attempt);
        let least = policy.per_try_timeout.unwrap_or(self.upstream.timeout / 10);
        let left = self
            .deadline
            .saturating_duration_since(tokio::time::Instant::now());
        if left < wait + least {
            return None;
        }
        tried.push(index);
        let next = self.upstream.pick(self.targets, &self.key, tried)?;
        if !self.upstream.budget.withdraw() {
            self.upstream.metrics.budget_exhausted.increment(1);
            return None;
        }
        Some((next, wait))
    }

    /// Records a try's outcome, and counts it towards ejecting the target (at the time it
    /// ended: a slow failure must not shorten the ejection).
    fn count(&self, target: &Target, outcome: TryOutcome, elapsed: Duration) {
        target.record(outcome, elapsed);
        if let Some(policy) = &self.upstream.outlier {
            let now_ms = self.upstream.epoch.now_ms();
            target.count_for_ejection(outcome, policy, now_ms, || {
                self.upstream.may_eject(self.targets, policy, now_ms)
            });
        }
    }

    /// The request for `target`: its base path before the request's path, its `Host`.
    fn outgoing(
        &self,
        target: &Target,
        mut headers: HeaderMap,
        body: GatewayBody,
    ) -> Result<Request<GatewayBody>, GatewayError> {
        if let Some(host) = &target.host {
            headers.insert(header::HOST, host.clone());
        }
        let mut outgoing = Request::new(body);
        *outgoing.method_mut() = self.request.method.clone();
        *outgoing.uri_mut() = self.target_uri(target)?;
        *outgoing.headers_mut() = headers;
        Ok(outgoing)
    }

    /// What a try ended with: its response, or why it has none — with the request's body
    /// when none of the request was written.
    fn classify(
        &self,
        target: &Target,
        sent: Result<Result<Response<PooledBody>, Unanswered>, tokio::time::error::Elapsed>,
        try_deadline: tokio::time::Instant,
    ) -> Result<Response<PooledBody>, (TryError, Option<GatewayBody>)> {
        let upstream = &self.upstream.name;
        if sent.is_err() {
            // An HTTP/2 connection that let a try time out may be dead without knowing it.
            target.pool.forget_multiplexed();
        }
        let Unanswered { error, unsent } = match sent {
            Ok(Ok(mut response)) => {
                strip_hop_by_hop(response.headers_mut());
                return Ok(response);
            }
            Ok(Err(_)) if let Some(fault) = self.body_fault.as_ref().and_then(|f| f.get()) => {
                let error = match fault {
                    Fault::OverLimit => GatewayError::BodyTooLarge {
                        limit: self.body_limit,
                    },
                    Fault::Read => GatewayError::BodyRead("the request body failed".into()),
                };
                return Err((TryError::Request(error), None));
            }
            Ok(Err(unanswered)) => unanswered,
            Err(_) if try_deadline >= self.deadline => {
                // The upstream's own timeout: the next try would have no time left.
                return Err((
                    TryError::Failed(TryFailure::Timeout, self.timed_out()),
                    None,
                ));
            }
            Err(_) => {
                let limit = self
                    .policy
                    .and_then(|p| p.per_try_timeout)
                    .unwrap_or_default();
                let error = GatewayError::UpstreamTimeout {
                    upstream: upstream.clone(),
                    timeout_ms: limit.as_millis(),
                };
                return Err((TryError::Failed(TryFailure::Timeout, error), None));
            }
        };
        let (failure, reason) = match &error {
            SendError::Overflow => {
                self.upstream.metrics.pending_full.increment(1);
                let reason = "`max_connections` are open and `max_pending` requests wait";
                return Err((TryError::Shed(self.upstream.unavailable(reason)), None));
            }
            SendError::Request(e) if body::exceeded_limit(e) => {
                let error = GatewayError::BodyTooLarge {
                    limit: self.body_limit,
                };
                return Err((TryError::Request(error), None));
            }
            SendError::Connect(e) => (
                TryFailure::ConnectFailure,
                format!(
                    "cannot connect to {}: {}",
                    target.base,
                    describe_error(&**e)
                ),
            ),
            SendError::Request(e) => {
                // Unwritten, or refused by an HTTP/2 server before it processed anything.
                let failure = match unsent.is_some() || stream_refused(e) {
                    true => TryFailure::Refused,
                    false => TryFailure::Reset,
                };
                (failure, format!("{}: {}", target.base, describe_error(e)))
            }
        };
        let error = GatewayError::Upstream {
            upstream: upstream.clone(),
            reason,
        };
        Err((
            TryError::Failed(failure, error),
            unsent.map(Request::into_body),
        ))
    }

    /// The request target in origin form (RFC 9112 §3.2.1): the target's base path, then the
    /// request's path and query. The pool dials the target's origin; the `Host` header
    /// names it.
    fn target_uri(&self, target: &Target) -> Result<Uri, GatewayError> {
        let request = self.request;
        let base_path = target.base.path().trim_end_matches('/');
        let query_len = request.query.as_ref().map_or(0, |query| query.len() + 1);
        let mut path_and_query =
            String::with_capacity(base_path.len() + request.path.len() + query_len);
        path_and_query.push_str(base_path);
        path_and_query.push_str(&request.path);
        if let Some(query) = &request.query {
            path_and_query.push('?');
            path_and_query.push_str(query);
        }
        match PathAndQuery::from_maybe_shared(path_and_query) {
            Ok(target) => Ok(Uri::from(target)),
            Err(error) => Err(GatewayError::Upstream {
                upstream: self.upstream.name.clone(),
                reason: format!("invalid upstream path: {error}"),
            }),
        }
    }
}

/// Whether the client's `TE` header accepts trailers.
fn accepts_trailers(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::TE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|token| {
            let token = token.split(';').next().unwrap_or_default().trim();
            token.eq_ignore_ascii_case("trailers")
        })
}

/// The connector every target of `upstream` dials with: TCP with the connect timeout, and
/// TLS for `https`.
fn connector(
    upstream: &Upstream,
    resolver: TargetResolver,
) -> HttpsConnector<HttpConnector<TargetResolver>> {
    let mut tcp = HttpConnector::new_with_resolver(resolver);
    tcp.set_connect_timeout(Some(upstream.connect_timeout));
    tcp.set_nodelay(true);
    tcp.enforce_http(false);
    match &upstream.tls {
        None => HttpsConnector::from((tcp, super::plain_only_tls_config())),
        Some(tls) => {
            let builder = HttpsConnectorBuilder::new()
                .with_tls_config((*tls.client_config).clone())
                .https_only();
            let builder = match tls.server_name.as_deref().map(ServerName::try_from) {
                Some(Ok(name)) => {
                    builder.with_server_name_resolver(FixedServerNameResolver::new(name.to_owned()))
                }
                _ => builder,
            };
            match upstream.protocol {
                UpstreamProtocol::H2 => builder.enable_http2().wrap_connector(tcp),
                UpstreamProtocol::Auto => builder.enable_all_versions().wrap_connector(tcp),
                UpstreamProtocol::Http1 | UpstreamProtocol::H2c => {
                    builder.enable_http1().wrap_connector(tcp)
                }
            }
        }
    }
}

/// The target `key` names, with a connection pool of its own.
fn build_target(
    upstream: &Upstream,
    limit: &Option<Arc<ConnectionLimit>>,
    key: TargetKey,
) -> Arc<Target> {
    let configured = &upstream.targets[key.configured];
    let (resolver, label) = match key.address {
        Some(address) => (
            TargetResolver::Pinned(address),
            with_address(&configured.url, address),
        ),
        None => (
            TargetResolver::System(GaiResolver::new()),
            configured.url.to_string(),
        ),
    };
    let pool = ConnectionPool::new(
        connector(upstream, resolver),
        configured.url.clone(),
        upstream.protocol,
        limit.clone(),
    );
    Arc::new(Target::new(
        &upstream.name,
        configured.url.clone(),
        label,
        configured.weight,
        pool,
    ))
}

/// The connection pools of `set`'s targets, for the connection limit.
fn pools_of(set: &TargetSet) -> Vec<std::sync::Weak<ConnectionPool>> {
    set.targets
        .iter()
        .map(|target| Arc::downgrade(&target.pool))
        .collect()
}
