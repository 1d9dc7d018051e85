//! The runner's [`StepIo`]: a step's imports, wired to the gateway, the turnstile, the
//! run's clock and seed, and the progress display. Each call carries the step's
//! [`StepCaps`]: its turn, grants and persona come from there, never from a lookup by name.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::journal::{Exchange, Journal, Replay, SavedCall, asked};
use super::progress::Progress;
use super::turnstile::Turnstile;
use crate::bindings::{CallError, CloudContext, CloudRequest, CloudResponse, Header, Service};
use crate::caps::{Grants, StepCaps};
use crate::cloud::Gateway;
use crate::persona::SignIn;
use crate::sandbox::BoxFuture;
use crate::sandbox::{DeviceLogin, LogLevel, StepIo};

pub struct RunIo {
    pub gateway: Arc<Gateway>,
    pub turnstile: Arc<Turnstile>,
    pub context: CloudContext,
    pub progress: Arc<dyn Progress>,
    pub seed: u64,
    /// The simulator's seeded users and passwords (simulated runs).
    pub persona_passwords: HashMap<String, String>,
    /// A served simulator's seed, from which its personas' passwords follow.
    pub served_seed: Option<u64>,
    /// What a persona's sign-in may do: reach the token service's sign-in page, nothing else.
    persona_caps: StepCaps,
    /// What each running step has been told (saved for an exact `--resume`), and what a
    /// resumed step is told again before it goes live.
    pub journal: Journal,
    /// Device codes a persona will answer later (`persona = { …, after = "12s" }`), by the
    /// step's turn: when, and what was shown.
    late_answers: std::sync::Mutex<HashMap<usize, (i64, DeviceLogin)>>,
    /// Set when the run is stopped (`runner::run`'s future dropped).
    pub stop: Arc<super::stop::Stop>,
}

/// The step name a persona's sign-in is recorded under.
pub const PERSONA_STEP: &str = "(persona)";

impl RunIo {
    pub fn new(
        gateway: Arc<Gateway>,
        turnstile: Arc<Turnstile>,
        context: CloudContext,
        progress: Arc<dyn Progress>,
        seed: u64,
        persona_passwords: HashMap<String, String>,
        served_seed: Option<u64>,
    ) -> Self {
        let persona_caps = StepCaps::host(PERSONA_STEP, Grants::of(&[Service::Login]));
        RunIo { gateway, turnstile, context, progress, seed, persona_passwords, served_seed, persona_caps, journal: Journal::default(), late_answers: Default::default(), stop: Default::default() }
    }

    /// The late answers still to come, by turn (saved with the run's state).
    pub fn late_answers(&self) -> Vec<(usize, i64, DeviceLogin)> {
        let late = self.late_answers.lock().unwrap_or_else(|p| p.into_inner());
        let mut all: Vec<_> = late.iter().map(|(turn, (at, d))| (*turn, *at, d.clone())).collect();
        all.sort_by_key(|(turn, _, _)| *turn);
        all
    }

    /// Takes back a saved run's late answers.
    pub fn keep_late_answer(&self, turn: usize, at_ms: i64, device: DeviceLogin) {
        self.late_answers.lock().unwrap_or_else(|p| p.into_inner()).insert(turn, (at_ms, device));
    }

    /// The saved answer to what the step asks, when it is replaying a journal.
    fn replayed(&self, caps: &StepCaps, asked: &'static str) -> Option<Exchange> {
        match self.journal.replay(caps.turn(), asked) {
            Replay::Answer(a) => Some(a),
            Replay::Live => None,
            Replay::Diverged { saved, asked } => {
                self.progress.step_log(
                    caps.step(),
                    LogLevel::Warn,
                    &format!("resuming: the step asked for a {asked} where the saved run had a {saved}; it goes on live from here, so this run may differ from an uninterrupted one"),
                );
                None
            }
        }
    }

    /// The persona acts on the device-code prompt as a person would: opens the
    /// verification page and signs in, or declines.
    async fn answer(&self, caps: &StepCaps, device: &DeviceLogin) -> Result<(), String> {
        let Some(persona) = caps.persona() else {
            if self.gateway.clock.is_virtual() {
                return Err(format!(
                    "step `{}` asked the person at the keyboard to sign in with a device code, and nobody answers in a simulation: add `persona = \"alice@contoso.onmicrosoft.com\"` (or another seeded user) to the step",
                    caps.step()
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
        self.gateway.redactor.learn(&password);
        let sign_in = SignIn { user: &persona.user, password: &password, decline: persona.decline };
        let req = CloudRequest {
            service: Service::Login,
            method: "POST".into(),
            path,
            query: vec![],
            headers: vec![Header { name: "content-type".into(), value: "application/x-www-form-urlencoded".into() }],
            body: sign_in.form(&device.user_code),
            server: None,
            certificate_authority: None,
            client_identity: None,
            anonymous: true,
        };
        let resp = self.gateway.call(&self.persona_caps, req).await.map_err(|e| format!("the persona could not reach the sign-in page: {e:?}"))?;
        // The person would see a refusal in the browser; the run reports it instead of
        // waiting for the device code to expire.
        sign_in.outcome(resp.status, &resp.body)
    }
}

impl StepIo for RunIo {
    fn call<'a>(&'a self, caps: &'a StepCaps, req: CloudRequest) -> BoxFuture<'a, Result<CloudResponse, CallError>> {
        Box::pin(async move {
            // A replayed event happened before the save: it takes no turn in the rotation.
            if let Some(Exchange::Call(saved)) = self.replayed(caps, asked::CALL) {
                return saved.into();
            }
            let _turn = self.turnstile.acquire(caps.turn()).await;
            // A persona who answers late does so at the first call of the step's after the
            // time has come (the step is polling the token endpoint by then).
            let due = {
                let mut late = self.late_answers.lock().unwrap_or_else(|p| p.into_inner());
                match late.get(&caps.turn()) {
                    Some((at, _)) if self.gateway.clock.now_ms() >= *at => late.remove(&caps.turn()).map(|(_, d)| d),
                    _ => None,
                }
            };
            if let Some(device) = due {
                if let Err(refused) = self.answer(caps, &device).await {
                    self.progress.step_log(caps.step(), LogLevel::Warn, &refused);
                }
            }
            let result = self.gateway.call(caps, req).await;
            self.journal.record(caps.turn(), Exchange::Call(SavedCall::from(&result)));
            result
        })
    }

    fn context(&self) -> CloudContext {
        self.context.clone()
    }

    fn log(&self, caps: &StepCaps, level: LogLevel, message: &str) {
        self.progress.step_log(caps.step(), level, &self.gateway.redactor.text(message));
    }

    fn show<'a>(&'a self, caps: &'a StepCaps, message: &'a str, device: Option<DeviceLogin>) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            if let Some(Exchange::Show(outcome)) = self.replayed(caps, asked::SHOW) {
                return outcome;
            }
            let _turn = self.turnstile.acquire(caps.turn()).await;
            self.progress.prompt(caps.step(), &self.gateway.redactor.text(message), device.as_ref());
            let late = caps.persona().and_then(|p| p.after).filter(|_| self.gateway.clock.is_virtual());
            let outcome = match (&device, late) {
                (Some(d), Some(after)) => {
                    let at = self.gateway.clock.now_ms() + after.as_millis() as i64;
                    self.late_answers.lock().unwrap_or_else(|p| p.into_inner()).insert(caps.turn(), (at, d.clone()));
                    Ok(())
                }
                (Some(d), None) => self.answer(caps, d).await,
                (None, _) => Ok(()),
            };
            self.journal.record(caps.turn(), Exchange::Show(outcome.clone()));
            outcome
        })
    }

    fn now_ms(&self, caps: &StepCaps) -> i64 {
        if let Some(Exchange::Now(ms)) = self.replayed(caps, asked::NOW) {
            return ms;
        }
        let ms = self.gateway.clock.now_ms();
        self.journal.record(caps.turn(), Exchange::Now(ms));
        ms
    }

    fn sleep<'a>(&'a self, caps: &'a StepCaps, duration: Duration) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            // A replayed sleep already moved the clock the saved simulator was taken at.
            if self.replayed(caps, asked::SLEEP).is_some() {
                return;
            }
            let _turn = self.turnstile.acquire(caps.turn()).await;
            self.gateway.clock.sleep(duration).await;
            self.journal.record(caps.turn(), Exchange::Sleep);
        })
    }

    fn seed_for(&self, caps: &StepCaps, stream: &str) -> u64 {
        let h = Sha256::new().chain_update(self.seed.to_le_bytes()).chain_update(caps.step()).chain_update([0]).chain_update(stream).finalize();
        u64::from_le_bytes(h[..8].try_into().unwrap())
    }

    fn stopped(&self) -> bool {
        self.stop.is_set()
    }
}
