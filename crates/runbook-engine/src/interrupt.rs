//! Ctrl-C (and SIGTERM, SIGHUP) as data: the CLI triggers it, the engine stops at the next safe
//! point. The signal that came first is kept, so the run's failure text and record can name it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

/// Which signal stopped the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Signal {
    /// Ctrl-C.
    #[serde(rename = "SIGINT")]
    Interrupt,
    /// `kill`, `timeout`, a CI cancel.
    #[serde(rename = "SIGTERM")]
    Terminate,
    /// The terminal or SSH session closed.
    #[serde(rename = "SIGHUP")]
    Hangup,
}

impl Signal {
    /// How the run's failure text names it: `Ctrl-C`, `SIGTERM`, `SIGHUP`.
    pub fn label(self) -> &'static str {
        match self {
            Signal::Interrupt => "Ctrl-C",
            Signal::Terminate => "SIGTERM",
            Signal::Hangup => "SIGHUP",
        }
    }

    /// The signal's number on Linux (and every Unix): the exit code is 128 plus it.
    pub fn number(self) -> u8 {
        match self {
            Signal::Interrupt => 2,
            Signal::Terminate => 15,
            Signal::Hangup => 1,
        }
    }

    fn from_code(code: u8) -> Option<Signal> {
        [Signal::Interrupt, Signal::Terminate, Signal::Hangup]
            .into_iter()
            .find(|signal| signal.number() == code)
    }
}

/// A one-way "stop now" flag that async code can also wait on.
#[derive(Debug, Clone, Default)]
pub struct Interrupt {
    /// 0 until triggered, then the first signal's number.
    signal: Arc<AtomicU8>,
    notify: Arc<Notify>,
}

impl Interrupt {
    /// Ctrl-C.
    pub fn trigger(&self) {
        self.trigger_with(Signal::Interrupt);
    }

    /// Stops the run because of `signal`. Only the first trigger's signal is kept.
    pub fn trigger_with(&self, signal: Signal) {
        let _ =
            self.signal
                .compare_exchange(0, signal.number(), Ordering::SeqCst, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    pub fn is_set(&self) -> bool {
        self.signal.load(Ordering::SeqCst) != 0
    }

    /// The signal that triggered it, if it was.
    pub fn signal(&self) -> Option<Signal> {
        Signal::from_code(self.signal.load(Ordering::SeqCst))
    }

    /// `interrupted (Ctrl-C)`, `interrupted (SIGTERM)`, ...
    pub fn describe(&self) -> String {
        describe(self.signal())
    }

    /// Resolves once [`Interrupt::trigger`] has been called (at once if it already was).
    pub async fn wait(&self) {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.is_set() {
                return;
            }
            notified.await;
        }
    }
}

/// `interrupted (SIGNAL)`; a stop recorded before signals were named was a Ctrl-C.
pub fn describe(signal: Option<Signal>) -> String {
    format!(
        "interrupted ({})",
        signal.unwrap_or(Signal::Interrupt).label()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn wait_returns_after_trigger() {
        let interrupt = Interrupt::default();
        let waiter = interrupt.clone();
        let task = tokio::spawn(async move { waiter.wait().await });
        tokio::task::yield_now().await;
        interrupt.trigger();
        let done = tokio::time::timeout(std::time::Duration::from_secs(1), task).await;
        assert!(done.is_ok());
        // Already triggered: returns at once.
        interrupt.wait().await;
    }

    #[test]
    fn the_first_signal_is_kept() {
        let interrupt = Interrupt::default();
        assert_eq!(interrupt.signal(), None);
        interrupt.trigger_with(Signal::Terminate);
        interrupt.trigger_with(Signal::Hangup);
        assert_eq!(interrupt.signal(), Some(Signal::Terminate));
        assert_eq!(interrupt.describe(), "interrupted (SIGTERM)");
    }
}
