//! The state of the limit that applied to a request, as the IETF `RateLimit-*` headers
//! (draft-ietf-httpapi-ratelimit-headers) carry it, and as the context carries it from
//! METHOD REQUEST to METHOD RESPONSE.

use wasmgate_plugin_sdk::rate_limit::{Bucket, BucketDecision, whole_seconds_up};
use wasmgate_plugin_sdk::{Context, EditError};

/// Context key: `RateLimit-Limit`, the burst of the limit that applied.
pub const LIMIT: &str = "rate-limit.limit";
/// Context key: `RateLimit-Remaining`, requests left right now.
pub const REMAINING: &str = "rate-limit.remaining";
/// Context key: `RateLimit-Reset`, whole seconds until the bucket is full again.
pub const RESET: &str = "rate-limit.reset";

/// The `RateLimit-*` values of a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LimitState {
    /// Requests allowed at once on a full bucket (`RateLimit-Limit`).
    pub(crate) limit: u32,
    /// Requests allowed right now (`RateLimit-Remaining`).
    pub(crate) remaining: u32,
    /// Seconds until the bucket is full again, rounded up (`RateLimit-Reset`).
    pub(crate) reset: u64,
}

impl LimitState {
    /// The state after `decision` on `bucket`.
    pub(crate) fn new(bucket: &Bucket, decision: &BucketDecision) -> Self {
        LimitState {
            limit: bucket.burst,
            remaining: decision.remaining,
            reset: whole_seconds_up(decision.reset_after),
        }
    }

    /// Writes the state into the context, unless an earlier limiter recorded a tighter one
    /// (fewer requests remaining): the headers describe the limit closest to refusing.
    pub(crate) fn record(&self, context: &mut Context<'_>) -> Result<(), EditError> {
        if LimitState::recorded(context).is_some_and(|earlier| earlier.remaining < self.remaining) {
            return Ok(());
        }
        context.set(LIMIT, self.limit.to_string())?;
        context.set(REMAINING, self.remaining.to_string())?;
        context.set(RESET, self.reset.to_string())
    }

    /// The state recorded at METHOD REQUEST, if any.
    pub(crate) fn recorded(context: &Context<'_>) -> Option<Self> {
        let remaining = context.get(REMAINING)?.parse().ok()?;
        Some(LimitState {
            limit: context.get(LIMIT)?.parse().ok()?,
            remaining,
            reset: context.get(RESET)?.parse().ok()?,
        })
    }

    /// `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`.
    pub(crate) fn headers(&self) -> [(&'static str, String); 3] {
        [
            ("ratelimit-limit", self.limit.to_string()),
            ("ratelimit-remaining", self.remaining.to_string()),
            ("ratelimit-reset", self.reset.to_string()),
        ]
    }
}
