//! A plugin definition bound to its compiled component and config, with its instance pool:
//! the second step of a plugin's lifecycle (compile → configure → instantiate → call).

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{Semaphore, SemaphorePermit};

use super::bindings::{BodyAccess, Stages};
use super::capabilities::PluginCapabilities;
use super::compile::CompiledPlugin;
use super::documents::Documents;
use super::error::{PluginFailure, PluginLoadError};
use super::instance::{PluginInstance, StageAction};
use crate::config::{Capability, FailurePolicy, InstanceMode, PluginDef};
use crate::exchange::{Exchange, Stage};
use crate::store::SharedStore;

/// The budget of instantiating a plugin and running its `init`: longer than a stage call, as
/// init may compile rules or parse keys.
pub const INIT_DEADLINE: Duration = Duration::from_secs(5);

/// A finished plugin call: what the plugin decided, and when the call started and ended (the
/// pipeline's plugin time and spans reuse them rather than reading the clock again).
pub struct PluginCall {
    /// The plugin's decision, or why the call failed.
    pub result: Result<StageAction, PluginFailure>,
    /// When the call began (before any wait for an instance).
    pub started: Instant,
    /// When it ended.
    pub ended: Instant,
}

/// A plugin ready to be called: its definition, what it declared at `init`, and its instances.
pub struct ConfiguredPlugin {
    name: Arc<str>,
    compiled: Arc<CompiledPlugin>,
    config: serde_json::Value,
    config_json: String,
    failure_policy: FailurePolicy,
    instance_mode: InstanceMode,
    deadline: Duration,
    queue_timeout: Duration,
    memory_limit: u64,
    max_instances: u32,
    grants: BTreeSet<Capability>,
    /// Grants, store, own metrics and documents, shared with every instance.
    capabilities: Arc<PluginCapabilities>,
    stages: Stages,
    body_access: BodyAccess,
    /// Bounds the instances alive at once.
    permits: Semaphore,
    /// Initialised instances waiting for a call (pooled mode), the most recently used last.
    /// Boxed so that lending one to a call moves a pointer, not the instance (hundreds of
    /// bytes, moved several times per call: ~230 instructions per call saved).
    #[expect(
        clippy::vec_box,
        reason = "an instance is moved out and back on every call"
    )]
    idle: Mutex<Vec<Box<PluginInstance>>>,
    demand: Demand,
    metrics: PluginMetrics,
}

/// A plugin's metric handles, registered once so a call does not build label sets.
struct PluginMetrics {
    by_stage: [StageMetrics; 5],
    idle: metrics::Gauge,
    busy: metrics::Gauge,
    pool_waits: metrics::Counter,
}

struct StageMetrics {
    calls: metrics::Counter,
    duration: metrics::Histogram,
}

impl PluginMetrics {
    fn new(plugin: &str) -> Self {
        use crate::metrics::*;
        let plugin = plugin.to_owned();
        let by_stage = Stage::ALL.map(|stage| StageMetrics {
            calls: metrics::counter!(PLUGIN_CALLS_TOTAL, "plugin" => plugin.clone(), "stage" => stage.name()),
            duration: metrics::histogram!(PLUGIN_CALL_DURATION, "plugin" => plugin.clone(), "stage" => stage.name()),
        });
        PluginMetrics {
            by_stage,
            idle: metrics::gauge!(PLUGIN_INSTANCES_IDLE, "plugin" => plugin.clone()),
            busy: metrics::gauge!(PLUGIN_INSTANCES_BUSY, "plugin" => plugin.clone()),
            pool_waits: metrics::counter!(PLUGIN_POOL_WAITS_TOTAL, "plugin" => plugin),
        }
    }
}

/// How many instances are busy now, and the most that were busy at once since the pool was
/// last trimmed: the demand the idle pool is sized by.
#[derive(Default)]
struct Demand {
    busy: AtomicUsize,
    peak: AtomicUsize,
}

/// Counts an instance as busy for as long as it lives.
struct BusyGuard<'a> {
    demand: &'a Demand,
}

impl<'a> BusyGuard<'a> {
    fn new(demand: &'a Demand) -> Self {
        let busy = demand.busy.fetch_add(1, Ordering::Relaxed) + 1;
        demand.peak.fetch_max(busy, Ordering::Relaxed);
        BusyGuard { demand }
    }
}

impl Drop for BusyGuard<'_> {
    fn drop(&mut self) {
        self.demand.busy.fetch_sub(1, Ordering::Relaxed);
    }
}

impl ConfiguredPlugin {
    /// Checks the component imports only capabilities `def` grants, then creates and
    /// initialises a first instance (which validates the config and learns the plugin's
    /// stages), keeping it in the pool. `store` backs the `rate-limit` and `kv` capabilities;
    /// `documents` are the plugin's loaded documents.
    pub async fn configure(
        def: &PluginDef,
        compiled: Arc<CompiledPlugin>,
        store: Arc<SharedStore>,
        documents: Documents,
    ) -> Result<Self, PluginLoadError> {
        let missing: Vec<&'static str> = compiled
            .imported_capabilities()
            .difference(&def.grants)
            .map(|c| c.as_str())
            .collect();
        if !missing.is_empty() {
            return Err(PluginLoadError::NotGranted(missing));
        }
        let name: Arc<str> = Arc::from(def.name.as_str());
        let capabilities = Arc::new(PluginCapabilities::new(
            name.clone(),
            def.grants.clone(),
            store,
            documents,
        ));
        let config_json = def.config.to_string();
        let limit = def.memory_limit_bytes;
        let mut first =
            PluginInstance::instantiate(&compiled, capabilities.clone(), limit, INIT_DEADLINE)
                .await
                .map_err(|e| PluginLoadError::InitFailed(format!("cannot instantiate: {e:#}")))?;
        let info = first.init(&config_json, INIT_DEADLINE).await?;
        if info.stages == Stages::empty() {
            return Err(PluginLoadError::NoStages);
        }
        let plugin = ConfiguredPlugin {
            name,
            compiled,
            config: def.config.clone(),
            config_json,
            failure_policy: def.failure_policy,
            instance_mode: def.instance_mode,
            deadline: def.deadline,
            queue_timeout: def.queue_timeout,
            memory_limit: def.memory_limit_bytes,
            max_instances: def.max_instances,
            grants: def.grants.clone(),
            capabilities,
            stages: info.stages,
            body_access: info.body_access,
            permits: Semaphore::new(def.max_instances as usize),
            metrics: PluginMetrics::new(&def.name),
            idle: Mutex::new(Vec::new()),
            demand: Demand::default(),
        };
        if plugin.instance_mode == InstanceMode::Pooled {
            plugin.lock_idle().push(Box::new(first));
        }
        Ok(plugin)
    }

    /// Whether `def` describes exactly this plugin (same component, config, limits, grants,
    /// store and documents), so a reload can keep it — and its warm instances — instead of
    /// configuring it anew.
    pub fn same_definition(
        &self,
        def: &PluginDef,
        digest: &str,
        store: &Arc<SharedStore>,
        documents: &Documents,
    ) -> bool {
        *self.name == *def.name
            && self.grants == def.grants
            && Arc::ptr_eq(&self.capabilities.store, store)
            && self.capabilities.documents.same_as(documents)
            && self.compiled.digest() == digest
            && self.config == def.config
            && self.failure_policy == def.failure_policy
            && self.instance_mode == def.instance_mode
            && self.deadline == def.deadline
            && self.queue_timeout == def.queue_timeout
            && self.memory_limit == def.memory_limit_bytes
            && self.max_instances == def.max_instances
    }

    /// The plugin's name in config.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The plugin's documents (for a reload to reuse its live URL documents).
    pub fn documents(&self) -> &Documents {
        &self.capabilities.documents
    }

    /// The compiled component.
    pub fn compiled(&self) -> &Arc<CompiledPlugin> {
        &self.compiled
    }

    /// What happens to a request when this plugin fails.
    pub fn failure_policy(&self) -> FailurePolicy {
        self.failure_policy
    }

    /// Whether the plugin declared `stage`.
    pub fn runs_at(&self, stage: Stage) -> bool {
        self.stages.contains(stage_flag(stage))
    }

    /// Whether the plugin reads the request body.
    pub fn reads_request_body(&self) -> bool {
        self.body_access.contains(BodyAccess::REQUEST)
    }

    /// Whether the plugin reads the response body.
    pub fn reads_response_body(&self) -> bool {
        self.body_access.contains(BodyAccess::RESPONSE)
    }

    /// Runs the plugin at `stage` on `exchange`: takes an idle instance (or creates one, waiting
    /// at most the queue timeout for a free slot), calls it, and returns it to the pool unless
    /// the call failed or the plugin runs in fresh mode.
    pub async fn call(&self, stage: Stage, exchange: &mut Box<Exchange>) -> PluginCall {
        let started = Instant::now();
        let metrics = &self.metrics.by_stage[stage.index()];
        metrics.calls.increment(1);
        let result = self.call_on_instance(stage, exchange, started).await;
        let ended = Instant::now();
        metrics.duration.record((ended - started).as_secs_f64());
        match &result {
            // Under `closed` a saturated plugin sheds the request: counted as shed, not failed.
            Err(PluginFailure::Saturated(_)) if self.failure_policy == FailurePolicy::Closed => {}
            Err(failure) => self.count_failure(stage, failure),
            Ok(_) => {}
        }
        PluginCall {
            result,
            started,
            ended,
        }
    }

    fn count_failure(&self, stage: Stage, failure: &PluginFailure) {
        let policy = match self.failure_policy {
            FailurePolicy::Closed => "closed",
            FailurePolicy::Open => "open",
        };
        metrics::counter!(
            crate::metrics::PLUGIN_FAILURES_TOTAL,
            "plugin" => self.name.to_string(),
            "stage" => stage.name(),
            "kind" => failure.kind(),
            "policy" => policy,
        )
        .increment(1);
    }

    /// Calls an instance; `started` is when the call began, the start of the plugin's run-time
    /// budget unless the call first waited for a slot or a new instance.
    async fn call_on_instance(
        &self,
        stage: Stage,
        exchange: &mut Box<Exchange>,
        mut started: Instant,
    ) -> Result<StageAction, PluginFailure> {
        let _permit = match self.permits.try_acquire() {
            Ok(permit) => permit,
            // The rare paths are boxed: their futures (a timer, wasmtime's instantiation) would
            // otherwise size, and be copied with, every call's future.
            Err(_) => {
                let permit = Box::pin(self.wait_for_permit()).await?;
                started = Instant::now();
                permit
            }
        };
        let _busy = BusyGuard::new(&self.demand);
        let mut instance = match self.take_idle() {
            Some(instance) => instance,
            None => {
                let instance = Box::pin(self.new_instance()).await?;
                started = Instant::now();
                instance
            }
        };
        // A failed plugin under `open` is skipped: none of its partial edits may survive.
        let before =
            (self.failure_policy == FailurePolicy::Open).then(|| exchange.save_editable(stage));
        let result = instance
            .call(stage, exchange, self.body_access, self.deadline, started)
            .await;
        if let (Err(_), Some(before)) = (&result, before) {
            exchange.restore(before);
        }
        if result.is_ok() && self.instance_mode == InstanceMode::Pooled {
            self.lock_idle().push(instance);
        }
        result
    }

    /// Lets the idle pool shrink to what the last period needed: keeps as many idle instances
    /// as were busy at once since the previous trim (at least one, so the next call finds a
    /// warm instance), dropping the least recently used. Returns how many were dropped.
    pub fn trim_idle(&self) -> usize {
        let peak = self
            .demand
            .peak
            .swap(self.demand.busy.load(Ordering::Relaxed), Ordering::Relaxed);
        let keep = peak.max(1);
        let surplus: Vec<Box<PluginInstance>> = {
            let mut idle = self.lock_idle();
            let extra = idle.len().saturating_sub(keep);
            idle.drain(..extra).collect()
        };
        // Dropped outside the lock: freeing an instance returns its memory to the engine.
        surplus.len()
    }

    /// Sets the pool's gauges (idle and busy instances) to their current values. Called when
    /// metrics are scraped rather than on every call: a gauge only needs to be right when read.
    pub fn publish_pool_gauges(&self) {
        self.metrics.idle.set(self.idle_instances() as f64);
        let busy = self.demand.busy.load(Ordering::Relaxed);
        self.metrics.busy.set(busy as f64);
    }

    /// Initialised instances idle in the pool.
    pub fn idle_instances(&self) -> usize {
        self.lock_idle().len()
    }

    /// Waits up to `queue_timeout` for a free instance slot.
    async fn wait_for_permit(&self) -> Result<SemaphorePermit<'_>, PluginFailure> {
        self.metrics.pool_waits.increment(1);
        match tokio::time::timeout(self.queue_timeout, self.permits.acquire()).await {
            Ok(Ok(permit)) => Ok(permit),
            // Timed out, or the semaphore closed: no instance is coming.
            _ => Err(PluginFailure::Saturated(self.max_instances)),
        }
    }

    /// A newly instantiated and initialised instance.
    async fn new_instance(&self) -> Result<Box<PluginInstance>, PluginFailure> {
        let mut instance = PluginInstance::instantiate(
            &self.compiled,
            self.capabilities.clone(),
            self.memory_limit,
            INIT_DEADLINE,
        )
        .await
        .map_err(|e| PluginFailure::Instantiate(format!("{e:#}")))?;
        instance
            .init(&self.config_json, INIT_DEADLINE)
            .await
            .map_err(|e| PluginFailure::Instantiate(e.to_string()))?;
        Ok(Box::new(instance))
    }

    fn take_idle(&self) -> Option<Box<PluginInstance>> {
        if self.instance_mode == InstanceMode::Fresh {
            return None;
        }
        self.lock_idle().pop()
    }

    #[expect(clippy::vec_box, reason = "see `idle`")]
    fn lock_idle(&self) -> std::sync::MutexGuard<'_, Vec<Box<PluginInstance>>> {
        self.idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn stage_flag(stage: Stage) -> Stages {
    match stage {
        Stage::MethodRequest => Stages::METHOD_REQUEST,
        Stage::IntegrationRequest => Stages::INTEGRATION_REQUEST,
        Stage::IntegrationResponse => Stages::INTEGRATION_RESPONSE,
        Stage::MethodResponse => Stages::METHOD_RESPONSE,
        Stage::Log => Stages::LOG,
    }
}
