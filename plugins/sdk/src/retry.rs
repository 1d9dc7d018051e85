//! Trying again after an error that time cures (a principal or secret that has not
//! replicated yet), as the az CLI does for some of its commands: a few attempts, waiting a
//! little longer each time, in the run's time (virtual against the simulator).

use crate::{StepError, log};

/// Runs `attempt` up to `attempts` times while it fails with one of `codes`, waiting 2, 4,
/// 6 … seconds in between (az aks's role-assignment retry), and returns its last result.
/// When that is still one of `codes`, its hint says what the person can do about it.
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
            Err(e) if codes.contains(&e.code.as_str()) => return Err(still_failing(e, n)),
            other => return other,
        }
    }
}

/// The hint of an error that time may cure, after `tries` attempts.
fn still_failing(e: StepError, tries: u32) -> StepError {
    let advice = if tries == 1 {
        format!("{} can be replication that has not caught up yet: give the step `attempts` (e.g. \"10\") to try again, 2, 4, 6 … s apart", e.code)
    } else {
        let waited: u32 = (1..tries).map(|i| 2 * i).sum();
        format!("still {} after {tries} attempts over {waited}s: the object may not exist, or replication is slower; check it, or raise `attempts`", e.code)
    };
    let hint = match &e.hint {
        Some(h) => format!("{h}; {advice}"),
        None => advice,
    };
    StepError { hint: Some(hint), ..e }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_time_may_cure_says_what_to_do() {
        let once = still_failing(StepError::new("PrincipalNotFound", "Principal x does not exist"), 1);
        assert_eq!(once.message, "Principal x does not exist");
        assert!(once.hint.unwrap().contains("give the step `attempts`"));
        let many = still_failing(StepError::new("AADSTS7000215", "bad").with_hint("check client-id and client-secret"), 10);
        assert_eq!(many.hint.unwrap(), "check client-id and client-secret; still AADSTS7000215 after 10 attempts over 90s: the object may not exist, or replication is slower; check it, or raise `attempts`");
    }
}

fn first_sentence(m: &str) -> &str {
    m.split(". ").next().unwrap_or(m)
}
