//! `noop`: declares every stage and does nothing at any of them, so a benchmark measures the
//! gateway's cost of calling a plugin and nothing else.

use wasmgate_plugin_sdk::{InitError, NoConfig, Plugin, Stages};

/// The plugin: no state, no work.
pub struct Noop;

impl Plugin for Noop {
    type Config = NoConfig;

    fn init(_config: NoConfig) -> Result<Self, InitError> {
        Ok(Noop)
    }

    fn stages(&self) -> Stages {
        Stages::ALL
    }
}

wasmgate_plugin_sdk::export_plugin!(Noop);
