//! Validated usage plans: a throttle (token bucket) and a quota (calendar window), per key.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use wasmgate_plugin_sdk::InitError;
use wasmgate_plugin_sdk::rate_limit::{Bucket, Window, algorithm};

use crate::config::{PlanConfig, QuotaConfig, ThrottleConfig};
use wasmgate_plugin_sdk::rate_limit::parse_period;

/// A usage plan, shared by the keys on it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Plan {
    /// The plan's name, set as `api-key.plan`.
    pub(crate) name: String,
    /// `burst` requests at once, then `rate` per period.
    pub(crate) throttle: Option<Bucket>,
    /// Requests per calendar window.
    pub(crate) quota: Option<Quota>,
}

/// A quota: `limit` requests per UTC `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Quota {
    /// Requests per window, at least 1.
    pub(crate) limit: u64,
    /// The calendar window.
    pub(crate) window: Window,
}

/// The plans by name.
pub(crate) type Plans = BTreeMap<String, Arc<Plan>>;

/// Validates the `plans` table.
pub(crate) fn plans(config: BTreeMap<String, PlanConfig>) -> Result<Plans, InitError> {
    config
        .into_iter()
        .map(|(name, plan)| {
            let path = format!("plans.{name}");
            if name.is_empty() {
                return Err(InitError::invalid_config("plans", "a plan name is empty"));
            }
            let throttle = plan
                .throttle
                .map(|throttle| bucket(&format!("{path}.throttle"), throttle))
                .transpose()?;
            let quota = plan
                .quota
                .map(|quota| self::quota(&format!("{path}.quota"), quota))
                .transpose()?;
            let plan = Plan {
                name: name.clone(),
                throttle,
                quota,
            };
            Ok((name, Arc::new(plan)))
        })
        .collect()
}

fn bucket(path: &str, config: ThrottleConfig) -> Result<Bucket, InitError> {
    let period = match &config.period {
        Some(period) => parse_period(period)
            .map_err(|err| InitError::invalid_config(&format!("{path}.period"), err))?,
        None => Duration::from_secs(1),
    };
    for (field, value) in [("rate", Some(config.rate)), ("burst", config.burst)] {
        if value == Some(0) {
            return Err(InitError::invalid_config(
                &format!("{path}.{field}"),
                "must be at least 1",
            ));
        }
    }
    let bucket = Bucket {
        rate: config.rate,
        period,
        burst: config.burst.unwrap_or(config.rate),
    };
    algorithm::validate_bucket(&bucket).map_err(|err| InitError::invalid_config(path, err))?;
    if u128::from(bucket.rate) > period.as_micros() {
        return Err(InitError::invalid_config(
            &format!("{path}.rate"),
            "more than one request per microsecond: use a longer period or a lower rate",
        ));
    }
    Ok(bucket)
}

fn quota(path: &str, config: QuotaConfig) -> Result<Quota, InitError> {
    if config.limit == 0 {
        return Err(InitError::invalid_config(
            &format!("{path}.limit"),
            "must be at least 1 (to suspend keys, set `enabled = false` on them)",
        ));
    }
    Ok(Quota {
        limit: config.limit,
        window: config.period,
    })
}
