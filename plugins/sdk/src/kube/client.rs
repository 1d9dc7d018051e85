//! Calls to a cluster's API server, as a kubeconfig's user.

use super::{Credential, Kubeconfig, kubectl_error};
use crate::{Call, Response, Service, StepError};

/// A bare request to a cluster's API server at `server` (a kubeconfig's
/// `clusters[].cluster.server`); add credentials with `.bearer(token)` or
/// `.client_identity(pem)`, or use a [`Client`], which does.
pub fn call(method: &str, server: &str, path: &str) -> Call {
    Call::new(Service::Kube, method, path).server(server).anonymous()
}

/// Sends a call and turns any non-2xx answer into the `Status` error as kubectl prints it
/// (see [`kubectl_error`]).
pub fn send(call: Call) -> Result<Response, StepError> {
    let resp = call.send()?;
    if resp.is_success() { Ok(resp) } else { Err(kubectl_error(&resp)) }
}

/// Where and as whom to call a cluster's API server.
#[derive(Clone)]
pub struct Client {
    pub server: String,
    /// The CA the server's certificate must chain to (the kubeconfig's), PEM.
    pub certificate_authority: Option<String>,
    token: Option<String>,
    identity: Option<String>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("server", &self.server)
            .field("certificate_authority", &self.certificate_authority.is_some())
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("identity", &self.identity.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl Client {
    /// A client for `server` with a bearer token of the step's own, trusting
    /// `certificate_authority` (PEM) for the server's certificate; without one, the system's
    /// roots (and the CA the run trusts, such as a served simulator's).
    pub fn with_token(server: &str, certificate_authority: Option<&str>, token: &str) -> Self {
        Client { server: server.into(), certificate_authority: certificate_authority.map(String::from), token: Some(token.into()), identity: None }
    }

    /// The current context's server and credentials. `token` (e.g. a `kube-login` output)
    /// replaces the user's token, as `kubectl --token` does; without it the user must carry
    /// a static token or a client certificate.
    pub fn from_kubeconfig(kc: &Kubeconfig, token: Option<&str>) -> Result<Self, StepError> {
        let cur = kc.current()?;
        let token = token.map(str::trim).filter(|t| !t.is_empty());
        let ca = cur.certificate_authority()?;
        let client = |token: Option<&str>, identity| Client { server: cur.server().into(), certificate_authority: ca.clone(), token: token.map(String::from), identity };
        match cur.user.credential()? {
            Credential::Static { token: static_token, identity } => Ok(client(token.or(static_token), identity)),
            Credential::None => Ok(client(token, None)),
            Credential::Exec(_) | Credential::AuthProvider(_) if token.is_some() => Ok(client(token, None)),
            Credential::Exec(e) => Err(StepError::new(
                "NoCredentials",
                format!("the kubeconfig's user `{}` gets its token by running `{}`, which a step cannot run", cur.user_name, e.command),
            )
            .with_hint("run a `kube-login` step on this kubeconfig and pass its `token` output as this step's `token` input")),
            Credential::AuthProvider(a) => Err(StepError::new(
                "NoCredentials",
                format!("the kubeconfig's user `{}` uses the `{}` auth-provider, which a step cannot run", cur.user_name, a.name),
            )
            .with_hint("run a `kube-login` step on this kubeconfig and pass its `token` output as this step's `token` input")),
        }
    }

    pub fn has_credentials(&self) -> bool {
        self.token.is_some() || self.identity.is_some()
    }

    /// A request to `path` below the server, carrying this client's credentials (never the
    /// operator's).
    pub fn call(&self, method: &str, path: &str) -> Call {
        let mut call = call(method, &self.server, path);
        if let Some(ca) = &self.certificate_authority {
            call = call.certificate_authority(ca);
        }
        if let Some(t) = &self.token {
            call = call.bearer(t);
        }
        if let Some(id) = &self.identity {
            call = call.client_identity(id);
        }
        call
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube::samples::EXEC_USER;

    #[test]
    fn exec_users_need_a_token_input() {
        let kc = Kubeconfig::parse(EXEC_USER).unwrap();
        let e = Client::from_kubeconfig(&kc, None).unwrap_err();
        assert_eq!(e.code, "NoCredentials");
        assert!(e.hint.unwrap().contains("kube-login"));
        assert!(Client::from_kubeconfig(&kc, Some("tok")).is_ok());
    }
}
