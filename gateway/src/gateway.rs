//! The running gateway: loads a config into a snapshot, binds its listeners and serves until
//! told to stop. Also the `check` pipeline that loads everything without serving.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::config::{self, ConfigError, ConfigErrors};
use crate::plugin::PluginEngine;
use crate::reload::{Reloaded, Reloader, Trigger};
use crate::snapshot::Snapshot;

/// Why the gateway could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The config (or a plugin it references) is invalid.
    #[error("{0}")]
    Config(#[from] ConfigErrors),
    /// A listener could not bind.
    #[error("cannot listen on {address} (listener `{name}`): {source}")]
    Bind {
        /// The listener's name.
        name: String,
        /// The address.
        address: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
}

/// What `check` found in a valid config.
#[derive(Debug)]
pub struct CheckReport {
    /// Number of routes.
    pub routes: usize,
    /// Plugin names with the SHA-256 of their component.
    pub plugins: Vec<(String, String)>,
}

/// Runs the whole load pipeline — parse, validate, compile, init every plugin — without serving.
pub async fn check(path: &Path) -> Result<CheckReport, ConfigErrors> {
    let (snapshot, _engine) = load(path).await?;
    Ok(CheckReport {
        routes: snapshot.routes_per_deployment,
        plugins: snapshot
            .plugins
            .values()
            .map(|p| (p.name().to_owned(), p.compiled().digest().to_owned()))
            .collect(),
    })
}

async fn load(path: &Path) -> Result<(Snapshot, Arc<PluginEngine>), ConfigErrors> {
    let config = config::load(path)?;
    let engine = PluginEngine::new(&config.engine).map_err(|e| {
        ConfigErrors(vec![ConfigError {
            file: path.to_owned(),
            line: None,
            column: None,
            key: Some("engine".into()),
            message: e.to_string(),
            help: None,
        }])
    })?;
    let snapshot = Snapshot::build(config, &engine, 1).await?;
    Ok((snapshot, engine))
}

/// How often idle plugin instance pools shrink to the demand of the period before. Long:
/// a plugin's `init` (compiling rules, schemas, keys) can take milliseconds, and a pool trimmed
/// too eagerly turns the next burst's first requests into cold starts.
const POOL_TRIM_INTERVAL: std::time::Duration = std::time::Duration::from_secs(300);

/// Every [`POOL_TRIM_INTERVAL`], lets each plugin's idle pool shrink to what it needed (a
/// burst's instances are freed once it passed).
async fn trim_plugin_pools(reloader: Arc<Reloader>) {
    let mut every = tokio::time::interval(POOL_TRIM_INTERVAL);
    every.tick().await;
    loop {
        every.tick().await;
        for plugin in reloader.current().plugins.values() {
            let dropped = plugin.trim_idle();
            if dropped > 0 {
                tracing::debug!(
                    plugin = plugin.name(),
                    dropped,
                    "idle plugin instances freed"
                );
            }
        }
    }
}

/// A gateway serving traffic.
pub struct RunningGateway {
    reloader: Arc<Reloader>,
    engine: Arc<PluginEngine>,
    addresses: Vec<(String, SocketAddr)>,
    admin_address: SocketAddr,
    shutdown: watch::Sender<bool>,
    listeners: JoinSet<()>,
    background: JoinSet<()>,
}

impl RunningGateway {
    /// Loads `config_path`, binds every listener and the admin listener, starts serving and
    /// (unless `[reload] watch = false`) watching the config's files.
    pub async fn start(config_path: &Path) -> Result<Self, StartError> {
        // Install the recorder before any metric handle is registered.
        crate::metrics::prometheus();
        let (snapshot, engine) = load(config_path).await?;
        let config = &snapshot.config;
        let grace = config.gateway.shutdown_grace;
        let max_connections = config.gateway.max_connections;
        let mut bound = Vec::new();
        for listener in &config.listeners {
            let (socket, local) =
                crate::server::bind(listener.address)
                    .await
                    .map_err(|source| StartError::Bind {
                        name: listener.name.clone(),
                        address: listener.address,
                        source,
                    })?;
            bound.push((listener.clone(), socket, local));
        }
        let (admin_socket, admin_address) = crate::server::bind(config.admin.address)
            .await
            .map_err(|source| StartError::Bind {
                name: "admin".into(),
                address: config.admin.address,
                source,
            })?;
        let admin_token = config.admin.token.clone();
        let reload_settings = config.reload.clone();
        tracing::info!(
            generation = snapshot.generation,
            routes = snapshot.routes_per_deployment,
            plugins = snapshot.plugins.len(),
            "config loaded"
        );
        let reloader = Arc::new(Reloader::new(config_path, snapshot, engine.clone()));
        let (shutdown, _) = watch::channel(false);
        let mut listeners = JoinSet::new();
        let mut addresses = Vec::new();
        for (listener, socket, local) in bound {
            let name = listener.name.clone();
            tracing::info!(listener = %name, address = %local, tls = listener.tls.is_some(), "listening");
            addresses.push((name, local));
            let spec = crate::server::ListenerSpec::new(&listener, max_connections);
            listeners.spawn(crate::server::serve(
                socket,
                spec,
                reloader.live().clone(),
                shutdown.subscribe(),
                grace,
            ));
        }
        let mut background = JoinSet::new();
        tracing::info!(address = %admin_address, "admin listening");
        background.spawn(crate::admin::serve(
            admin_socket,
            reloader.clone(),
            admin_token,
            shutdown.subscribe(),
        ));
        background.spawn(trim_plugin_pools(reloader.clone()));
        let file_watch = reload_settings
            .watch
            .then(|| crate::watch::FileWatch::start(reloader.clone()))
            .flatten();
        if let Some(file_watch) = file_watch {
            background.spawn(file_watch.run(reload_settings.debounce, shutdown.subscribe()));
        }
        Ok(RunningGateway {
            reloader,
            engine,
            addresses,
            admin_address,
            shutdown,
            listeners,
            background,
        })
    }

    /// The bound traffic addresses, by listener name (useful with port 0).
    pub fn addresses(&self) -> &[(String, SocketAddr)] {
        &self.addresses
    }

    /// The address of the first listener.
    pub fn address(&self) -> SocketAddr {
        self.addresses[0].1
    }

    /// The bound admin address.
    pub fn admin_address(&self) -> SocketAddr {
        self.admin_address
    }

    /// The snapshot currently served.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.reloader.current()
    }

    /// Reloads the config now (as `SIGHUP` does); on failure the previous config keeps serving.
    pub async fn reload(&self, trigger: Trigger) -> Result<Reloaded, ConfigErrors> {
        self.reloader.reload(trigger, false).await
    }

    /// The config file the gateway was started with.
    pub fn config_path(&self) -> &Path {
        self.reloader.config_path()
    }

    /// The plugin engine.
    pub fn engine(&self) -> &Arc<PluginEngine> {
        &self.engine
    }

    /// Stops accepting, lets in-flight requests finish (up to the configured grace period),
    /// and returns when every listener is done and, with `[tracing]` export on, the spans of
    /// the requests served were flushed to the collector (or two export timeouts passed).
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        while self.listeners.join_next().await.is_some() {}
        self.background.abort_all();
        while self.background.join_next().await.is_some() {}
        let spans = self.snapshot().otel.as_ref().map(|e| e.drained());
        // The last snapshot goes with the reloader; its exporter flushes once the requests
        // still finishing (access log, log stage) let go of it too.
        drop(self);
        if let Some(spans) = spans
            && !spans.wait().await
        {
            tracing::warn!("shutting down before every span was exported");
        }
    }
}
