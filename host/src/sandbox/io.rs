//! The host side of the plugin imports. Each one is a thin adapter onto [`StepIo`], which
//! the runner implements: the sandbox itself decides nothing about clouds.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use super::StepState;
use crate::bindings::aksflow::step::{cloud, interact, log, types};
use crate::bindings::{CallError, CloudContext, CloudRequest, CloudResponse};
use crate::caps::StepCaps;
use crate::limits::Budget;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    Debug,
    Info,
    Warn,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceLogin {
    pub verification_uri: String,
    pub user_code: String,
}

/// What a running step can reach, as the runner provides it. Every call carries the step's
/// [`StepCaps`], built once with its store.
pub trait StepIo: Send + Sync + 'static {
    /// One cloud call (grant check, auth, transport, transcript are the implementor's).
    fn call<'a>(&'a self, caps: &'a StepCaps, req: CloudRequest) -> BoxFuture<'a, Result<CloudResponse, CallError>>;
    fn context(&self) -> CloudContext;
    fn log(&self, caps: &StepCaps, level: LogLevel, message: &str);
    fn show<'a>(&'a self, caps: &'a StepCaps, message: &'a str, device: Option<DeviceLogin>) -> BoxFuture<'a, Result<(), String>>;
    /// Milliseconds since the Unix epoch on the run's clock, as the step reads it.
    fn now_ms(&self, caps: &StepCaps) -> i64;
    /// A guest sleep: advances the run's clock (virtual) or waits (live).
    fn sleep<'a>(&'a self, caps: &'a StepCaps, duration: Duration) -> BoxFuture<'a, ()>;
    /// A seed for the step's random streams, derived from the run's seed.
    fn seed_for(&self, caps: &StepCaps, stream: &str) -> u64;
    /// Whether the run was stopped (its future dropped): a step busy in wasm then ends at the
    /// next epoch tick instead of running on to its fuel or timeout.
    fn stopped(&self) -> bool {
        false
    }
}

/// No services, a fixed clock: what `describe` runs with.
pub struct NullIo;

impl StepIo for NullIo {
    fn call<'a>(&'a self, _caps: &'a StepCaps, req: CloudRequest) -> BoxFuture<'a, Result<CloudResponse, CallError>> {
        Box::pin(async move { Err(CallError::NotGranted(format!("`describe` may not call services (it asked for {})", req.service))) })
    }
    fn context(&self) -> CloudContext {
        CloudContext { tenant_id: String::new(), subscription_id: String::new(), target: "none".into(), default_location: "eastus".into() }
    }
    fn log(&self, _caps: &StepCaps, _level: LogLevel, _message: &str) {}
    fn show<'a>(&'a self, _caps: &'a StepCaps, _message: &'a str, _device: Option<DeviceLogin>) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async { Err("`describe` may not prompt".to_string()) })
    }
    fn now_ms(&self, _caps: &StepCaps) -> i64 {
        crate::clock::EPOCH_MS
    }
    fn sleep<'a>(&'a self, _caps: &'a StepCaps, _duration: Duration) -> BoxFuture<'a, ()> {
        Box::pin(async {})
    }
    fn seed_for(&self, _caps: &StepCaps, _stream: &str) -> u64 {
        0
    }
}

impl types::Host for StepState {}

impl cloud::Host for StepState {
    async fn call(&mut self, req: CloudRequest) -> wasmtime::Result<Result<CloudResponse, CallError>> {
        self.charge(Budget::Calls, 1)?;
        self.charge(Budget::Network, request_bytes(&req))?;
        let (io, caps) = (self.io.clone(), self.caps.clone());
        let result = self.host_call(io.call(&caps, req)).await?;
        if let Ok(resp) = &result {
            self.charge(Budget::Network, response_bytes(resp))?;
        }
        Ok(result)
    }

    async fn context(&mut self) -> wasmtime::Result<CloudContext> {
        Ok(self.io.context())
    }
}

impl log::Host for StepState {
    async fn write(&mut self, level: log::Level, message: String) -> wasmtime::Result<()> {
        let level = match level {
            log::Level::Debug => LogLevel::Debug,
            log::Level::Info => LogLevel::Info,
            log::Level::Warn => LogLevel::Warn,
        };
        self.charge(Budget::Log, message.len() as u64)?;
        self.io.log(&self.caps, level, &message);
        Ok(())
    }
}

impl interact::Host for StepState {
    async fn show(&mut self, message: String, device_login: Option<interact::DeviceLogin>) -> wasmtime::Result<Result<(), String>> {
        let (io, caps) = (self.io.clone(), self.caps.clone());
        let device = device_login.map(|d| DeviceLogin { verification_uri: d.verification_uri, user_code: d.user_code });
        self.host_call(io.show(&caps, &message, device)).await
    }
}

/// What a request costs the network budget: its path, query, headers and body.
fn request_bytes(req: &CloudRequest) -> u64 {
    let query: usize = req.query.iter().map(|(k, v)| k.len() + v.len()).sum();
    let headers: usize = req.headers.iter().map(|h| h.name.len() + h.value.len()).sum();
    (req.path.len() + query + headers + req.body.len()) as u64
}

fn response_bytes(resp: &CloudResponse) -> u64 {
    let headers: usize = resp.headers.iter().map(|h| h.name.len() + h.value.len()).sum();
    (headers + resp.body.len()) as u64
}
