//! Reload soak: serves a bounded load on loopback while the config file is rewritten every
//! 100 ms (alternating a plugin's config), and reports failed requests and the write → live
//! latency of each reload (file-watch trigger, 20 ms debounce).
//!
//! Run: `cargo run --release -p wasmgate-bench --bin reload_soak -- [seconds] [clients]`
//! (defaults: 20 s, 8 clients).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use wasmgate::RunningGateway;

fn config(variant: u64) -> String {
    let plugin = wasmgate_bench::plugin_path("headers");
    format!(
        r#"
[[listeners]]
address = "127.0.0.1:0"

[admin]
address = "127.0.0.1:0"

[reload]
debounce_ms = 20

[plugins.stamp]
path = "{}"
config = {{ response = {{ set = {{ "x-variant" = "{variant}" }} }} }}

[[routes]]
path = "/r"
plugins = ["stamp"]
integration = {{ type = "mock", status = 200, body = "ok" }}
"#,
        plugin.display()
    )
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let seconds: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(20);
    let clients: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(8);

    let dir = std::env::temp_dir().join(format!("wasmgate-reload-soak-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let path = dir.join("gateway.toml");
    std::fs::write(&path, config(0)).expect("write config");
    let gateway = RunningGateway::start(&path).await.expect("gateway starts");
    let url: hyper::Uri = format!("http://{}/r", gateway.address())
        .parse()
        .expect("url");

    let stop = Arc::new(AtomicBool::new(false));
    let (ok, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let mut load = Vec::new();
    for _ in 0..clients {
        let (stop, ok, failed, url) = (stop.clone(), ok.clone(), failed.clone(), url.clone());
        load.push(tokio::spawn(async move {
            let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
            while !stop.load(Ordering::Relaxed) {
                let answered = match client.get(url.clone()).await {
                    Ok(response) => {
                        let status = response.status();
                        response.into_body().collect().await.is_ok() && status == 200
                    }
                    Err(_) => false,
                };
                let counter = if answered { &ok } else { &failed };
                counter.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }

    let mut latencies = Vec::new();
    let mut missed = 0;
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut variant = 0;
    while Instant::now() < deadline {
        variant += 1;
        let before = gateway.snapshot().generation;
        let tmp = dir.join("gateway.toml.tmp");
        std::fs::write(&tmp, config(variant)).expect("write config");
        let written = Instant::now();
        std::fs::rename(&tmp, &path).expect("swap config");
        while gateway.snapshot().generation == before && written.elapsed() < Duration::from_secs(2)
        {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        if gateway.snapshot().generation == before {
            missed += 1;
        } else {
            latencies.push(written.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(100).saturating_sub(written.elapsed())).await;
    }
    stop.store(true, Ordering::Relaxed);
    for task in load {
        let _ = task.await;
    }
    gateway.shutdown().await;

    latencies.sort();
    let pick = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize];
    println!("duration: {seconds} s, clients: {clients}");
    println!(
        "requests: {} ok, {} failed",
        ok.load(Ordering::Relaxed),
        failed.load(Ordering::Relaxed)
    );
    println!(
        "reloads: {} live, {missed} not live within 2 s",
        latencies.len()
    );
    if !latencies.is_empty() {
        println!(
            "write -> live: p50 {:?}, p99 {:?}, max {:?} (includes the 20 ms debounce)",
            pick(0.5),
            pick(0.99),
            latencies[latencies.len() - 1]
        );
    }
}
