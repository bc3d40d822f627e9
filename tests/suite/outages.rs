//! Upstream targets that die outright or hang: backends in processes of their own, killed
//! with SIGKILL (or frozen with SIGSTOP) during a load run and started again on the same port
//! (or thawed with SIGCONT). Metrics are the process's: each test names its upstream
//! differently.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::watch;
use wasmgate_tests::prometheus::{key, scrape};
use wasmgate_tests::{TestGateway, http1};

/// A `test-backend` process.
struct BackendProcess {
    name: &'static str,
    port: u16,
    child: Child,
}

impl BackendProcess {
    /// Starts `test-backend NAME PORT` (0: a free port) and waits until it listens.
    fn start(name: &'static str, port: u16) -> BackendProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_test-backend"))
            .args([name, &port.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start test-backend");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("its stdout");
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read its address");
        let address: std::net::SocketAddr = line
            .trim()
            .strip_prefix("listening ")
            .unwrap_or_else(|| panic!("test-backend {name} said {line:?}"))
            .parse()
            .expect("an address");
        BackendProcess {
            name,
            port: address.port(),
            child,
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// SIGKILL: its connections reset, its port refuses.
    fn kill(&mut self) {
        self.child.kill().expect("kill test-backend");
        self.child.wait().expect("reap test-backend");
    }

    /// SIGSTOP (`freeze = true`) or SIGCONT: a frozen backend accepts connections (the
    /// kernel does) but answers nothing, like a hung server.
    fn freeze(&self, freeze: bool) {
        let signal = if freeze { "-STOP" } else { "-CONT" };
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill {signal} test-backend");
    }

    /// A new process on the same port.
    fn restart(&mut self) {
        *self = BackendProcess::start(self.name, self.port);
    }
}

impl Drop for BackendProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What `total` GETs of `path` from `clients` concurrent clients got: `x-backend`, or the
/// status when it is not 200. `progress` counts the requests answered so far.
async fn load(
    gateway: &TestGateway,
    path: &str,
    clients: usize,
    total: usize,
    progress: watch::Sender<usize>,
) -> Vec<String> {
    let next = Arc::new(AtomicUsize::new(0));
    let progress = Arc::new(progress);
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (next, progress) = (next.clone(), progress.clone());
        let url = gateway.url(path);
        tasks.push(tokio::spawn(async move {
            let client = http1();
            let mut seen = Vec::new();
            while next.fetch_add(1, Ordering::SeqCst) < total {
                let response = client.get(&url).await;
                seen.push(match response.status {
                    http::StatusCode::OK => response.header("x-backend").unwrap_or("?").to_owned(),
                    status => format!("{status} {}", String::from_utf8_lossy(&response.body)),
                });
                progress.send_modify(|answered| *answered += 1);
            }
            seen
        }));
    }
    let mut seen = Vec::new();
    for task in tasks {
        seen.extend(task.await.expect("a client task"));
    }
    seen
}

/// Waits (at most 10 s) until the metric `series` reads `value`; how long that took.
async fn wait_for_metric(gateway: &TestGateway, series: &str, value: f64) -> Duration {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(10) {
        if scrape(gateway).await.get(series).copied() == Some(value) {
            return started.elapsed();
        }
        tokio::task::yield_now().await;
    }
    panic!("{series} never read {value}");
}

/// Three backend processes, `one`, `two` and `three`, and their `targets` TOML list items.
fn three_backends() -> ([BackendProcess; 3], String) {
    let backends = [
        BackendProcess::start("one", 0),
        BackendProcess::start("two", 0),
        BackendProcess::start("three", 0),
    ];
    let targets: Vec<String> = backends
        .iter()
        .map(|b| format!("{{ url = \"{}\" }}", b.url()))
        .collect();
    (backends, targets.join(", "))
}

/// A gateway whose upstream `name` is a least-request pool of `targets` with 3 attempts on
/// the failures `on` (TOML list items), a per-try timeout, health checks every
/// `interval_ms` (one failure takes a target out, one pass brings it back) and ejection
/// after one failure; route `/NAME/{*rest}`.
async fn pool_gateway(
    name: &str,
    targets: &str,
    on: &str,
    per_try_timeout_ms: u32,
    interval_ms: u32,
) -> TestGateway {
    TestGateway::start(&format!(
        "[upstreams.{name}]\ntargets = [{targets}]\nbalance = \"least-request\"\n\
         [upstreams.{name}.retries]\nattempts = 3\non = [{on}]\n\
         per_try_timeout_ms = {per_try_timeout_ms}\nbackoff = {{ base_ms = 0, max_ms = 0 }}\n\
         [upstreams.{name}.health_check]\npath = \"/healthz\"\ninterval_ms = {interval_ms}\n\
         timeout_ms = 200\nhealthy_threshold = 1\nunhealthy_threshold = 1\n\
         [upstreams.{name}.outlier]\nconsecutive_failures = 1\nbase_ejection_ms = 1000\n\
         [[routes]]\nmethods = [\"GET\"]\npath = \"/{name}/{{*rest}}\"\n\
         [routes.integration]\ntype = \"http\"\nupstream = \"{name}\"\n"
    ))
    .await
}

/// Every one of `total` requests was answered by one of the three backends.
fn assert_every_request_answered(seen: &[String], total: usize) {
    let failed: Vec<&String> = seen
        .iter()
        .filter(|s| !["one", "two", "three"].contains(&s.as_str()))
        .collect();
    assert!(failed.is_empty(), "failed requests: {failed:?}");
    assert_eq!(seen.len(), total);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_of_three_targets_killed_under_load_fails_no_request_and_comes_back() {
    let (mut backends, targets) = three_backends();
    let interval_ms = 500;
    let gateway = pool_gateway(
        "pool",
        &targets,
        "\"connect-failure\", \"refused-stream\", \"reset\", \"502\", \"503\"",
        2000,
        interval_ms,
    )
    .await;

    // 600 requests from 4 clients; the second target is killed after the first 150.
    let (progress, mut answered) = watch::channel(0);
    let killer = async {
        answered
            .wait_for(|n| *n >= 150)
            .await
            .expect("load running");
        backends[1].kill();
    };
    let (seen, ()) = tokio::join!(
        load(&gateway, "/pool/x?delay_ms=1", 4, 600, progress),
        killer
    );
    assert_every_request_answered(&seen, 600);

    let healthy = key(
        "wasmgate_upstream_target_healthy",
        &[
            ("upstream", "pool"),
            ("target", &format!("{}/", backends[1].url())),
        ],
    );
    wait_for_metric(&gateway, &healthy, 0.0).await;
    backends[1].restart();
    let back_after = wait_for_metric(&gateway, &healthy, 1.0).await;
    eprintln!("the restarted target was healthy again {back_after:?} after it listened");

    // Least request sends it its share again.
    let (progress, _) = watch::channel(0);
    let seen = load(&gateway, "/pool/x", 2, 90, progress).await;
    let to_two = seen.iter().filter(|s| *s == "two").count();
    assert!(to_two > 0, "the restarted target got no traffic: {seen:?}");
    assert!(
        seen.iter()
            .all(|s| ["one", "two", "three"].contains(&s.as_str())),
        "{seen:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_every_target_killed_retries_stay_within_the_budget() {
    let (mut backends, targets) = three_backends();
    let gateway = TestGateway::start(&format!(
        "[upstreams.outage]\ntargets = [{}]\n\
         retry_budget = {{ percent = 20, min_per_second = 0 }}\n\
         retries = {{ attempts = 3, on = [\"connect-failure\", \"reset\"], \
         backoff = {{ base_ms = 0, max_ms = 0 }} }}\n\
         [[routes]]\nmethods = [\"GET\"]\npath = \"/outage/{{*rest}}\"\n\
         [routes.integration]\ntype = \"http\"\nupstream = \"outage\"\n",
        targets
    ))
    .await;
    let (progress, _) = watch::channel(0);
    let warm = load(&gateway, "/outage/x", 2, 30, progress).await;
    assert_eq!(warm.len(), 30);
    for backend in &mut backends {
        backend.kill();
    }
    let (progress, _) = watch::channel(0);
    let seen = load(&gateway, "/outage/x", 4, 200, progress).await;
    assert!(
        seen.iter().all(|s| s.starts_with("502")),
        "every request fails as a bad gateway: {seen:?}"
    );
    let samples = scrape(&gateway).await;
    let retries = samples[&key("wasmgate_upstream_retries_total", &[("upstream", "outage")])];
    let exhausted = samples[&key(
        "wasmgate_upstream_retry_budget_exhausted_total",
        &[("upstream", "outage")],
    )];
    // 230 requests in all: at most 20 % of them may be retries.
    assert!(retries <= 46.0, "{retries} retries for 230 requests");
    assert!(exhausted > 0.0, "the budget ran out: {exhausted}");
    eprintln!("full outage: {retries} retries, {exhausted} refused by the budget");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_of_three_targets_hung_under_load_fails_no_request_and_comes_back() {
    let (backends, targets) = three_backends();
    let gateway = pool_gateway(
        "hung",
        &targets,
        "\"connect-failure\", \"reset\", \"timeout\", \"502\", \"503\"",
        300,
        500,
    )
    .await;

    // 600 requests from 4 clients; the second target hangs after the first 150: its tries
    // time out after 300 ms and go to another target, and checks and ejection take it out.
    let (progress, mut answered) = watch::channel(0);
    let freezer = async {
        answered
            .wait_for(|n| *n >= 150)
            .await
            .expect("load running");
        backends[1].freeze(true);
    };
    let (seen, ()) = tokio::join!(
        load(&gateway, "/hung/x?delay_ms=1", 4, 600, progress),
        freezer
    );
    assert_every_request_answered(&seen, 600);
    let retries = key("wasmgate_upstream_retries_total", &[("upstream", "hung")]);
    let retried = scrape(&gateway)
        .await
        .get(&retries)
        .copied()
        .unwrap_or_default();
    assert!(
        retried >= 1.0,
        "the hung target's tries were retried elsewhere"
    );
    eprintln!("{retried} tries retried after the target hung");

    let healthy = key(
        "wasmgate_upstream_target_healthy",
        &[
            ("upstream", "hung"),
            ("target", &format!("{}/", backends[1].url())),
        ],
    );
    wait_for_metric(&gateway, &healthy, 0.0).await;
    backends[1].freeze(false);
    wait_for_metric(&gateway, &healthy, 1.0).await;
    let (progress, _) = watch::channel(0);
    let seen = load(&gateway, "/hung/x", 2, 90, progress).await;
    assert!(
        seen.iter().any(|s| s == "two"),
        "the thawed target got no traffic: {seen:?}"
    );
}
