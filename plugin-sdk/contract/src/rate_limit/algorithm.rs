//! The arithmetic behind buckets and quotas, shared by the gateway's stores (in memory, and
//! mirrored by its Redis script) and the SDK's fake host, so they agree to the microsecond.
//!
//! Times are microseconds since the Unix epoch: precise enough for rates of a million per
//! second, and small enough to stay exact in the doubles of a Redis Lua script (below 2^53).

use super::{Bucket, BucketDecision, QuotaDecision, Window};
use std::time::Duration;

const SECONDS_PER_DAY: u64 = 86_400;
const SECONDS_PER_WEEK: u64 = 7 * SECONDS_PER_DAY;
/// 1970-01-05, the first Monday after the Unix epoch (a Thursday).
const FIRST_MONDAY: u64 = 4 * SECONDS_PER_DAY;

/// Why a bucket is refused: zero rate, burst or period.
pub fn validate_bucket(bucket: &Bucket) -> Result<(), String> {
    if bucket.rate == 0 {
        return Err("bucket rate must be at least 1".into());
    }
    if bucket.burst == 0 {
        return Err("bucket burst must be at least 1".into());
    }
    if bucket.period < Duration::from_millis(1) {
        return Err("bucket period must be at least 1 ms".into());
    }
    Ok(())
}

/// The time between two requests at the bucket's steady rate, in microseconds (at least 1).
pub fn emission_interval_us(bucket: &Bucket) -> u64 {
    let period_us = u64::try_from(bucket.period.as_micros()).unwrap_or(u64::MAX);
    (period_us / u64::from(bucket.rate.max(1))).max(1)
}

/// One GCRA check. `stored_tat_us` is the key's theoretical arrival time (none for a new key).
/// Returns the decision and, when the cost was taken, the new arrival time to store; the key
/// can expire once that time has passed.
///
/// A request of cost `c` is allowed when the arrival time after it, `max(tat, now) + c·T`, is
/// no more than `burst·T` ahead of now (T is the emission interval): a full bucket lets
/// `burst` requests through at once, then one every T.
pub fn check_bucket(
    stored_tat_us: Option<u64>,
    now_us: u64,
    bucket: &Bucket,
    cost: u32,
) -> (BucketDecision, Option<u64>) {
    let interval = emission_interval_us(bucket);
    let limit = interval.saturating_mul(u64::from(bucket.burst));
    let tat = stored_tat_us.unwrap_or(now_us).max(now_us);
    let new_tat = tat.saturating_add(interval.saturating_mul(u64::from(cost)));
    let ahead_after = new_tat - now_us;
    if ahead_after <= limit {
        let decision = BucketDecision {
            allowed: true,
            remaining: remaining(limit - ahead_after, interval),
            retry_after: Duration::ZERO,
            reset_after: Duration::from_micros(ahead_after),
        };
        (decision, (cost > 0).then_some(new_tat))
    } else {
        let ahead = tat - now_us;
        let decision = BucketDecision {
            allowed: false,
            remaining: remaining(limit.saturating_sub(ahead), interval),
            retry_after: Duration::from_micros(ahead_after - limit),
            reset_after: Duration::from_micros(ahead),
        };
        (decision, None)
    }
}

fn remaining(room_us: u64, interval_us: u64) -> u32 {
    u32::try_from(room_us / interval_us).unwrap_or(u32::MAX)
}

/// The window containing `now` (seconds since the Unix epoch), as `(start, end)` in seconds.
pub fn window_bounds(window: Window, now: u64) -> (u64, u64) {
    match window {
        Window::Day => {
            let start = now - now % SECONDS_PER_DAY;
            (start, start + SECONDS_PER_DAY)
        }
        Window::Week => {
            let since_monday = now.saturating_sub(FIRST_MONDAY);
            let start = FIRST_MONDAY + since_monday - since_monday % SECONDS_PER_WEEK;
            (start, start + SECONDS_PER_WEEK)
        }
        Window::Month => {
            let (year, month, _) = civil_from_days(now / SECONDS_PER_DAY);
            let (next_year, next_month) = if month == 12 {
                (year + 1, 1)
            } else {
                (year, month + 1)
            };
            (
                days_from_civil(year, month, 1) * SECONDS_PER_DAY,
                days_from_civil(next_year, next_month, 1) * SECONDS_PER_DAY,
            )
        }
    }
}

/// The outcome of using `cost` of a quota of `limit` when `used` were already counted in the
/// window ending at `resets_at`. Refused uses are not counted.
pub fn quota_decision(used: u64, limit: u64, cost: u64, resets_at: u64) -> QuotaDecision {
    let after = used.saturating_add(cost);
    let allowed = after <= limit;
    let used = if allowed { after } else { used };
    QuotaDecision {
        allowed,
        used,
        remaining: limit.saturating_sub(used),
        resets_at,
    }
}

/// `(year, month, day)` of a day number since 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// The day number since 1970-01-01 of a date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year / 400;
    let year_of_era = year - era * 400;
    let month_index = if month > 2 { month - 3 } else { month + 9 };
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: u64 = 1_000_000;

    fn bucket(rate: u32, burst: u32) -> Bucket {
        Bucket::per_second(rate, burst)
    }

    /// Runs `n` checks of cost 1 at `now`, threading the stored state, and counts the allowed.
    fn allowed_at(tat: &mut Option<u64>, now: u64, bucket: &Bucket, n: u32) -> u32 {
        (0..n)
            .filter(|_| {
                let (decision, new_tat) = check_bucket(*tat, now, bucket, 1);
                if let Some(new_tat) = new_tat {
                    *tat = Some(new_tat);
                }
                decision.allowed
            })
            .count() as u32
    }

    #[test]
    fn a_full_bucket_allows_burst_then_rate_per_period() {
        let b = bucket(5, 10);
        let mut tat = None;
        let start = 1_700_000_000 * SECOND;
        assert_eq!(allowed_at(&mut tat, start, &b, 20), 10);
        // Each further second lets exactly `rate` through.
        for second in 1..=3 {
            assert_eq!(allowed_at(&mut tat, start + second * SECOND, &b, 20), 5);
        }
    }

    #[test]
    fn a_refusal_says_when_to_retry_and_what_remains() {
        let b = bucket(2, 2);
        let now = 50 * SECOND;
        let (first, tat) = check_bucket(None, now, &b, 1);
        assert_eq!((first.allowed, first.remaining), (true, 1));
        assert_eq!(first.reset_after, Duration::from_millis(500));
        let (second, tat) = check_bucket(tat, now, &b, 1);
        assert_eq!((second.allowed, second.remaining), (true, 0));
        let (third, unchanged) = check_bucket(tat, now, &b, 1);
        assert!(!third.allowed);
        assert_eq!(unchanged, None);
        assert_eq!(third.retry_after, Duration::from_millis(500));
        assert_eq!(third.reset_after, Duration::from_secs(1));
        // Exactly at the retry time the request goes through.
        let (later, _) = check_bucket(tat, now + SECOND / 2, &b, 1);
        assert!(later.allowed);
    }

    #[test]
    fn a_zero_cost_check_reads_without_taking() {
        let b = bucket(1, 3);
        let (decision, stored) = check_bucket(None, SECOND, &b, 0);
        assert_eq!(
            (decision.allowed, decision.remaining, stored),
            (true, 3, None)
        );
    }

    #[test]
    fn buckets_without_rate_burst_or_period_are_refused() {
        assert!(validate_bucket(&bucket(0, 1)).is_err());
        assert!(validate_bucket(&bucket(1, 0)).is_err());
        let instant = Bucket {
            period: Duration::ZERO,
            ..bucket(1, 1)
        };
        assert!(validate_bucket(&instant).is_err());
        assert!(validate_bucket(&bucket(1, 1)).is_ok());
    }

    #[test]
    fn windows_follow_the_utc_calendar() {
        // 2026-11-21 (a Saturday) 15:30:00 UTC.
        let now = 1_795_275_000;
        assert_eq!(
            window_bounds(Window::Day, now),
            (1_795_219_200, 1_795_305_600)
        );
        // Monday 2026-11-16 to Monday 2026-11-23.
        assert_eq!(
            window_bounds(Window::Week, now),
            (1_794_787_200, 1_795_392_000)
        );
        // 2026-11-01 to 2026-12-01.
        assert_eq!(
            window_bounds(Window::Month, now),
            (1_793_491_200, 1_796_083_200)
        );
        // December rolls over into the next year: 2026-12-01 to 2027-01-01.
        assert_eq!(
            window_bounds(Window::Month, 1_796_083_200),
            (1_796_083_200, 1_798_761_600)
        );
    }

    #[test]
    fn a_quota_refuses_what_would_go_over_without_counting_it() {
        let d = quota_decision(9, 10, 1, 100);
        assert_eq!((d.allowed, d.used, d.remaining), (true, 10, 0));
        let d = quota_decision(10, 10, 1, 100);
        assert_eq!((d.allowed, d.used, d.remaining), (false, 10, 0));
        let d = quota_decision(5, 10, 6, 100);
        assert_eq!((d.allowed, d.used, d.remaining), (false, 5, 5));
    }
}
