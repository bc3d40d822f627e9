//! The shared store's imports (`rate-limit`, `kv`) for plugins called synchronously.
//!
//! Their host functions are `async` because the store may be Redis. The embedded memory store
//! answers them at once (a short lock on one shard), so a plugin whose store is the memory
//! store has no reason to run on a fiber: [`shadow_shared_store`] links the same host functions,
//! driven to completion on the spot, into the synchronous linker. A plugin whose store is Redis
//! is instantiated from the async linker instead ([`CompiledPlugin::call_mode`]), so nothing
//! here ever waits on the network; should a call find its future not ready all the same, it
//! traps rather than block the worker thread.
//!
//! [`CompiledPlugin::call_mode`]: super::CompiledPlugin::call_mode

use wasmtime::StoreContextMut;
use wasmtime::component::Linker;

use super::bindings::{kv, rate_limit, types};
use super::host::HostState;
use super::sync_io::at_once;

/// The `rate-limit` and `kv` interfaces as the guest imports them.
const RATE_LIMIT: &str = "wasmgate:plugin/rate-limit@0.1.0";
const KV: &str = "wasmgate:plugin/kv@0.1.0";

type StoreResult<T> = Result<T, types::StoreError>;

/// Replaces, in `linker` (already holding the async `rate-limit` and `kv`), each function with
/// one that drives the same host function to completion at once.
pub(super) fn shadow_shared_store(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    let mut limits = linker.instance(RATE_LIMIT)?;
    limits.func_wrap(
        "check-bucket",
        |mut store: StoreContextMut<'_, HostState>,
         (key, bucket, cost): (String, rate_limit::Bucket, u32)|
         -> wasmtime::Result<(StoreResult<rate_limit::BucketDecision>,)> {
            let call = rate_limit::Host::check_bucket(store.data_mut(), key, bucket, cost);
            Ok((at_once("rate-limit.check-bucket", call)?,))
        },
    )?;
    limits.func_wrap(
        "use-quota",
        |mut store: StoreContextMut<'_, HostState>,
         (key, limit, window, cost): (String, u64, rate_limit::Window, u64)|
         -> wasmtime::Result<(StoreResult<rate_limit::QuotaDecision>,)> {
            let call = rate_limit::Host::use_quota(store.data_mut(), key, limit, window, cost);
            Ok((at_once("rate-limit.use-quota", call)?,))
        },
    )?;
    let mut kv_instance = linker.instance(KV)?;
    kv_instance.func_wrap(
        "get",
        |mut store: StoreContextMut<'_, HostState>,
         (key,): (String,)|
         -> wasmtime::Result<(StoreResult<Option<Vec<u8>>>,)> {
            let call = kv::Host::get(store.data_mut(), key);
            Ok((at_once("kv.get", call)?,))
        },
    )?;
    kv_instance.func_wrap(
        "set",
        |mut store: StoreContextMut<'_, HostState>,
         (key, value, ttl_ms): (String, Vec<u8>, u64)|
         -> wasmtime::Result<(StoreResult<()>,)> {
            let call = kv::Host::set(store.data_mut(), key, value, ttl_ms);
            Ok((at_once("kv.set", call)?,))
        },
    )?;
    kv_instance.func_wrap(
        "delete",
        |mut store: StoreContextMut<'_, HostState>,
         (key,): (String,)|
         -> wasmtime::Result<(StoreResult<()>,)> {
            let call = kv::Host::delete(store.data_mut(), key);
            Ok((at_once("kv.delete", call)?,))
        },
    )?;
    linker.allow_shadowing(false);
    Ok(())
}
