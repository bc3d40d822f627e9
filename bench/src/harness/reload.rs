//! Scenario 6's reload driver: rewrites the gateway's config file every 100 ms (atomically, a
//! new variant each time, so the content really changes) while wrk runs, then reads from the
//! admin API how many reloads the gateway applied.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::configs::ConfigContext;
use super::gateway::write_atomically;
use super::net;

/// The interval between config rewrites.
pub const RELOAD_INTERVAL: Duration = Duration::from_millis(100);

/// A gateway whose config the driver rewrites.
#[derive(Debug, Clone)]
pub struct ReloadTarget {
    /// Its config file.
    pub config_path: PathBuf,
    /// Its admin listener.
    pub admin: SocketAddr,
    /// What the config points at.
    pub context: ConfigContext,
    /// The last variant written (carried across runs).
    variant: Arc<AtomicU64>,
}

/// Reloads during one run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reloads {
    /// Config rewrites made.
    pub written: u64,
    /// Config generations the gateway advanced by.
    pub applied: u64,
}

/// A running driver; [`ReloadDriver::finish`] stops it.
pub struct ReloadDriver {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<u64>,
    target: ReloadTarget,
    generation_before: u64,
}

impl ReloadTarget {
    /// A target serving `context.reloading(0)` from `config_path`.
    pub fn new(config_path: PathBuf, admin: SocketAddr, context: ConfigContext) -> Self {
        ReloadTarget {
            config_path,
            admin,
            context,
            variant: Arc::new(AtomicU64::new(0)),
        }
    }
}

impl ReloadDriver {
    /// Starts rewriting `target`'s config every [`RELOAD_INTERVAL`].
    pub fn start(target: &ReloadTarget) -> anyhow::Result<Self> {
        let generation_before = generation(target.admin)?;
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (stop, target) = (stop.clone(), target.clone());
            std::thread::spawn(move || {
                let mut written = 0;
                let mut next = Instant::now() + RELOAD_INTERVAL;
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(next.saturating_duration_since(Instant::now()));
                    next += RELOAD_INTERVAL;
                    let variant = target.variant.fetch_add(1, Ordering::Relaxed) + 1;
                    let config = target.context.reloading(variant);
                    if write_atomically(&target.config_path, &config).is_ok() {
                        written += 1;
                    }
                }
                written
            })
        };
        Ok(ReloadDriver {
            stop,
            thread,
            target: target.clone(),
            generation_before,
        })
    }

    /// Stops rewriting, lets the last reload land, and counts.
    pub fn finish(self) -> anyhow::Result<Reloads> {
        self.stop.store(true, Ordering::Relaxed);
        let written = self.thread.join().unwrap_or(0);
        // The watcher's debounce is 10 ms; a reload takes a few more.
        std::thread::sleep(Duration::from_millis(300));
        let applied = generation(self.target.admin)?.saturating_sub(self.generation_before);
        Ok(Reloads { written, applied })
    }
}

/// The config generation the gateway serves (admin `GET /config`).
pub fn generation(admin: SocketAddr) -> anyhow::Result<u64> {
    use anyhow::Context as _;
    let response = net::get(admin, "/config")?;
    let config: serde_json::Value =
        serde_json::from_str(&response.body).context("admin /config is not JSON")?;
    config["generation"]
        .as_u64()
        .context("admin /config has no generation")
}
