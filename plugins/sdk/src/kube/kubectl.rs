//! Which kubectl a kube step acts as. Its version decides what a kubeconfig may ask of it:
//! kubectl 1.26 removed the `azure` auth-provider that legacy AKS kubeconfigs (and
//! `--format azure` ones) name, and answers any command with the message below. The host
//! fills the `kubectl-version` input from the flow's era unless the step gives one.

use super::{Credential, Kubeconfig};
use crate::StepError;

/// What kubectl ≥ 1.26 prints (after `error: `) for an `azure` auth-provider user, from
/// client-go's `plugin/pkg/client/auth/azure/azure_stub.go`.
pub const AZURE_PLUGIN_REMOVED: &str = "The azure auth plugin has been removed.\nPlease use the https://github.com/Azure/kubelogin kubectl/client-go credential plugin instead.\nSee https://kubernetes.io/docs/reference/access-authn-authz/authentication/#client-go-credential-plugins for further details";

/// The first kubectl without the `azure` auth-provider.
const AZURE_PLUGIN_GONE_IN: (u32, u32) = (1, 26);

/// `1.37`, `v1.25.4`, `1.15.12` → (major, minor).
pub fn parse_version(text: &str) -> Result<(u32, u32), StepError> {
    let t = text.trim().trim_start_matches('v');
    let mut parts = t.split('.');
    let num = |p: Option<&str>| p.and_then(|s| s.parse::<u32>().ok());
    match (num(parts.next()), num(parts.next())) {
        (Some(major), Some(minor)) => Ok((major, minor)),
        _ => Err(StepError::bad_input("kubectl-version", format!("`{text}` is not a kubectl version; write it as 1.37 or v1.25.4"))),
    }
}

/// Refuses a kubeconfig whose current user this kubectl cannot serve.
pub fn check_kubeconfig(kc: &Kubeconfig, kubectl_version: Option<&str>) -> Result<(), StepError> {
    let Some(version) = kubectl_version.map(str::trim).filter(|v| !v.is_empty()) else { return Ok(()) };
    let version = parse_version(version)?;
    let cur = kc.current()?;
    if let Credential::AuthProvider(ap) = cur.user.credential()?
        && ap.name == "azure"
        && version >= AZURE_PLUGIN_GONE_IN
    {
        return Err(StepError::new("AzureAuthPluginRemoved", AZURE_PLUGIN_REMOVED).with_hint(
            "convert the kubeconfig to kubelogin's exec format: a `kubeconfig-convert` step (kubelogin convert-kubeconfig), or get it again without --format azure",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube::samples::{AZURE_USER, EXEC_USER};

    #[test]
    fn versions_parse_with_or_without_v_and_patch() {
        assert_eq!(parse_version("1.37").unwrap(), (1, 37));
        assert_eq!(parse_version("v1.25.4").unwrap(), (1, 25));
        assert_eq!(parse_version(" 1.15.12 ").unwrap(), (1, 15));
        let e = parse_version("latest").unwrap_err();
        assert!(e.message.contains("`latest`") && e.message.contains("1.37"), "{}", e.message);
    }

    #[test]
    fn kubectl_1_26_and_later_refuse_the_azure_auth_provider() {
        let azure = Kubeconfig::parse(AZURE_USER).unwrap();
        assert!(check_kubeconfig(&azure, Some("1.25.16")).is_ok());
        let e = check_kubeconfig(&azure, Some("1.26.0")).unwrap_err();
        assert_eq!(e.code, "AzureAuthPluginRemoved");
        assert!(e.message.starts_with("The azure auth plugin has been removed."));
        assert!(check_kubeconfig(&azure, Some("v1.37")).is_err());
        assert!(check_kubeconfig(&azure, None).is_ok(), "no version given: no opinion");
        let exec = Kubeconfig::parse(EXEC_USER).unwrap();
        assert!(check_kubeconfig(&exec, Some("1.37")).is_ok());
    }
}
