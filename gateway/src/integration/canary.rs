//! Canary releases: which side of a split a request goes to — a route's upstream or the
//! canary's, a stage's variables or its canary's.

use std::sync::Arc;

use http::HeaderMap;
use http::header::COOKIE;
use metrics::Counter;

use super::balance::{KeySource, hash_key};
use super::upstream::HttpUpstream;
use crate::config::{Canary, TrafficSplit};
use crate::metrics::CANARY_REQUESTS_TOTAL;

/// A route's canary: its upstream and how requests are split.
pub struct CanarySplit {
    /// The canary's upstream pool.
    pub upstream: Arc<HttpUpstream>,
    split: TrafficSplit,
    to_canary: Counter,
    to_primary: Counter,
}

impl CanarySplit {
    /// The split of route `route` between `primary` and `canary`'s upstream (counted per
    /// side).
    pub fn new(route: &str, primary: &str, upstream: Arc<HttpUpstream>, canary: Canary) -> Self {
        let side = |upstream: &str, canary: &'static str| metrics::counter!(CANARY_REQUESTS_TOTAL, "route" => route.to_owned(), "upstream" => upstream.to_owned(), "canary" => canary);
        CanarySplit {
            to_canary: side(upstream.name(), "true"),
            to_primary: side(primary, "false"),
            upstream,
            split: canary.split,
        }
    }

    /// Whether the request with `headers` from `client_ip` goes to the canary (see
    /// [`picks_canary`]).
    pub fn chooses_canary(&self, headers: &HeaderMap, client_ip: &[u8]) -> bool {
        let canary = picks_canary(&self.split, headers, client_ip);
        if canary {
            self.to_canary.increment(1);
        } else {
            self.to_primary.increment(1);
        }
        canary
    }
}

/// Whether `split` sends the request with `headers` from `client_ip` to the canary: the side
/// its header or cookie names, else its share — drawn, or from its sticky key.
pub fn picks_canary(split: &TrafficSplit, headers: &HeaderMap, client_ip: &[u8]) -> bool {
    named_side(split, headers).unwrap_or_else(|| by_share(split, headers, client_ip))
}

/// `true`/`1` or `false`/`0` in the split's header, else its cookie.
fn named_side(split: &TrafficSplit, headers: &HeaderMap) -> Option<bool> {
    let from_header = split
        .header
        .as_ref()
        .and_then(|name| headers.get(name))
        .and_then(|value| side(value.as_bytes()));
    from_header.or_else(|| {
        let name = split.cookie.as_deref()?;
        headers
            .get_all(COOKIE)
            .iter()
            .flat_map(|line| line.as_bytes().split(|&b| b == b';'))
            .find_map(|pair| {
                let (n, value) = pair.trim_ascii().split_once_byte(b'=')?;
                (n == name.as_bytes()).then(|| side(value)).flatten()
            })
    })
}

fn by_share(split: &TrafficSplit, headers: &HeaderMap, client_ip: &[u8]) -> bool {
    let points = u64::from(split.basis_points);
    let key = KeySource { headers, client_ip };
    let draw = split
        .sticky
        .as_ref()
        .and_then(|on| hash_key(on, &key))
        .unwrap_or_else(|| fastrand::u64(..));
    draw % 10_000 < points
}

/// A side named in a header or cookie value.
fn side(value: &[u8]) -> Option<bool> {
    match value.trim_ascii() {
        b"true" | b"1" => Some(true),
        b"false" | b"0" => Some(false),
        _ => None,
    }
}

/// `split_once` on bytes.
trait SplitOnceByte {
    fn split_once_byte(&self, byte: u8) -> Option<(&[u8], &[u8])>;
}

impl SplitOnceByte for [u8] {
    fn split_once_byte(&self, byte: u8) -> Option<(&[u8], &[u8])> {
        let at = self.iter().position(|&b| b == byte)?;
        Some((&self[..at], &self[at + 1..]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::HashOn;

    fn split(basis_points: u32, sticky: Option<HashOn>) -> CanarySplit {
        let upstream = super::super::test_upstream("v2", "http://127.0.0.1:1");
        let canary = Canary {
            upstream: "v2".into(),
            split: TrafficSplit {
                basis_points,
                header: Some(http::HeaderName::from_static("x-canary")),
                cookie: Some("canary".into()),
                sticky,
            },
        };
        CanarySplit::new("r", "v1", HttpUpstream::new(&upstream), canary)
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn the_share_is_kept_and_a_named_side_wins() {
        let ten = split(1000, None);
        let none = HeaderMap::new();
        let chosen = (0..20_000)
            .filter(|_| ten.chooses_canary(&none, b""))
            .count();
        assert!((1600..2400).contains(&chosen), "{chosen} of 20000 at 10 %");
        let all = split(10_000, None);
        assert!(all.chooses_canary(&none, b""));
        assert!(!all.chooses_canary(&headers(&[("x-canary", "false")]), b""));
        let zero = split(0, None);
        assert!(zero.chooses_canary(&headers(&[("x-canary", "1")]), b""));
        assert!(zero.chooses_canary(&headers(&[("cookie", "a=b; canary=true")]), b""));
        assert!(!zero.chooses_canary(&headers(&[("x-canary", "maybe")]), b""));
    }

    #[test]
    fn a_sticky_client_stays_on_its_side() {
        let half = split(5000, Some(HashOn::ClientIp));
        let none = HeaderMap::new();
        let mut sides = std::collections::BTreeSet::new();
        for client in 0..50 {
            let ip = format!("10.0.0.{client}");
            let first = half.chooses_canary(&none, ip.as_bytes());
            assert!((0..10).all(|_| half.chooses_canary(&none, ip.as_bytes()) == first));
            sides.insert(first);
        }
        assert_eq!(sides.len(), 2, "clients land on both sides");
    }
}
