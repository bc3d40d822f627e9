//! A gateway under test.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use wasmgate::RunningGateway;

/// The compiled plugin `crate_name` (e.g. `stage_probe`), as the build scripts left it.
pub fn plugin_path(crate_name: &str) -> String {
    let dir = PathBuf::from(env!("WASMGATE_PLUGINS_DIR"));
    dir.join(format!("{crate_name}.wasm")).display().to_string()
}

/// Settings every test config shares: a small instance pool (many gateways run in one test
/// process) and a compiled-plugin cache shared by all tests, so each plugin compiles once.
pub fn engine_section() -> String {
    let cache = PathBuf::from(env!("WASMGATE_PLUGINS_DIR")).join("test-cache");
    format!(
        "[engine]\ncache_dir = {:?}\nmax_instances = 64\n",
        cache.display().to_string()
    )
}

/// A fresh directory for one test's files.
pub fn scratch_dir() -> PathBuf {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "wasmgate-test-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// A gateway serving a test config on a loopback port chosen by the OS.
pub struct TestGateway {
    gateway: RunningGateway,
    /// The directory holding the config file.
    pub dir: PathBuf,
}

impl TestGateway {
    /// Starts a gateway on `config` (a TOML body without `[[listeners]]` or `[engine]`, which
    /// are added: one listener on 127.0.0.1:0 and the shared test engine settings).
    pub async fn start(config: &str) -> TestGateway {
        let dir = scratch_dir();
        let path = dir.join("gateway.toml");
        let text = format!(
            "[[listeners]]\naddress = \"127.0.0.1:0\"\n\n{}\n{config}",
            engine_section()
        );
        std::fs::write(&path, text).expect("write config");
        let gateway = RunningGateway::start(&path)
            .await
            .unwrap_or_else(|error| panic!("gateway did not start:\n{error}"));
        TestGateway { gateway, dir }
    }

    /// `http://<address><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.gateway.address())
    }

    /// The running gateway.
    pub fn inner(&self) -> &RunningGateway {
        &self.gateway
    }

    /// Stops the gateway gracefully.
    pub async fn shutdown(self) {
        self.gateway.shutdown().await;
    }
}
