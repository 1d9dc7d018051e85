//! Which cloud a run talks to, and the base URL of each service there.

use std::str::FromStr;

use crate::bindings::Service;

/// `--target`: the built-in simulator in process, Azure, a served simulator (or any
/// endpoint set that speaks Azure's protocols) at an HTTPS URL, or a served simulator at
/// Azure's own host names through its proxy (`HTTPS_PROXY` from its aksflow.env).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Sim,
    Azure,
    Url(String),
    Proxy,
}

impl FromStr for Target {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "sim" => Ok(Target::Sim),
            "azure" => Ok(Target::Azure),
            "proxy" => Ok(Target::Proxy),
            url if url.starts_with("https://") => {
                let parsed = url::Url::parse(url).map_err(|e| format!("`{url}` is not a URL: {e}"))?;
                if parsed.host_str().is_none() {
                    return Err(format!("`{url}` has no host"));
                }
                Ok(Target::Url(url.trim_end_matches('/').to_string()))
            }
            url if url.starts_with("http://") => Err(format!(
                "`{url}`: only https targets work (Entra ID clients refuse plain-HTTP authorities); `aksflow sim serve` serves HTTPS"
            )),
            other => Err(format!("unknown target `{other}`: use `sim`, `azure`, https://HOST:PORT of a served simulator, or `proxy` (a served simulator through HTTPS_PROXY)")),
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Sim => f.write_str("sim"),
            Target::Azure => f.write_str("azure"),
            Target::Url(u) => f.write_str(u),
            Target::Proxy => f.write_str("proxy"),
        }
    }
}

/// Base URLs of the services (no trailing slash). `kube` has none: a kubeconfig names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    pub login: String,
    pub graph: String,
    pub arm: String,
}

impl Endpoints {
    pub fn azure() -> Self {
        Endpoints {
            login: "https://login.microsoftonline.com".into(),
            graph: "https://graph.microsoft.com".into(),
            arm: "https://management.azure.com".into(),
        }
    }

    /// Everything at one base URL, as the simulator serves it.
    pub fn single(base: &str) -> Self {
        let b = base.trim_end_matches('/').to_string();
        Endpoints { login: b.clone(), graph: b.clone(), arm: b }
    }

    pub fn base(&self, service: Service) -> Option<&str> {
        match service {
            Service::Login => Some(&self.login),
            Service::Graph => Some(&self.graph),
            Service::Arm => Some(&self.arm),
            Service::Kube => None,
        }
    }

    /// The token audience (v2 scope without `/.default`) the operator needs for a service.
    pub fn resource(service: Service) -> Option<&'static str> {
        match service {
            Service::Graph => Some("https://graph.microsoft.com"),
            Service::Arm => Some("https://management.azure.com"),
            Service::Login | Service::Kube => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_with_helpful_errors() {
        assert_eq!("sim".parse::<Target>().unwrap(), Target::Sim);
        assert_eq!("azure".parse::<Target>().unwrap(), Target::Azure);
        assert_eq!("https://127.0.0.1:8443/".parse::<Target>().unwrap(), Target::Url("https://127.0.0.1:8443".into()));
        assert!("http://127.0.0.1:8443".parse::<Target>().unwrap_err().contains("only https"));
        assert!("prod".parse::<Target>().unwrap_err().contains("use `sim`, `azure`"));
    }
}
