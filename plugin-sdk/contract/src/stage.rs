//! The stages of the request lifecycle, and what a plugin may edit at each.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// One stage of the request lifecycle, in the order the gateway runs them. Each is one export of
/// the WIT `plugin` interface and one bit of the WIT `stages` flags, in this order.
///
/// Deserialises from (and displays as) its kebab-case WIT name, e.g. `"method-request"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    /// Before anything else: authenticate, authorise, throttle, validate. May answer itself.
    MethodRequest,
    /// Shape the call the backend expects (method, path, query, headers, body).
    IntegrationRequest,
    /// Reshape the backend's answer (or the mock's).
    IntegrationResponse,
    /// Final touches on what the client receives.
    MethodResponse,
    /// After the response has been sent. Read-only.
    Log,
}

impl Stage {
    /// Every stage, in lifecycle order.
    pub const ALL: [Stage; 5] = [
        Stage::MethodRequest,
        Stage::IntegrationRequest,
        Stage::IntegrationResponse,
        Stage::MethodResponse,
        Stage::Log,
    ];

    /// The kebab-case name used in WIT, config, logs and metrics, e.g. `method-request`.
    pub const fn name(self) -> &'static str {
        match self {
            Stage::MethodRequest => "method-request",
            Stage::IntegrationRequest => "integration-request",
            Stage::IntegrationResponse => "integration-response",
            Stage::MethodResponse => "method-response",
            Stage::Log => "log",
        }
    }

    /// The stage's position in [`Stage::ALL`] (for per-stage tables and flag bits).
    pub const fn index(self) -> usize {
        self as usize
    }

    /// Whether the stage runs before the backend call.
    pub const fn is_request_side(self) -> bool {
        matches!(self, Stage::MethodRequest | Stage::IntegrationRequest)
    }

    /// Whether a plugin may edit the request at this stage (before the backend call).
    pub const fn request_editable(self) -> bool {
        self.is_request_side()
    }

    /// Whether a plugin may edit the response at this stage (the log stage is read-only).
    pub const fn response_editable(self) -> bool {
        matches!(self, Stage::IntegrationResponse | Stage::MethodResponse)
    }

    /// Whether a plugin may edit the context at this stage (every stage but the log).
    pub const fn context_editable(self) -> bool {
        !matches!(self, Stage::Log)
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error of parsing a [`Stage`] from a string that names none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseStageError(String);

impl fmt::Display for ParseStageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = Stage::ALL.iter().map(|stage| stage.name()).collect();
        write!(
            f,
            "unknown stage `{}`, expected one of: {}",
            self.0,
            names.join(", ")
        )
    }
}

impl std::error::Error for ParseStageError {}

impl FromStr for Stage {
    type Err = ParseStageError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Stage::ALL
            .into_iter()
            .find(|stage| stage.name() == name)
            .ok_or_else(|| ParseStageError(name.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::Stage;

    #[test]
    fn names_round_trip_and_only_the_log_stage_is_wholly_read_only() {
        for stage in Stage::ALL {
            assert_eq!(stage.name().parse::<Stage>(), Ok(stage));
            assert_eq!(Stage::ALL[stage.index()], stage);
            let editable =
                stage.request_editable() || stage.response_editable() || stage.context_editable();
            assert_eq!(editable, stage != Stage::Log);
        }
        assert!("method_request".parse::<Stage>().is_err());
    }
}
