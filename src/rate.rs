//! Rate limits: requests by client address and by token, and failed token checks
//! by client address. Each is a keyed GCRA limiter (governor), allowing a burst of
//! twice its rate per second; a limit of 0 turns it off.
//!
//! A refused request is told when to try again (`Retry-After`). An address whose
//! failed token checks ran out of budget is refused before its tokens are looked
//! up, until the budget has room again: guessing tokens costs the guesser, not the
//! database.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

/// The limits, as configured.
#[derive(Clone, Debug)]
pub struct RateSettings {
    /// Requests a second from one client address (0: no limit).
    pub per_address: u32,
    /// Requests a second with one token (0: no limit).
    pub per_token: u32,
    /// Failed token checks a minute from one client address (0: no limit).
    pub failed_auth_per_minute: u32,
}

type Keyed<K> = RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock>;

/// The limiters of a running server.
pub struct RateLimits {
    per_address: Option<Keyed<IpAddr>>,
    per_token: Option<Keyed<i64>>,
    failed_auth: Option<Keyed<IpAddr>>,
    /// Addresses refused until an instant, for their failed token checks.
    blocked: Mutex<HashMap<IpAddr, Instant>>,
    /// Checks made, to forget idle keys now and then.
    checks: AtomicU64,
}

/// How often (in checks) keys not seen lately are forgotten.
const SWEEP_EVERY: u64 = 8_192;

/// Most addresses kept as blocked; past it, those whose time is up are forgotten.
const MOST_BLOCKED: usize = 65_536;

impl RateLimits {
    pub fn new(settings: &RateSettings) -> Self {
        Self {
            per_address: per_second(settings.per_address),
            per_token: per_second(settings.per_token),
            failed_auth: NonZeroU32::new(settings.failed_auth_per_minute)
                .map(|rate| Keyed::keyed(Quota::per_minute(rate))),
            blocked: Mutex::default(),
            checks: AtomicU64::new(0),
        }
    }

    /// A request from `address`: `Err` with the wait when it is over the limit, or
    /// when the address is refused for its failed token checks and `has_token`.
    pub fn check_address(&self, address: IpAddr, has_token: bool) -> Result<(), Duration> {
        self.sweep();
        if has_token && let Some(until) = self.blocked_until(address) {
            return Err(until);
        }
        check(self.per_address.as_ref(), &address)
    }

    /// A request with the token `token` (its id).
    pub fn check_token(&self, token: i64) -> Result<(), Duration> {
        check(self.per_token.as_ref(), &token)
    }

    /// A token check from `address` failed.
    pub fn failed_auth(&self, address: IpAddr) {
        if let Err(wait) = check(self.failed_auth.as_ref(), &address) {
            let mut blocked = self.lock();
            if blocked.len() >= MOST_BLOCKED {
                let now = Instant::now();
                blocked.retain(|_, until| *until > now);
            }
            blocked.insert(address, Instant::now() + wait);
        }
    }

    fn blocked_until(&self, address: IpAddr) -> Option<Duration> {
        let mut blocked = self.lock();
        let until = *blocked.get(&address)?;
        let now = Instant::now();
        if until > now {
            Some(until - now)
        } else {
            blocked.remove(&address);
            None
        }
    }

    fn sweep(&self) {
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            for limiter in [&self.per_address, &self.failed_auth].into_iter().flatten() {
                limiter.retain_recent();
            }
            if let Some(limiter) = &self.per_token {
                limiter.retain_recent();
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, Instant>> {
        self.blocked.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A limiter of `rate` a second with a burst of twice that; none for 0.
fn per_second<K: Hash + Eq + Clone>(rate: u32) -> Option<Keyed<K>> {
    NonZeroU32::new(rate).map(|rate| {
        let burst = rate.saturating_mul(NonZeroU32::MIN.saturating_add(1));
        Keyed::keyed(Quota::per_second(rate).allow_burst(burst))
    })
}

fn check<K: Hash + Eq + Clone>(limiter: Option<&Keyed<K>>, key: &K) -> Result<(), Duration> {
    let Some(limiter) = limiter else {
        return Ok(());
    };
    limiter
        .check_key(key)
        .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_past_the_rate_is_refused_with_a_wait() {
        let limits = RateLimits::new(&RateSettings {
            per_address: 5,
            per_token: 0,
            failed_auth_per_minute: 0,
        });
        let one: IpAddr = [10, 0, 0, 1].into();
        let other: IpAddr = [10, 0, 0, 2].into();
        for _ in 0..10 {
            assert_eq!(limits.check_address(one, false), Ok(()));
        }
        let Err(wait) = limits.check_address(one, false) else {
            panic!("the eleventh request of a burst of ten is refused");
        };
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_millis(200),
            "{wait:?}"
        );
        assert_eq!(limits.check_address(other, false), Ok(()));
        // Off: never refused.
        for _ in 0..1_000 {
            assert_eq!(limits.check_token(7), Ok(()));
        }
    }

    #[test]
    fn an_address_that_fails_its_token_checks_is_refused_while_it_has_a_token() {
        let limits = RateLimits::new(&RateSettings {
            per_address: 0,
            per_token: 0,
            failed_auth_per_minute: 3,
        });
        let guesser: IpAddr = [10, 0, 0, 3].into();
        for _ in 0..3 {
            assert_eq!(limits.check_address(guesser, true), Ok(()));
            limits.failed_auth(guesser);
        }
        limits.failed_auth(guesser);
        let Err(wait) = limits.check_address(guesser, true) else {
            panic!("refused after its budget of failures");
        };
        assert!(wait > Duration::from_secs(10), "{wait:?}");
        // Reading without a token is still allowed.
        assert_eq!(limits.check_address(guesser, false), Ok(()));
    }
}
