//! `kube-login`: gets a user's (or a service principal's) Entra ID token for a cluster the way
//! `kubelogin get-token` does, or the way kubectl's old `azure` auth-provider did.
//! [protocols.md §A.4, §D.1, §D.2]
//!
//! Settings come from the kubeconfig's current user (kubelogin `exec` args, or the
//! `auth-provider: azure` config) and may be overridden by inputs.
//!
//! * `devicecode` — `POST /{tenant}/oauth2/v2.0/devicecode` (`scope=<server-id>/.default
//!   openid offline_access profile`), or with `--legacy` the v1 `POST /{tenant}/oauth2/devicecode
//!   ?api-version=1.0` with `resource=<server-id>` (the `azure` auth-provider with
//!   `config-mode: "1"` calls v1 without `api-version`). The prompt's `message` is shown to the
//!   person at the keyboard (in a simulation the step's persona signs in); then the token
//!   endpoint is polled every `interval` seconds, through `authorization_pending` and
//!   `slow_down` (+5 s), until a token, a decline or the code's expiry.
//! * `spn` — client credentials with `client-id` + `client-secret`, `scope=<server-id>/.default`.
//! * `ropc` — username + password (after the user-realm lookup MSAL does).
//!
//! Calls to the token service carry no operator credentials (`anonymous`).

use aksflow_sdk::kube::{AzureLogin, Kubeconfig, TokenProtocol};
use aksflow_sdk::*;
use base64::Engine as _;
use serde_json::Value;

struct KubeLogin;

/// MSAL adds these to every user-flow scope.
const OIDC_SCOPES: &str = "openid offline_access profile";
const DEFAULT_INTERVAL_SECS: u64 = 5;
const DEFAULT_EXPIRES_IN_SECS: u64 = 900;

fn num(v: &Value) -> Option<u64> {
    v.as_u64().or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}

/// The token service's error body as a step error. Device-flow outcomes keep the OAuth
/// `error` as the code (`authorization_declined`, `expired_token`, `access_denied`,
/// `code_expired`, `bad_verification_code`); the rest carry `AADSTS<n>`.
fn token_error(resp: &Response, during: &str) -> StepError {
    let v: Value = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
    let error = v["error"].as_str().unwrap_or("").to_string();
    let description = v["error_description"].as_str().unwrap_or("").to_string();
    // Keep the first part; the trace and correlation ids only add noise.
    let description = description
        .split("\r\nTrace ID")
        .next()
        .unwrap_or("")
        .split(" Trace ID:")
        .next()
        .unwrap_or("")
        .trim()
        .to_string();
    if error.is_empty() {
        return StepError::new(format!("HTTP{}", resp.status), format!("{during}: the token service answered {} with: {}", resp.status, resp.text()));
    }
    let device_flow = ["authorization_declined", "expired_token", "access_denied", "code_expired", "bad_verification_code"];
    let code = match v["error_codes"].get(0).and_then(Value::as_u64) {
        Some(n) if !device_flow.contains(&error.as_str()) => format!("AADSTS{n}"),
        _ => error.clone(),
    };
    let message = if description.is_empty() { format!("{during}: {error}") } else { format!("{during}: {error}: {description}") };
    let e = StepError::new(code, message);
    match error.as_str() {
        "authorization_declined" | "access_denied" => e.with_hint("the person signing in declined the request"),
        "expired_token" | "code_expired" => e.with_hint("nobody signed in before the device code expired; run the step again"),
        "invalid_client" => e.with_hint("check client-id and client-secret"),
        _ => e,
    }
}

/// The payload of a JWT, for the user name it names (never logged in full).
fn jwt_claims(token: &str) -> Value {
    let Some(payload) = token.split('.').nth(1) else { return Value::Null };
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null)
}

struct Settings {
    login: AzureLogin,
    tenant: String,
}

impl Settings {
    fn token_path(&self) -> String {
        match self.login.protocol {
            TokenProtocol::V2 => format!("/{}/oauth2/v2.0/token", self.tenant),
            _ => format!("/{}/oauth2/token", self.tenant),
        }
    }

    fn devicecode_path(&self) -> String {
        match self.login.protocol {
            TokenProtocol::V2 => format!("/{}/oauth2/v2.0/devicecode", self.tenant),
            _ => format!("/{}/oauth2/devicecode", self.tenant),
        }
    }

    /// A call to the token service, with ADAL's `api-version=1.0` where it belongs.
    fn call(&self, path: &str) -> Call {
        let call = Call::new(Service::Login, "POST", path).anonymous();
        if self.login.protocol == TokenProtocol::V1Adal { call.query("api-version", "1.0") } else { call }
    }

    fn scope(&self, user_flow: bool) -> String {
        let base = format!("{}/.default", self.login.server_id);
        if user_flow { format!("{base} {OIDC_SCOPES}") } else { base }
    }
}

/// A token and when it expires (Unix seconds).
struct Token {
    access_token: String,
    expires_on: u64,
}

fn read_token(resp: &Response) -> Result<Token, StepError> {
    let v: Value = resp.json()?;
    let access_token = v["access_token"]
        .as_str()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| StepError::new("UnexpectedResponse", "the token service answered without an access_token"))?
        .to_string();
    let expires_on = num(&v["expires_on"]).unwrap_or_else(|| now_secs() as u64 + num(&v["expires_in"]).unwrap_or(3599));
    Ok(Token { access_token, expires_on })
}

fn device_code(s: &Settings, poll_every: Option<u64>) -> Result<Token, StepError> {
    let client_id = s.login.client_id.as_str();
    let start = match s.login.protocol {
        TokenProtocol::V2 => s.call(&s.devicecode_path()).form(&[("client_id", client_id), ("scope", &s.scope(true))]),
        _ => s.call(&s.devicecode_path()).form(&[("client_id", client_id), ("resource", &s.login.server_id)]),
    };
    log::info(&format!("starting a device-code sign-in for {} (client {client_id}, tenant {})", s.login.server_id, s.tenant));
    let resp = start.send()?;
    if resp.status != 200 {
        return Err(token_error(&resp, "starting the device-code sign-in"));
    }
    let v: Value = resp.json()?;
    let device_code = v["device_code"].as_str().unwrap_or("").to_string();
    let user_code = v["user_code"].as_str().unwrap_or("").to_string();
    let uri = v["verification_uri"].as_str().or(v["verification_url"].as_str()).unwrap_or("").to_string();
    if device_code.is_empty() || user_code.is_empty() || uri.is_empty() {
        return Err(StepError::new("UnexpectedResponse", "the device-code answer lacks device_code, user_code or the verification URI"));
    }
    // A client may poll faster than it is told (the token service answers slow_down).
    let mut interval = poll_every.filter(|i| *i > 0).or_else(|| num(&v["interval"]).filter(|i| *i > 0)).unwrap_or(DEFAULT_INTERVAL_SECS);
    let expires_in = num(&v["expires_in"]).unwrap_or(DEFAULT_EXPIRES_IN_SECS);
    let message = v["message"]
        .as_str()
        .map(String::from)
        .unwrap_or_else(|| format!("To sign in, use a web browser to open the page {uri} and enter the code {user_code} to authenticate."));
    interact::show(&message, Some(&interact::DeviceLogin { verification_uri: uri, user_code }))
        .map_err(|e| StepError::new("InteractionFailed", e).with_hint("in a simulation, name who signs in with `persona = \"user@domain\"` on the step"))?;

    let mut waited = 0u64;
    let mut polls = 0u32;
    loop {
        if waited >= expires_in {
            return Err(StepError::new(
                if s.login.protocol == TokenProtocol::V2 { "expired_token" } else { "code_expired" },
                format!("nobody completed the device-code sign-in within {expires_in} seconds"),
            ));
        }
        std::thread::sleep(std::time::Duration::from_secs(interval));
        waited += interval;
        polls += 1;
        let poll = match s.login.protocol {
            TokenProtocol::V2 => s.call(&s.token_path()).form(&[
                ("grant_type", "device_code"),
                ("device_code", &device_code),
                ("client_id", client_id),
                ("client_info", "1"),
                ("scope", &s.scope(true)),
            ]),
            _ => s.call(&s.token_path()).form(&[
                ("client_id", client_id),
                ("code", &device_code),
                ("grant_type", "device_code"),
                ("resource", &s.login.server_id),
            ]),
        };
        let resp = poll.send()?;
        if resp.is_success() {
            log::info(&format!("signed in after {polls} poll(s)"));
            return read_token(&resp);
        }
        let v: Value = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
        match v["error"].as_str() {
            Some("authorization_pending") => log::debug(&format!("authorization pending (poll {polls})")),
            Some("slow_down") => {
                interval += 5;
                log::info(&format!("the token service asked to slow down; polling every {interval}s"));
            }
            _ => return Err(token_error(&resp, "waiting for the device-code sign-in")),
        }
    }
}

fn service_principal(s: &Settings, secret: &str) -> Result<Token, StepError> {
    let client_id = s.login.client_id.as_str();
    log::info(&format!("getting a token for {} as service principal {client_id}", s.login.server_id));
    let call = match s.login.protocol {
        TokenProtocol::V2 => s.call(&s.token_path()).form(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_secret", secret),
            ("scope", &s.scope(false)),
            ("client_info", "1"),
        ]),
        _ => s.call(&s.token_path()).form(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_secret", secret),
            ("resource", &s.login.server_id),
        ]),
    };
    let resp = call.send()?;
    if !resp.is_success() {
        return Err(token_error(&resp, "signing in as the service principal"));
    }
    read_token(&resp)
}

fn password(s: &Settings, username: &str, password: &str) -> Result<Token, StepError> {
    let client_id = s.login.client_id.as_str();
    log::info(&format!("signing in {username} with a password for {}", s.login.server_id));
    // MSAL's user-realm discovery first: federated accounts cannot use ROPC here.
    let realm = Call::get(Service::Login, &format!("/common/UserRealm/{username}"))
        .query("api-version", "1.0")
        .header("accept", "application/json")
        .anonymous()
        .send()?;
    if realm.is_success() {
        let v: Value = realm.json().unwrap_or(Value::Null);
        if v["account_type"].as_str() == Some("Federated") {
            return Err(StepError::new("UnsupportedLoginMethod", format!("{username} is a federated account; ropc works only for managed (cloud) accounts")));
        }
    }
    let resp = s
        .call(&s.token_path())
        .form(&[
            ("grant_type", "password"),
            ("username", username),
            ("password", password),
            ("client_id", client_id),
            ("scope", &s.scope(true)),
            ("client_info", "1"),
        ])
        .send()?;
    if !resp.is_success() {
        return Err(token_error(&resp, "signing in with a password"));
    }
    read_token(&resp)
}

inputs! {
    struct Args {
        kubeconfig: Option<Secret> = "kubeconfig" => "A kubeconfig whose current user is a kubelogin exec or an azure auth-provider (optional with server-id and client-id)",
        login: Option<String> = "login" => "devicecode (default), spn or ropc; default: the kubeconfig's --login",
        server_id: Option<String> = "server-id" => "AAD server application id (the token audience); default: from the kubeconfig",
        client_id: Option<String> = "client-id" => "AAD client application id (or the service principal's appId for spn); default: from the kubeconfig",
        tenant_id: Option<String> = "tenant-id" => "Tenant to sign in to; default: from the kubeconfig, else the run's tenant",
        legacy: Option<bool> = "legacy" => "Use the v1 endpoints with api-version=1.0 (kubelogin --legacy: spn: audience)",
        client_secret: Option<Secret> = "client-secret" => "spn: the service principal's secret",
        username: Option<String> = "username" => "ropc: the user's name",
        password: Option<Secret> = "password" => "ropc: the user's password",
        poll_interval: Option<i64> = "poll-interval" => "devicecode: seconds between polls instead of the token service's interval (polling too often gets slow_down, which adds 5 s)",
        attempts: Option<i64> = "attempts" => "spn: tries while the token service does not know the new secret or app yet (AADSTS7000215, AADSTS700016), waiting 2, 4, 6 … s between them (default 1, as kubelogin: no retry)",
        kubectl_version: Option<String> = "kubectl-version" => "The kubectl this step acts as (default: the flow's era's, 1.37.0 today, 1.15.12 in 2019); from 1.26 on it refuses kubeconfigs of the removed azure auth-provider",
    }
}

impl Guest for KubeLogin {
    fn describe() -> StepInfo {
        StepInfo::new("kube-login", "Get an Entra ID token for a cluster, as kubelogin does (device code, service principal or password)")
            .takes::<Args>()
            .secret_output("token", "The access token")
            .output("expires-on", "When the token expires, in Unix seconds")
            .output("user", "Who the token is for: its upn, else its oid (the name Kubernetes sees)")
            .uses(Service::Login)
    }

    fn run(inputs: Vec<Field>) -> Result<StepOutput, StepError> {
        let args = Args::from_fields(inputs)?;
        let ctx = context();

        let mut login = match args.kubeconfig.as_deref().filter(|k| !k.trim().is_empty()) {
            Some(text) => {
                let kc = Kubeconfig::parse(text)?;
                aksflow_sdk::kube::check_kubeconfig(&kc, args.kubectl_version.as_deref())?;
                let cur = kc.current()?;
                cur.user.azure_login().ok_or_else(|| {
                    StepError::new(
                        "NoAzureUser",
                        format!("the kubeconfig's user `{}` is neither a kubelogin exec nor an azure auth-provider: it needs no Entra ID token", cur.user_name),
                    )
                })?
            }
            None => AzureLogin {
                server_id: String::new(),
                client_id: String::new(),
                tenant_id: String::new(),
                login: "devicecode".into(),
                environment: None,
                protocol: TokenProtocol::V2,
                username: None,
            },
        };
        if let Some(v) = args.server_id.given() {
            login.server_id = v.into();
        }
        if let Some(v) = args.client_id.given() {
            login.client_id = v.into();
        }
        if let Some(v) = args.tenant_id.given() {
            login.tenant_id = v.into();
        }
        if let Some(v) = args.login.given() {
            login.login = v.to_ascii_lowercase();
        }
        if let Some(v) = args.username.given() {
            login.username = Some(v.into());
        }
        match args.legacy {
            Some(true) => login.protocol = TokenProtocol::V1Adal,
            Some(false) if login.protocol == TokenProtocol::V1Adal => login.protocol = TokenProtocol::V2,
            _ => {}
        }
        if login.server_id.is_empty() {
            return Err(StepError::bad_input("server-id", "is required (give it, or a kubeconfig that names it)"));
        }
        if let Some(env) = login.environment.as_deref().filter(|e| !e.eq_ignore_ascii_case("AzurePublicCloud")) {
            log::warn(&format!("environment {env}: the run's token service is used"));
        }
        let tenant = if login.tenant_id.is_empty() { ctx.tenant_id.clone() } else { login.tenant_id.clone() };
        let settings = Settings { login, tenant };

        let token = match settings.login.login.as_str() {
            "devicecode" => {
                if settings.login.client_id.is_empty() {
                    return Err(StepError::bad_input("client-id", "is required for devicecode"));
                }
                device_code(&settings, args.poll_interval.and_then(|p| u64::try_from(p).ok()))?
            }
            "spn" => {
                if settings.login.client_id.is_empty() {
                    return Err(StepError::bad_input("client-id", "is required for spn"));
                }
                let secret = args.client_secret.as_deref().filter(|s| !s.is_empty()).ok_or_else(|| StepError::bad_input("client-secret", "is required for spn"))?;
                // A CI script that signs in right after making the secret may retry while the
                // token service has not heard of it (AADSTS7000215) or of the app (AADSTS700016).
                let attempts = u32::try_from(args.attempts.unwrap_or(1).clamp(1, 60)).unwrap_or(1);
                aksflow_sdk::retry::with_retries("spn sign-in", attempts, &["AADSTS7000215", "AADSTS700016"], || service_principal(&settings, secret))?
            }
            "ropc" => {
                if settings.login.protocol != TokenProtocol::V2 {
                    return Err(StepError::new("UnsupportedLoginMethod", "--legacy is supported for devicecode and spn only"));
                }
                if settings.login.client_id.is_empty() {
                    return Err(StepError::bad_input("client-id", "is required for ropc"));
                }
                let user = settings.login.username.clone().ok_or_else(|| StepError::bad_input("username", "is required for ropc"))?;
                let pass = args.password.as_deref().ok_or_else(|| StepError::bad_input("password", "is required for ropc"))?;
                password(&settings, &user, pass)?
            }
            other @ ("azurecli" | "interactive" | "msi" | "workloadidentity" | "azd") => {
                return Err(StepError::new("UnsupportedLoginMethod", format!("login method `{other}` needs a program or a browser outside the sandbox"))
                    .with_hint("use devicecode, spn or ropc"));
            }
            other => {
                return Err(StepError::new(
                    "UnsupportedLoginMethod",
                    format!("'{other}' is not a supported login method. Supported method is one of devicecode, interactive, spn, ropc, msi, azurecli, azd, workloadidentity"),
                ));
            }
        };
        let claims = jwt_claims(&token.access_token);
        let user = claims["upn"].as_str().or(claims["oid"].as_str()).unwrap_or("").to_string();
        log::info(&format!(
            "got a token{}{} expiring at {}",
            if user.is_empty() { String::new() } else { format!(" for {user}") },
            claims["aud"].as_str().map(|a| format!(" (audience {a})")).unwrap_or_default(),
            token.expires_on
        ));
        Ok(Outputs::new().secret("token", token.access_token).text("expires-on", token.expires_on.to_string()).text("user", user).into())
    }
}

export!(KubeLogin with_types_in aksflow_sdk::bindings);
