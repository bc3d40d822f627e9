//! The state of a key's quota after a request: kept in the context for later plugins and the
//! METHOD RESPONSE stage, and shown to clients as `X-Quota-*` headers when enabled.

use std::time::{Duration, SystemTime};

use wasmgate_plugin_sdk::rate_limit::QuotaDecision;
use wasmgate_plugin_sdk::{Context, EditError, clock};

use wasmgate_plugin_sdk::rate_limit::whole_seconds_up;

/// Context key: the quota of the key's plan per window.
pub const QUOTA_LIMIT: &str = "api-key.quota-limit";
/// Context key: requests left in the current window.
pub const QUOTA_REMAINING: &str = "api-key.quota-remaining";
/// Context key: when the current window ends, in seconds since the Unix epoch.
pub const QUOTA_RESETS_AT: &str = "api-key.quota-resets-at";

/// A key's quota after a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct QuotaState {
    /// Requests per window.
    pub(crate) limit: u64,
    /// Requests left in the window.
    pub(crate) remaining: u64,
    /// When the window ends, in seconds since the Unix epoch.
    pub(crate) resets_at: u64,
}

impl QuotaState {
    /// The state after `decision` on a quota of `limit`.
    pub(crate) fn new(limit: u64, decision: &QuotaDecision) -> Self {
        QuotaState {
            limit,
            remaining: decision.remaining,
            resets_at: decision.resets_at,
        }
    }

    /// Writes the state into the context.
    pub(crate) fn record(&self, context: &mut Context<'_>) -> Result<(), EditError> {
        context.set(QUOTA_LIMIT, self.limit.to_string())?;
        context.set(QUOTA_REMAINING, self.remaining.to_string())?;
        context.set(QUOTA_RESETS_AT, self.resets_at.to_string())
    }

    /// The state a METHOD REQUEST call recorded, if any.
    pub(crate) fn recorded(context: &Context<'_>) -> Option<Self> {
        let read = |key: &str| context.get(key).and_then(|value| value.parse().ok());
        Some(QuotaState {
            limit: read(QUOTA_LIMIT)?,
            remaining: read(QUOTA_REMAINING)?,
            resets_at: read(QUOTA_RESETS_AT)?,
        })
    }

    /// Whole seconds until the window ends, rounded up.
    pub(crate) fn reset_secs(&self) -> u64 {
        let resets_at = SystemTime::UNIX_EPOCH + Duration::from_secs(self.resets_at);
        resets_at
            .duration_since(clock::now())
            .map_or(0, whole_seconds_up)
    }

    /// `X-Quota-Limit`, `X-Quota-Remaining` and `X-Quota-Reset` (seconds until the window ends).
    pub(crate) fn headers(&self) -> [(&'static str, String); 3] {
        [
            ("x-quota-limit", self.limit.to_string()),
            ("x-quota-remaining", self.remaining.to_string()),
            ("x-quota-reset", self.reset_secs().to_string()),
        ]
    }
}
