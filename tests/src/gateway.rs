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

/// `config` with the sections every test gateway shares.
/// (The admin listener on a free port, unless `config` has its own `[admin]`.)
pub fn full_config(config: &str) -> String {
    let admin = if config.contains("[admin]") {
        ""
    } else {
        "[admin]\naddress = \"127.0.0.1:0\"\n"
    };
    format!(
        "[[listeners]]\naddress = \"127.0.0.1:0\"\n\n{}\n{admin}\n{config}",
        engine_section()
    )
}

/// Writes `bytes` next to `path` and renames it over `path`, so readers see the old or the new
/// content, never a mix.
pub fn write_atomically(path: &std::path::Path, bytes: impl AsRef<[u8]>) {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let tmp = path.with_extension(format!("tmp{}", COUNTER.fetch_add(1, Ordering::Relaxed)));
    std::fs::write(&tmp, bytes).expect("write temp file");
    std::fs::rename(&tmp, path).expect("rename over target");
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

/// A gateway serving a test config on a loopback port chosen by the OS. Dropping it (or
/// shutting it down) removes its directory, so test runs leave no scratch files behind.
pub struct TestGateway {
    /// `None` only once [`TestGateway::shutdown`] took it.
    gateway: Option<RunningGateway>,
    /// The directory holding the config file.
    pub dir: PathBuf,
}

impl Drop for TestGateway {
    fn drop(&mut self) {
        // Stop serving first, then remove the files it served from.
        drop(self.gateway.take());
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl TestGateway {
    /// Starts a gateway on `config` (a TOML body without `[[listeners]]`, `[engine]` or
    /// `[admin]`, which are added: one listener and the admin on 127.0.0.1:0, and the shared
    /// test engine settings).
    pub async fn start(config: &str) -> TestGateway {
        Self::start_in(scratch_dir(), "gateway.toml", config).await
    }

    /// Like [`TestGateway::start`], with the config at `dir/file` (`file` may be a symlink the
    /// caller already made).
    pub async fn start_in(dir: PathBuf, file: &str, config: &str) -> TestGateway {
        let path = dir.join(file);
        if !path.exists() {
            write_atomically(&path, full_config(config));
        }
        let gateway = RunningGateway::start(&path)
            .await
            .unwrap_or_else(|error| panic!("gateway did not start:\n{error}"));
        TestGateway {
            gateway: Some(gateway),
            dir,
        }
    }

    /// Replaces the config file's content (atomically, as an editor's rename does) with
    /// `config` plus the same test sections [`TestGateway::start`] adds.
    pub fn rewrite(&self, config: &str) {
        write_atomically(self.inner().config_path(), full_config(config));
    }

    /// `http://<admin address><path>`.
    pub fn admin_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.inner().admin_address())
    }

    /// `http://<address><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.inner().address())
    }

    /// The running gateway.
    pub fn inner(&self) -> &RunningGateway {
        self.gateway
            .as_ref()
            .expect("the gateway runs until shutdown")
    }

    /// Stops the gateway gracefully.
    pub async fn shutdown(mut self) {
        if let Some(gateway) = self.gateway.take() {
            gateway.shutdown().await;
        }
    }
}
