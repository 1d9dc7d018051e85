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
use crate::flow::Persona;
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
    /// Step id → who answers its device-code prompt.
    pub personas: HashMap<String, Persona>,
    /// The simulator's seeded users and passwords (simulated runs).
    pub persona_passwords: HashMap<String, String>,
    /// A served simulator's seed, from which its personas' passwords follow.
    pub served_seed: Option<u64>,
}

/// The step name a persona's sign-in is recorded under.
pub const PERSONA_STEP: &str = "(persona)";

impl RunIo {
    /// The persona acts on the device-code prompt as a person would: opens the
    /// verification page and signs in, or declines.
    async fn answer(&self, step: &str, device: &DeviceLogin) -> Result<(), String> {
        let Some(persona) = self.personas.get(step) else {
            if self.gateway.clock.is_virtual() {
                return Err(format!(
                    "step `{step}` asked the person at the keyboard to sign in with a device code, and nobody answers in a simulation: add `persona = \"alice@contoso.onmicrosoft.com\"` (or another seeded user) to the step"
                ));
            }
            return Ok(());
        };
        let path = match url::Url::parse(&device.verification_uri) {
            Ok(u) => u.path().to_string(),
            Err(_) => return Err(format!("the verification URI `{}` is not a URL", device.verification_uri)),
        };
        let password = persona
            .password
            .clone()
            .or_else(|| self.persona_passwords.get(&persona.user.to_ascii_lowercase()).cloned())
            .or_else(|| self.served_seed.map(|seed| aksflow_simulator::directory::seed::persona_password(seed, &persona.user)))
            .unwrap_or_default();
        let body = {
            let mut form = form_urlencoded::Serializer::new(String::new());
            form.append_pair("otc", &device.user_code);
            if persona.decline {
                form.append_pair("action", "decline");
            } else {
                form.append_pair("login", &persona.user).append_pair("passwd", &password).append_pair("action", "signin");
            }
            form.finish().into_bytes()
        };
        self.gateway.redactor.learn(&password);
        let req = CloudRequest {
            service: Service::Login,
            method: "POST".into(),
            path,
            query: vec![],
            headers: vec![crate::bindings::Header { name: "content-type".into(), value: "application/x-www-form-urlencoded".into() }],
            body,
            server: None,
            client_identity: None,
            anonymous: true,
        };
        let resp = self.gateway.call(PERSONA_STEP, &[Service::Login], req).await.map_err(|e| format!("the persona could not reach the sign-in page: {e:?}"))?;
        if resp.status >= 400 {
            // The person would see this in the browser; the run reports it instead of waiting
            // for the device code to expire.
            let page = String::from_utf8_lossy(&resp.body);
            let why = page.split("id=\"error\">").nth(1).and_then(|r| r.split('<').next()).map(unescape_html).unwrap_or_else(|| "the sign-in page refused".into());
            return Err(format!("persona {} could not sign in: {why}", persona.user));
        }
        Ok(())
    }
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
            match &device {
                Some(d) => self.answer(step, d).await,
                None => Ok(()),
            }
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

fn unescape_html(s: &str) -> String {
    s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'").replace("&amp;", "&")
}
