//! Where the hub's "now" comes from. Deadlines (a tip's 2 days, a reward's 10) are
//! rules about elapsed time, so tests must be able to move time instead of waiting:
//! production reads the system clock, tests a [`SettableClock`] they advance.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};

/// A source of the current instant.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock (production).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that stands still until told otherwise; clones share one instant, so a
/// test keeps a clone and moves the server's time.
#[derive(Debug, Clone)]
pub struct SettableClock(Arc<Mutex<DateTime<Utc>>>);

impl SettableClock {
    pub fn new(at: DateTime<Utc>) -> SettableClock {
        SettableClock(Arc::new(Mutex::new(at)))
    }

    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = at;
    }

    pub fn advance(&self, by: Duration) {
        let mut t = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *t += by;
    }
}

impl Clock for SettableClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_the_instant() {
        let t0 = Utc::now();
        let c = SettableClock::new(t0);
        let seen_by_server = c.clone();
        c.advance(Duration::days(2));
        assert_eq!(seen_by_server.now(), t0 + Duration::days(2));
        c.set(t0);
        assert_eq!(seen_by_server.now(), t0);
    }
}
