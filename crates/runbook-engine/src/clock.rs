//! Time as a seam: timestamps, durations and waits all ask a [`Clock`].
//!
//! A live run uses the [`SystemClock`]. A rehearsal swaps in a virtual clock whose `sleep` moves
//! time forward at once, so a three-minute poll takes no wall time, and whose timestamps start at
//! a fixed epoch, so a rehearsal's output is the same on every machine. Step timeouts of real work
//! (a shell command) stay on tokio's real timer: they bound a real process.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A boxed future, so [`Clock`] stays object-safe.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where the engine gets the time.
pub trait Clock: Send + Sync {
    /// The wall-clock time, for timestamps (journal, audit, `{{steps.ID.finished_at}}`).
    fn now(&self) -> jiff::Timestamp;
    /// Monotonic time since an arbitrary origin, for durations.
    fn monotonic(&self) -> Duration;
    /// Waits `duration` (a poll interval, a retry's backoff, a `Retry-After`).
    fn sleep(&self, duration: Duration) -> BoxFuture<'_, ()>;
}

/// A clock shared by everything one run touches.
#[derive(Clone)]
pub struct SharedClock(Arc<dyn Clock>);

impl SharedClock {
    pub fn new(clock: impl Clock + 'static) -> Self {
        SharedClock(Arc::new(clock))
    }

    /// The real time.
    pub fn system() -> Self {
        SharedClock::new(SystemClock::default())
    }

    pub fn now(&self) -> jiff::Timestamp {
        self.0.now()
    }

    /// A point in monotonic time, to measure what follows from.
    pub fn moment(&self) -> Moment {
        Moment {
            clock: self.clone(),
            at: self.0.monotonic(),
        }
    }

    pub async fn sleep(&self, duration: Duration) {
        self.0.sleep(duration).await;
    }
}

impl Default for SharedClock {
    fn default() -> Self {
        SharedClock::system()
    }
}

impl fmt::Debug for SharedClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SharedClock")
    }
}

/// A point in a clock's monotonic time.
#[derive(Clone, Debug)]
pub struct Moment {
    clock: SharedClock,
    at: Duration,
}

impl Moment {
    /// Time passed since this moment, by the same clock.
    pub fn elapsed(&self) -> Duration {
        self.clock.0.monotonic().saturating_sub(self.at)
    }
}

/// The operating system's clocks and tokio's timer.
#[derive(Debug)]
pub struct SystemClock {
    origin: Instant,
}

impl Default for SystemClock {
    fn default() -> Self {
        SystemClock {
            origin: Instant::now(),
        }
    }
}

impl Clock for SystemClock {
    fn now(&self) -> jiff::Timestamp {
        jiff::Timestamp::now()
    }
    fn monotonic(&self) -> Duration {
        self.origin.elapsed()
    }
    fn sleep(&self, duration: Duration) -> BoxFuture<'_, ()> {
        Box::pin(tokio::time::sleep(duration))
    }
}
