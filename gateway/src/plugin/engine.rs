//! The Wasm engine shared by every plugin: one `wasmtime::Engine` with the pooling allocator and
//! copy-on-write memory images, the linker with the host's imports, an epoch ticker that enforces
//! call deadlines, and the compiled-component cache (in memory by content digest, and on disk).
//!
//! Components are compiled by a throw-away engine of the same configuration, not by the serving
//! engine: wasmtime keeps its compiler's scratch contexts (sized for the largest function it ever
//! compiled, tens of MiB for the WAF) for the life of the engine that compiled, and the serving
//! engine lives as long as the process.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use super::bindings::WasmgatePluginPre;
use super::compile::{CompiledPlugin, Waits, waits};
use super::error::PluginLoadError;
use super::host::{self, HostState};
use crate::config::EngineSettings;

/// The engine plugins run on. Built once per process; shared by every snapshot.
pub struct PluginEngine {
    engine: Engine,
    /// The serving engine's configuration with on-demand instance allocation: what each
    /// compilation's throw-away engine is built from. Same code generation, so its artifacts
    /// load into `engine`.
    compile_config: Config,
    /// Links components for calls that may wait (see [`CallMode`](super::CallMode)).
    linker: Linker<HostState>,
    /// Links components called synchronously: `wasi:io` that never waits, and the shared
    /// store's calls driven to completion at once (for the memory store).
    sync_linker: Linker<HostState>,
    settings: EngineSettings,
    /// Compiled components by SHA-256 of their bytes, so a reload that leaves a `.wasm`
    /// unchanged recompiles nothing.
    compiled: Mutex<HashMap<String, Arc<CompiledPlugin>>>,
    /// How many components were actually compiled (or loaded from the disk cache): a reload
    /// that changes only config leaves it unchanged.
    compilations: std::sync::atomic::AtomicU64,
}

impl PluginEngine {
    /// Builds the engine: pooling allocator sized by `settings`, epoch interruption with a
    /// background ticker (async calls yield to the runtime at every tick).
    pub fn new(settings: &EngineSettings) -> Result<Arc<Self>, PluginLoadError> {
        let mut pool = PoolingAllocationConfig::new();
        let instances = settings.max_instances;
        // A Rust wasm32-wasip2 component holds a handful of core instances (the program plus
        // adapter shims), one memory and a few tables.
        pool.total_component_instances(instances)
            .total_core_instances(instances * 8)
            .total_memories(instances * 2)
            .total_tables(instances * 4)
            .total_stacks(instances)
            .max_memory_size(settings.max_memory_bytes as usize);

        let mut config = Config::new();
        config
            .epoch_interruption(true)
            .memory_init_cow(true)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&config).map_err(|e| PluginLoadError::Engine(e.to_string()))?;
        let mut compile_config = config.clone();
        compile_config.allocation_strategy(InstanceAllocationStrategy::OnDemand);
        // One thread per compilation, so that `release_free_memory` on that thread gives back
        // all of its scratch; a snapshot's plugins compile side by side instead.
        compile_config.parallel_compilation(false);

        let link = |sync: bool| -> wasmtime::Result<Linker<HostState>> {
            let mut linker = Linker::new(&engine);
            host::link(&mut linker)?;
            if sync {
                super::sync_io::shadow_async_io(&mut linker)?;
                super::sync_store::shadow_shared_store(&mut linker)?;
            }
            Ok(linker)
        };
        let linker = link(false).map_err(|e| PluginLoadError::Engine(e.to_string()))?;
        let sync_linker = link(true).map_err(|e| PluginLoadError::Engine(e.to_string()))?;

        if let Err(error) = super::epoch_ticker::register(&engine) {
            tracing::error!(%error, "cannot start the epoch ticker: plugin deadlines will not fire");
        }
        Ok(Arc::new(PluginEngine {
            engine,
            compile_config,
            linker,
            sync_linker,
            settings: settings.clone(),
            compiled: Mutex::new(HashMap::new()),
            compilations: std::sync::atomic::AtomicU64::new(0),
        }))
    }

    /// The wasmtime engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The settings the engine was built with (they take effect only at process start).
    pub fn settings(&self) -> &EngineSettings {
        &self.settings
    }

    /// Compiles the component at `path`, or returns the already compiled one with the same
    /// content. Blocking: call it off the request path.
    pub fn compile(&self, path: &Path) -> Result<Arc<CompiledPlugin>, PluginLoadError> {
        // An unchanged file (same inode, size and times) is recognised without reading it.
        if let Some(known) = crate::file_digest::known_digest(path)
            && let Some(hit) = self.lock_compiled().get(&known)
        {
            return Ok(hit.clone());
        }
        let (bytes, digest) =
            crate::file_digest::read_with_digest(path).map_err(|source| PluginLoadError::Read {
                path: path.to_owned(),
                source,
            })?;
        if let Some(hit) = self.lock_compiled().get(&digest) {
            return Ok(hit.clone());
        }
        check_is_component(path, &bytes)?;
        self.compilations
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let component = self.load_component(path, &digest, &bytes);
        crate::allocator::release_free_memory();
        let component = component?;
        let link = |linker: &Linker<HostState>| {
            linker
                .instantiate_pre(&component)
                .and_then(WasmgatePluginPre::new)
                .map_err(|e| PluginLoadError::Link {
                    path: path.to_owned(),
                    reason: format!("{e:#}"),
                })
        };
        let pre = link(&self.linker)?;
        let sync_pre = match waits(&component, &self.engine) {
            Waits::Always => None,
            Waits::Never | Waits::OnSharedStore => Some(link(&self.sync_linker)?),
        };
        let compiled = Arc::new(CompiledPlugin::new(digest.clone(), pre, sync_pre));
        self.lock_compiled().insert(digest, compiled.clone());
        Ok(compiled)
    }

    /// How many components this engine compiled (or loaded from the disk cache) so far.
    pub fn compilations(&self) -> u64 {
        self.compilations.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Forgets compiled components no longer used by any live snapshot.
    pub fn retain_compiled(&self, in_use: impl Fn(&str) -> bool) {
        self.lock_compiled().retain(|digest, _| in_use(digest));
    }

    fn lock_compiled(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<CompiledPlugin>>> {
        self.compiled
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Compiles `bytes`, going through the disk cache when one is configured.
    fn load_component(
        &self,
        path: &Path,
        digest: &str,
        bytes: &[u8],
    ) -> Result<Component, PluginLoadError> {
        let cached = self.cache_file(digest);
        if let Some(file) = cached.as_deref().filter(|f| f.exists()) {
            match deserialize_cached(&self.engine, file) {
                Ok(component) => return Ok(component),
                Err(error) => {
                    tracing::warn!(file = %file.display(), %error, "ignoring unusable compiled-plugin cache entry")
                }
            }
        }
        let compile_error = |e: wasmtime::Error| PluginLoadError::Compile {
            path: path.to_owned(),
            reason: format!("{e:#}"),
        };
        let artifact = Engine::new(&self.compile_config)
            .and_then(|compiler| compiler.precompile_component(bytes))
            .map_err(compile_error)?;
        if let Some(file) = cached {
            match write_cache(&artifact, &file)
                .and_then(|()| deserialize_cached(&self.engine, &file))
            {
                // Mapped from the file: the code pages are shared and reclaimable.
                Ok(component) => return Ok(component),
                Err(error) => {
                    tracing::warn!(file = %file.display(), %error, "cannot use the compiled-plugin cache")
                }
            }
        }
        deserialize_compiled(&self.engine, &artifact).map_err(compile_error)
    }

    /// Where the compiled form of `digest` is cached: keyed by content and by the engine's
    /// compatibility hash, so a different wasmtime or setting never loads a stale artifact.
    fn cache_file(&self, digest: &str) -> Option<PathBuf> {
        let dir = self.settings.cache_dir.as_ref()?;
        let mut engine_hash = std::hash::DefaultHasher::new();
        std::hash::Hash::hash(
            &self.engine.precompile_compatibility_hash(),
            &mut engine_hash,
        );
        let engine_hash = std::hash::Hasher::finish(&engine_hash);
        Some(dir.join(format!("{digest}-{engine_hash:016x}.cwasm")))
    }
}

/// Refuses files that are not Wasm components, with a message saying what they are instead.
fn check_is_component(path: &Path, bytes: &[u8]) -> Result<(), PluginLoadError> {
    use wasmtime::wasmparser::Parser;
    let reason = if Parser::is_component(bytes) {
        return Ok(());
    } else if Parser::is_core_wasm(bytes) {
        "it is a core WebAssembly module, not a component: build the plugin with \
         `--target wasm32-wasip2`"
    } else {
        "it is not a WebAssembly component (bad magic bytes)"
    };
    Err(PluginLoadError::NotAComponent {
        path: path.to_owned(),
        reason: reason.into(),
    })
}

#[allow(unsafe_code)]
fn deserialize_cached(engine: &Engine, file: &Path) -> wasmtime::Result<Component> {
    // SAFETY: the file was written by `write_cache` from `Component::serialize` of this very
    // engine configuration (its name carries the engine's compatibility hash) into a directory
    // the operator dedicated to this cache; wasmtime validates the header and version as well.
    unsafe { Component::deserialize_file(engine, file) }
}

#[allow(unsafe_code)]
fn deserialize_compiled(engine: &Engine, artifact: &[u8]) -> wasmtime::Result<Component> {
    // SAFETY: `artifact` was produced a moment ago by `precompile_component` of an engine built
    // from this engine's configuration (only the instance allocator differs, which code
    // generation does not depend on); wasmtime checks the header and compatibility as well.
    unsafe { Component::deserialize(engine, artifact) }
}

fn write_cache(artifact: &[u8], file: &Path) -> wasmtime::Result<()> {
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = file.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, artifact)?;
    std::fs::rename(&tmp, file)?;
    Ok(())
}
