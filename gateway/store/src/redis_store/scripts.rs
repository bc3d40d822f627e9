//! The Lua scripts that make bucket checks and quota uses atomic on the Redis server, and the
//! key names they work on.
//!
//! Each script reads the server's clock (`TIME`), so replicas whose clocks disagree still
//! share one limit, and returns what it saw (the time, the stored state) rather than a
//! decision: the Rust side then runs the plugin contract's
//! [`algorithm`](wasmgate_plugin_contract::rate_limit::algorithm) on those values, so Redis answers
//! exactly what the memory store and the SDK's fake host answer. The scripts only decide
//! whether to write, with the same comparison, in integers below 2^53 that Lua's doubles hold
//! exactly (see [`limits`](crate::limits)).

use std::sync::LazyLock;

use redis::Script;
use wasmgate_plugin_contract::rate_limit::Window;

/// The GCRA check. `KEYS[1]`: the bucket. `ARGV[1]`: how far ahead of now the arrival time may
/// run after a request (emission interval × burst, µs). `ARGV[2]`: the request's cost in µs
/// (emission interval × cost, capped at 2^53; 0 only reads).
///
/// Returns `{now_us, stored_tat_us or -1, taken (1 or 0)}`. The key expires when its arrival
/// time passes: the bucket is full again and equivalent to an absent key.
pub(super) static CHECK_BUCKET: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.replicate_commands then redis.replicate_commands() end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local limit = tonumber(ARGV[1])
local cost = tonumber(ARGV[2])
local raw = redis.call('GET', KEYS[1])
local stored = raw and tonumber(raw)
local tat = now
if stored and stored > now then tat = stored end
if cost <= limit - (tat - now) then
  if cost > 0 then
    local new_tat = tat + cost
    local ttl_ms = math.max(1, math.ceil((new_tat - now) / 1000))
    redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', string.format('%.0f', ttl_ms))
  end
  return {now, stored or -1, 1}
end
return {now, stored or -1, 0}
",
    )
});

/// The quota use. `KEYS[1]`: the count of the window `[ARGV[1], ARGV[2])` (seconds since the
/// epoch). `ARGV[3]`: the window's end in ms (when the key expires). `ARGV[4]`: the limit.
/// `ARGV[5]`: the cost (capped at 2^53).
///
/// The caller computes the window from its estimate of the server's clock; if the server's
/// `TIME` falls outside it, nothing is counted and `{0, now_us, 0}` tells the caller to try
/// again with the server's time. Otherwise returns `{1, now_us, used_before}`.
pub(super) static USE_QUOTA: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.replicate_commands then redis.replicate_commands() end
local time = redis.call('TIME')
local now_s = tonumber(time[1])
local now_us = now_s * 1000000 + tonumber(time[2])
if now_s < tonumber(ARGV[1]) or now_s >= tonumber(ARGV[2]) then
  return {0, now_us, 0}
end
local raw = redis.call('GET', KEYS[1])
local used = raw and tonumber(raw) or 0
local cost = tonumber(ARGV[5])
if cost > 0 and cost <= tonumber(ARGV[4]) - used then
  redis.call('INCRBY', KEYS[1], ARGV[5])
  redis.call('PEXPIREAT', KEYS[1], ARGV[3])
end
return {1, now_us, used}
",
    )
});

/// Names Redis keys: `<prefix>:bucket:<key>`, `<prefix>:quota:<window>:<start>:<key>` and
/// `<prefix>:kv:<key>`, so the three kinds never collide and each quota window has its own
/// counter (a new window starts at 0; the old one expires at its end).
#[derive(Debug, Clone)]
pub(super) struct KeySpace {
    /// `"<prefix>:"`, or empty for no prefix.
    prefix: String,
}

impl KeySpace {
    pub(super) fn new(prefix: &str) -> Self {
        let prefix = if prefix.is_empty() {
            String::new()
        } else {
            format!("{prefix}:")
        };
        KeySpace { prefix }
    }

    pub(super) fn bucket(&self, key: &str) -> String {
        format!("{}bucket:{key}", self.prefix)
    }

    pub(super) fn quota(&self, key: &str, window: Window, start: u64) -> String {
        let window = match window {
            Window::Day => "day",
            Window::Week => "week",
            Window::Month => "month",
        };
        format!("{}quota:{window}:{start}:{key}", self.prefix)
    }

    pub(super) fn kv(&self, key: &str) -> String {
        format!("{}kv:{key}", self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_state_has_its_own_key_space() {
        let keys = KeySpace::new("wasmgate");
        assert_eq!(keys.bucket("jwt:ip:1"), "wasmgate:bucket:jwt:ip:1");
        assert_eq!(
            keys.quota("jwt:k", Window::Week, 1_794_787_200),
            "wasmgate:quota:week:1794787200:jwt:k"
        );
        assert_eq!(keys.kv("jwt:t"), "wasmgate:kv:jwt:t");
        assert_eq!(KeySpace::new("").kv("a"), "kv:a");
    }
}
