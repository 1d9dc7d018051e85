//! What happens when aksflow's own code panics while a step runs: the step fails with
//! `HostPanic` (or keeps the result it had recorded), leaves the turnstile's rotation and
//! frees the steps waiting for it, so the run ends instead of waiting forever. A panic in a
//! step's own work may leave the simulator part way through a change: from then on the run
//! saves no state.

use std::sync::Arc;

use super::Exec;
use super::Slot;
use crate::engine::StepFailure;
use crate::runner::report::{StepReport, StepStatus};

/// Ends a step's part in the run should its task unwind past every recovery (a panic in
/// `finish_after_panic` itself): out of the turnstile's rotation, marked failed, and counted
/// as done, so the other steps and the run still end. The steps it would have started are
/// reported as skipped.
pub(super) struct LastResort<'a> {
    exec: &'a Exec,
    step: usize,
    armed: bool,
}

impl<'a> LastResort<'a> {
    pub(super) fn arm(exec: &'a Exec, step: usize) -> Self {
        LastResort { exec, step, armed: true }
    }

    pub(super) fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for LastResort<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.exec.fail_unless_done(self.step, "aksflow failed again while recovering from a failure", 0.0);
            self.exec.turnstile.abandon(self.step);
            let _ = self.exec.done_tx.send(());
        }
    }
}

/// What a caught panic said, when it said it as text.
pub(super) fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    match (panic.downcast_ref::<&str>(), panic.downcast_ref::<String>()) {
        (Some(s), _) => (*s).to_string(),
        (_, Some(s)) => s.clone(),
        _ => "a panic without a message".to_string(),
    }
}

impl Exec {
    /// What `finish` must still do when it panicked part way: the step is done (as failed,
    /// unless it was recorded already), the steps it frees start, and it leaves the rotation.
    /// Without this the other steps would wait for its turn, and the run for its end, forever.
    ///
    /// Nothing here changed the simulator (judging, saving and showing only read it), so the
    /// run's state is still saved afterwards; this step's own save is simply missed, and
    /// `--resume` runs it again.
    pub(super) async fn finish_after_panic(self: &Arc<Self>, i: usize, message: &str, elapsed_ms: f64) {
        let step = &self.plan.steps[i];
        // A Turn held when the panic struck was given back as it unwound.
        let turn = self.turnstile.acquire(i).await;
        let failed = self.fail_unless_done(i, message, elapsed_ms);
        if let Some(report) = failed {
            // Shown, unless showing it is what fails.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.opts.progress.step_finished(&report)));
        }
        tracing::error!(step = %step.id, "aksflow failed while recording the step's end: {message}");
        self.io.journal.finish(i);
        self.start_ready();
        turn.leave();
        let _ = self.done_tx.send(());
    }

    /// Marks step `i` done as failed with `HostPanic`, unless its result was recorded already;
    /// returns the report when it did.
    fn fail_unless_done(&self, i: usize, message: &str, elapsed_ms: f64) -> Option<StepReport> {
        let step = &self.plan.steps[i];
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        if matches!(slots[i], Slot::Done { .. }) {
            return None;
        }
        let failure = StepFailure::HostPanic { message: message.to_string() };
        let report = StepReport {
            elapsed_ms,
            code: Some(failure.code().to_string()),
            message: Some(self.redactor.text(&failure.message())),
            ..StepReport::new(&step.id, &step.uses, StepStatus::Failed)
        };
        slots[i] = Slot::Done { report: report.clone(), outputs: Vec::new(), passed: false };
        Some(report)
    }

    /// After aksflow's own failure: no more state saves (see `host_failed`), said once.
    pub(super) fn stop_saving(&self, step: &str) {
        let already = self.host_failed.swap(true, std::sync::atomic::Ordering::Relaxed);
        if self.opts.saves != super::Saves::Never && !already {
            let warning = "aksflow failed while running this step; the run's state is no longer saved, so --resume would start again from the last save before this";
            // The progress sink may be what failed.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.opts.progress.step_log(step, crate::sandbox::LogLevel::Warn, warning)));
        }
    }

    /// Whether state is saved: asked for, and aksflow has not failed in this run.
    pub(super) fn saving(&self) -> bool {
        self.opts.saves != super::Saves::Never && !self.host_failed.load(std::sync::atomic::Ordering::Relaxed)
    }
}
