//! Trying again after an error that time cures (a principal or secret that has not
//! replicated yet), as the az CLI does for some of its commands: a few attempts, waiting a
//! little longer each time, in the run's time (virtual against the simulator).

use crate::{StepError, log};

/// Runs `attempt` up to `attempts` times while it fails with one of `codes`, waiting 2, 4,
/// 6 … seconds in between (az aks's role-assignment retry), and returns its last result.
pub fn with_retries<T>(what: &str, attempts: u32, codes: &[&str], mut attempt: impl FnMut() -> Result<T, StepError>) -> Result<T, StepError> {
    let attempts = attempts.max(1);
    let mut n = 1;
    loop {
        match attempt() {
            Err(e) if n < attempts && codes.contains(&e.code.as_str()) => {
                let wait = 2 * u64::from(n);
                log::info(&format!("{what}: {} ({}); trying again in {wait}s ({n} of {attempts})", e.code, first_sentence(&e.message)));
                std::thread::sleep(std::time::Duration::from_secs(wait));
                n += 1;
            }
            other => return other,
        }
    }
}

fn first_sentence(m: &str) -> &str {
    m.split(". ").next().unwrap_or(m)
}
