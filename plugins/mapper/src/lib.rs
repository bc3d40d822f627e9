//! PLACEHOLDER: the mapper plugin is being written; it currently does nothing.

use wasmgate_plugin_sdk::{InitError, NoConfig, Plugin, Stages};

/// Does nothing yet.
pub struct Placeholder;

impl Plugin for Placeholder {
    type Config = NoConfig;

    fn init(_config: NoConfig) -> Result<Self, InitError> {
        Ok(Placeholder)
    }

    fn stages(&self) -> Stages {
        Stages::METHOD_REQUEST
    }
}

wasmgate_plugin_sdk::export_plugin!(Placeholder);
