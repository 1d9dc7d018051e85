//! Deterministic interleaving for simulated runs. Independent steps run concurrently, but
//! their cloud calls (and guest sleeps, prompts and completions) reach the simulator one at
//! a time in a fixed round-robin order of step index. The simulator's ids and clock then
//! advance in the same order on every run, so the transcript is byte-identical, however
//! the OS schedules the threads.
//!
//! A step's wasm computes freely; only its events wait for its turn. The turn passes to the
//! next active step in index order when the holder's event is done, and new steps join only
//! inside another step's completion event, which is itself ordered.
//!
//! Against Azure the turnstile is off: calls go out as soon as they are made.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

pub struct Turnstile {
    enabled: bool,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    active: BTreeSet<usize>,
    holder: Option<usize>,
    /// Each waiting step's own bell: a passed turn wakes only the step it passes to, not
    /// every step in the rotation (each needless wake-up is a thread hand-off).
    bells: BTreeMap<usize, Arc<Notify>>,
}

impl State {
    /// The new holder's bell, to ring once the lock is let go.
    fn holders_bell(&self) -> Option<Arc<Notify>> {
        self.holder.and_then(|h| self.bells.get(&h).cloned())
    }
}

/// The turn, held for one event. Dropping it passes the turn on.
pub struct Turn<'a> {
    turnstile: &'a Turnstile,
    step: usize,
    leaving: bool,
}

impl Turn<'_> {
    /// Passes the turn on and leaves the rotation (the step has finished).
    pub fn leave(mut self) {
        self.leaving = true;
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        self.turnstile.release(self.step, self.leaving);
    }
}

impl Turnstile {
    pub fn new(enabled: bool) -> Self {
        Turnstile { enabled, state: Mutex::new(State::default()) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds a step to the rotation. Call before the step starts, from an ordered context.
    pub fn join(&self, step: usize) {
        if !self.enabled {
            return;
        }
        let mut s = self.lock();
        s.active.insert(step);
        if s.holder.is_none() {
            s.holder = s.active.first().copied();
        }
    }

    /// Waits for this step's turn.
    pub async fn acquire(&self, step: usize) -> Turn<'_> {
        if self.enabled {
            let bell = {
                let mut s = self.lock();
                if s.holder == Some(step) {
                    return Turn { turnstile: self, step, leaving: false };
                }
                s.bells.entry(step).or_default().clone()
            };
            loop {
                // Listening before looking: a turn passed in between still rings.
                let notified = bell.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                if self.lock().holder == Some(step) {
                    break;
                }
                notified.await;
            }
        }
        Turn { turnstile: self, step, leaving: false }
    }

    /// Who gets the turn once `step`, which holds it, leaves: what a saved run records so a
    /// resumed one starts the rotation at the same place.
    pub fn next_after_leaving(&self, step: usize) -> Option<usize> {
        if !self.enabled {
            return None;
        }
        let s = self.lock();
        s.active.range(step + 1..).next().or_else(|| s.active.iter().find(|&&a| a != step)).copied()
    }

    /// Gives the turn to `step` (a resumed run, before any step has started), if it is in
    /// the rotation.
    pub fn hand_to(&self, step: usize) {
        if !self.enabled {
            return;
        }
        let mut s = self.lock();
        if !s.active.contains(&step) || s.holder == Some(step) {
            return;
        }
        s.holder = Some(step);
        let bell = s.holders_bell();
        drop(s);
        if let Some(bell) = bell {
            bell.notify_waiters();
        }
    }

    /// Takes `step` out of the rotation wherever the turn is (its task is gone): if it held
    /// the turn, the turn passes on as if it had left.
    pub fn abandon(&self, step: usize) {
        if !self.enabled {
            return;
        }
        let mut s = self.lock();
        let held = s.holder == Some(step);
        s.active.remove(&step);
        s.bells.remove(&step);
        if held {
            self.pass_turn(s, step);
        }
    }

    fn release(&self, step: usize, leaving: bool) {
        if !self.enabled {
            return;
        }
        let mut s = self.lock();
        if leaving {
            s.active.remove(&step);
            s.bells.remove(&step);
        }
        self.pass_turn(s, step);
    }

    /// Gives the turn to the next step after `step` in the rotation, and rings its bell once
    /// the lock is let go.
    fn pass_turn(&self, mut s: std::sync::MutexGuard<'_, State>, step: usize) {
        s.holder = s.active.range(step + 1..).next().or_else(|| s.active.first()).copied();
        let bell = s.holders_bell();
        drop(s);
        if let Some(bell) = bell {
            bell.notify_waiters();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// A step whose task is gone leaves the rotation: the turn moves on if it held it, and
    /// stays where it is if it did not.
    #[test]
    fn an_abandoned_step_leaves_the_rotation_wherever_the_turn_is() {
        let t = Turnstile::new(true);
        for i in 0..3 {
            t.join(i);
        }
        assert_eq!(t.lock().holder, Some(0));
        t.abandon(1);
        assert_eq!(t.lock().holder, Some(0), "a step that did not hold the turn takes nothing with it");
        t.abandon(0);
        assert_eq!(t.lock().holder, Some(2), "the holder's turn passes on");
        assert!(!t.lock().active.contains(&1) && !t.lock().active.contains(&0));
        t.abandon(2);
        assert_eq!(t.lock().holder, None);
    }

    /// Three steps that each make three "calls" with random think time in between always
    /// interleave in the same order.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn events_interleave_in_the_same_order_every_time() {
        let mut orders = Vec::new();
        for round in 0..5u64 {
            let t = Arc::new(Turnstile::new(true));
            let log = Arc::new(Mutex::new(Vec::new()));
            for i in 0..3 {
                t.join(i);
            }
            let mut handles = Vec::new();
            for i in 0..3usize {
                let (t, log) = (t.clone(), log.clone());
                handles.push(tokio::spawn(async move {
                    for call in 0..3 {
                        // "compute" for a varying time
                        let spin = ((round as usize * 7 + i * 13 + call * 5) % 4) as u64;
                        tokio::time::sleep(std::time::Duration::from_millis(spin)).await;
                        let turn = t.acquire(i).await;
                        log.lock().unwrap().push((i, call));
                        if call == 2 {
                            turn.leave();
                        }
                    }
                }));
            }
            for h in handles {
                h.await.unwrap();
            }
            orders.push(log.lock().unwrap().clone());
        }
        assert!(orders.windows(2).all(|w| w[0] == w[1]), "{orders:?}");
        assert_eq!(orders[0][..3], [(0, 0), (1, 0), (2, 0)]);
    }

    /// Long enough for any runnable future; a wait for a turn that never comes hits it.
    const NEVER: std::time::Duration = std::time::Duration::from_secs(2);

    #[tokio::test]
    async fn the_turn_a_leaving_step_passes_on_can_be_handed_to_a_resumed_rotation() {
        let t = Turnstile::new(true);
        for i in [1, 3, 4] {
            t.join(i);
        }
        assert_eq!(t.next_after_leaving(3), Some(4));
        assert_eq!(t.next_after_leaving(4), Some(1), "the rotation wraps");
        let lone = Turnstile::new(true);
        lone.join(2);
        assert_eq!(lone.next_after_leaving(2), None, "nobody is left");

        // A resumed run joins the same steps and starts where the saved one stopped.
        let resumed = Turnstile::new(true);
        for i in [1, 4] {
            resumed.join(i);
        }
        resumed.hand_to(4);
        assert!(tokio::time::timeout(NEVER, resumed.acquire(1)).await.is_err(), "step 1 went before step 4");
        drop(resumed.acquire(4).await);
        assert!(tokio::time::timeout(NEVER, resumed.acquire(1)).await.is_ok());
        resumed.hand_to(9);
        assert_eq!(resumed.lock().holder, Some(4), "a step outside the rotation is not handed the turn");
    }

    /// Counts its wake-ups.
    struct Counting(std::sync::atomic::AtomicUsize);
    impl std::task::Wake for Counting {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    #[test]
    fn a_passed_turn_wakes_only_the_step_it_passes_to() {
        use std::future::Future;
        let t = Turnstile::new(true);
        for i in 0..3 {
            t.join(i);
        }
        let mut first = Box::pin(t.acquire(0));
        let std::task::Poll::Ready(held) = first.as_mut().poll(&mut std::task::Context::from_waker(std::task::Waker::noop())) else {
            panic!("step 0 holds the first turn")
        };
        let wakers: Vec<Arc<Counting>> = (0..2).map(|_| Arc::new(Counting(Default::default()))).collect();
        let mut waiting: Vec<_> = [1, 2].into_iter().map(|i| Box::pin(t.acquire(i))).collect();
        for (w, f) in wakers.iter().zip(&mut waiting) {
            let waker = std::task::Waker::from(w.clone());
            assert!(f.as_mut().poll(&mut std::task::Context::from_waker(&waker)).is_pending());
        }
        drop(held);
        let woken = |i: usize| wakers[i].0.load(std::sync::atomic::Ordering::SeqCst);
        assert_eq!((woken(0), woken(1)), (1, 0), "step 1 has the turn; step 2 sleeps on");
    }

    #[tokio::test]
    async fn a_step_that_leaves_is_skipped_from_then_on() {
        let t = Turnstile::new(true);
        t.join(0);
        t.join(1);
        t.acquire(0).await.leave();
        drop(t.acquire(1).await);
        assert!(tokio::time::timeout(NEVER, t.acquire(1)).await.is_ok(), "the turn went back to a step that had left");
    }

    #[tokio::test]
    async fn disabled_never_waits() {
        let t = Turnstile::new(false);
        t.join(0);
        t.join(1);
        // Step 0 holds a turn and steps that never joined ask: with the turnstile off, all go.
        let held = tokio::time::timeout(NEVER, t.acquire(0)).await.expect("step 0 goes at once");
        let others = tokio::time::timeout(NEVER, async { (t.acquire(1).await, t.acquire(5).await, t.acquire(6).await) }).await;
        assert!(others.is_ok(), "a disabled turnstile made a step wait");
        drop(held);
        assert_eq!(t.lock().holder, None, "a disabled turnstile keeps no rotation");
    }

    #[tokio::test]
    async fn enabled_a_step_waits_while_another_holds_the_turn() {
        // The same calls as `disabled_never_waits`, turnstile on: step 1 waits for step 0.
        let t = Turnstile::new(true);
        t.join(0);
        t.join(1);
        let held = tokio::time::timeout(NEVER, t.acquire(0)).await.expect("step 0 holds the first turn");
        assert!(tokio::time::timeout(NEVER, t.acquire(1)).await.is_err(), "step 1 went while step 0 held the turn");
        drop(held);
        assert!(tokio::time::timeout(NEVER, t.acquire(1)).await.is_ok(), "step 1 goes once step 0 is done");
    }
}
