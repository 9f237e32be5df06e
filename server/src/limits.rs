//! Rate limits: a fixed window per key (an IP address, or an Organization member), kept in
//! memory. Going over answers 429 with `Retry-After`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How many requests each key may make per window.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Every state-changing API call, per client IP address.
    pub per_ip: u32,
    /// Credential checks (code, password, second factor), per Organization and username,
    /// whether or not that member exists.
    pub per_member: u32,
    pub window: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            per_ip: 60,
            per_member: 10,
            window: Duration::from_secs(60),
        }
    }
}

pub struct RateLimiter {
    window: Duration,
    counts: Mutex<HashMap<String, (Instant, u32)>>,
}

impl RateLimiter {
    pub fn new(window: Duration) -> Self {
        Self {
            window,
            counts: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one request for `key`. `Err(seconds)` when over `limit` in this window: the
    /// seconds until the window ends (at least 1).
    pub fn check(&self, key: &str, limit: u32) -> Result<(), u64> {
        let now = Instant::now();
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        if counts.len() > 100_000 {
            counts.retain(|_, (start, _)| now.duration_since(*start) < self.window);
        }
        let entry = counts.entry(key.to_owned()).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        if entry.1 >= limit {
            let left = self.window.saturating_sub(now.duration_since(entry.0));
            return Err(left.as_secs_f64().ceil().max(1.0) as u64);
        }
        entry.1 += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_the_limit_then_refuses_until_the_window_ends() {
        let limiter = RateLimiter::new(Duration::from_secs(60));
        for _ in 0..3 {
            assert_eq!(limiter.check("ip:1", 3), Ok(()));
        }
        let retry = limiter.check("ip:1", 3).unwrap_err();
        assert!((59..=60).contains(&retry), "{retry}");
        assert_eq!(limiter.check("ip:2", 3), Ok(()), "keys are separate");
    }

    #[test]
    fn a_new_window_starts_afresh() {
        let limiter = RateLimiter::new(Duration::from_millis(50));
        assert_eq!(limiter.check("k", 1), Ok(()));
        assert_eq!(limiter.check("k", 1), Err(1));
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(limiter.check("k", 1), Ok(()));
    }
}
