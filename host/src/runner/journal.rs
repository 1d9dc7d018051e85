//! What each running step has been told by the host so far: cloud answers, prompt
//! outcomes, sleeps and clock readings, in order. The journal of every step still running
//! is saved with the run's state, so a resumed run can replay a step that was in flight at
//! the kill instead of starting it again against a simulator that already holds half its
//! work. Guests are deterministic: given the same answers they make the same calls, so the
//! replay is exact, and once the journal runs out the step goes on live.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::bindings::{CallError, CloudResponse, Header};

/// One answer the host gave a step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Exchange {
    Call(SavedCall),
    Show(Result<(), String>),
    /// A guest sleep: it advanced the run's clock (which the saved simulator already shows).
    Sleep,
    /// A clock reading, in milliseconds.
    Now(i64),
}

impl Exchange {
    fn kind(&self) -> &'static str {
        match self {
            Exchange::Call(_) => asked::CALL,
            Exchange::Show(_) => asked::SHOW,
            Exchange::Sleep => asked::SLEEP,
            Exchange::Now(_) => asked::NOW,
        }
    }
}

/// A cloud call's outcome as the state file keeps it: the body in base64, not as a JSON
/// array of numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SavedCall {
    Response {
        status: u16,
        headers: Vec<Header>,
        #[serde(with = "base64_body")]
        body: Vec<u8>,
    },
    Error(CallError),
}

impl From<&Result<CloudResponse, CallError>> for SavedCall {
    fn from(r: &Result<CloudResponse, CallError>) -> Self {
        match r {
            Ok(resp) => SavedCall::Response { status: resp.status, headers: resp.headers.clone(), body: resp.body.clone() },
            Err(e) => SavedCall::Error(e.clone()),
        }
    }
}

impl From<SavedCall> for Result<CloudResponse, CallError> {
    fn from(c: SavedCall) -> Self {
        match c {
            SavedCall::Response { status, headers, body } => Ok(CloudResponse { status, headers, body }),
            SavedCall::Error(e) => Err(e),
        }
    }
}

mod base64_body {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(body: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(body))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}

/// What one step has been told, and what is left to replay to it.
#[derive(Default)]
struct StepLog {
    told: Vec<Exchange>,
    replay: VecDeque<Exchange>,
}

/// The journals of the steps running now, by turn (plan index). A run that saves no state
/// (a benchmark) keeps none.
#[derive(Default)]
pub struct Journal {
    keeping: bool,
    steps: Mutex<HashMap<usize, StepLog>>,
}

/// What [`Journal::replay`] found.
#[derive(Debug, PartialEq)]
pub enum Replay {
    /// The saved answer to give the step instead of asking anyone.
    Answer(Exchange),
    /// Nothing (left) to replay: ask live.
    Live,
    /// The step asked for something else than it did before the kill: the rest of its
    /// journal is dropped and it goes on live. Names what was saved and what was asked.
    Diverged { saved: &'static str, asked: &'static str },
}

impl Journal {
    /// A journal that keeps what steps are told (`keeping`), or one that keeps nothing.
    pub fn new(keeping: bool) -> Self {
        Journal { keeping, steps: Mutex::default() }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<usize, StepLog>> {
        self.steps.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Gives a step, before it starts, the answers it got before a kill.
    pub fn preload(&self, turn: usize, saved: Vec<Exchange>) {
        self.lock().insert(turn, StepLog { told: Vec::new(), replay: saved.into() });
    }

    /// The next saved answer for a step, if it asked for the same kind of thing. A replayed
    /// answer counts as told, so a save during the replay keeps it.
    pub fn replay(&self, turn: usize, asked: &'static str) -> Replay {
        let mut steps = self.lock();
        let Some(log) = steps.get_mut(&turn) else { return Replay::Live };
        let Some(next) = log.replay.front() else { return Replay::Live };
        if next.kind() != asked {
            let saved = next.kind();
            log.replay.clear();
            return Replay::Diverged { saved, asked };
        }
        let answer = log.replay.pop_front().expect("front was there");
        log.told.push(answer.clone());
        Replay::Answer(answer)
    }

    /// Notes a live answer.
    pub fn record(&self, turn: usize, exchange: Exchange) {
        if !self.keeping {
            return;
        }
        self.lock().entry(turn).or_default().told.push(exchange);
    }

    /// Everything a step has been told so far (what the state saves for it).
    pub fn told(&self, turn: usize) -> Vec<Exchange> {
        self.lock().get(&turn).map(|l| l.told.clone()).unwrap_or_default()
    }

    /// The step has finished: its journal is no longer needed.
    pub fn finish(&self, turn: usize) {
        self.lock().remove(&turn);
    }
}

/// The kind of exchange each host import asks for (the names [`Replay::Diverged`] reports).
pub mod asked {
    pub const CALL: &str = "call";
    pub const SHOW: &str = "show";
    pub const SLEEP: &str = "sleep";
    pub const NOW: &str = "now";
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16) -> Exchange {
        Exchange::Call(SavedCall::from(&Ok(CloudResponse { status, headers: vec![], body: format!("{status}").into_bytes() })))
    }

    #[test]
    fn a_step_with_no_journal_goes_live_and_what_it_is_told_is_kept() {
        let j = Journal::new(true);
        assert_eq!(j.replay(3, asked::CALL), Replay::Live);
        j.record(3, resp(200));
        j.record(3, Exchange::Now(5));
        assert_eq!(j.told(3), vec![resp(200), Exchange::Now(5)]);
        assert_eq!(j.told(4), vec![], "another step's journal is its own");
        j.finish(3);
        assert_eq!(j.told(3), vec![]);
    }

    #[test]
    fn a_preloaded_journal_is_replayed_in_order_then_the_step_goes_live() {
        let j = Journal::new(true);
        j.preload(1, vec![resp(201), Exchange::Sleep, Exchange::Show(Ok(()))]);
        assert_eq!(j.replay(1, asked::CALL), Replay::Answer(resp(201)));
        assert_eq!(j.replay(1, asked::SLEEP), Replay::Answer(Exchange::Sleep));
        // A save in the middle of the replay keeps what was replayed so far.
        assert_eq!(j.told(1), vec![resp(201), Exchange::Sleep]);
        assert_eq!(j.replay(1, asked::SHOW), Replay::Answer(Exchange::Show(Ok(()))));
        assert_eq!(j.replay(1, asked::CALL), Replay::Live);
        j.record(1, resp(204));
        assert_eq!(j.told(1).len(), 4);
    }

    #[test]
    fn a_step_that_asks_for_something_else_drops_the_rest_and_goes_live() {
        let j = Journal::new(true);
        j.preload(0, vec![resp(200), resp(201)]);
        assert_eq!(j.replay(0, asked::NOW), Replay::Diverged { saved: "call", asked: "now" });
        assert_eq!(j.replay(0, asked::CALL), Replay::Live, "the rest of the journal is gone");
    }

    #[test]
    fn a_run_that_saves_no_state_keeps_no_journal() {
        let j = Journal::new(false);
        j.record(0, resp(200));
        assert_eq!(j.told(0), vec![]);
    }

    #[test]
    fn exchanges_survive_the_state_file() {
        let all = vec![
            resp(200),
            Exchange::Call(SavedCall::from(&Err(CallError::NotGranted("arm".into())))),
            Exchange::Show(Err("declined".into())),
            Exchange::Sleep,
            Exchange::Now(1_700_000_000_000),
        ];
        let text = serde_json::to_string(&all).unwrap();
        assert_eq!(serde_json::from_str::<Vec<Exchange>>(&text).unwrap(), all);
    }
}
