//! One HTTP call through the host, built fluently.

use crate::bindings::aksflow::step::cloud;
use crate::{CallError, Header, Request, Response, Service, StepError, Value};

/// A request under construction. `send` hands it to the host, which checks the grant,
/// attaches the operator's token (unless [`Call::anonymous`]) and records it.
pub struct Call {
    req: Request,
}

impl Call {
    pub fn new(service: Service, method: &str, path: &str) -> Self {
        Call {
            req: Request {
                service,
                method: method.into(),
                path: path.into(),
                query: vec![],
                headers: vec![],
                body: vec![],
                server: None,
                certificate_authority: None,
                client_identity: None,
                anonymous: false,
            },
        }
    }

    pub fn get(service: Service, path: &str) -> Self {
        Self::new(service, "GET", path)
    }

    pub fn query(mut self, name: &str, value: &str) -> Self {
        self.req.query.push((name.into(), value.into()));
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.req.headers.push(Header { name: name.into(), value: value.into() });
        self
    }

    /// A bearer token of the step's own (for example a user's token for a cluster).
    pub fn bearer(self, token: &str) -> Self {
        self.header("authorization", &format!("Bearer {token}")).anonymous()
    }

    pub fn json(mut self, body: &impl serde::Serialize) -> Self {
        self.req.body = serde_json::to_vec(body).expect("serialising a JSON body cannot fail");
        self.header("content-type", "application/json")
    }

    pub fn raw_body(mut self, content_type: &str, body: Vec<u8>) -> Self {
        self.req.body = body;
        self.header("content-type", content_type)
    }

    /// An `application/x-www-form-urlencoded` body, as the token service takes.
    pub fn form(mut self, pairs: &[(&str, &str)]) -> Self {
        let mut ser = form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs {
            ser.append_pair(k, v);
        }
        self.req.body = ser.finish().into_bytes();
        self.header("content-type", "application/x-www-form-urlencoded")
    }

    /// Send without the operator's credentials.
    pub fn anonymous(mut self) -> Self {
        self.req.anonymous = true;
        self
    }

    /// `kube` only: the API server to call (a kubeconfig's `clusters[].cluster.server`).
    pub fn server(mut self, url: &str) -> Self {
        self.req.server = Some(url.into());
        self
    }

    /// `kube` only: the CA (PEM) the API server's certificate must chain to; the host then
    /// trusts it alone for this call.
    pub fn certificate_authority(mut self, pem: &str) -> Self {
        self.req.certificate_authority = Some(pem.into());
        self
    }

    /// `kube` only: a client certificate and its key, PEM, concatenated.
    pub fn client_identity(mut self, pem: &str) -> Self {
        self.req.client_identity = Some(Value::Secret(pem.into()));
        self.req.anonymous = true;
        self
    }

    pub fn send(self) -> Result<Response, StepError> {
        cloud::call(&self.req).map_err(call_error)
    }
}

fn call_error(e: CallError) -> StepError {
    match e {
        CallError::NotGranted(m) if m.contains("not a cluster this run knows") => StepError::new("NotGranted", m)
            .with_hint("call a cluster from a kubeconfig that ARM returned (the aks-credentials step) or that the flow file gives"),
        CallError::NotGranted(m) => StepError::new("NotGranted", m)
            .with_hint("add the service to this step's `grant = [...]` in the flow file"),
        CallError::Transport(m) => StepError::new("TransportError", m),
        CallError::Auth(m) => StepError::new("OperatorAuthFailed", m),
        CallError::InvalidRequest(m) => StepError::new("InvalidRequest", m),
    }
}

impl Response {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|h| h.name.eq_ignore_ascii_case(name)).map(|h| h.value.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, StepError> {
        serde_json::from_slice(&self.body).map_err(|e| {
            StepError::new("UnexpectedResponse", format!("the service answered {} with a body that is not the expected JSON: {e}", self.status))
        })
    }
}
