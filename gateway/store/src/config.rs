//! Which backend to open. Plain validated values: the gateway parses its `[store]` TOML section
//! and builds these.

use std::fmt;
use std::time::Duration;

/// Which backend holds the buckets, quotas and key-value entries.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum StoreConfig {
    /// In this process's memory: one gateway, no network hop.
    #[default]
    Memory,
    /// A Redis server shared by every gateway replica.
    Redis(RedisConfig),
}

/// How to reach Redis and how long to wait for it.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisConfig {
    /// `redis://[user:password@]host:port[/db]` (or `redis+unix:///path`).
    pub url: String,
    /// The longest a call waits for Redis to answer; past it the call fails with
    /// [`StoreFailure::Unavailable`](crate::StoreFailure::Unavailable). Also bounds the whole
    /// exchange when Redis must first be sent a script it forgot (after a restart).
    pub command_timeout: Duration,
    /// The longest one background connection attempt (or health-check `PING`) takes. Calls never
    /// wait for a connection attempt.
    pub connect_timeout: Duration,
    /// Prefix of every key this store writes (`wasmgate:bucket:…`), so several gateways or
    /// applications can share one Redis database. May be empty.
    pub key_prefix: String,
}

impl RedisConfig {
    /// The default [`command_timeout`](Self::command_timeout): 50 ms.
    pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_millis(50);
    /// The default [`connect_timeout`](Self::connect_timeout): 1 s.
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
    /// The default [`key_prefix`](Self::key_prefix).
    pub const DEFAULT_KEY_PREFIX: &'static str = "wasmgate";

    /// The server at `url`, with the default timeouts and key prefix.
    pub fn new(url: impl Into<String>) -> Self {
        RedisConfig {
            url: url.into(),
            command_timeout: Self::DEFAULT_COMMAND_TIMEOUT,
            connect_timeout: Self::DEFAULT_CONNECT_TIMEOUT,
            key_prefix: Self::DEFAULT_KEY_PREFIX.to_owned(),
        }
    }

    /// The URL with its password, if any, replaced by `***`: safe to log.
    pub fn redacted_url(&self) -> String {
        redact_url(&self.url)
    }
}

/// Does not print the password in the URL.
impl fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisConfig")
            .field("url", &self.redacted_url())
            .field("command_timeout", &self.command_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("key_prefix", &self.key_prefix)
            .finish()
    }
}

/// `scheme://user:secret@host` → `scheme://user:***@host`.
fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let authority_end = url[scheme_end..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| scheme_end + i);
    let Some(at) = url[scheme_end..authority_end]
        .rfind('@')
        .map(|i| scheme_end + i)
    else {
        return url.to_owned();
    };
    match url[scheme_end..at].find(':').map(|i| scheme_end + i) {
        Some(colon) => format!("{}:***{}", &url[..colon], &url[at..]),
        // `redis://secret@host`: a lone user-info part is the password.
        None => format!("{}***{}", &url[..scheme_end], &url[at..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_logged_without_their_password() {
        assert_eq!(
            redact_url("redis://app:s3cr:et@cache:6379/0"),
            "redis://app:***@cache:6379/0"
        );
        assert_eq!(redact_url("redis://:pw@cache"), "redis://:***@cache");
        assert_eq!(redact_url("redis://pw@cache"), "redis://***@cache");
        assert_eq!(
            redact_url("redis://cache:6379/0?a=b@c"),
            "redis://cache:6379/0?a=b@c"
        );
        let debug = format!("{:?}", RedisConfig::new("redis://u:hunter2@h"));
        assert!(!debug.contains("hunter2"), "{debug}");
    }
}
