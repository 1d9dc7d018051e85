//! `--faults`: a fault profile file, or preset names (`flaky`, `slow,replication`), and how
//! it combines with a flow's own `[faults]` table.

use std::path::Path;

use aksflow_simulator::faults::{FaultProfile, FaultRule};

/// `--faults flaky,replication` or `--faults faults.toml`.
pub fn load(arg: &str) -> Result<FaultProfile, String> {
    let path = Path::new(arg);
    if path.is_file() || arg.ends_with(".toml") {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read the fault profile {arg}: {e}"))?;
        let profile: FaultProfile = toml::from_str(&text).map_err(|e| format!("the fault profile {arg}: {}", e.message()))?;
        return profile.resolved().map_err(|e| format!("the fault profile {arg}: {e}"));
    }
    FaultProfile::presets(arg).map_err(|e| format!("--faults {arg}: {e}; or give a fault profile file (see docs/faults.md)"))
}

/// The flow's own faults, then the command line's on top: both sets of rules apply, and the
/// command line's replication and operation settings win.
pub fn combine(flow: Option<&FaultProfile>, cli: Option<&FaultProfile>) -> Option<FaultProfile> {
    let mut out = flow.cloned().unwrap_or_default();
    if let Some(c) = cli {
        for rule in &c.rules {
            match out.rules.iter().find(|r| r.name == rule.name) {
                // The same preset in the flow and on the command line: once.
                Some(same) if same == rule => {}
                // Another rule of the same name (`rule-1` twice): the command line's is
                // renamed, so each keeps its own counter and mark.
                Some(_) => out.rules.push(FaultRule { name: rule.name.as_ref().map(|n| format!("cli-{n}")), ..rule.clone() }),
                None => out.rules.push(rule.clone()),
            }
        }
        out.take_settings_of(c);
    }
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_files_and_mistakes() {
        assert_eq!(load("flaky").unwrap().rules.len(), 4);
        assert!(load("flaky,slow").unwrap().operations.create.is_some());
        assert!(load("flakey").unwrap_err().contains("docs/faults.md"));
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("f.toml");
        std::fs::write(&f, "presets = [\"replication\"]\n[[rule]]\nservice = \"arm\"\nstatus = 503\nnth = 1\n").unwrap();
        let p = load(f.to_str().unwrap()).unwrap();
        assert_eq!((p.rules.len(), p.replication.token.as_deref()), (1, Some("20s")));
        assert!(load(dir.path().join("missing.toml").to_str().unwrap()).unwrap_err().contains("cannot read"));
    }

    #[test]
    fn the_command_line_adds_to_the_flow() {
        let flow = load("replication").unwrap();
        let both = combine(Some(&flow), Some(&load("flaky").unwrap())).unwrap();
        assert_eq!((both.rules.len(), both.replication.principal.as_deref()), (4, Some("30s")));
        assert_eq!(combine(None, None), None);
        let flaky = load("flaky").unwrap();
        assert_eq!(combine(Some(&flaky), Some(&flaky)).unwrap().rules.len(), 4, "a preset in both counts once");
        let one = |s: &str| toml::from_str::<FaultProfile>(s).unwrap().resolved().unwrap();
        let both = combine(Some(&one("[[rule]]\nstatus = 503\nnth = 1\n")), Some(&one("[[rule]]\nstatus = 429\nnth = 2\n"))).unwrap();
        let names: Vec<_> = both.rules.iter().map(|r| r.name.clone().unwrap()).collect();
        assert_eq!(names, ["rule-1", "cli-rule-1"]);
        assert_eq!(combine(Some(&FaultProfile::default()), None), None);
    }
}
