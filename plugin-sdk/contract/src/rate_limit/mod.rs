//! Token buckets and quota counters: their types and the arithmetic behind them
//! ([`algorithm`]), shared by the gateway's stores and the SDK's fake host, so a plugin sees the
//! same decisions from either.

pub mod algorithm;

use std::time::Duration;

/// A token bucket: `burst` requests at once, then `rate` requests per `period`. Checked as a
/// GCRA, see [`algorithm::check_bucket`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Bucket {
    /// Requests allowed per period. At least 1.
    pub rate: u32,
    /// The period (at least a millisecond).
    pub period: Duration,
    /// Requests allowed at once on a full bucket. At least 1.
    pub burst: u32,
}

impl Bucket {
    /// `rate` requests per second with bursts of up to `burst`.
    pub fn per_second(rate: u32, burst: u32) -> Self {
        Bucket {
            rate,
            period: Duration::from_secs(1),
            burst,
        }
    }
}

/// The answer to one bucket check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BucketDecision {
    /// Whether the request may go ahead (and its cost was taken).
    pub allowed: bool,
    /// Requests of cost 1 that would still be allowed right now.
    pub remaining: u32,
    /// When refused: how long until a request of this cost would be allowed (zero when allowed).
    pub retry_after: Duration,
    /// How long until the bucket is full again.
    pub reset_after: Duration,
}

/// A fixed calendar window (UTC) over which a quota counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Window {
    /// From 00:00 to 24:00 UTC.
    Day,
    /// From Monday 00:00 UTC for seven days.
    Week,
    /// From the first of the month 00:00 UTC to the first of the next.
    Month,
}

/// The answer to one quota use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaDecision {
    /// Whether the use fit in the quota (and was counted).
    pub allowed: bool,
    /// Uses counted in the current window, including this one when allowed.
    pub used: u64,
    /// Uses left in the current window.
    pub remaining: u64,
    /// When the current window ends (seconds since the Unix epoch).
    pub resets_at: u64,
}

/// Whole seconds, rounded up — for `Retry-After` and `RateLimit-Reset`: a client waiting that
/// long is sure to get through.
pub fn whole_seconds_up(duration: Duration) -> u64 {
    let micros = u64::try_from(duration.as_micros()).unwrap_or(u64::MAX);
    micros.div_ceil(1_000_000)
}

/// Parses a bucket period written `<number><unit>` — `"500ms"`, `"1s"`, `"1m"`, `"1h"`, `"1d"` —
/// as plugins take it in config; the error says what to write instead.
pub fn parse_period(text: &str) -> Result<Duration, String> {
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    let (number, unit) = text.split_at(digits);
    let unit_ms: u64 = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => 0,
    };
    let millis = number
        .parse::<u64>()
        .ok()
        .and_then(|number| number.checked_mul(unit_ms))
        .filter(|millis| *millis > 0);
    millis.map(Duration::from_millis).ok_or_else(|| {
        format!(
            "`{text}` is not a period: write a positive whole number and a unit (ms, s, m, h, d), \
             e.g. \"1s\", \"500ms\" or \"1m\""
        )
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn rounds_waits_up_to_whole_seconds() {
        use super::whole_seconds_up as ceil_secs;
        use std::time::Duration;
        assert_eq!(ceil_secs(Duration::ZERO), 0);
        assert_eq!(ceil_secs(Duration::from_micros(1)), 1);
        assert_eq!(ceil_secs(Duration::from_secs(1)), 1);
        assert_eq!(ceil_secs(Duration::from_millis(1_001)), 2);
    }

    use super::*;

    #[test]
    fn reads_numbers_with_a_unit() {
        assert_eq!(parse_period("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_period("1s"), Ok(Duration::from_secs(1)));
        assert_eq!(parse_period("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_period("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_period("1d"), Ok(Duration::from_secs(86_400)));
    }

    #[test]
    fn refuses_zero_missing_units_and_spaces() {
        for text in ["0s", "1", "s", "1 s", "1.5s", "-1s", "1sec", ""] {
            assert!(parse_period(text).is_err(), "{text:?}");
        }
    }
}
