//! What a flow's era means on the host's side: which kubectl the person runs, and which
//! targets can give the Azure the flow needs.

use aksflow_simulator::Era;

use crate::cloud::Target;

/// The kubectl a person ran in that era: seed 000's (before 1.26 dropped the `azure`
/// auth-provider), or today's.
pub fn kubectl_version(era: Era) -> &'static str {
    match era {
        Era::Y2019 => "1.15.12",
        Era::Today => "1.37.0",
    }
}

/// Why `target` cannot run a flow of `era`, if it cannot. `served` is the era a served
/// simulator says it simulates (`AKSFLOW_SIM_ERA` in its aksflow.env), if known.
pub fn refuse_era(flow: &str, era: Era, target: &Target, served: Option<Era>) -> Option<String> {
    match (era, target) {
        (Era::Today, Target::Sim | Target::Azure) => None,
        (Era::Y2019, Target::Sim) => None,
        (Era::Y2019, Target::Azure) => Some(format!(
            "flow `{flow}` needs the 2019 era of Azure (`era = \"2019\"`): the legacy Azure AD integration with server and client apps, which Azure no longer creates (AKS refused new legacy clusters from 2023 and migrated the rest to AKS-managed Azure AD). Nothing was run.\n  Run it on the simulator (leave out --target), or run a managed-AAD flow against Azure: flows/managed-aad.toml, flows/managed-aad-existing.toml, flows/ci-spn-login.toml."
        )),
        (_, Target::Proxy | Target::Url(_)) => {
            let served = served.unwrap_or_default();
            let which = match target {
                Target::Url(url) => format!("at {url}"),
                _ => "behind HTTPS_PROXY".to_string(),
            };
            (served != era).then(|| {
                format!(
                    "flow `{flow}` needs the simulator's `{era}` era, but the simulator {which} simulates `{served}`. Nothing was run.\n  Serve one of that era (`aksflow sim serve --era {era}`) and load its aksflow.env, or run the flow in process (leave out --target)."
                )
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_era_runs_on_simulators_of_its_era_only() {
        assert_eq!(refuse_era("f", Era::Y2019, &Target::Sim, None), None);
        let azure = refuse_era("legacy-aad", Era::Y2019, &Target::Azure, None).unwrap();
        assert!(azure.contains("flows/managed-aad.toml") && azure.contains("Nothing was run"), "{azure}");
        let url = Target::Url("https://127.0.0.1:8443".into());
        assert!(refuse_era("f", Era::Y2019, &url, Some(Era::Today)).unwrap().contains("--era 2019"));
        assert!(refuse_era("f", Era::Y2019, &url, None).is_some(), "an era unsaid is today's");
        assert_eq!(refuse_era("f", Era::Y2019, &url, Some(Era::Y2019)), None);
        assert!(refuse_era("f", Era::Today, &url, Some(Era::Y2019)).is_some());
        assert_eq!(refuse_era("f", Era::Today, &Target::Azure, None), None);
    }

    #[test]
    fn only_the_seed_era_runs_a_kubectl_with_the_azure_auth_provider() {
        let minor = |v: &str| v.split('.').nth(1).unwrap().parse::<u32>().unwrap();
        assert!(minor(kubectl_version(Era::Y2019)) < 26);
        assert!(minor(kubectl_version(Era::Today)) >= 26);
    }
}
