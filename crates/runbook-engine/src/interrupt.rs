//! Ctrl-C as data: the CLI triggers it, the engine stops at the next safe point.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::Notify;

/// A one-way "stop now" flag that async code can also wait on.
#[derive(Debug, Clone, Default)]
pub struct Interrupt {
    flag: Arc<AtomicBool>,
    notify: Arc<Notify>,
}

impl Interrupt {
    pub fn trigger(&self) {
        self.flag.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    pub fn is_set(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
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
}
