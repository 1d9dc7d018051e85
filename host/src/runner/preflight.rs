//! What a target cannot run, said before anything runs: a flow of seed 000's era against
//! today's Azure (or a served simulator of another era), injected faults anywhere but in
//! process, and hours of `wait` where time is real.

use std::time::Duration;

use aksflow_simulator::Era;

use crate::cloud::Target;
use crate::flow::Plan;

/// The longest `wait` a step may have against Azure or a served simulator (real time).
pub const LONGEST_LIVE_WAIT: Duration = Duration::from_secs(15 * 60);

/// Why `target` cannot run `plan` (`cli_faults`: the command line asks for faults), if it
/// cannot. `served_era` is what a served simulator says it simulates (`Some(None)`: it says
/// nothing, so today's); `None` when that is not known yet, and its check waits.
pub fn refusal(plan: &Plan, target: &Target, cli_faults: bool, served_era: Option<Option<Era>>) -> Option<String> {
    let era_known = served_era.is_some() || !matches!(target, Target::Url(_) | Target::Proxy);
    if era_known {
        if let Some(why) = crate::flow::refuse_era(&plan.name, plan.era, target, served_era.flatten()) {
            return Some(why);
        }
    }
    if *target == Target::Sim {
        return None;
    }
    if plan.faults.is_some() || cli_faults {
        return Some(format!(
            "flow `{}` asks for injected faults, which only the in-process simulator takes from a run. Nothing was run.\n  Run it without --target, or serve a simulator with the faults (`aksflow sim serve --faults PRESETS|FILE`) and leave them out of the run.",
            plan.name
        ));
    }
    // Waiting hours is virtual time in process, real time anywhere else.
    plan.steps.iter().find(|s| s.wait.is_some_and(|w| w > LONGEST_LIVE_WAIT)).map(|s| {
        format!(
            "step `{}` waits {} s, real time against {target}; a wait longer than {} minutes runs in process only. Nothing was run.",
            s.id,
            s.wait.unwrap_or_default().as_secs(),
            LONGEST_LIVE_WAIT.as_secs() / 60
        )
    })
}
