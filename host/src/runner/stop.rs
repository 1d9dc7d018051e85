//! A run's stop: set when its caller gives it up (drops `runner::run`'s future). The flow's
//! thread waits for it beside the run; a step busy in wasm reads it at every epoch tick
//! (its thread cannot wait for anything then); finishing steps read it before starting
//! others.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::Notify;

#[derive(Default)]
pub struct Stop {
    set: AtomicBool,
    bell: Notify,
}

impl Stop {
    pub fn is_set(&self) -> bool {
        self.set.load(Ordering::Relaxed)
    }

    pub fn set(&self) {
        self.set.store(true, Ordering::Relaxed);
        // A stored permit: a waiter that comes after this still wakes.
        self.bell.notify_one();
    }

    /// Returns once the stop is set.
    pub async fn wait(&self) {
        while !self.is_set() {
            self.bell.notified().await;
        }
    }
}

/// Sets the stop when dropped: with the run's future, finished or not.
pub struct StopOnDrop(pub Arc<Stop>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.set();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_wait_ends_when_the_guard_goes_whether_it_began_before_or_after() {
        let stop = Arc::new(Stop::default());
        let waiting = tokio::spawn({
            let stop = stop.clone();
            async move { stop.wait().await }
        });
        tokio::task::yield_now().await;
        assert!(!stop.is_set());
        drop(StopOnDrop(stop.clone()));
        assert!(stop.is_set());
        waiting.await.unwrap();
        // Set before anyone waited: the wait returns at once.
        stop.wait().await;
    }
}
