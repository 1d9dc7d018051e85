//! The runner's [`StepIo`]: a step's imports, wired to the gateway, the turnstile, the
//! run's clock and seed, and the progress display.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::progress::Progress;
use super::turnstile::Turnstile;
use crate::bindings::{CallError, CloudContext, CloudRequest, CloudResponse, Service};
use crate::cloud::Gateway;
use crate::sandbox::{DeviceLogin, LogLevel, StepIo};
use crate::sandbox::BoxFuture;

pub struct RunIo {
    pub gateway: Arc<Gateway>,
    pub turnstile: Arc<Turnstile>,
    pub context: CloudContext,
    pub progress: Arc<dyn Progress>,
    pub seed: u64,
    /// Step id → (index, granted services).
    pub steps: HashMap<String, (usize, Vec<Service>)>,
}

impl RunIo {
    fn index(&self, step: &str) -> usize {
        self.steps.get(step).map(|(i, _)| *i).unwrap_or(usize::MAX)
    }
}

impl StepIo for RunIo {
    fn call<'a>(&'a self, step: &'a str, req: CloudRequest) -> BoxFuture<'a, Result<CloudResponse, CallError>> {
        Box::pin(async move {
            let granted: &[Service] = self.steps.get(step).map(|(_, g)| g.as_slice()).unwrap_or(&[]);
            let _turn = self.turnstile.acquire(self.index(step)).await;
            self.gateway.call(step, granted, req).await
        })
    }

    fn context(&self) -> CloudContext {
        self.context.clone()
    }

    fn log(&self, step: &str, level: LogLevel, message: &str) {
        self.progress.step_log(step, level, &self.gateway.redactor.text(message));
    }

    fn show<'a>(&'a self, step: &'a str, message: &'a str, device: Option<DeviceLogin>) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let _turn = self.turnstile.acquire(self.index(step)).await;
            self.progress.prompt(step, &self.gateway.redactor.text(message), device.as_ref());
            Ok(())
        })
    }

    fn now_ms(&self) -> i64 {
        self.gateway.clock.now_ms()
    }

    fn sleep<'a>(&'a self, step: &'a str, duration: Duration) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let _turn = self.turnstile.acquire(self.index(step)).await;
            self.gateway.clock.sleep(duration).await;
        })
    }

    fn seed_for(&self, step: &str, stream: &str) -> u64 {
        let h = Sha256::new().chain_update(self.seed.to_le_bytes()).chain_update(step).chain_update([0]).chain_update(stream).finalize();
        u64::from_le_bytes(h[..8].try_into().unwrap())
    }
}
