//! Rate limits: a fixed window per key (a client IP address, or an Organization member),
//! counted in the store so that every replica sees the same count. Going over answers 429 with
//! `Retry-After`.

use std::time::Duration;

use crate::error::{Error, Result};
use crate::store::Store;

/// How many requests each key may make per window.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Every state-changing API call, per client IP address.
    pub per_ip: u32,
    /// Credential checks (code, password, second factor), per Organization and username,
    /// whether or not that member exists.
    pub per_member: u32,
    /// Whole seconds; at least one.
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

/// Counts one request for `key` at `now`; refuses it (with the seconds until the window ends,
/// at least 1) when it is over `limit` in this window.
pub async fn count(
    store: &dyn Store,
    key: &str,
    limit: u32,
    window: Duration,
    now: i64,
) -> Result<()> {
    let window = window.as_secs().max(1) as i64;
    let hit = store.hit(key, now, window).await?;
    if hit.hits > i64::from(limit) {
        Err(Error::rate_limited(
            (hit.window_start + window - now) as u64,
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use member_login_api::ProblemCode;

    const NOW: i64 = 1_800_000_000;
    const MINUTE: Duration = Duration::from_secs(60);

    fn retry_after(result: Result<()>) -> Option<u64> {
        match result {
            Ok(()) => None,
            Err(Error::Refused(problem)) => {
                assert_eq!(problem.code, ProblemCode::RateLimited);
                problem.retry_after
            }
            Err(other) => panic!("{other}"),
        }
    }

    #[tokio::test]
    async fn allows_the_limit_then_refuses_until_the_window_ends() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::open_sqlite(&dir.path().join("l.sqlite3"))
            .await
            .unwrap();
        for _ in 0..3 {
            assert_eq!(
                retry_after(count(&*store, "ip:1", 3, MINUTE, NOW).await),
                None
            );
        }
        assert_eq!(
            retry_after(count(&*store, "ip:1", 3, MINUTE, NOW + 1).await),
            Some(59)
        );
        assert_eq!(
            retry_after(count(&*store, "ip:2", 3, MINUTE, NOW + 1).await),
            None,
            "keys are separate"
        );
        assert_eq!(
            retry_after(count(&*store, "ip:1", 3, MINUTE, NOW + 60).await),
            None,
            "a new window starts afresh"
        );
    }
}
