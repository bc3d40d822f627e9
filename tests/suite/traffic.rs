//! Upstream pools: balancing, retries and their budget, the circuit breaker, active health
//! checks and outlier ejection, against real backends on loopback that count what they get.

use std::sync::Arc;
use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Method, Response};
use http_body_util::Full;
use tokio::sync::Notify;
use wasmgate_tests::prometheus::{key, scrape};
use wasmgate_tests::{TestGateway, http1, loopback};

/// A backend that answers `/…` with its name and a settable status, `/healthz` with another
/// settable status, and holds `…/hold` requests until released. It counts what it answers.
struct Backend {
    url: String,
    state: Arc<BackendState>,
    task: tokio::task::JoinHandle<()>,
}

struct BackendState {
    status: AtomicU16,
    health: AtomicU16,
    /// Requests other than health checks.
    requests: AtomicUsize,
    arrived: Notify,
    release: Notify,
}

impl Backend {
    async fn start(name: &'static str) -> Backend {
        let state = Arc::new(BackendState {
            status: AtomicU16::new(200),
            health: AtomicU16::new(200),
            requests: AtomicUsize::new(0),
            arrived: Notify::new(),
            release: Notify::new(),
        });
        let shared = state.clone();
        let (address, task) = loopback::serve(name, move |request| {
            let state = shared.clone();
            async move {
                let path = request.uri().path().to_owned();
                let status = if path == "/healthz" {
                    state.health.load(Ordering::SeqCst)
                } else {
                    state.requests.fetch_add(1, Ordering::SeqCst);
                    state.arrived.notify_one();
                    if path.ends_with("/hold") {
                        state.release.notified().await;
                    }
                    state.status.load(Ordering::SeqCst)
                };
                let response = Response::builder()
                    .status(status)
                    .header("x-backend", name)
                    .body(Full::new(Bytes::from(name)))
                    .unwrap();
                Ok(response)
            }
        })
        .await;
        Backend {
            url: format!("http://{address}"),
            state,
            task,
        }
    }

    fn requests(&self) -> usize {
        self.state.requests.load(Ordering::SeqCst)
    }

    fn answer(&self, status: u16) {
        self.state.status.store(status, Ordering::SeqCst);
    }

    fn health(&self, status: u16) {
        self.state.health.store(status, Ordering::SeqCst);
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// `http://127.0.0.1:PORT` where nothing listens (the port was just freed).
async fn refusing_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    format!("http://{}", listener.local_addr().unwrap())
}

/// A gateway with `upstreams` (TOML) and one catch-all route per upstream, `/NAME/{*rest}`
/// with `route_extra` in its integration table.
async fn gateway(upstreams: &str, routes: &[(&str, &str, &str)]) -> TestGateway {
    let mut config = upstreams.to_owned();
    for (upstream, methods, extra) in routes {
        config.push_str(&format!(
            "\n[[routes]]\nmethods = {methods}\npath = \"/{upstream}/{{*rest}}\"\n\
             [routes.integration]\ntype = \"http\"\nupstream = \"{upstream}\"\n{extra}\n"
        ));
    }
    TestGateway::start(&config).await
}

/// Waits (at most 10 s) until the metric `series` reads `value`.
async fn wait_for_metric(gateway: &TestGateway, series: &str, value: f64) {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(10) {
        if scrape(gateway).await.get(series).copied() == Some(value) {
            return;
        }
        tokio::task::yield_now().await;
    }
    panic!("{series} never read {value}");
}

/// The `x-backend` of each of `n` GETs of `path`, or the status when it is not 200.
async fn backends_of(gateway: &TestGateway, path: &str, n: usize) -> Vec<String> {
    let client = http1();
    let mut seen = Vec::with_capacity(n);
    for _ in 0..n {
        let response = client.get(&gateway.url(path)).await;
        seen.push(match response.status {
            http::StatusCode::OK => response.header("x-backend").unwrap_or("?").to_owned(),
            status => status.as_str().to_owned(),
        });
    }
    seen
}

fn count(seen: &[String], what: &str) -> usize {
    seen.iter().filter(|s| *s == what).count()
}

#[tokio::test]
async fn round_robin_follows_weights_and_hashing_keeps_a_key_on_one_target() {
    let (a, b) = (Backend::start("a").await, Backend::start("b").await);
    let gateway = gateway(
        &format!(
            "[upstreams.weighted]\ntargets = [{{ url = \"{a}\", weight = 2 }}, {{ url = \"{b}\" }}]\n\
             [upstreams.sticky]\ntargets = [{{ url = \"{a}\" }}, {{ url = \"{b}\" }}]\n\
             balance = \"hash\"\nhash_on = \"header:x-user\"\n",
            a = a.url,
            b = b.url
        ),
        &[("weighted", "[\"GET\"]", ""), ("sticky", "[\"GET\"]", "")],
    )
    .await;
    let seen = backends_of(&gateway, "/weighted/x", 30).await;
    assert_eq!((count(&seen, "a"), count(&seen, "b")), (20, 10), "{seen:?}");

    let client = http1();
    let mut users_on = std::collections::BTreeMap::<String, usize>::new();
    for user in 0..20 {
        let user = user.to_string();
        let mut backends = std::collections::BTreeSet::new();
        for _ in 0..3 {
            let response = client
                .send(
                    Method::GET,
                    &gateway.url("/sticky/x"),
                    &[("x-user", &user)],
                    "",
                )
                .await;
            backends.insert(response.header("x-backend").unwrap().to_owned());
        }
        assert_eq!(backends.len(), 1, "user {user} moved: {backends:?}");
        *users_on.entry(backends.pop_first().unwrap()).or_default() += 1;
    }
    assert_eq!(users_on.len(), 2, "both targets get users: {users_on:?}");
}

#[tokio::test]
async fn a_refused_try_is_retried_on_another_target_but_not_for_post() {
    let backend = Backend::start("up").await;
    let refusing = refusing_url().await;
    let gateway = gateway(
        &format!(
            "[upstreams.retrying]\ntargets = [{{ url = \"{refusing}\" }}, {{ url = \"{up}\" }}]\n\
             retries = {{ attempts = 2, on = [\"connect-failure\"], backoff = {{ base_ms = 1, max_ms = 2 }} }}\n",
            up = backend.url
        ),
        &[("retrying", "[\"GET\", \"POST\"]", "")],
    )
    .await;
    let gets = backends_of(&gateway, "/retrying/x", 10).await;
    assert_eq!(count(&gets, "up"), 10, "{gets:?}");

    // POST is not idempotent: the route did not allow retrying it, so the refused half fail.
    let client = http1();
    let mut statuses = Vec::new();
    for _ in 0..10 {
        let response = client
            .send(Method::POST, &gateway.url("/retrying/x"), &[], "order")
            .await;
        statuses.push(response.status);
    }
    assert_eq!(
        statuses.iter().filter(|&&s| s == 502).count(),
        5,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|&&s| s == 200).count(),
        5,
        "{statuses:?}"
    );
    let samples = scrape(&gateway).await;
    let retries = key(
        "wasmgate_upstream_retries_total",
        &[("upstream", "retrying")],
    );
    assert!(samples[&retries] >= 5.0, "{}", samples[&retries]);
}

#[tokio::test]
async fn a_retried_status_goes_to_another_target_within_the_budget() {
    let (failing, healthy) = (
        Backend::start("failing").await,
        Backend::start("healthy").await,
    );
    failing.answer(503);
    let targets = format!(
        "targets = [{{ url = \"{}\" }}, {{ url = \"{}\" }}]\n\
         retries = {{ attempts = 3, on = [\"503\"], backoff = {{ base_ms = 0, max_ms = 0 }} }}\n",
        failing.url, healthy.url
    );
    let gateway = gateway(
        &format!(
            "[upstreams.generous]\n{targets}\n\
             [upstreams.stingy]\n{targets}retry_budget = {{ percent = 0, min_per_second = 0 }}\n"
        ),
        &[
            (
                "generous",
                "[\"GET\", \"POST\"]",
                "retry_non_idempotent = true",
            ),
            ("stingy", "[\"GET\"]", ""),
        ],
    )
    .await;
    let generous = backends_of(&gateway, "/generous/x", 10).await;
    assert_eq!(count(&generous, "healthy"), 10, "{generous:?}");
    assert_eq!(
        failing.requests(),
        5,
        "every other first try hit the failing target"
    );

    // A streamed POST body goes with its first try: a 503 to it cannot be retried.
    let client = http1();
    let mut posted = Vec::new();
    for _ in 0..4 {
        let response = client
            .send(Method::POST, &gateway.url("/generous/x"), &[], "streamed")
            .await;
        posted.push(response.status.as_u16());
    }
    posted.sort();
    assert_eq!(posted, [200, 200, 503, 503]);

    let stingy = backends_of(&gateway, "/stingy/x", 10).await;
    assert_eq!(count(&stingy, "503"), 5, "no budget, no retry: {stingy:?}");
    let samples = scrape(&gateway).await;
    let exhausted = key(
        "wasmgate_upstream_retry_budget_exhausted_total",
        &[("upstream", "stingy")],
    );
    assert_eq!(samples[&exhausted], 5.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beyond_max_requests_the_upstream_answers_503_at_once() {
    let backend = Backend::start("held").await;
    let gateway = gateway(
        &format!(
            "[upstreams.guarded]\nurl = \"{}\"\nmax_requests = 1\n",
            backend.url
        ),
        &[("guarded", "[\"GET\"]", "")],
    )
    .await;
    let client = http1();
    let holding = tokio::spawn({
        let (client, url) = (client.clone(), gateway.url("/guarded/hold"));
        async move { client.get(&url).await }
    });
    backend.state.arrived.notified().await;

    let refused = client.get(&gateway.url("/guarded/x")).await;
    assert_eq!(refused.status, 503);
    assert_eq!(
        refused.header("x-wasmgate-error"),
        Some("SERVICE_UNAVAILABLE")
    );
    assert_eq!(refused.header("retry-after"), Some("1"));
    assert_eq!(
        backend.requests(),
        1,
        "the refused request never reached the backend"
    );

    backend.state.release.notify_one();
    assert_eq!(holding.await.unwrap().status, 200);
    // The slot frees when the gateway drops the response body, just after the client has
    // read it: wait for that, boundedly.
    let started = Instant::now();
    while client.get(&gateway.url("/guarded/x")).await.status != 200 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the slot never freed"
        );
    }
    let samples = scrape(&gateway).await;
    let trips = key(
        "wasmgate_upstream_unavailable_total",
        &[("upstream", "guarded"), ("reason", "max_requests")],
    );
    assert!(samples[&trips] >= 1.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beyond_max_connections_requests_wait_and_beyond_max_pending_get_503() {
    let backend = Backend::start("one").await;
    let gateway = gateway(
        &format!(
            "[upstreams.narrow]\nurl = \"{}\"\nmax_connections = 1\nmax_pending = 1\n",
            backend.url
        ),
        &[("narrow", "[\"GET\"]", "")],
    )
    .await;
    let client = http1();
    let holding = tokio::spawn({
        let (client, url) = (client.clone(), gateway.url("/narrow/hold"));
        async move { client.get(&url).await }
    });
    backend.state.arrived.notified().await;
    let open = key(
        "wasmgate_upstream_open_connections",
        &[("upstream", "narrow")],
    );
    wait_for_metric(&gateway, &open, 1.0).await;

    // The only connection is busy: the next request waits for it…
    let waiting = tokio::spawn({
        let (client, url) = (client.clone(), gateway.url("/narrow/x"));
        async move { client.get(&url).await }
    });
    let pending = key(
        "wasmgate_upstream_pending_requests",
        &[("upstream", "narrow")],
    );
    wait_for_metric(&gateway, &pending, 1.0).await;
    // …and one more than `max_pending` is refused at once.
    let refused = client.get(&gateway.url("/narrow/x")).await;
    assert_eq!(refused.status, 503);
    assert_eq!(
        refused.header("x-wasmgate-error"),
        Some("SERVICE_UNAVAILABLE")
    );
    assert_eq!(backend.requests(), 1, "only the held request reached it");

    backend.state.release.notify_one();
    assert_eq!(holding.await.unwrap().status, 200);
    let waited = waiting.await.unwrap();
    assert_eq!(waited.status, 200, "the waiting request got the connection");
    let samples = scrape(&gateway).await;
    assert_eq!(samples[&open], 1.0, "it reused the one connection");
    assert_eq!(samples[&pending], 0.0);
    let trips = key(
        "wasmgate_upstream_unavailable_total",
        &[("upstream", "narrow"), ("reason", "max_pending")],
    );
    assert_eq!(samples[&trips], 1.0);
}

#[tokio::test]
async fn at_max_connections_an_idle_connection_to_another_target_makes_room() {
    let (a, b) = (Backend::start("a").await, Backend::start("b").await);
    let gateway = gateway(
        &format!(
            "[upstreams.shared]\ntargets = [{{ url = \"{}\" }}, {{ url = \"{}\" }}]\n\
             max_connections = 1\nmax_pending = 4\ntimeout_ms = 10000\n",
            a.url, b.url
        ),
        &[("shared", "[\"GET\"]", "")],
    )
    .await;
    // Round robin alternates: each request finds the one connection idle at the other
    // target, which is closed to make room.
    let seen = backends_of(&gateway, "/shared/x", 6).await;
    assert_eq!(seen, ["a", "b", "a", "b", "a", "b"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_waiting_for_a_connection_gets_the_slot_of_one_gone_idle_elsewhere() {
    let (a, b) = (Backend::start("a").await, Backend::start("b").await);
    let gateway = gateway(
        &format!(
            "[upstreams.one_slot]\ntargets = [{{ url = \"{}\" }}, {{ url = \"{}\" }}]\n\
             max_connections = 1\ntimeout_ms = 10000\n",
            a.url, b.url
        ),
        &[("one_slot", "[\"GET\"]", "")],
    )
    .await;
    let client = http1();
    // Round robin: the held request takes the one slot at `a`…
    let holding = tokio::spawn({
        let (client, url) = (client.clone(), gateway.url("/one_slot/hold"));
        async move { client.get(&url).await }
    });
    a.state.arrived.notified().await;
    // …and the next, for `b`, waits; nothing is idle to close yet.
    let waiting = tokio::spawn({
        let (client, url) = (client.clone(), gateway.url("/one_slot/x"));
        async move { client.get(&url).await }
    });
    let pending = key(
        "wasmgate_upstream_pending_requests",
        &[("upstream", "one_slot")],
    );
    wait_for_metric(&gateway, &pending, 1.0).await;
    // Released, `a`'s connection goes idle and wakes the waiting request, which closes it
    // and takes its slot (left idle, it would hold the slot for 90 s).
    a.state.release.notify_one();
    assert_eq!(holding.await.unwrap().status, 200);
    let waited = waiting.await.unwrap();
    assert_eq!(waited.status, 200);
    assert_eq!(waited.header("x-backend"), Some("b"));
}

#[tokio::test]
async fn health_checks_take_a_failing_target_out_and_bring_it_back() {
    let (sick, well) = (Backend::start("sick").await, Backend::start("well").await);
    let gateway = gateway(
        &format!(
            "[upstreams.checked]\ntargets = [{{ url = \"{}\" }}, {{ url = \"{}\" }}]\n\
             health_check = {{ path = \"/healthz\", interval_ms = 200, timeout_ms = 200, \
             healthy_threshold = 1, unhealthy_threshold = 2 }}\n",
            sick.url, well.url
        ),
        &[("checked", "[\"GET\"]", "")],
    )
    .await;
    let healthy = |target: &Backend| {
        key(
            "wasmgate_upstream_target_healthy",
            &[
                ("upstream", "checked"),
                ("target", &format!("{}/", target.url)),
            ],
        )
    };
    sick.health(500);
    wait_for_metric(&gateway, &healthy(&sick), 0.0).await;
    let seen = backends_of(&gateway, "/checked/x", 10).await;
    assert_eq!(count(&seen, "well"), 10, "{seen:?}");
    assert_eq!(sick.requests(), 0);

    sick.health(200);
    wait_for_metric(&gateway, &healthy(&sick), 1.0).await;
    let seen = backends_of(&gateway, "/checked/x", 10).await;
    assert_eq!(count(&seen, "sick"), 5, "{seen:?}");

    // With every target failing its checks, the upstream has none to offer: 503 at once.
    sick.health(500);
    well.health(500);
    wait_for_metric(&gateway, &healthy(&sick), 0.0).await;
    wait_for_metric(&gateway, &healthy(&well), 0.0).await;
    let none = http1().get(&gateway.url("/checked/x")).await;
    assert_eq!(none.status, 503);
    assert_eq!(none.header("x-wasmgate-error"), Some("SERVICE_UNAVAILABLE"));
}

#[tokio::test]
async fn consecutive_failures_eject_a_target_for_a_while() {
    let (broken, fine) = (Backend::start("broken").await, Backend::start("fine").await);
    broken.answer(500);
    let gateway = gateway(
        &format!(
            "[upstreams.ejecting]\ntargets = [{{ url = \"{}\" }}, {{ url = \"{}\" }}]\n\
             outlier = {{ consecutive_failures = 2, base_ejection_ms = 60000 }}\n",
            broken.url, fine.url
        ),
        &[("ejecting", "[\"GET\"]", "")],
    )
    .await;
    let seen = backends_of(&gateway, "/ejecting/x", 20).await;
    assert_eq!(
        broken.requests(),
        2,
        "ejected after its second failure: {seen:?}"
    );
    assert_eq!(count(&seen, "500"), 2);
    assert_eq!(count(&seen, "fine"), 18);
    let samples = scrape(&gateway).await;
    let ejections = key(
        "wasmgate_upstream_ejections_total",
        &[
            ("upstream", "ejecting"),
            ("target", &format!("{}/", broken.url)),
        ],
    );
    assert_eq!(samples[&ejections], 1.0);
}

/// An HTTP/2-only (h2c) backend answering like a gRPC server: the request's message back in
/// a data frame, then `grpc-status` in trailers. It reports the version and `te` it saw.
async fn grpc_like_backend() -> (String, tokio::task::JoinHandle<()>) {
    use hyper::server::conn::http2;
    use hyper_util::rt::{TokioExecutor, TokioIo};

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let service = hyper::service::service_fn(
                |request: http::Request<hyper::body::Incoming>| async move {
                    use http_body_util::BodyExt;
                    let version = format!("{:?}", request.version());
                    let te = request
                        .headers()
                        .get("te")
                        .map(|v| v.to_str().unwrap().to_owned())
                        .unwrap_or_default();
                    let message = request.into_body().collect().await.unwrap().to_bytes();
                    let mut trailers = http::HeaderMap::new();
                    trailers.insert("grpc-status", "0".parse().unwrap());
                    trailers.insert("grpc-message", "served".parse().unwrap());
                    let body = Full::new(message).with_trailers(async move {
                        Some(Ok::<_, std::convert::Infallible>(trailers))
                    });
                    let response = Response::builder()
                        .header("content-type", "application/grpc")
                        .header("x-seen-version", version)
                        .header("x-seen-te", te)
                        .body(body)
                        .unwrap();
                    Ok::<_, std::convert::Infallible>(response)
                },
            );
            tokio::spawn(async move {
                let _ = http2::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (url, task)
}

#[tokio::test]
async fn an_h2c_upstream_gets_http2_and_its_trailers_reach_the_client() {
    use http_body_util::BodyExt;
    use hyper::client::conn::http2;
    use hyper_util::rt::{TokioExecutor, TokioIo};

    let (backend, task) = grpc_like_backend().await;
    let gateway = gateway(
        &format!("[upstreams.grpc]\nurl = \"{backend}\"\nprotocol = \"h2c\"\n"),
        &[("grpc", "[\"POST\"]", "")],
    )
    .await;
    // A gRPC client: HTTP/2 with prior knowledge, `te: trailers`, a length-prefixed message.
    let address = gateway
        .url("")
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let (mut sender, connection) = http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(connection);
    let message = Bytes::from_static(b"\x00\x00\x00\x00\x05hello");
    for _ in 0..3 {
        let request = http::Request::builder()
            .method(Method::POST)
            .uri(gateway.url("/grpc/echo.Echo/Say"))
            .header("content-type", "application/grpc")
            .header("te", "trailers")
            .body(Full::new(message.clone()))
            .unwrap();
        let response = sender.send_request(request).await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["x-seen-version"], "HTTP/2.0");
        assert_eq!(response.headers()["x-seen-te"], "trailers");
        let collected = response.into_body().collect().await.unwrap();
        let trailers = collected
            .trailers()
            .cloned()
            .expect("trailers reach the client");
        assert_eq!(trailers["grpc-status"], "0");
        assert_eq!(trailers["grpc-message"], "served");
        assert_eq!(collected.to_bytes(), message);
    }
    task.abort();
}

#[tokio::test]
async fn a_canary_takes_its_share_a_header_picks_a_side_and_a_reload_moves_the_split() {
    let (stable, next) = (Backend::start("stable").await, Backend::start("next").await);
    let config = |percent: u32| {
        format!(
            "[upstreams.stable]\nurl = \"{}\"\n[upstreams.next]\nurl = \"{}\"\n\
             [[routes]]\nid = \"canaried\"\nmethods = [\"GET\"]\npath = \"/c/{{*rest}}\"\n\
             [routes.integration]\ntype = \"http\"\nupstream = \"stable\"\n\
             canary = {{ upstream = \"next\", percent = {percent}, header = \"x-canary\" }}\n\
             [[routes]]\nid = \"sticky\"\nmethods = [\"GET\"]\npath = \"/s/{{*rest}}\"\n\
             [routes.integration]\ntype = \"http\"\nupstream = \"stable\"\n\
             canary = {{ upstream = \"next\", percent = 50, sticky = \"header:x-user\" }}\n",
            stable.url, next.url
        )
    };
    let gateway = TestGateway::start(&config(25)).await;
    let seen = backends_of(&gateway, "/c/x", 400).await;
    let to_next = count(&seen, "next");
    assert_eq!(to_next + count(&seen, "stable"), 400);
    assert!((50..=150).contains(&to_next), "{to_next} of 400 at 25 %");
    let samples = scrape(&gateway).await;
    let counted = key(
        "wasmgate_canary_requests_total",
        &[
            ("route", "canaried"),
            ("upstream", "next"),
            ("canary", "true"),
        ],
    );
    assert_eq!(samples[&counted], to_next as f64);

    let client = http1();
    for (value, side) in [("true", "next"), ("1", "next"), ("false", "stable")] {
        for _ in 0..5 {
            let response = client
                .send(
                    Method::GET,
                    &gateway.url("/c/x"),
                    &[("x-canary", value)],
                    "",
                )
                .await;
            assert_eq!(
                response.header("x-backend"),
                Some(side),
                "x-canary: {value}"
            );
        }
    }
    let mut sides = std::collections::BTreeSet::new();
    for user in 0..20 {
        let user = format!("user-{user}");
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..4 {
            let response = client
                .send(Method::GET, &gateway.url("/s/x"), &[("x-user", &user)], "")
                .await;
            seen.insert(response.header("x-backend").unwrap().to_owned());
        }
        assert_eq!(seen.len(), 1, "{user} switched sides");
        sides.extend(seen);
    }
    assert_eq!(sides.len(), 2, "users land on both sides");

    // All traffic to the canary by a reload, with requests in flight all along.
    let load = tokio::spawn({
        let (client, url) = (client.clone(), gateway.url("/c/x"));
        async move {
            let mut statuses = Vec::new();
            for _ in 0..200 {
                statuses.push(client.get(&url).await.status.as_u16());
            }
            statuses
        }
    });
    gateway.rewrite(&config(100));
    let started = Instant::now();
    loop {
        let recent = backends_of(&gateway, "/c/x", 10).await;
        if count(&recent, "next") == 10 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the reload never moved the split"
        );
    }
    assert!(load.await.unwrap().iter().all(|&s| s == 200));
}

#[tokio::test]
async fn a_reload_keeps_an_unchanged_upstream_with_its_ejections_and_renews_a_changed_one() {
    let (broken, fine) = (Backend::start("broken").await, Backend::start("fine").await);
    broken.answer(500);
    let config = |base_ejection_ms: u32, mocks: &[&str]| {
        let mut config = format!(
            "[upstreams.remembered]\ntargets = [{{ url = \"{}\" }}, {{ url = \"{}\" }}]\n\
             outlier = {{ consecutive_failures = 1, base_ejection_ms = {base_ejection_ms} }}\n\
             [[routes]]\nmethods = [\"GET\"]\npath = \"/remembered/{{*rest}}\"\n\
             [routes.integration]\ntype = \"http\"\nupstream = \"remembered\"\n",
            broken.url, fine.url
        );
        for path in mocks {
            config.push_str(&format!(
                "[[routes]]\npath = \"{path}\"\nintegration = {{ type = \"mock\" }}\n"
            ));
        }
        config
    };
    // Waits until the reload that added the mock route `path` is serving.
    let reloaded = |gateway: &TestGateway, path: &str| {
        let (client, url) = (http1(), gateway.url(path));
        async move {
            let started = Instant::now();
            while client.get(&url).await.status != 200 {
                assert!(started.elapsed() < Duration::from_secs(10), "no reload");
            }
        }
    };
    let gateway = TestGateway::start(&config(60_000, &[])).await;
    backends_of(&gateway, "/remembered/x", 10).await;
    assert_eq!(broken.requests(), 1, "ejected after its first failure");

    // Another route changes; the upstream does not: the target stays ejected.
    gateway.rewrite(&config(60_000, &["/one"]));
    reloaded(&gateway, "/one").await;
    let seen = backends_of(&gateway, "/remembered/x", 10).await;
    assert_eq!(count(&seen, "fine"), 10, "{seen:?}");
    assert_eq!(broken.requests(), 1);

    // The upstream changes: a new pool, which has not seen the target fail.
    gateway.rewrite(&config(50_000, &["/one", "/two"]));
    reloaded(&gateway, "/two").await;
    backends_of(&gateway, "/remembered/x", 10).await;
    assert_eq!(broken.requests(), 2, "tried once more, then ejected again");
}

#[tokio::test]
async fn dns_discovery_makes_each_address_of_a_name_a_target_and_keeps_the_name_as_host() {
    let upstream = wasmgate_tests::EchoUpstream::start().await;
    let port = upstream.address.port();
    let gateway = gateway(
        &format!(
            "[upstreams.discovered]\nurl = \"http://localhost:{port}\"\ndns_refresh_ms = 100\n\
             retries = {{ attempts = 2, on = [\"connect-failure\"] }}\n"
        ),
        &[("discovered", "[\"GET\"]", "")],
    )
    .await;
    // `localhost` is 127.0.0.1 (and on some machines ::1 too, where nothing listens: a try
    // refused there is retried on 127.0.0.1). Once resolved, 127.0.0.1 is a target.
    let series = key(
        "wasmgate_upstream_target_requests_total",
        &[
            ("upstream", "discovered"),
            ("target", &format!("http://127.0.0.1:{port}/")),
            ("outcome", "answered"),
        ],
    );
    let client = http1();
    let started = Instant::now();
    loop {
        let response = client.get(&gateway.url("/discovered/x")).await;
        assert_eq!(response.status, 200);
        let host = response.json()["headers"]["host"][0].clone();
        assert_eq!(
            host,
            format!("localhost:{port}"),
            "the name, not the address"
        );
        if scrape(&gateway).await.contains_key(&series) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the name was never resolved into a target"
        );
    }
    let failures = key(
        "wasmgate_upstream_dns_failures_total",
        &[("upstream", "discovered")],
    );
    assert_eq!(scrape(&gateway).await.get(&failures), Some(&0.0));
}
