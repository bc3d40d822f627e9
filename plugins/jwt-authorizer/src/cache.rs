//! The verification cache in the gateway's `kv` store: a verified token's [`Principal`] under the
//! SHA-256 of the token (salted with the config, so a config change never reuses an entry),
//! kept for the configured TTL and never beyond the token's `exp`. Store errors are cache misses.
//!
//! Only the `cache` feature's component (`jwt_authorizer_cached.wasm`) calls the store: a
//! component imports just the host interfaces it calls, so the default build does not import
//! `kv` and needs no `kv` grant. Native builds (the SDK's fake host, where the store costs
//! nothing to link) always have the cache, so the plugin's tests cover it.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use wasmgate_plugin_sdk::crypto::{self, DigestAlgorithm};
use wasmgate_plugin_sdk::{kv, log};

use crate::claims::Principal;

/// Whether this build can cache (see the module docs): `cache_ttl` is refused at init otherwise.
pub(crate) const AVAILABLE: bool = cfg!(any(feature = "cache", not(target_arch = "wasm32")));

/// The verification cache.
#[derive(Debug, Clone)]
pub(crate) struct Cache {
    ttl: Duration,
    /// A hash of the plugin's config (and of this cache format), mixed into every key.
    salt: Vec<u8>,
}

impl Cache {
    /// Keeps entries for `ttl` (at most; see [`Cache::put`]). `config` identifies the
    /// configuration the entries were verified under.
    pub(crate) fn new(ttl: Duration, config: &[u8]) -> Self {
        let salted = [&b"wasmgate jwt-authorizer cache v1\0"[..], config].concat();
        Cache {
            ttl,
            salt: crypto::digest(DigestAlgorithm::Sha256, &salted),
        }
    }

    /// The cached principal of `token`, if it is there and not expired at `now`.
    pub(crate) fn get(&self, token: &str, now: f64) -> Option<Principal> {
        if !AVAILABLE {
            return None;
        }
        match kv::get(&self.key(token)) {
            Ok(Some(bytes)) => Principal::from_json(&bytes)
                .filter(|principal| principal.expires_at().is_none_or(|exp| now < exp)),
            Ok(None) => None,
            Err(err) => {
                log::debug(
                    "token cache unavailable",
                    &[("error", err.to_string().as_str())],
                );
                None
            }
        }
    }

    /// Caches a verified principal until the TTL or its `exp`, whichever comes first (not at
    /// all when that is less than a millisecond away).
    pub(crate) fn put(&self, token: &str, principal: &Principal, now: f64) {
        let ttl = match principal.expires_at() {
            Some(exp) if exp - now < self.ttl.as_secs_f64() => {
                Duration::try_from_secs_f64(exp - now).unwrap_or(Duration::ZERO)
            }
            _ => self.ttl,
        };
        if ttl < Duration::from_millis(1) || !AVAILABLE {
            return;
        }
        if let Err(err) = kv::set(&self.key(token), &principal.to_json(), ttl) {
            log::debug(
                "token cache unavailable",
                &[("error", err.to_string().as_str())],
            );
        }
    }

    /// `jwt:<base64url(sha256(salt ‖ token))>`.
    fn key(&self, token: &str) -> String {
        let salted = [self.salt.as_slice(), token.as_bytes()].concat();
        let digest = crypto::digest(DigestAlgorithm::Sha256, &salted);
        format!("jwt:{}", URL_SAFE_NO_PAD.encode(digest))
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use serde_json::json;
    use wasmgate_plugin_sdk::testing;

    use super::*;

    const NOW: u64 = 1_750_000_000;

    fn principal(exp: u64) -> Principal {
        let claims = json!({ "sub": "alice", "exp": exp });
        Principal::from_json(claims.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn stores_entries_no_longer_than_the_token_lives() {
        testing::freeze_clock(UNIX_EPOCH + Duration::from_secs(NOW));
        let cache = Cache::new(Duration::from_secs(300), b"{}");
        cache.put("token", &principal(NOW + 60), NOW as f64);
        testing::advance_clock(Duration::from_millis(59_999));
        assert!(kv::get(&cache.key("token")).unwrap().is_some());
        testing::advance_clock(Duration::from_millis(1));
        assert_eq!(kv::get(&cache.key("token")).unwrap(), None);
    }

    #[test]
    fn ignores_a_stored_entry_past_its_exp() {
        testing::freeze_clock(UNIX_EPOCH + Duration::from_secs(NOW));
        let cache = Cache::new(Duration::from_secs(300), b"{}");
        let stale = principal(NOW - 1).to_json();
        kv::set(&cache.key("token"), &stale, Duration::from_secs(300)).unwrap();
        assert_eq!(cache.get("token", NOW as f64), None);
    }

    #[test]
    fn skips_tokens_already_past_their_exp() {
        testing::freeze_clock(UNIX_EPOCH + Duration::from_secs(NOW));
        let cache = Cache::new(Duration::from_secs(300), b"{}");
        cache.put("token", &principal(NOW - 5), NOW as f64);
        assert_eq!(kv::get(&cache.key("token")).unwrap(), None);
    }

    #[test]
    fn salts_keys_with_the_config() {
        let a = Cache::new(Duration::from_secs(1), br#"{"audience":"a"}"#);
        let b = Cache::new(Duration::from_secs(1), br#"{"audience":"b"}"#);
        assert_ne!(a.key("token"), b.key("token"));
        assert!(a.key("token").starts_with("jwt:"));
        assert!(!a.key("token").contains("token"));
    }
}
