//! What can go wrong on the cloud path, as types. A plugin sees each as the WIT
//! `call-error` variant of the same name; the host can match on them.

use super::token_client::{AadError, TokenError};

/// The request never got a whole answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// Connecting, TLS, sending, or a timeout. `detail` carries the causes, innermost last.
    #[error("{url}: {detail}")]
    Send { url: String, detail: String },
    /// The answer started but its body could not be read.
    #[error("reading the response from {url}: {detail}")]
    Read { url: String, detail: String },
    /// The in-process simulator's body could not be collected.
    #[error("reading the simulator's response: {0}")]
    InProcess(String),
}

/// The host could not get a token for the operator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// `az account get-access-token` could not be run or failed; the text says what to do.
    #[error("{0}")]
    AzureCli(String),
    #[error("signing in as the operator: {0}")]
    Transport(TransportError),
    /// The token service refused the operator's credentials. `detail` is redacted.
    #[error("signing in as the operator ({client_id}) failed with {}: {detail}", .error.status)]
    Refused { client_id: String, error: AadError, detail: String },
    /// The token service refused the credentials of the identity a step acts as.
    #[error("signing in as {who} (the step's `as`) failed with {}: {detail}", .error.status)]
    IdentityRefused { who: String, error: AadError, detail: String },
    #[error("the token endpoint returned no {0}")]
    Missing(&'static str),
    #[error("the operator token is not a valid header value")]
    BadToken,
}

impl AuthError {
    pub(crate) fn from_token(client_id: &str, e: TokenError, redact: impl Fn(&str) -> String) -> Self {
        match e {
            TokenError::Refused(error) => AuthError::Refused { client_id: client_id.into(), detail: redact(&error.description), error },
            TokenError::Missing(what) => AuthError::Missing(what),
        }
    }
}

/// The step's request cannot be sent as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("`{0}` is not an HTTP method")]
    Method(String),
    #[error("path `{0}` must start with `/`, without a query, `..` or a scheme (pass query parameters separately)")]
    Path(String),
    #[error("kube server `{server}` is not a URL: {reason}")]
    ServerUrl { server: String, reason: String },
    #[error("kube server `{0}` must be https")]
    ServerScheme(String),
    #[error("a kube call needs `server` (the kubeconfig's cluster server URL)")]
    NoServer,
    #[error("`{0}` is not a valid header name")]
    HeaderName(String),
    #[error("header `{0}` has an invalid value")]
    HeaderValue(String),
    #[error("{0}")]
    Build(String),
}
