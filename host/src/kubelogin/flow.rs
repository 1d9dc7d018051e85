//! Getting the token: device code (v2, or v1 with `--legacy`), service principal, password,
//! or the Azure CLI, against the authority host (Entra ID, or a served simulator).

use std::time::Duration;

use serde_json::Value;

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
    /// In a simulation: a seeded user who answers the device-code prompt at once.
    pub persona: Option<(String, String)>,
}

fn text(v: &Value, k: &str) -> Option<String> {
    v.get(k).and_then(|x| x.as_str().map(String::from).or_else(|| x.as_i64().map(|n| n.to_string())))
}

fn aad_error(v: &Value, status: u16) -> String {
    text(v, "error_description").or_else(|| text(v, "error")).unwrap_or_else(|| format!("HTTP {status}"))
}

impl GetToken {
    fn endpoint(&self, path: &str) -> String {
        format!("{}/{}/{}", self.authority_host.trim_end_matches('/'), self.tenant_id, path)
    }

    fn target(&self) -> (&'static str, String) {
        if self.legacy { ("resource", self.server_id.clone()) } else { ("scope", format!("{}/.default", self.server_id)) }
    }

    fn token_url(&self) -> String {
        if self.legacy { self.endpoint("oauth2/token?api-version=1.0") } else { self.endpoint("oauth2/v2.0/token") }
    }

    /// The token and its expiry (Unix seconds).
    pub async fn run(&self, http: &reqwest::Client) -> Result<(String, i64), String> {
        match self.login {
            Login::AzureCli => crate::cloud::auth::azure_cli_token(&self.server_id).await.map(|(t, ms)| (t, ms / 1000)),
            Login::Spn => {
                let secret = self.client_secret.clone().ok_or("--client-secret (or AAD_SERVICE_PRINCIPAL_CLIENT_SECRET / AZURE_CLIENT_SECRET) is required for --login spn")?;
                let (k, v) = self.target();
                self.post_token(http, &[("grant_type", "client_credentials"), ("client_id", &self.client_id), ("client_secret", &secret), (k, &v)]).await
            }
            Login::Ropc => {
                let user = self.username.clone().ok_or("--username is required for --login ropc")?;
                let pass = self.password.clone().ok_or("--password is required for --login ropc")?;
                let (k, v) = self.target();
                self.post_token(http, &[("grant_type", "password"), ("client_id", &self.client_id), ("username", &user), ("password", &pass), (k, &v)]).await
            }
            Login::DeviceCode => self.device_code(http).await,
        }
    }

    async fn post_token(&self, http: &reqwest::Client, form: &[(&str, &str)]) -> Result<(String, i64), String> {
        let resp = http.post(self.token_url()).form(form).send().await.map_err(|e| format!("{}: {e}", self.token_url()))?;
        let status = resp.status().as_u16();
        let v: Value = resp.bytes().await.ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default();
        if status != 200 {
            return Err(aad_error(&v, status));
        }
        let token = text(&v, "access_token").ok_or("the token endpoint returned no access_token")?;
        let expires_on = text(&v, "expires_on").and_then(|s| s.parse().ok()).unwrap_or_else(|| now_secs() + text(&v, "expires_in").and_then(|s| s.parse().ok()).unwrap_or(3599));
        Ok((token, expires_on))
    }

    async fn device_code(&self, http: &reqwest::Client) -> Result<(String, i64), String> {
        let (k, v) = self.target();
        let url = if self.legacy { self.endpoint("oauth2/devicecode?api-version=1.0") } else { self.endpoint("oauth2/v2.0/devicecode") };
        let resp = http.post(&url).form(&[("client_id", self.client_id.as_str()), (k, &v)]).send().await.map_err(|e| format!("{url}: {e}"))?;
        let status = resp.status().as_u16();
        let flow: Value = resp.bytes().await.ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default();
        if status != 200 {
            return Err(aad_error(&flow, status));
        }
        let message = text(&flow, "message").unwrap_or_default();
        eprintln!("{message}");
        let device_code = text(&flow, "device_code").ok_or("no device_code in the response")?;
        let mut interval: u64 = text(&flow, "interval").and_then(|s| s.parse().ok()).unwrap_or(5);
        let expires_in: u64 = text(&flow, "expires_in").and_then(|s| s.parse().ok()).unwrap_or(900);
        if let Some((user, password)) = &self.persona {
            let page = text(&flow, "verification_uri").or_else(|| text(&flow, "verification_url")).unwrap_or_default();
            let code = text(&flow, "user_code").unwrap_or_default();
            let r = http.post(&page).form(&[("otc", code.as_str()), ("login", user), ("passwd", password), ("action", "signin")]).send().await.map_err(|e| format!("{page}: {e}"))?;
            if !r.status().is_success() {
                return Err(format!("the persona {user} could not sign in on {page}"));
            }
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(expires_in);
        let grant = if self.legacy { "device_code" } else { "urn:ietf:params:oauth:grant-type:device_code" };
        loop {
            if std::time::Instant::now() > deadline {
                return Err("the device code expired before anyone signed in".into());
            }
            if self.persona.is_none() {
                tokio::time::sleep(Duration::from_secs(interval)).await;
            }
            let form: Vec<(&str, &str)> = if self.legacy {
                vec![("grant_type", grant), ("client_id", &self.client_id), ("code", &device_code), (k, &v)]
            } else {
                vec![("grant_type", grant), ("client_id", &self.client_id), ("device_code", &device_code)]
            };
            match self.post_token(http, &form).await {
                Ok(t) => return Ok(t),
                Err(e) if e.contains("AADSTS70016") && e.contains("slow") => interval += 5,
                Err(e) if e.contains("AADSTS70016") || e.contains("authorization_pending") => {
                    if self.persona.is_some() {
                        tokio::time::sleep(Duration::from_secs(interval)).await;
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }
}

pub fn now_secs() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}
