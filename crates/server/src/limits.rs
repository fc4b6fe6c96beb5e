//! What one client may take of the server: connections, time, body sizes and request
//! rates. Every number is a named default with the reason for it; `takedown serve`
//! can change the ones an operator may need to (behind a proxy, on a slow link).

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Connections held at once, from everyone. Each costs a socket and a task, a few KiB
/// until it sends a body; 1024 is well under a default `ulimit -n` with room for the
/// store and logs, and far more than the partners of one organisation keep open.
pub const MAX_CONNECTIONS: usize = 1024;
/// Connections held at once from one address (an IPv6 client counts by its /64, since one
/// host is usually given a whole /64). A browser opens about 6, a TAXII client 1 to 4;
/// 64 leaves room for a small office behind one NAT while one client cannot take more
/// than a sixteenth of [`MAX_CONNECTIONS`].
pub const MAX_CONNECTIONS_PER_ADDRESS: usize = 64;
/// From when a connection is ready for a request (opened, or done with the previous
/// one) to the end of the request's headers. Headers are a few hundred bytes; 10 s is
/// ample on any link and makes a client that dribbles them give its slot back soon.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// A connection with no request under way and no byte moving either way for this long
/// is closed: keep-alive saves a TAXII poller a handshake, and idle ones are what fills a
/// server's connection table. 5 s is what Apache has long kept idle connections for.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest pause while a request body is arriving. 10 s without a byte is a stalled
/// or hostile client, not a slow link.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(10);
/// The whole of one request, its body included, from headers to answer: 60 s moves a
/// 16 MiB TAXII envelope over a 2.2 Mbit/s link, and no read takes that long.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// Bodies of REST action calls (`{"reason": "…"}`) and dashboard forms (a CSRF token, a
/// reason, an API token): a few hundred bytes; 16 KiB leaves room for a long reason.
pub const SMALL_BODY: usize = 16 * 1024;
/// TAXII envelopes added at once. Each may be [`crate::MAX_BODY`] and is parsed whole,
/// so this bounds what adds can hold in memory (4 × 16 MiB read, a few times that
/// parsed) whoever sends them; a partner over the bound is told to come back (503).
pub const TAXII_ADDS_AT_ONCE: usize = 4;
/// Keys a rate limiter remembers. A bucket is about 100 bytes, so 10,000 is about 1 MiB
/// per limiter; past it full buckets are forgotten first (they say nothing a fresh one
/// would not), then the fullest.
pub const RATE_KEYS: usize = 10_000;

/// A token bucket: `burst` requests at once, then one every `every`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub burst: u32,
    pub every: Duration,
}

impl Rate {
    /// Dashboard log-ins from one address: a person mistypes a few times, a script
    /// guessing tokens gets 10 tries and then one every 6 s (10 a minute).
    pub const LOGIN_PER_ADDRESS: Rate = Rate { burst: 10, every: Duration::from_secs(6) };
    /// Log-ins with one token: a person opens a browser or two; 5, then one every 12 s,
    /// so no token can open sessions fast enough to matter.
    pub const LOGIN_PER_TOKEN: Rate = Rate { burst: 5, every: Duration::from_secs(12) };
    /// Writes (TAXII adds, REST action calls, dashboard forms) with one token: a burst
    /// of 60, then one a second, well above a person clicking or a partner pushing
    /// envelopes of hundreds of objects each.
    pub const WRITE_PER_TOKEN: Rate = Rate { burst: 60, every: Duration::from_secs(1) };
    /// Writes from one address: twice a token's, for a few people behind one NAT.
    pub const WRITE_PER_ADDRESS: Rate = Rate { burst: 120, every: Duration::from_millis(500) };
}

/// The limits a server runs with. [`Limits::default`] holds the constants above.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    pub max_connections: usize,
    pub max_connections_per_address: usize,
    pub header_timeout: Duration,
    pub idle_timeout: Duration,
    pub body_timeout: Duration,
    pub request_timeout: Duration,
    pub login_per_address: Rate,
    pub login_per_token: Rate,
    pub write_per_token: Rate,
    pub write_per_address: Rate,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_connections: MAX_CONNECTIONS,
            max_connections_per_address: MAX_CONNECTIONS_PER_ADDRESS,
            header_timeout: HEADER_TIMEOUT,
            idle_timeout: IDLE_TIMEOUT,
            body_timeout: BODY_TIMEOUT,
            request_timeout: REQUEST_TIMEOUT,
            login_per_address: Rate::LOGIN_PER_ADDRESS,
            login_per_token: Rate::LOGIN_PER_TOKEN,
            write_per_token: Rate::WRITE_PER_TOKEN,
            write_per_address: Rate::WRITE_PER_ADDRESS,
        }
    }
}

/// The address a client is counted by: IPv4 as is (an IPv4-mapped IPv6 address as its
/// IPv4), IPv6 by its /64.
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                IpAddr::V6(segments.into())
            }
        },
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

fn refilled(rate: Rate, bucket: Bucket, now: Instant) -> f64 {
    let per_second = 1.0 / rate.every.as_secs_f64().max(f64::MIN_POSITIVE);
    let earned = now.saturating_duration_since(bucket.at).as_secs_f64() * per_second;
    (bucket.tokens + earned).min(f64::from(rate.burst))
}

/// Token buckets by key, at most [`RATE_KEYS`] of them.
#[derive(Debug)]
pub struct Buckets<K> {
    rate: Rate,
    by_key: HashMap<K, Bucket>,
}

impl<K: Hash + Eq + Clone> Buckets<K> {
    pub fn new(rate: Rate) -> Buckets<K> {
        Buckets { rate, by_key: HashMap::new() }
    }

    fn refilled(&self, bucket: Bucket, now: Instant) -> f64 {
        refilled(self.rate, bucket, now)
    }

    /// How long until `key` may go again, or zero if it may now (without taking).
    fn wait(&self, key: &K, now: Instant) -> Duration {
        let Some(bucket) = self.by_key.get(key) else {
            return if self.rate.burst > 0 { Duration::ZERO } else { Duration::MAX };
        };
        let tokens = self.refilled(*bucket, now);
        if tokens >= 1.0 {
            Duration::ZERO
        } else {
            self.rate.every.mul_f64(1.0 - tokens)
        }
    }

    fn take(&mut self, key: &K, now: Instant) {
        if !self.by_key.contains_key(key) && self.by_key.len() >= RATE_KEYS {
            self.evict(now);
        }
        let full = Bucket { tokens: f64::from(self.rate.burst), at: now };
        let tokens = self.by_key.get(key).map_or(full.tokens, |b| self.refilled(*b, now));
        self.by_key.insert(key.clone(), Bucket { tokens: (tokens - 1.0).max(0.0), at: now });
    }

    /// Makes room for one more key: forgets the full buckets, or else the fullest one.
    fn evict(&mut self, now: Instant) {
        let burst = f64::from(self.rate.burst);
        let rate = self.rate;
        let refill = |b: &Bucket| refilled(rate, *b, now);
        self.by_key.retain(|_, b| refill(b) < burst);
        if self.by_key.len() >= RATE_KEYS {
            let fullest = self.by_key.iter().max_by(|a, b| refill(a.1).total_cmp(&refill(b.1))).map(|(k, _)| k.clone());
            if let Some(k) = fullest {
                self.by_key.remove(&k);
            }
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.by_key.len()
    }
}

/// Takes one from each of `pairs` if every one has a token, else says how long to wait
/// for the slowest (and takes none: a refused request costs nothing).
pub fn take_all<A: Hash + Eq + Clone, B: Hash + Eq + Clone>(
    a: (&mut Buckets<A>, &A),
    b: Option<(&mut Buckets<B>, &B)>,
    now: Instant,
) -> Result<(), Duration> {
    let wait_a = a.0.wait(a.1, now);
    let wait_b = b.as_ref().map_or(Duration::ZERO, |(buckets, key)| buckets.wait(key, now));
    let wait = wait_a.max(wait_b);
    if wait > Duration::ZERO {
        return Err(wait);
    }
    a.0.take(a.1, now);
    if let Some((buckets, key)) = b {
        buckets.take(key, now);
    }
    Ok(())
}

/// Whole seconds to put in Retry-After: at least 1, rounded up.
pub fn retry_after(wait: Duration) -> u64 {
    wait.as_secs().saturating_add(u64::from(wait.subsec_nanos() > 0)).max(1)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_gives_its_burst_then_one_per_period() {
        let rate = Rate { burst: 3, every: Duration::from_secs(10) };
        let mut b: Buckets<&str> = Buckets::new(rate);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(take_all::<_, ()>((&mut b, &"a"), None, t0), Ok(()));
        }
        let wait = take_all::<_, ()>((&mut b, &"a"), None, t0).unwrap_err();
        assert_eq!(retry_after(wait), 10);
        // Another key has its own bucket.
        assert_eq!(take_all::<_, ()>((&mut b, &"b"), None, t0), Ok(()));
        // After 4 s, 6 more to wait; after 10 s, one more request.
        assert_eq!(retry_after(take_all::<_, ()>((&mut b, &"a"), None, t0 + Duration::from_secs(4)).unwrap_err()), 6);
        assert_eq!(take_all::<_, ()>((&mut b, &"a"), None, t0 + Duration::from_secs(10)), Ok(()));
        assert!(take_all::<_, ()>((&mut b, &"a"), None, t0 + Duration::from_secs(10)).is_err());
    }

    #[test]
    fn a_refused_request_takes_from_neither_bucket() {
        let mut addr: Buckets<u8> = Buckets::new(Rate { burst: 5, every: Duration::from_secs(1) });
        let mut token: Buckets<u8> = Buckets::new(Rate { burst: 1, every: Duration::from_secs(60) });
        let t0 = Instant::now();
        assert!(take_all((&mut addr, &1), Some((&mut token, &7)), t0).is_ok());
        for _ in 0..10 {
            assert!(take_all((&mut addr, &1), Some((&mut token, &7)), t0).is_err());
        }
        // The address still has its 4 left.
        for _ in 0..4 {
            assert!(take_all::<_, ()>((&mut addr, &1), None, t0).is_ok());
        }
        assert!(take_all::<_, ()>((&mut addr, &1), None, t0).is_err());
    }

    #[test]
    fn the_key_map_stays_bounded_and_keeps_the_emptiest_buckets() {
        let mut b: Buckets<usize> = Buckets::new(Rate { burst: 2, every: Duration::from_secs(3600) });
        let t0 = Instant::now();
        // Key 0 is emptied; then more keys than the map holds each take one.
        assert!(take_all::<_, ()>((&mut b, &0), None, t0).is_ok());
        assert!(take_all::<_, ()>((&mut b, &0), None, t0).is_ok());
        for k in 1..=RATE_KEYS + 100 {
            assert!(take_all::<_, ()>((&mut b, &k), None, t0).is_ok());
            assert!(b.len() <= RATE_KEYS);
        }
        // Key 0, empty, was never the fullest: it is still refused.
        assert!(take_all::<_, ()>((&mut b, &0), None, t0).is_err());
    }

    #[test]
    fn ipv6_clients_count_by_their_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(client_key(a), client_key(b));
        assert_ne!(client_key(a), client_key(c));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(client_key(mapped), IpAddr::from([192, 0, 2, 7]));
    }
}
