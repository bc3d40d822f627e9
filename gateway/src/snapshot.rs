//! The immutable snapshot the gateway serves from: routes, chains, configured plugins and
//! upstream clients of one config generation. Built off the request path, fully validated,
//! then swapped in whole; a request loads it once and keeps it to the end.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderName, HeaderValue};

use crate::config::{Config, ConfigError, ConfigErrors, Deprecation, Integration, PluginDef};
use crate::exchange::Stage;
use crate::integration::{CanarySplit, HttpUpstream, IntegrationRuntime, RouteRetries};
use crate::metrics::{RouteMetrics, UNMATCHED_ROUTE};
use crate::plugin::{CompiledPlugin, ConfiguredPlugin, Documents, PluginEngine, PluginLoadError};
use crate::routing::Router;
use crate::stages::{RouteThrottle, StageSelector};
use crate::store::SharedStore;

/// The plugins of one route (global chain first), split by the stage they run at.
#[derive(Default)]
pub struct Chains {
    by_stage: [Vec<Arc<ConfiguredPlugin>>; 5],
    reads_request_body: bool,
    reads_response_body: bool,
}

impl Chains {
    fn new(plugins: &[Arc<ConfiguredPlugin>]) -> Self {
        let mut chains = Chains::default();
        for (slot, stage) in chains.by_stage.iter_mut().zip(Stage::ALL) {
            *slot = plugins
                .iter()
                .filter(|p| p.runs_at(stage))
                .cloned()
                .collect();
        }
        chains.reads_request_body = plugins.iter().any(|p| p.reads_request_body());
        chains.reads_response_body = plugins.iter().any(|p| p.reads_response_body());
        chains
    }

    /// The plugins that declared `stage`, in chain order.
    pub fn at(&self, stage: Stage) -> &[Arc<ConfiguredPlugin>] {
        &self.by_stage[stage.index()]
    }

    /// Whether some plugin reads the request body (so the gateway buffers it).
    pub fn reads_request_body(&self) -> bool {
        self.reads_request_body
    }

    /// Whether some plugin reads the response body (so the gateway buffers it).
    pub fn reads_response_body(&self) -> bool {
        self.reads_response_body
    }
}

/// A route ready to serve.
pub struct RouteRuntime {
    /// The route's id.
    pub id: String,
    /// Its plugins by stage.
    pub chains: Chains,
    /// What answers it.
    pub integration: IntegrationRuntime,
    /// `Deprecation` / `Sunset` / `Link` headers added to every response.
    pub deprecation_headers: Vec<(HeaderName, HeaderValue)>,
    /// Its request metrics, as handles.
    pub metrics: RouteMetrics,
    /// The deployment serving it (`prod`, `prod/canary`), when the config has stages.
    pub stage: Option<Arc<str>>,
    /// Its request rate limit in its stage.
    pub throttle: Option<Arc<RouteThrottle>>,
}

/// One generation of the gateway's configuration, ready to serve.
pub struct Snapshot {
    /// Increases by one with every successful load.
    pub generation: u64,
    /// When the snapshot was built.
    pub loaded_at: SystemTime,
    /// The validated config it was built from.
    pub config: Config,
    /// Route matching.
    pub router: Router,
    /// Routes by index: the config's routes as each deployment serves them, deployment after
    /// deployment (route `r` of deployment `d` is at `d * routes_per_deployment + r`).
    pub routes: Vec<RouteRuntime>,
    /// The number of routes in the config.
    pub routes_per_deployment: usize,
    /// Assigns requests to stages (`None`: the config has no stages or domains).
    pub stages: Option<StageSelector>,
    /// Every upstream pool, by name (kept across reloads while its definition is unchanged,
    /// with its connections, health and ejections).
    pub upstreams: BTreeMap<String, Arc<HttpUpstream>>,
    /// The stage throttles, by (stage, route id) (kept across reloads while their limit is
    /// unchanged).
    pub throttles: BTreeMap<(String, String), Arc<RouteThrottle>>,
    /// The global chain alone, by deployment, for requests no route matches.
    pub globals: Vec<Chains>,
    /// The request metrics of requests no route matched.
    pub unmatched_metrics: RouteMetrics,
    /// Every configured plugin, by name.
    pub plugins: BTreeMap<String, Arc<ConfiguredPlugin>>,
    /// The shared store of the `rate-limit` and `kv` capabilities (kept across reloads while
    /// `[store]` is unchanged).
    pub store: Arc<SharedStore>,
    /// The access log, when enabled (reopened by every reload, which also rotates it).
    pub access_log: Option<Arc<crate::access_log::AccessLog>>,
    /// The OTLP span exporter, when `[tracing]` names an endpoint (kept across reloads while
    /// `[tracing]` is unchanged).
    pub otel: Option<Arc<crate::otel::OtlpExporter>>,
    /// Records sampled requests (`[record]`); `None` when the config has no `[record]`.
    pub recorder: Option<Arc<crate::record::Recorder>>,
    /// SHA-256 of every other file the config references (e.g. a token file), so a file event
    /// without a content change does not reload.
    pub watched_digests: Vec<(std::path::PathBuf, String)>,
}

impl Snapshot {
    /// The global chain of deployment `deployment`, for requests no route matches.
    pub fn global(&self, deployment: usize) -> &Chains {
        &self.globals[deployment]
    }

    /// Compiles (reusing unchanged components by digest), configures and initialises every
    /// plugin, builds the routes. Reports every problem found, each pointing into the config.
    pub async fn build(
        config: Config,
        engine: &Arc<PluginEngine>,
        generation: u64,
    ) -> Result<Self, ConfigErrors> {
        Self::build_with(config, engine, generation, None).await
    }

    /// Like [`Snapshot::build`], keeping the plugins of `previous` whose definition did not
    /// change (same component, config and limits) with their warm instance pools.
    pub async fn build_with(
        config: Config,
        engine: &Arc<PluginEngine>,
        generation: u64,
        previous: Option<&Snapshot>,
    ) -> Result<Self, ConfigErrors> {
        let mut errors = Vec::new();
        let store = match previous.map(|p| &p.store) {
            Some(store) if store.same_settings(&config.store) => store.clone(),
            _ => SharedStore::open(&config.store)
                .map(Arc::new)
                .map_err(|e| {
                    ConfigErrors(vec![file_error(
                        &config,
                        "store",
                        format!("cannot open the store: {e}"),
                        None,
                    )])
                })?,
        };
        let otel = open_exporter(&config, previous)?;
        let compiled = compile_all(config.plugins.values(), engine).await;
        let mut plugins = BTreeMap::new();
        for def in config.plugins.values() {
            let reusable = previous.and_then(|p| p.plugins.get(&def.name));
            let compiled = compiled.get(&def.path).cloned();
            match load_plugin(def, compiled, &store, reusable).await {
                Ok(plugin) => {
                    plugins.insert(def.name.clone(), plugin);
                }
                Err(error) => errors.push(error),
            }
        }
        let watched_digests = config
            .watched_files
            .iter()
            .filter_map(|path| Some((path.clone(), crate::file_digest::file_digest(path)?)))
            .collect();
        let router = Router::new(&config.routes, &config.versioning)
            .map_err(|e| ConfigErrors(vec![file_error(&config, "routes", e.to_string(), None)]));
        let access_log = crate::access_log::AccessLog::open(&config.access_log)
            .map(|log| log.map(Arc::new))
            .map_err(|e| {
                file_error(
                    &config,
                    "access_log.path",
                    format!("cannot open the access log: {e}"),
                    Some("check the directory exists and is writable"),
                )
            });
        let access_log = match access_log {
            Ok(log) => log,
            Err(error) => {
                errors.push(error);
                None
            }
        };
        let previous_recorder = previous.and_then(|p| p.recorder.as_ref());
        let recorder = match crate::record::open_recorder(config.record.as_ref(), previous_recorder)
        {
            Ok(recorder) => recorder,
            Err(e) => {
                errors.push(file_error(
                    &config,
                    "record.path",
                    format!("cannot open the recording file: {e}"),
                    Some("check the directory exists and is writable"),
                ));
                None
            }
        };
        let router = match router {
            Ok(router) if errors.is_empty() => router,
            Ok(_) => return Err(ConfigErrors(errors)),
            Err(ConfigErrors(router_errors)) => {
                errors.extend(router_errors);
                return Err(ConfigErrors(errors));
            }
        };

        let upstreams: BTreeMap<String, Arc<HttpUpstream>> = config
            .upstreams
            .iter()
            .map(|(name, upstream)| {
                let unchanged = previous
                    .and_then(|p| p.upstreams.get(name))
                    .filter(|kept| kept.definition() == upstream);
                let pool = unchanged
                    .cloned()
                    .unwrap_or_else(|| HttpUpstream::new(upstream));
                (name.clone(), pool)
            })
            .collect();
        let chain_of = |names: &mut dyn Iterator<Item = Cow<'_, str>>| {
            names
                .filter_map(|name| plugins.get(name.as_ref()).cloned())
                .collect::<Vec<_>>()
        };
        let deployments = config.deployments();
        let globals = deployments
            .iter()
            .map(|deployment| {
                let names = &mut config
                    .global_chain
                    .iter()
                    .map(|name| config.plugin_in(name, deployment));
                Chains::new(&chain_of(names))
            })
            .collect();
        // Throttles by (stage, route id): a stage's canary shares its stage's buckets, and a
        // reload that leaves a limit unchanged keeps its bucket (a reload is no fresh burst).
        let mut throttles: BTreeMap<(String, String), Arc<RouteThrottle>> = BTreeMap::new();
        let mut routes = Vec::with_capacity(config.routes.len() * deployments.len());
        for deployment in &deployments {
            for route in &config.routes {
                let names = &mut config
                    .global_chain
                    .iter()
                    .chain(route.plugins.iter())
                    .map(|name| config.plugin_in(name, deployment));
                let upstream_of = |name: &str| {
                    let name = config.upstream_in(name, deployment);
                    upstreams
                        .get(name.as_ref())
                        .cloned()
                        .expect("validated upstream")
                };
                let integration = match &route.integration {
                    Integration::Http {
                        upstream,
                        retries,
                        retry_non_idempotent,
                        canary,
                    } => IntegrationRuntime::Http {
                        canary: canary.as_ref().map(|split| {
                            let to = upstream_of(&split.upstream);
                            let primary = config.upstream_in(upstream, deployment);
                            Box::new(CanarySplit::new(&route.id, &primary, to, split.clone()))
                        }),
                        upstream: upstream_of(upstream),
                        retries: RouteRetries {
                            policy: retries.clone(),
                            non_idempotent: *retry_non_idempotent,
                        },
                    },
                    Integration::Mock(mock) => IntegrationRuntime::Mock(mock.clone()),
                };
                let throttle = deployment.stage.and_then(|stage| {
                    let limit = stage.throttle_of(&route.id)?;
                    let key = (stage.name.clone(), route.id.clone());
                    let kept = previous
                        .and_then(|p| p.throttles.get(&key))
                        .filter(|kept| kept.limit() == limit);
                    let shared = throttles.entry(key).or_insert_with(|| {
                        kept.cloned()
                            .unwrap_or_else(|| Arc::new(RouteThrottle::new(limit)))
                    });
                    Some(shared.clone())
                });
                routes.push(RouteRuntime {
                    id: route.id.clone(),
                    stage: deployment.name.as_deref().map(Arc::from),
                    metrics: RouteMetrics::new(&route.id, deployment.name.as_deref()),
                    chains: Chains::new(&chain_of(names)),
                    integration,
                    throttle,
                    deprecation_headers: route
                        .deprecation
                        .as_ref()
                        .map(deprecation_headers)
                        .unwrap_or_default(),
                });
            }
        }
        drop(deployments);
        let stages = StageSelector::new(&config);
        let routes_per_deployment = config.routes.len();
        Ok(Snapshot {
            generation,
            loaded_at: SystemTime::now(),
            config,
            router,
            routes_per_deployment,
            routes,
            stages,
            upstreams,
            throttles,
            globals,
            unmatched_metrics: RouteMetrics::new(UNMATCHED_ROUTE, None),
            plugins,
            store,
            access_log,
            otel,
            recorder,
            watched_digests,
        })
    }
}

/// The span exporter `[tracing]` asks for: `previous`'s when its settings are the same.
fn open_exporter(
    config: &Config,
    previous: Option<&Snapshot>,
) -> Result<Option<Arc<crate::otel::OtlpExporter>>, ConfigErrors> {
    let Some(settings) = &config.tracing.otlp else {
        return Ok(None);
    };
    let reusable = previous.and_then(|p| p.otel.as_ref());
    if let Some(exporter) = reusable.filter(|e| e.settings() == settings) {
        return Ok(Some(exporter.clone()));
    }
    let exporter = crate::otel::OtlpExporter::start(settings)
        .map_err(|e| file_error(config, "tracing.otlp_endpoint", e.to_string(), None))?;
    Ok(Some(Arc::new(exporter)))
}

/// A plugin's compiled component, or why it could not be had; shared by the plugins that name
/// the same file.
type Compiled = Result<Arc<CompiledPlugin>, Arc<PluginLoadError>>;

/// Compiles every plugin file, as many at once as there are cores, each on a blocking thread
/// (a compilation is single-threaded, see [`PluginEngine`]). More at once would gain no time
/// and would scatter the components' long-lived allocations over more threads' heaps. A file
/// named by several plugins is compiled once.
async fn compile_all<'a>(
    defs: impl Iterator<Item = &'a PluginDef>,
    engine: &Arc<PluginEngine>,
) -> BTreeMap<PathBuf, Compiled> {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let slots = Arc::new(tokio::sync::Semaphore::new(cores));
    let mut compiling = BTreeMap::new();
    for def in defs {
        compiling.entry(def.path.clone()).or_insert_with(|| {
            let (engine, path, slots) = (engine.clone(), def.path.clone(), slots.clone());
            tokio::spawn(async move {
                let _slot = slots.acquire_owned().await;
                tokio::task::spawn_blocking(move || engine.compile(&path)).await
            })
        });
    }
    let mut compiled = BTreeMap::new();
    for (path, compiling) in compiling {
        let result = compiling
            .await
            .and_then(|compiled| compiled)
            .map_err(|e| PluginLoadError::Engine(format!("compiler thread failed: {e}")))
            .and_then(|compiled| compiled)
            .map_err(Arc::new);
        compiled.insert(path, result);
    }
    compiled
}

/// Configures a plugin from its compiled component; errors point at the config key
/// responsible (`path` for the file, `config` for what `init` refused).
async fn load_plugin(
    def: &PluginDef,
    compiled: Option<Compiled>,
    store: &Arc<SharedStore>,
    previous: Option<&Arc<ConfiguredPlugin>>,
) -> Result<Arc<ConfiguredPlugin>, ConfigError> {
    let compiled = compiled
        .unwrap_or_else(|| Err(Arc::new(PluginLoadError::Engine("not compiled".into()))))
        .map_err(|error| {
            let help = match &*error {
                PluginLoadError::Read { .. } => Some(
                    "check the path (relative paths start at the config file's directory); \
                     build plugins with `cargo build --release --target wasm32-wasip2`"
                        .to_owned(),
                ),
                PluginLoadError::Link { .. } => Some(
                    "rebuild the plugin against this gateway's plugin SDK (WIT package \
                     wasmgate:plugin@0.1.0)"
                        .to_owned(),
                ),
                _ => None,
            };
            ConfigError::at(
                &def.path_origin,
                format!("plugin `{}`: {error}", def.name),
                help,
            )
        })?;
    let documents =
        Documents::load(&def.name, &def.documents, previous.map(|p| p.documents())).await?;
    let unchanged =
        |p: &&Arc<ConfiguredPlugin>| p.same_definition(def, compiled.digest(), store, &documents);
    if let Some(previous) = previous.filter(unchanged) {
        return Ok(previous.clone());
    }
    let configured = ConfiguredPlugin::configure(def, compiled, store.clone(), documents)
        .await
        .map_err(|error| {
            let message = format!("plugin `{}`: {error}", def.name);
            match &error {
                PluginLoadError::NotGranted(missing) => {
                    let list = missing
                        .iter()
                        .map(|c| format!("\"{c}\""))
                        .collect::<Vec<_>>()
                        .join(", ");
                    let what = if missing.len() == 1 { "it" } else { "them" };
                    let help = format!(
                        "grant {what} in `[plugins.{}]` with `grants = [{list}]`, or use a \
                         build of the plugin that does not need {what}",
                        def.name
                    );
                    ConfigError::at(&def.grants_origin, message, Some(help))
                }
                _ => ConfigError::at(&def.config_origin, message, None),
            }
        })?;
    Ok(Arc::new(configured))
}

fn deprecation_headers(deprecation: &Deprecation) -> Vec<(HeaderName, HeaderValue)> {
    let mut headers = Vec::new();
    if let Some(since) = deprecation.since
        && let Ok(value) = HeaderValue::from_str(&format!("@{since}"))
    {
        headers.push((HeaderName::from_static("deprecation"), value));
    }
    if let Some(sunset) = deprecation.sunset.and_then(|s| u64::try_from(s).ok()) {
        let date = httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(sunset));
        if let Ok(value) = HeaderValue::from_str(&date) {
            headers.push((HeaderName::from_static("sunset"), value));
        }
    }
    if let Some(link) = &deprecation.link
        && let Ok(value) = HeaderValue::from_str(&format!("<{link}>; rel=\"deprecation\""))
    {
        headers.push((http::header::LINK, value));
    }
    headers
}

/// An error about the config file as a whole, under `key` (no line: found after parsing).
fn file_error(config: &Config, key: &str, message: String, help: Option<&str>) -> ConfigError {
    ConfigError {
        file: config.source.clone(),
        line: None,
        column: None,
        key: Some(key.to_owned()),
        message,
        help: help.map(str::to_owned),
    }
}
