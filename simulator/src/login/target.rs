//! What a client asks a token for: a v1 `resource`, or v2 `scope`s, and the resource and
//! scope names they come to in a tenant.

use super::error::LoginError;
use crate::directory::{Directory, ServicePrincipal};

const OIDC_SCOPES: &[&str] = &["openid", "profile", "offline_access", "email"];

/// What the client asked a token for: a v1 `resource`, or v2 `scope`s.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
pub enum Target {
    Resource(String),
    Scope(String),
}

/// The resource a request targets and the scopes it asks for.
#[derive(Debug, Clone)]
pub struct Requested {
    /// The audience exactly as the client named it (v1 tokens carry it verbatim).
    pub audience: String,
    pub resource: ServicePrincipal,
    /// Scope names; `.default` asks for everything consented.
    pub scopes: Vec<String>,
    pub want_id_token: bool,
}

/// The resource and scopes a request names, in `tenant_id`.
pub fn resolve(dir: &Directory, tenant_id: &str, target: &Target) -> Result<Requested, LoginError> {
    let unknown = |r: &str| LoginError::UnknownResource { resource: r.into(), tenant: tenant_id.into() };
    match target {
        Target::Resource(r) => {
            let sp = dir.resource(tenant_id, r).ok_or_else(|| unknown(r))?.clone();
            Ok(Requested { audience: r.clone(), resource: sp, scopes: vec![".default".into()], want_id_token: true })
        }
        Target::Scope(s) => {
            let all: Vec<&str> = s.split_whitespace().collect();
            let want_id_token = all.iter().any(|x| x.eq_ignore_ascii_case("openid"));
            let resource_scopes: Vec<&str> = all.iter().copied().filter(|x| !OIDC_SCOPES.contains(&x.to_ascii_lowercase().as_str())).collect();
            if resource_scopes.is_empty() {
                // Only OIDC scopes: Entra gives a Graph token for User.Read.
                let sp = dir.resource(tenant_id, crate::directory::well_known::MICROSOFT_GRAPH).ok_or_else(|| unknown("Microsoft Graph"))?.clone();
                return Ok(Requested { audience: "https://graph.microsoft.com".into(), resource: sp, scopes: vec!["User.Read".into()], want_id_token });
            }
            let mut audience: Option<String> = None;
            let mut scopes = Vec::new();
            for scope in resource_scopes {
                let (res, name) = match scope.rfind('/') {
                    Some(i) if i > 0 => (&scope[..i], &scope[i + 1..]),
                    // A bare scope name means Microsoft Graph.
                    _ => ("https://graph.microsoft.com", scope),
                };
                match &audience {
                    Some(a) if !a.trim_end_matches('/').eq_ignore_ascii_case(res.trim_end_matches('/')) => {
                        return Err(LoginError::InvalidScope { scope: s.clone() });
                    }
                    _ => audience = Some(res.to_string()),
                }
                scopes.push(name.to_string());
            }
            let audience = audience.expect("at least one resource scope");
            let sp = dir.resource(tenant_id, &audience).ok_or_else(|| unknown(&audience))?.clone();
            // v1 tokens for a resource named by URI carry the URI; named by appId, the appId.
            Ok(Requested { audience, resource: sp, scopes, want_id_token })
        }
    }
}
