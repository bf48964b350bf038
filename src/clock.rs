//! Time is injected: everything that reads it takes a [`Clock`], so expiry, grace windows and
//! lockout can be tested by moving time by hand.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// The time since the Unix epoch.
pub trait Clock: Send + Sync + 'static {
    /// Milliseconds: for what whole seconds cannot decide (a refresh retry's grace window).
    fn now_millis(&self) -> i64;

    /// Seconds: the unit of token claims and of most stored times.
    fn now(&self) -> i64 {
        self.now_millis().div_euclid(1000)
    }
}

pub type SharedClock = Arc<dyn Clock>;

#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_millis(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64)
    }
}

/// A clock that stands still until moved. It keeps milliseconds.
#[derive(Debug, Default)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    /// A clock at `now` seconds.
    pub fn new(now: i64) -> Self {
        Self(AtomicI64::new(now * 1000))
    }

    pub fn advance(&self, seconds: i64) {
        self.advance_millis(seconds * 1000);
    }

    pub fn advance_millis(&self, millis: i64) {
        self.0.fetch_add(millis, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_millis(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// Formats epoch seconds as RFC 3339 UTC with milliseconds, e.g. `2026-01-30T20:30:59.000Z`.
pub fn format_rfc3339_millis(epoch_seconds: i64) -> String {
    let t = UNIX_EPOCH + std::time::Duration::from_secs(epoch_seconds.max(0) as u64);
    humantime::format_rfc3339_millis(t).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let clock = ManualClock::new(1_000);
        assert_eq!(clock.now(), 1_000);
        clock.advance(61);
        assert_eq!(clock.now(), 1_061);
        clock.advance_millis(999);
        assert_eq!((clock.now(), clock.now_millis()), (1_061, 1_061_999));
        clock.advance_millis(1);
        assert_eq!(clock.now(), 1_062);
    }

    #[test]
    fn timestamps_format_to_the_millisecond_in_utc() {
        assert_eq!(
            format_rfc3339_millis(1_769_805_059),
            "2026-01-30T20:30:59.000Z"
        );
    }
}
