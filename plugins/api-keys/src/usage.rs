//! A key's usage plan at work: the throttle first, then the quota.
//!
//! The throttle is checked first so a throttled request does not use up quota: a client
//! retrying in a tight loop is slowed down without burning its day's allowance. A request the
//! quota then refuses has taken a throttle token, which costs nothing that matters: the key is
//! refused until the window resets anyway.

use wasmgate_plugin_sdk::rate_limit;

use crate::keys::Key;
use crate::quota::QuotaState;
use crate::refusal::Refusal;

/// Takes one request from the key's throttle and quota. On success, the quota's state when the
/// plan has one.
pub(crate) fn enforce(key: &Key) -> Result<Option<QuotaState>, Refusal> {
    if let Some(bucket) = key.plan.throttle {
        let decision =
            rate_limit::check_bucket(&key.store_key, bucket, 1).map_err(Refusal::Store)?;
        if !decision.allowed {
            return Err(Refusal::Throttled(decision.retry_after));
        }
    }
    let Some(quota) = key.plan.quota else {
        return Ok(None);
    };
    let decision = rate_limit::use_quota(&key.store_key, quota.limit, quota.window, 1)
        .map_err(Refusal::Store)?;
    let state = QuotaState::new(quota.limit, &decision);
    if decision.allowed {
        Ok(Some(state))
    } else {
        Err(Refusal::QuotaExceeded(state))
    }
}
