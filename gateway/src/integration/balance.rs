//! Choosing a request's target: weighted round robin, least request (the better of two random
//! choices) and consistent hashing on a ring.
//!
//! Every policy skips targets that are not available (failing their health checks, or
//! ejected) and, on a retry, the targets already tried, as long as another one is available.

use std::hash::{BuildHasher, Hash};
use std::sync::atomic::{AtomicUsize, Ordering};

use http::HeaderMap;
use http::header::COOKIE;

use crate::config::{Balance, HashOn};

/// A round-robin schedule longer than this is built from scaled-down weights.
const MAX_SCHEDULE: u64 = 10_000;

/// Points a target of the largest weight has on the hash ring (fewer for lighter targets).
const RING_POINTS: u64 = 160;

/// What the balancer knows of an upstream's targets when it chooses.
pub(super) trait Candidates {
    /// How many targets there are.
    fn count(&self) -> usize;
    /// Whether target `i` may take requests now.
    fn available(&self, i: usize) -> bool;
    /// Requests in flight on target `i`, divided by its weight (for least request).
    fn load(&self, i: usize) -> f64;
}

/// The balancing policy of one upstream, built once per snapshot.
pub(super) enum Balancer {
    /// Smooth weighted round robin over a precomputed schedule of target indices.
    RoundRobin {
        schedule: Vec<u16>,
        next: AtomicUsize,
    },
    /// Two random targets (weighted), the less loaded one wins.
    LeastRequest { weights: Vec<u32> },
    /// A ring of points `(hash, target)` sorted by hash; a key's target is the first point at
    /// or after the key's hash.
    Hash {
        on: HashOn,
        ring: Vec<(u64, u16)>,
        weights: Vec<u32>,
    },
}

/// What a consistent hash key is read from.
pub(super) struct KeySource<'a> {
    /// The request's headers.
    pub headers: &'a HeaderMap,
    /// The client's IP address as text.
    pub client_ip: &'a [u8],
}

impl Balancer {
    /// The policy for targets of `weights` (`ids` name them on the hash ring, so that every
    /// gateway replica builds the same ring).
    pub(super) fn new(balance: &Balance, weights: &[u32], ids: &[String]) -> Self {
        match balance {
            Balance::RoundRobin => Balancer::RoundRobin {
                schedule: smooth_schedule(weights),
                next: AtomicUsize::new(0),
            },
            Balance::LeastRequest => Balancer::LeastRequest {
                weights: weights.to_vec(),
            },
            Balance::Hash(on) => Balancer::Hash {
                on: on.clone(),
                ring: ring(weights, ids),
                weights: weights.to_vec(),
            },
        }
    }

    /// The target for a request, `None` when no target is available. `tried` lists the
    /// targets earlier tries of this request went to: they are avoided while another is
    /// available.
    pub(super) fn pick(
        &self,
        targets: &impl Candidates,
        key: &KeySource<'_>,
        tried: &[usize],
    ) -> Option<usize> {
        if targets.count() == 1 {
            return targets.available(0).then_some(0);
        }
        let fresh = |i: usize| targets.available(i) && !tried.contains(&i);
        let chosen = match self {
            Balancer::RoundRobin { schedule, next } => {
                // A retry looks on from where the rotation is without moving it, so that a
                // failing target's retries do not skew the spread of first tries.
                let start = if tried.is_empty() {
                    next.fetch_add(1, Ordering::Relaxed)
                } else {
                    next.load(Ordering::Relaxed)
                };
                (0..schedule.len())
                    .map(|step| usize::from(schedule[(start + step) % schedule.len()]))
                    .find(|&i| fresh(i))
            }
            Balancer::LeastRequest { weights } => least_request(targets, weights, &fresh),
            Balancer::Hash { on, ring, weights } => match hash_key(on, key) {
                Some(hash) => walk_ring(ring, hash, &fresh),
                None => random_weighted(weights, &fresh),
            },
        };
        // Every available target was tried: a retry may go back to one of them.
        chosen.or_else(|| {
            if tried.is_empty() {
                return None;
            }
            (0..targets.count()).find(|&i| targets.available(i))
        })
    }
}

/// Nginx's smooth weighted round robin, unrolled into a schedule: weights 5, 1, 1 give
/// `a a b a c a a`, not `a a a a a b c`.
fn smooth_schedule(weights: &[u32]) -> Vec<u16> {
    let weights = scaled(weights);
    let total: i64 = weights.iter().map(|&w| i64::from(w)).sum();
    let mut current = vec![0i64; weights.len()];
    let mut schedule = Vec::with_capacity(total as usize);
    for _ in 0..total {
        for (c, &w) in current.iter_mut().zip(&weights) {
            *c += i64::from(w);
        }
        let (best, _) = current
            .iter()
            .enumerate()
            .max_by_key(|&(i, &c)| (c, std::cmp::Reverse(i)))
            .expect("an upstream has a target");
        current[best] -= total;
        schedule.push(best as u16);
    }
    schedule
}

/// Weights divided by their greatest common divisor, and scaled down (keeping every
/// non-zero weight at least 1) when their sum would make a schedule over [`MAX_SCHEDULE`].
fn scaled(weights: &[u32]) -> Vec<u32> {
    let divisor = weights.iter().fold(0, |a, &b| gcd(a, b)).max(1);
    let reduced: Vec<u32> = weights.iter().map(|w| w / divisor).collect();
    let sum: u64 = reduced.iter().map(|&w| u64::from(w)).sum();
    if sum <= MAX_SCHEDULE {
        return reduced;
    }
    reduced
        .iter()
        .map(|&w| match w {
            0 => 0,
            w => ((u64::from(w) * MAX_SCHEDULE / sum) as u32).max(1),
        })
        .collect()
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// Power of two choices: two distinct random targets drawn by weight among the fresh ones,
/// the one with less load per weight wins.
fn least_request(
    targets: &impl Candidates,
    weights: &[u32],
    fresh: &dyn Fn(usize) -> bool,
) -> Option<usize> {
    let first = random_weighted(weights, fresh)?;
    let second = random_weighted(weights, &|i| i != first && fresh(i));
    Some(match second {
        Some(second) if targets.load(second) < targets.load(first) => second,
        _ => first,
    })
}

/// A random fresh target, drawn in proportion to its weight.
fn random_weighted(weights: &[u32], fresh: &dyn Fn(usize) -> bool) -> Option<usize> {
    let total: u64 = (0..weights.len())
        .filter(|&i| fresh(i))
        .map(|i| u64::from(weights[i]))
        .sum();
    if total == 0 {
        return None;
    }
    let mut draw = fastrand::u64(0..total);
    (0..weights.len()).filter(|&i| fresh(i)).find(|&i| {
        let w = u64::from(weights[i]);
        if draw < w {
            return true;
        }
        draw -= w;
        false
    })
}

/// The hash ring: each target has points in proportion to its weight, placed by hashing its
/// id and the point's number.
fn ring(weights: &[u32], ids: &[String]) -> Vec<(u64, u16)> {
    let heaviest = u64::from(weights.iter().copied().max().unwrap_or(1).max(1));
    let mut ring = Vec::new();
    for (i, (&weight, id)) in weights.iter().zip(ids).enumerate() {
        let points = match weight {
            0 => 0,
            w => (u64::from(w) * RING_POINTS / heaviest).max(1),
        };
        for point in 0..points {
            ring.push((stable_hash(&(id.as_str(), point)), i as u16));
        }
    }
    ring.sort_unstable();
    ring
}

/// The first fresh target at or after `hash` on the ring, going round once.
fn walk_ring(ring: &[(u64, u16)], hash: u64, fresh: &dyn Fn(usize) -> bool) -> Option<usize> {
    let start = ring.partition_point(|&(point, _)| point < hash);
    (0..ring.len())
        .map(|step| usize::from(ring[(start + step) % ring.len()].1))
        .find(|&i| fresh(i))
}

/// The request's hash key, `None` when the request does not carry it.
pub(super) fn hash_key(on: &HashOn, key: &KeySource<'_>) -> Option<u64> {
    match on {
        HashOn::Header(name) => key.headers.get(name).map(|v| stable_hash(v.as_bytes())),
        HashOn::ClientIp => Some(stable_hash(key.client_ip)),
        HashOn::Cookie(name) => key
            .headers
            .get_all(COOKIE)
            .iter()
            .flat_map(|line| line.as_bytes().split(|&b| b == b';'))
            .find_map(|pair| {
                let pair = pair.trim_ascii();
                let (n, value) = pair.split_at(pair.iter().position(|&b| b == b'=')?);
                (n == name.as_bytes()).then(|| stable_hash(&value[1..]))
            }),
    }
}

/// A hash that is the same in every process of this build, so that replicas agree on where
/// a key goes.
fn stable_hash<T: Hash + ?Sized>(value: &T) -> u64 {
    foldhash::fast::FixedState::with_seed(0x0005_eed0_fba1_a4ce).hash_one(value)
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    struct Fake {
        up: bool,
        load: Cell<f64>,
    }

    impl Candidates for Vec<Fake> {
        fn count(&self) -> usize {
            self.len()
        }
        fn available(&self, i: usize) -> bool {
            self[i].up
        }
        fn load(&self, i: usize) -> f64 {
            self[i].load.get()
        }
    }

    fn targets(n: usize) -> Vec<Fake> {
        (0..n)
            .map(|_| Fake {
                up: true,
                load: Cell::new(0.0),
            })
            .collect()
    }

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("http://10.0.0.{i}:80")).collect()
    }

    fn no_key() -> KeySource<'static> {
        static EMPTY: std::sync::OnceLock<HeaderMap> = std::sync::OnceLock::new();
        KeySource {
            headers: EMPTY.get_or_init(HeaderMap::new),
            client_ip: b"127.0.0.1",
        }
    }

    fn counts(balancer: &Balancer, targets: &Vec<Fake>, picks: usize) -> Vec<usize> {
        let mut counts = vec![0; targets.len()];
        for _ in 0..picks {
            counts[balancer.pick(targets, &no_key(), &[]).unwrap()] += 1;
        }
        counts
    }

    #[test]
    fn round_robin_follows_the_weights_and_interleaves() {
        assert_eq!(smooth_schedule(&[5, 1, 1]), [0, 0, 1, 0, 2, 0, 0]);
        let balancer = Balancer::new(&Balance::RoundRobin, &[3, 1, 0], &ids(3));
        assert_eq!(counts(&balancer, &targets(3), 400), [300, 100, 0]);
    }

    #[test]
    fn huge_weights_make_a_bounded_schedule_that_keeps_every_target() {
        let weights: Vec<u32> = (0..100).map(|i| 1000 - i).collect();
        let schedule = smooth_schedule(&weights);
        assert!(schedule.len() as u64 <= MAX_SCHEDULE);
        assert!((0..100).all(|i| schedule.contains(&i)));
    }

    #[test]
    fn unavailable_and_tried_targets_are_skipped_while_another_is_available() {
        let mut ts = targets(3);
        ts[1].up = false;
        for balance in [
            Balance::RoundRobin,
            Balance::LeastRequest,
            Balance::Hash(HashOn::ClientIp),
        ] {
            let balancer = Balancer::new(&balance, &[1, 1, 1], &ids(3));
            for _ in 0..50 {
                assert_ne!(balancer.pick(&ts, &no_key(), &[]), Some(1), "{balance:?}");
                assert_eq!(balancer.pick(&ts, &no_key(), &[0]), Some(2), "{balance:?}");
                // Both available targets tried: go back to one rather than fail.
                let again = balancer.pick(&ts, &no_key(), &[0, 2]);
                assert!(matches!(again, Some(0 | 2)), "{balance:?}");
            }
        }
        let all_down: Vec<Fake> = (0..3)
            .map(|_| Fake {
                up: false,
                load: Cell::new(0.0),
            })
            .collect();
        let balancer = Balancer::new(&Balance::RoundRobin, &[1, 1, 1], &ids(3));
        assert_eq!(balancer.pick(&all_down, &no_key(), &[]), None);
    }

    #[test]
    fn least_request_prefers_the_idle_target() {
        let ts = targets(2);
        ts[0].load.set(10.0);
        let balancer = Balancer::new(&Balance::LeastRequest, &[1, 1], &ids(2));
        assert_eq!(counts(&balancer, &ts, 100), [0, 100]);
    }

    #[test]
    fn a_hash_key_sticks_to_its_target_and_few_keys_move_when_one_goes() {
        let on = HashOn::Header(http::HeaderName::from_static("x-user"));
        let balancer = Balancer::new(&Balance::Hash(on), &[1, 1, 1, 1], &ids(4));
        let mut ts = targets(4);
        let pick = |ts: &Vec<Fake>, user: usize| {
            let mut headers = HeaderMap::new();
            headers.insert("x-user", user.to_string().parse().unwrap());
            let key = KeySource {
                headers: &headers,
                client_ip: b"",
            };
            balancer.pick(ts, &key, &[]).unwrap()
        };
        let before: Vec<usize> = (0..1000).map(|u| pick(&ts, u)).collect();
        assert_eq!(before, (0..1000).map(|u| pick(&ts, u)).collect::<Vec<_>>());
        let spread = (0..4).map(|t| before.iter().filter(|&&b| b == t).count());
        assert!(
            spread.clone().all(|n| n > 150),
            "{:?}",
            spread.collect::<Vec<_>>()
        );
        ts[3].up = false;
        let moved = (0..1000)
            .filter(|&u| before[u] != 3 && pick(&ts, u) != before[u])
            .count();
        assert_eq!(moved, 0, "only the keys of the target that went move");
    }

    #[test]
    fn the_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.append(COOKIE, "a=1; session=abc".parse().unwrap());
        let key = KeySource {
            headers: &headers,
            client_ip: b"",
        };
        let on = HashOn::Cookie("session".into());
        assert_eq!(hash_key(&on, &key), Some(stable_hash(&b"abc"[..])));
        assert_eq!(hash_key(&HashOn::Cookie("x".into()), &key), None);
    }
}
