//! `interface log` of the contract: a plugin's log lines, as `tracing` events of target
//! `plugin` carrying the plugin, stage, request id and trace id.

use super::HostState;
use crate::exchange::ContextBag;
use crate::plugin::bindings::log;

impl log::Host for HostState {
    fn enabled(&mut self, level: log::Level) -> bool {
        match level {
            log::Level::Trace => tracing::enabled!(target: "plugin", tracing::Level::TRACE),
            log::Level::Debug => tracing::enabled!(target: "plugin", tracing::Level::DEBUG),
            log::Level::Info => tracing::enabled!(target: "plugin", tracing::Level::INFO),
            log::Level::Warn => tracing::enabled!(target: "plugin", tracing::Level::WARN),
            log::Level::Error => tracing::enabled!(target: "plugin", tracing::Level::ERROR),
        }
    }

    fn write(&mut self, level: log::Level, message: String, fields: Vec<(String, String)>) {
        let plugin = &*self.capabilities.plugin;
        let (stage, request_id, trace_id) = match &self.call {
            Some(call) => {
                let context = &call.exchange.context;
                let trace_id = context.get(ContextBag::TRACE_ID).unwrap_or_default();
                (call.stage.name(), call.exchange.request_id(), trace_id)
            }
            None => ("init", "", ""),
        };
        let fields = FieldList(&fields);
        macro_rules! emit {
            ($level:expr) => {
                tracing::event!(target: "plugin", $level, plugin, stage, request_id, trace_id, fields = %fields, "{message}")
            };
        }
        match level {
            log::Level::Trace => emit!(tracing::Level::TRACE),
            log::Level::Debug => emit!(tracing::Level::DEBUG),
            log::Level::Info => emit!(tracing::Level::INFO),
            log::Level::Warn => emit!(tracing::Level::WARN),
            log::Level::Error => emit!(tracing::Level::ERROR),
        }
    }
}

/// Plugin log fields rendered as `key=value` pairs.
struct FieldList<'a>(&'a [(String, String)]);

impl std::fmt::Display for FieldList<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, (key, value)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{key}={value:?}")?;
        }
        Ok(())
    }
}
