//! Getting the token: device code (v2, or v1 with `--legacy`), service principal, password,
//! or the Azure CLI, against the authority host (Entra ID, or a served simulator). The wire
//! work is the shared [`TokenClient`]'s; this file only drives it.

use std::time::Duration;

use bytes::Bytes;

use crate::cloud::TransportError;
use crate::cloud::auth::azure_cli_token;
use crate::cloud::token_client::{Grant, TokenClient, TokenError, read_device_code, read_token};
use crate::cloud::transport::Transport;
use crate::persona::SignIn;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Login {
    DeviceCode,
    Spn,
    Ropc,
    AzureCli,
}

impl std::str::FromStr for Login {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "devicecode" => Ok(Login::DeviceCode),
            "spn" => Ok(Login::Spn),
            "ropc" => Ok(Login::Ropc),
            "azurecli" => Ok(Login::AzureCli),
            other => Err(format!("'{other}' is not a supported login method. Supported method is one of devicecode, spn, ropc, azurecli")),
        }
    }
}

pub struct GetToken {
    pub authority_host: String,
    pub tenant_id: String,
    pub server_id: String,
    pub client_id: String,
    pub login: Login,
    pub legacy: bool,
    pub client_secret: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    /// In a simulation: a seeded user (name, password) who answers the device-code prompt at once.
    pub persona: Option<(String, String)>,
}

/// Why no token came back.
#[derive(Debug, thiserror::Error)]
pub enum GetTokenError {
    #[error("{0}")]
    Usage(&'static str),
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error(transparent)]
    Token(#[from] TokenError),
    #[error(transparent)]
    AzureCli(#[from] crate::cloud::AuthError),
    #[error("{0}")]
    Persona(String),
    #[error("the device code expired before anyone signed in")]
    Expired,
}

impl GetToken {
    fn client(&self) -> TokenClient {
        TokenClient {
            authority: self.authority_host.clone(),
            tenant: self.tenant_id.clone(),
            client_id: self.client_id.clone(),
            resource: self.server_id.clone(),
            v1: self.legacy,
        }
    }

    /// The token and its expiry (Unix seconds).
    pub async fn run(&self, http: &dyn Transport) -> Result<(String, i64), GetTokenError> {
        let client = self.client();
        let grant = match self.login {
            Login::AzureCli => return Ok(azure_cli_token(&self.server_id).await.map(|(t, ms)| (t, ms / 1000))?),
            Login::DeviceCode => return self.device_code(http, &client).await,
            Login::Spn => {
                let secret = self.client_secret.as_deref().ok_or(GetTokenError::Usage("--client-secret (or AAD_SERVICE_PRINCIPAL_CLIENT_SECRET / AZURE_CLIENT_SECRET) is required for --login spn"))?;
                Grant::ClientCredentials { client_secret: secret }
            }
            Login::Ropc => Grant::Password {
                username: self.username.as_deref().ok_or(GetTokenError::Usage("--username is required for --login ropc"))?,
                password: self.password.as_deref().ok_or(GetTokenError::Usage("--password is required for --login ropc"))?,
            },
        };
        token(http, &client, grant).await
    }

    async fn device_code(&self, http: &dyn Transport, client: &TokenClient) -> Result<(String, i64), GetTokenError> {
        let resp = http.send(client.device_code_request()).await?;
        let flow = read_device_code(resp.status().as_u16(), resp.body())?;
        eprintln!("{}", flow.message);
        if let Some((user, password)) = &self.persona {
            let sign_in = SignIn { user, password, decline: false };
            let page = http::Request::post(&flow.verification_uri)
                .header(http::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Bytes::from(sign_in.form(&flow.user_code)))
                .map_err(|e| GetTokenError::Persona(format!("the verification URI `{}` is not a URL: {e}", flow.verification_uri)))?;
            let r = http.send(page).await?;
            sign_in.outcome(r.status().as_u16(), r.body()).map_err(GetTokenError::Persona)?;
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(flow.expires_in_secs);
        let mut interval = flow.interval_secs;
        loop {
            if std::time::Instant::now() > deadline {
                return Err(GetTokenError::Expired);
            }
            // A persona has signed in already: the first poll can go at once.
            if self.persona.is_none() {
                tokio::time::sleep(Duration::from_secs(interval)).await;
            }
            match token(http, client, Grant::DeviceCode { device_code: &flow.device_code }).await {
                Err(GetTokenError::Token(TokenError::Refused(e))) if e.is_slow_down() => interval += 5,
                Err(GetTokenError::Token(TokenError::Refused(e))) if e.is_pending() => {
                    if self.persona.is_some() {
                        tokio::time::sleep(Duration::from_secs(interval)).await;
                    }
                }
                done => return done,
            }
        }
    }
}

async fn token(http: &dyn Transport, client: &TokenClient, grant: Grant<'_>) -> Result<(String, i64), GetTokenError> {
    let resp = http.send(client.token_request(grant)).await?;
    let t = read_token(resp.status().as_u16(), resp.body(), crate::clock::wall_secs() * 1000)?;
    Ok((t.access_token, t.expires_at_ms / 1000))
}
