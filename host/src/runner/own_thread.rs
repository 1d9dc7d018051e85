//! A simulated flow runs on a thread of its own, on a single-threaded runtime. Its steps
//! take turns at the simulator anyway (the turnstile), so one thread loses no parallelism
//! that matters, and every hand-off of the turn is a queue push instead of a wake-up of
//! another worker thread (a system call and a context switch). Flows run side by side
//! (`aksflow test`, the bench's two at a time) each get a thread, so they still use every
//! core. Runs against Azure or a served simulator stay on the caller's runtime: their HTTP
//! clients belong to it.
//!
//! The threads are kept for the next flow (a new thread's allocator heap, signal stack and
//! wasm trap handling start cold, and its exit unmaps them on every core); each flow still
//! gets a runtime of its own, dropped with whatever tasks it left.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use super::report::RunReport;
use super::stop::{Stop, StopOnDrop};
use super::{RunError, RunOptions, exec};
use crate::cloud::Target;
use crate::engine::StepEngine;
use crate::flow::Plan;

type Job = Box<dyn FnOnce() + Send>;

/// Threads waiting for a flow, each by the channel it takes jobs from.
static IDLE: Mutex<Vec<mpsc::Sender<Job>>> = Mutex::new(Vec::new());

/// Flows worth running side by side: twice the CPUs, as each flow thread blocks while its
/// files are synced to disk (1,000 flows on a 2-core machine writing to disk: 104 -> 124
/// flows/s, unchanged on tmpfs; docs/testing.md), and at most half the engine's instance
/// pool: more flows than that would mostly wait for sandboxes (each run reserves those its
/// flow can use at once, `StepEngine::reserve`). `aksflow test`'s default, and the most flow
/// threads kept idle.
pub fn side_by_side() -> usize {
    // Asked once: the answer reads the cgroup's files each time.
    static N: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *N.get_or_init(|| (2 * std::thread::available_parallelism().map_or(2, |n| n.get())).min(crate::engine::MAX_INSTANCES as usize / 2))
}

/// Runs a flow: a simulated one on a flow thread, any other here. Dropping the returned
/// future stops a simulated flow too (its runtime is dropped with its tasks). A panic in the
/// run itself comes back here; one inside a step's task fails that step (`HostPanic`).
pub async fn run(plan: Arc<Plan>, engine: Arc<StepEngine>, opts: RunOptions) -> Result<RunReport, RunError> {
    // Set when this future goes, whether it finishes or is dropped itself: the flow stops.
    let stop = Arc::new(Stop::default());
    let _stop_on_drop = StopOnDrop(stop.clone());
    if opts.target != Target::Sim {
        return exec::run(plan, engine, opts, stop).await;
    }
    let (result_tx, result_rx) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| RunError::Setup(format!("cannot start the flow's runtime: {e}")))?;
            // Nobody waits for a stopped run's answer.
            rt.block_on(async {
                tokio::select! {
                    report = exec::run(plan, engine, opts, stop.clone()) => report,
                    _ = stop.wait() => Err(RunError::Setup("the run was stopped".into())),
                }
            })
        }));
        let _ = result_tx.send(outcome);
    });
    hand_over(job)?;
    match result_rx.await {
        Ok(Ok(result)) => result,
        // A panic in the flow is this caller's panic, as it was when the flow ran here.
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(_) => Err(RunError::Setup("the flow's thread ended without an answer; this is a bug in aksflow: please report it with the output of the run under AKSFLOW_LOG=debug".into())),
    }
}

/// Gives `job` to an idle flow thread, or to a new one.
fn hand_over(mut job: Job) -> Result<(), RunError> {
    loop {
        let Some(idle) = IDLE.lock().unwrap_or_else(|p| p.into_inner()).pop() else { break };
        match idle.send(job) {
            Ok(()) => return Ok(()),
            // That thread is gone; try the next.
            Err(mpsc::SendError(back)) => job = back,
        }
    }
    let (tx, rx) = mpsc::channel::<Job>();
    tx.send(job).expect("the receiver is here");
    std::thread::Builder::new()
        .name("aksflow flow".into())
        .spawn(move || {
            while let Ok(job) = rx.recv() {
                job();
                let mut idle = IDLE.lock().unwrap_or_else(|p| p.into_inner());
                if idle.len() >= side_by_side() {
                    return;
                }
                idle.push(tx.clone());
            }
        })
        .map(|_| ())
        .map_err(|e| RunError::Setup(format!("cannot start a thread for the flow: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Jobs handed over one after another reuse the thread that went idle; jobs at once get
    /// a thread each.
    #[test]
    fn an_idle_thread_takes_the_next_flow_and_busy_ones_do_not() {
        let ran_on = || {
            let (tx, rx) = mpsc::channel();
            hand_over(Box::new(move || tx.send(std::thread::current().id()).unwrap())).unwrap();
            rx
        };
        let wait = std::time::Duration::from_secs(10);
        let first = ran_on().recv_timeout(wait).unwrap();
        // The thread goes back on the idle list just after the job; wait for it.
        while IDLE.lock().unwrap().is_empty() {
            std::thread::yield_now();
        }
        assert_eq!(ran_on().recv_timeout(wait).unwrap(), first, "the idle thread took it");
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let (started_tx, started_rx) = mpsc::channel();
        hand_over(Box::new(move || {
            started_tx.send(std::thread::current().id()).unwrap();
            release_rx.recv().unwrap();
        }))
        .unwrap();
        let busy = started_rx.recv_timeout(wait).unwrap();
        assert_ne!(ran_on().recv_timeout(wait).unwrap(), busy, "a busy thread is not given a second job");
        release_tx.send(()).unwrap();
    }
}
