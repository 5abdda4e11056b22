//! The virtual clock: a rehearsal's waits move time forward at once, and its timestamps start at a
//! fixed epoch, so a rehearsal takes no wall time and prints the same on every machine.

use std::sync::Mutex;
use std::time::Duration;

use runbook_engine::clock::{BoxFuture, Clock};

/// 2026-01-01T09:00:00Z: every rehearsal starts here.
const EPOCH_SECONDS: i64 = 1_767_258_000;

#[derive(Debug, Default)]
pub struct VirtualClock {
    elapsed: Mutex<Duration>,
}

impl VirtualClock {
    pub fn advance(&self, by: Duration) {
        let mut elapsed = self
            .elapsed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *elapsed = elapsed.saturating_add(by);
    }

    fn elapsed(&self) -> Duration {
        *self
            .elapsed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Clock for VirtualClock {
    fn now(&self) -> jiff::Timestamp {
        let epoch =
            jiff::Timestamp::from_second(EPOCH_SECONDS).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        let elapsed =
            jiff::SignedDuration::try_from(self.elapsed()).unwrap_or(jiff::SignedDuration::ZERO);
        epoch.checked_add(elapsed).unwrap_or(epoch)
    }

    fn monotonic(&self) -> Duration {
        self.elapsed()
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'_, ()> {
        self.advance(duration);
        // Give other tasks (Ctrl-C) their turn, as a real wait would.
        Box::pin(tokio::task::yield_now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sleeping_moves_time_not_the_wall() {
        let clock = VirtualClock::default();
        let start = clock.now();
        clock.advance(Duration::from_secs(180));
        assert_eq!(clock.monotonic(), Duration::from_secs(180));
        assert_eq!(clock.now().as_second() - start.as_second(), 180);
        assert_eq!(start.to_string(), "2026-01-01T09:00:00Z");
    }
}
