//! The time and randomness a guest sees: the run's clock (virtual in simulation), and
//! random streams seeded from the run's seed, so a step behaves the same on every run.
//!
//! wasmtime-wasi's own `subscribe-duration` waits on the real clock even when a custom
//! clock is installed, so guest sleeps are shadowed here: a sleep asks the run to advance
//! its clock, and the pollable it returns is ready at once.

use std::sync::Arc;
use std::time::Duration;

use rand_wasi::SeedableRng;
use wasmtime::StoreContextMut;
use wasmtime::component::{Linker, Resource};
use wasmtime_wasi::p2::{DynPollable, Pollable, subscribe};
use wasmtime_wasi::{HostMonotonicClock, HostWallClock};

use super::{StepIo, StepState};
use crate::caps::StepCaps;

/// The WASI clocks package whose `monotonic-clock` wasmtime-wasi links; guests importing
/// any compatible 0.2.x version resolve to it.
const MONOTONIC_CLOCK: &str = "wasi:clocks/monotonic-clock@0.2.12";

pub struct GuestWallClock(pub Arc<dyn StepIo>, pub Arc<StepCaps>);

impl HostWallClock for GuestWallClock {
    fn resolution(&self) -> Duration {
        Duration::from_millis(1)
    }
    fn now(&self) -> Duration {
        Duration::from_millis(self.0.now_ms(&self.1).max(0) as u64)
    }
}

/// Monotonic nanoseconds: the run clock's milliseconds, scaled.
pub struct GuestMonotonicClock(pub Arc<dyn StepIo>, pub Arc<StepCaps>);

impl HostMonotonicClock for GuestMonotonicClock {
    fn resolution(&self) -> u64 {
        1_000_000
    }
    fn now(&self) -> u64 {
        (self.0.now_ms(&self.1).max(0) as u64).saturating_mul(1_000_000)
    }
}

pub fn guest_rng(seed: u64) -> rand_wasi::rngs::StdRng {
    rand_wasi::rngs::StdRng::seed_from_u64(seed)
}

/// A pollable that is ready immediately: the sleep already happened on the run's clock.
struct Elapsed;

#[wasmtime_wasi::async_trait]
impl Pollable for Elapsed {
    async fn ready(&mut self) {}
}

async fn sleep_then_ready(mut store: StoreContextMut<'_, StepState>, nanos: u64) -> wasmtime::Result<(Resource<DynPollable>,)> {
    let io = store.data().io.clone();
    let caps = store.data().caps.clone();
    store.data_mut().host_call(io.sleep(&caps, Duration::from_nanos(nanos))).await?;
    let table = &mut store.data_mut().table;
    let elapsed = table.push(Elapsed)?;
    Ok((subscribe(table, elapsed)?,))
}

pub fn shadow_sleep(linker: &mut Linker<StepState>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    let mut clock = linker.instance(MONOTONIC_CLOCK)?;
    clock.func_wrap_async("subscribe-duration", |store: StoreContextMut<'_, StepState>, (nanos,): (u64,)| {
        Box::new(sleep_then_ready(store, nanos))
    })?;
    clock.func_wrap_async("subscribe-instant", |store: StoreContextMut<'_, StepState>, (when,): (u64,)| {
        let now = (store.data().io.now_ms(&store.data().caps).max(0) as u64).saturating_mul(1_000_000);
        Box::new(sleep_then_ready(store, when.saturating_sub(now)))
    })?;
    linker.allow_shadowing(false);
    Ok(())
}
