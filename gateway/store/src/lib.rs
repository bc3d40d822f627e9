//! The shared state behind wasmgate's `rate-limit` and `kv` capabilities: GCRA token buckets,
//! quota counters over UTC calendar windows, and a small key-value store with expiry.
//!
//! Two backends answer the same [`StoreBackend`] calls:
//!
//! - [`MemoryStore`], the default: in the gateway's memory, sharded by key so concurrent
//!   requests rarely contend; expired entries are dropped when touched and by a periodic sweep.
//! - [`RedisStore`]: one Redis server shared by every gateway replica, so they enforce one
//!   combined limit. Buckets and quotas are atomic server-side Lua scripts that read the
//!   server's clock, so replicas with skewed clocks still agree.
//!
//! Both run the plugin contract's
//! [`algorithm`](wasmgate_plugin_contract::rate_limit::algorithm), so a plugin sees the same
//! decisions from either backend as from the SDK's fake host.
//!
//! # Lifecycle
//!
//! ```text
//!   Store::open(&config) ──► check_bucket / use_quota / kv_* (any task, concurrently)
//!          │                        │ on a config reload:
//!          │                        └─► store.same_config(&new) ? keep it : open a new one
//!          └─ never waits for Redis: an unreachable server is retried in the background,
//!             and calls fail fast with `StoreFailure::Unavailable` until it answers.
//! ```
//!
//! The gateway owns the failure policy (fail open or closed); this crate only reports
//! [`StoreFailure::Unavailable`] promptly (every Redis command is bounded by
//! [`RedisConfig::command_timeout`]).
//!
//! # Keys
//!
//! Callers pass keys already namespaced by plugin (`jwt:ip:203.0.113.7`). Buckets, quotas and
//! key-value entries live in separate key spaces, so the same key can name one of each. Limits
//! on keys and values are in [`limits`].
//!
//! # Testing
//!
//! The memory store takes a [`clock::ManualClock`] ([`MemoryStore::with_clock`]); the
//! `test-support` feature adds `test_support::RedisServer`, a throwaway `redis-server` that
//! tests can stop, restart, pause and resume.

pub mod clock;
mod config;
pub mod limits;
mod memory;
mod redis_store;
mod store;
#[cfg(feature = "test-support")]
pub mod test_support;

pub use config::{RedisConfig, StoreConfig};
pub use memory::MemoryStore;
pub use redis_store::RedisStore;
pub use store::{Store, StoreBackend};

/// Why a store call was not answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreFailure {
    /// The backend could not answer: a Redis command timed out, the connection was refused or
    /// is being re-established, or the server returned an error. The reason names the server
    /// and what happened, e.g. `redis 127.0.0.1:6379: command timed out after 50ms`.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// The arguments were refused (an empty or oversized key, a zero rate, a value over
    /// [`limits::MAX_VALUE_BYTES`] …); retrying will not help.
    #[error("invalid store call: {0}")]
    Invalid(String),
}

/// Why [`Store::open`] refused a configuration. Nothing is ever refused because Redis is
/// unreachable: that is retried in the background.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    /// The Redis URL could not be parsed (the password, if any, is masked).
    #[error("invalid Redis URL `{url}`: {reason} (expected e.g. `redis://127.0.0.1:6379/0`)")]
    InvalidUrl {
        /// The URL, with its password replaced by `***`.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A setting is out of range (the message names it and its valid range).
    #[error("invalid store setting: {0}")]
    InvalidSetting(String),
    /// The Redis store runs its connection in a background task: open it from inside a Tokio
    /// runtime.
    #[error("the Redis store must be opened from inside a Tokio runtime")]
    NoRuntime,
}
