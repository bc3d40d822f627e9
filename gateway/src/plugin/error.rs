//! What can go wrong with a plugin: at load (the config is refused) and at call time (the
//! request follows the plugin's failure policy).

use std::path::PathBuf;

/// Why a plugin could not be loaded. Loading fails as a whole: the previous snapshot stays.
#[derive(Debug, thiserror::Error)]
pub enum PluginLoadError {
    /// The engine could not be configured (a host problem, not the plugin's).
    #[error("cannot start the Wasm engine: {0}")]
    Engine(String),
    /// The `.wasm` file cannot be read.
    #[error("cannot read plugin file `{}`: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not a component.
    #[error("`{}` is not a plugin: {reason}", path.display())]
    NotAComponent {
        /// The file.
        path: PathBuf,
        /// What it is instead.
        reason: String,
    },
    /// The component does not compile.
    #[error("`{}` does not compile: {reason}", path.display())]
    Compile {
        /// The file.
        path: PathBuf,
        /// The compiler's message.
        reason: String,
    },
    /// The component's imports or exports do not match the plugin contract.
    #[error("`{}` does not fit the wasmgate plugin contract: {reason}", path.display())]
    Link {
        /// The file.
        path: PathBuf,
        /// What does not match.
        reason: String,
    },
    /// The component imports capabilities the plugin was not granted.
    #[error(
        "the plugin imports {}, which it was not granted",
        .0.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")
    )]
    NotGranted(Vec<&'static str>),
    /// The plugin's `init` refused its configuration.
    #[error("plugin rejected its config: {0}")]
    InvalidConfig(String),
    /// The plugin's `init` failed for another reason, or trapped.
    #[error("plugin failed to start: {0}")]
    InitFailed(String),
    /// `init` succeeded but declared nothing the host can use.
    #[error("plugin declared no stages: it would never run")]
    NoStages,
}

/// Why one stage call of a plugin failed. The instance is discarded and the request follows the
/// plugin's failure policy.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PluginFailure {
    /// The plugin trapped (a panic, an unreachable, an out-of-bounds access …).
    #[error("plugin trapped: {0}")]
    Trap(String),
    /// The call ran past its deadline.
    #[error("plugin exceeded its {0} ms deadline")]
    Deadline(u128),
    /// The plugin tried to grow its memory past its cap.
    #[error("plugin exceeded its memory cap of {0} bytes")]
    MemoryCap(u64),
    /// No instance became free within the deadline.
    #[error("no plugin instance free within the deadline ({0} instances busy)")]
    Saturated(u32),
    /// A new instance could not be created or initialised.
    #[error("plugin instance could not start: {0}")]
    Instantiate(String),
    /// The plugin answered with a response the host cannot send.
    #[error("plugin returned an invalid response: {0}")]
    InvalidResponse(String),
}

impl PluginFailure {
    /// A short stable name for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            PluginFailure::Trap(_) => "trap",
            PluginFailure::Deadline(_) => "deadline",
            PluginFailure::MemoryCap(_) => "memory_cap",
            PluginFailure::Saturated(_) => "saturated",
            PluginFailure::Instantiate(_) => "instantiate",
            PluginFailure::InvalidResponse(_) => "invalid_response",
        }
    }
}
