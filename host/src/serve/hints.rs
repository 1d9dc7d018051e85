//! What `sim serve` tells a shell beyond aksflow.env's variables: the az commands for the
//! direct endpoint (for tools that take an endpoint instead of a proxy), and where
//! kubeconfigs go. The tests run these same commands.

/// The cloud name az registers the direct endpoint under.
pub const AZ_CLOUD: &str = "aksflow-sim";

/// az without the proxy, at the simulator's own address: a cloud whose login, ARM and
/// Microsoft Graph endpoints are `base` (the simulator's Graph is also named by that
/// address, so az's Graph tokens are for a valid name of it), made current; and MSAL's
/// instance discovery off, since login.microsoftonline.com is not asked. Each is one argv.
pub fn az_direct_mode(base: &str) -> Vec<Vec<String>> {
    let base = base.trim_end_matches('/');
    let argv = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<String>>();
    vec![
        argv(&[
            "az",
            "cloud",
            "register",
            "-n",
            AZ_CLOUD,
            "--endpoint-active-directory",
            base,
            "--endpoint-resource-manager",
            &format!("{base}/"),
            "--endpoint-active-directory-resource-id",
            "https://management.core.windows.net/",
            "--endpoint-microsoft-graph-resource-id",
            &format!("{base}/"),
            "--skip-endpoint-discovery",
        ]),
        argv(&["az", "cloud", "set", "-n", AZ_CLOUD]),
        argv(&["az", "config", "set", "core.instance_discovery=false"]),
    ]
}

/// A command as a shell line (arguments quoted only where needed).
pub fn shell_line(argv: &[String]) -> String {
    argv.iter()
        .map(|a| if a.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:=@,".contains(c)) { a.clone() } else { format!("'{}'", a.replace('\'', r"'\''")) })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_direct_mode_names_graph_by_the_simulators_address_and_turns_off_instance_discovery() {
        let cmds = az_direct_mode("https://127.0.0.1:8443/");
        let register = shell_line(&cmds[0]);
        assert!(register.contains("--endpoint-microsoft-graph-resource-id https://127.0.0.1:8443/ "), "{register}");
        assert!(register.contains("--endpoint-active-directory https://127.0.0.1:8443 "), "{register}");
        assert_eq!(shell_line(&cmds[1]), "az cloud set -n aksflow-sim");
        assert_eq!(shell_line(&cmds[2]), "az config set core.instance_discovery=false");
        assert_eq!(shell_line(&["echo".into(), "it's here".into()]), r"echo 'it'\''s here'");
    }
}
