//! Per-call resource limits: the memory cap of an instance.

use wasmtime::ResourceLimiter;

/// Caps an instance's linear memory and records whether the cap was hit, so a failure can be
/// reported as a memory-cap hit rather than a generic trap.
pub(super) struct MemoryLimiter {
    limit: usize,
    /// Set when a growth past the cap was refused.
    pub(super) hit: bool,
}

impl MemoryLimiter {
    /// A limiter allowing at most `limit` bytes of linear memory per memory.
    pub(super) fn new(limit: usize) -> Self {
        MemoryLimiter { limit, hit: false }
    }
}

/// The error that stops a call when the plugin grows its memory past the cap.
#[derive(Debug, thiserror::Error)]
#[error("memory cap of {limit} bytes reached (wanted {desired})")]
pub(super) struct MemoryCapHit {
    pub(super) limit: usize,
    pub(super) desired: usize,
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.limit {
            self.hit = true;
            // Trap instead of failing `memory.grow`: a Rust guest would abort anyway, and the
            // trap tells the operator exactly why.
            return Err(MemoryCapHit {
                limit: self.limit,
                desired,
            }
            .into());
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}
