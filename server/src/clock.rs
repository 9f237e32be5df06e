//! The server's clock, in whole seconds since the Unix epoch. Every rule that depends on time
//! (flow and code expiry, cooldowns, rate-limit windows, sessions, grace periods) reads it here,
//! so tests move time by setting the clock instead of editing stored rows.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

#[derive(Debug, Clone, Default)]
pub struct Clock(Option<Arc<AtomicI64>>);

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self(None)
    }

    /// A clock that stands at `now` until it is set or advanced (tests).
    pub fn manual(now: i64) -> Self {
        Self(Some(Arc::new(AtomicI64::new(now))))
    }

    pub fn now(&self) -> i64 {
        match &self.0 {
            Some(manual) => manual.load(Ordering::SeqCst),
            None => system_now(),
        }
    }

    /// Moves a manual clock forward (or back, with a negative number). The system clock cannot
    /// be moved: this panics, as only tests call it.
    pub fn advance(&self, seconds: i64) {
        self.0
            .as_ref()
            .expect("only a manual clock can be moved")
            .fetch_add(seconds, Ordering::SeqCst);
    }
}

fn system_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told_and_its_clones_follow() {
        let clock = Clock::manual(1_000);
        let same = clock.clone();
        assert_eq!(clock.now(), 1_000);
        same.advance(61);
        assert_eq!(clock.now(), 1_061);
    }

    #[test]
    fn the_system_clock_is_now() {
        let now = Clock::system().now();
        assert!((now - system_now()).abs() <= 1);
        assert!(now > 1_700_000_000);
    }
}
