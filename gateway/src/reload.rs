//! Hot reload: builds a new snapshot off the request path and swaps it in whole, or keeps the
//! old one and says why.
//!
//! A reload parses and validates the config, compiles the components that changed (unchanged
//! ones are reused by content digest; unchanged plugin definitions keep their warm instance
//! pools), initialises every new plugin, and only then swaps the snapshot. Requests in flight
//! keep the snapshot they loaded; an old snapshot — and its plugin instances — is freed when
//! its last request ends.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arc_swap::ArcSwap;
use tokio::sync::Mutex;

use crate::config::{self, ConfigError, ConfigErrors};
use crate::file_digest::file_digest;
use crate::metrics::{CONFIG_GENERATION, CONFIG_RELOADS_TOTAL};
use crate::plugin::PluginEngine;
use crate::snapshot::Snapshot;

/// What asked for a reload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// The config file or a file it references changed on disk.
    File,
    /// `SIGHUP`.
    Signal,
    /// `POST /reload` on the admin listener.
    Admin,
}

impl Trigger {
    /// The label used in logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::File => "file",
            Trigger::Signal => "signal",
            Trigger::Admin => "admin",
        }
    }
}

/// The outcome of a reload that did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reloaded {
    /// A new snapshot with this generation is live.
    Swapped(u64),
    /// Nothing the config references changed (a file event without a content change).
    Unchanged(u64),
}

/// Owns the live snapshot and replaces it.
pub struct Reloader {
    config_path: PathBuf,
    live: Arc<ArcSwap<Snapshot>>,
    engine: Arc<PluginEngine>,
    generation: AtomicU64,
    /// One reload at a time: two concurrent reloads would race to swap.
    in_progress: Mutex<()>,
}

impl Reloader {
    /// Wraps the first snapshot (generation 1).
    pub fn new(config_path: &Path, first: Snapshot, engine: Arc<PluginEngine>) -> Self {
        metrics::gauge!(CONFIG_GENERATION).set(first.generation as f64);
        Reloader {
            config_path: config_path.to_owned(),
            generation: AtomicU64::new(first.generation),
            live: Arc::new(ArcSwap::from_pointee(first)),
            engine,
            in_progress: Mutex::new(()),
        }
    }

    /// The live snapshot holder the listeners read from.
    pub fn live(&self) -> &Arc<ArcSwap<Snapshot>> {
        &self.live
    }

    /// The snapshot being served.
    pub fn current(&self) -> Arc<Snapshot> {
        self.live.load_full()
    }

    /// The config file.
    pub fn config_path(&self) -> &Path {
        &self.config_path
    }

    /// Reloads the config. With `only_if_changed`, a config whose file and referenced files
    /// have the same content as the live one is left alone.
    pub async fn reload(
        &self,
        trigger: Trigger,
        only_if_changed: bool,
    ) -> Result<Reloaded, ConfigErrors> {
        let _one_at_a_time = self.in_progress.lock().await;
        let current = self.current();
        if only_if_changed && !inputs_changed(&current) {
            return Ok(Reloaded::Unchanged(current.generation));
        }
        let result = self.build_next(&current).await;
        let outcome = if result.is_ok() { "success" } else { "failure" };
        metrics::counter!(CONFIG_RELOADS_TOTAL, "result" => outcome, "trigger" => trigger.as_str())
            .increment(1);
        match result {
            Ok(next) => {
                let generation = next.generation;
                warn_about_restart_only_changes(&current, &next);
                self.live.store(Arc::new(next));
                metrics::gauge!(CONFIG_GENERATION).set(generation as f64);
                tracing::info!(generation, trigger = trigger.as_str(), "config reloaded");
                self.engine.retain_compiled(|digest| {
                    self.current()
                        .plugins
                        .values()
                        .any(|p| p.compiled().digest() == digest)
                        || current
                            .plugins
                            .values()
                            .any(|p| p.compiled().digest() == digest)
                });
                Ok(Reloaded::Swapped(generation))
            }
            Err(errors) => {
                tracing::error!(
                    generation = current.generation,
                    trigger = trigger.as_str(),
                    "config reload failed; still serving the previous config:\n{errors}"
                );
                Err(errors)
            }
        }
    }

    async fn build_next(&self, current: &Snapshot) -> Result<Snapshot, ConfigErrors> {
        let path = self.config_path.clone();
        let config = tokio::task::spawn_blocking(move || config::load(&path))
            .await
            .map_err(|e| {
                ConfigErrors(vec![ConfigError {
                    file: self.config_path.clone(),
                    line: None,
                    column: None,
                    key: None,
                    message: format!("config loader thread failed: {e}"),
                    help: None,
                }])
            })??;
        let generation = self.generation.load(Ordering::SeqCst) + 1;
        let next = Snapshot::build_with(config, &self.engine, generation, Some(current)).await?;
        self.generation.store(generation, Ordering::SeqCst);
        Ok(next)
    }
}

/// Whether the config file or any file it references differs from what `snapshot` was built
/// from.
fn inputs_changed(snapshot: &Snapshot) -> bool {
    let config = &snapshot.config;
    if file_digest(&config.source).as_deref() != Some(config.source_digest.as_str()) {
        return true;
    }
    snapshot.plugins.values().any(|plugin| {
        let def = &config.plugins[plugin.name()];
        file_digest(&def.path).as_deref() != Some(plugin.compiled().digest())
    }) || snapshot
        .watched_digests
        .iter()
        .any(|(path, digest)| file_digest(path).as_deref() != Some(digest.as_str()))
}

/// Listener, admin and engine settings take effect only at start: say so when they change.
fn warn_about_restart_only_changes(current: &Snapshot, next: &Snapshot) {
    let (old, new) = (&current.config, &next.config);
    // Certificates and TLS settings of a TLS listener do reload; whether it is one does not.
    let shape = |c: &crate::config::Config| -> Vec<_> {
        let listeners = c.listeners.iter();
        listeners
            .map(|l| (l.address, l.tls.is_some(), l.redirect_https_port))
            .collect()
    };
    if shape(old) != shape(new) || old.gateway.max_connections != new.gateway.max_connections {
        tracing::warn!("listener changes take effect at the next restart");
    }
    if old.admin.address != new.admin.address {
        tracing::warn!("admin address changes take effect at the next restart");
    }
    let (old_engine, new_engine) = (&old.engine, &new.engine);
    if old_engine.max_instances != new_engine.max_instances
        || old_engine.max_memory_bytes != new_engine.max_memory_bytes
        || old_engine.cache_dir != new_engine.cache_dir
    {
        tracing::warn!("[engine] changes take effect at the next restart");
    }
}
