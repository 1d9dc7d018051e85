//! The one client of Entra ID's token service, without I/O of its own: it builds the token
//! and device-code requests and reads the answers, as data. The gateway (the operator's
//! client credentials) and `aksflow get-token` (every kubelogin login mode) both use it and
//! send the requests their own way, so the wire format lives here once.
//!
//! v2 endpoints ask for `scope=<resource>/.default`; the v1 ("legacy") endpoints ask for
//! `resource=<resource>` and take `api-version=1.0`. [protocols.md §A]

use bytes::Bytes;
use serde_json::Value;

/// Where to ask, for what, and as which client.
#[derive(Debug, Clone)]
pub struct TokenClient {
    /// The authority host without a trailing slash, e.g. `https://login.microsoftonline.com`.
    pub authority: String,
    pub tenant: String,
    pub client_id: String,
    /// The resource the token is for (its audience): a URI or an application id.
    pub resource: String,
    /// The v1 endpoints (`resource=`), as the legacy azure auth provider used.
    pub v1: bool,
}

/// How the client proves who is signing in.
#[derive(Debug, Clone, Copy)]
pub enum Grant<'a> {
    ClientCredentials { client_secret: &'a str },
    Password { username: &'a str, password: &'a str },
    DeviceCode { device_code: &'a str },
}

/// A token and when it stops being valid (Unix milliseconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub access_token: String,
    pub expires_at_ms: i64,
}

/// The start of a device-code sign-in: what to show the person, and what to poll with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceCode {
    pub device_code: String,
    pub user_code: String,
    pub verification_uri: String,
    pub message: String,
    pub interval_secs: u64,
    pub expires_in_secs: u64,
}

/// The token service's refusal, as data: its OAuth `error`, the AADSTS numbers in
/// `error_codes`, and the text it gave.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{description}")]
pub struct AadError {
    pub status: u16,
    /// `invalid_client`, `authorization_pending`, `slow_down`, … (empty if the body had none).
    pub error: String,
    /// The AADSTS numbers, e.g. `[70016]`.
    pub codes: Vec<u32>,
    /// `error_description`, else `error`, else the body, else the status.
    pub description: String,
}

impl AadError {
    /// The person has not finished signing in yet: poll again after the interval.
    pub fn is_pending(&self) -> bool {
        self.error == "authorization_pending"
    }

    /// Polling too fast: wait longer between polls.
    pub fn is_slow_down(&self) -> bool {
        self.error == "slow_down"
    }

    pub fn has_code(&self, code: u32) -> bool {
        self.codes.contains(&code)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error(transparent)]
    Refused(#[from] AadError),
    #[error("the token endpoint returned no {0}")]
    Missing(&'static str),
}

impl TokenClient {
    fn endpoint(&self, v2: &str, v1: &str) -> String {
        format!("{}/{}/{}", self.authority.trim_end_matches('/'), self.tenant, if self.v1 { v1 } else { v2 })
    }

    pub fn token_url(&self) -> String {
        self.endpoint("oauth2/v2.0/token", "oauth2/token?api-version=1.0")
    }

    pub fn device_code_url(&self) -> String {
        self.endpoint("oauth2/v2.0/devicecode", "oauth2/devicecode?api-version=1.0")
    }

    /// `scope=<resource>/.default` (v2) or `resource=<resource>` (v1).
    fn audience(&self) -> (&'static str, String) {
        if self.v1 { ("resource", self.resource.clone()) } else { ("scope", format!("{}/.default", self.resource)) }
    }

    /// The token request for a grant.
    pub fn token_request(&self, grant: Grant<'_>) -> http::Request<Bytes> {
        let (key, audience) = self.audience();
        let mut form = form_urlencoded::Serializer::new(String::new());
        match grant {
            Grant::ClientCredentials { client_secret } => {
                form.append_pair("grant_type", "client_credentials")
                    .append_pair("client_id", &self.client_id)
                    .append_pair("client_secret", client_secret)
                    .append_pair(key, &audience);
            }
            Grant::Password { username, password } => {
                form.append_pair("grant_type", "password")
                    .append_pair("client_id", &self.client_id)
                    .append_pair("username", username)
                    .append_pair("password", password)
                    .append_pair(key, &audience);
            }
            // v2 polls with the RFC 8628 grant and no scope; v1 with its own names.
            Grant::DeviceCode { device_code } if self.v1 => {
                form.append_pair("grant_type", "device_code")
                    .append_pair("client_id", &self.client_id)
                    .append_pair("code", device_code)
                    .append_pair(key, &audience);
            }
            Grant::DeviceCode { device_code } => {
                form.append_pair("grant_type", "urn:ietf:params:oauth:grant-type:device_code")
                    .append_pair("client_id", &self.client_id)
                    .append_pair("device_code", device_code);
            }
        }
        post_form(&self.token_url(), form.finish())
    }

    /// The request that starts a device-code sign-in.
    pub fn device_code_request(&self) -> http::Request<Bytes> {
        let (key, audience) = self.audience();
        let form = form_urlencoded::Serializer::new(String::new()).append_pair("client_id", &self.client_id).append_pair(key, &audience).finish();
        post_form(&self.device_code_url(), form)
    }
}

fn post_form(url: &str, body: String) -> http::Request<Bytes> {
    http::Request::builder()
        .method(http::Method::POST)
        .uri(url)
        .header(http::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Bytes::from(body))
        .expect("a POST with a form body to a URL built from parts is a valid request")
}

/// A JSON field as text; v1 answers give numbers as strings.
fn text(v: &Value, k: &str) -> Option<String> {
    v.get(k).and_then(|x| x.as_str().map(String::from).or_else(|| x.as_i64().map(|n| n.to_string())))
}

fn number(v: &Value, k: &str) -> Option<i64> {
    text(v, k).and_then(|s| s.parse().ok())
}

/// A non-2xx answer as an [`AadError`].
pub fn refusal(status: u16, body: &[u8]) -> AadError {
    let v: Value = serde_json::from_slice(body).unwrap_or_default();
    let error = text(&v, "error").unwrap_or_default();
    let codes = v["error_codes"].as_array().map(|a| a.iter().filter_map(|c| c.as_u64()).filter_map(|c| u32::try_from(c).ok()).collect()).unwrap_or_default();
    let body_text = String::from_utf8_lossy(body).trim().to_string();
    let description = text(&v, "error_description")
        .or_else(|| (!error.is_empty()).then(|| error.clone()))
        .or_else(|| (!body_text.is_empty() && v.is_null()).then_some(body_text))
        .unwrap_or_else(|| format!("HTTP {status}"));
    AadError { status, error, codes, description }
}

/// The token in an answer. Its expiry is `expires_on` when the service gives it (v1), else
/// `now + expires_in`.
pub fn read_token(status: u16, body: &[u8], now_ms: i64) -> Result<Token, TokenError> {
    if !(200..300).contains(&status) {
        return Err(refusal(status, body).into());
    }
    let v: Value = serde_json::from_slice(body).unwrap_or_default();
    let access_token = text(&v, "access_token").ok_or(TokenError::Missing("access_token"))?;
    let expires_at_ms = match number(&v, "expires_on") {
        Some(on) => on * 1000,
        None => now_ms + number(&v, "expires_in").unwrap_or(3599) * 1000,
    };
    Ok(Token { access_token, expires_at_ms })
}

/// The device code in an answer.
pub fn read_device_code(status: u16, body: &[u8]) -> Result<DeviceCode, TokenError> {
    if !(200..300).contains(&status) {
        return Err(refusal(status, body).into());
    }
    let v: Value = serde_json::from_slice(body).unwrap_or_default();
    Ok(DeviceCode {
        device_code: text(&v, "device_code").ok_or(TokenError::Missing("device_code"))?,
        user_code: text(&v, "user_code").unwrap_or_default(),
        // v1 says `verification_url`.
        verification_uri: text(&v, "verification_uri").or_else(|| text(&v, "verification_url")).unwrap_or_default(),
        message: text(&v, "message").unwrap_or_default(),
        interval_secs: number(&v, "interval").and_then(|n| u64::try_from(n).ok()).unwrap_or(5),
        expires_in_secs: number(&v, "expires_in").and_then(|n| u64::try_from(n).ok()).unwrap_or(900),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(v1: bool) -> TokenClient {
        TokenClient {
            authority: "https://login.example/".into(),
            tenant: "t1".into(),
            client_id: "c1".into(),
            resource: "6dae42f8-4368-4678-94ff-3960e28e3630".into(),
            v1,
        }
    }

    fn form(req: &http::Request<Bytes>) -> String {
        String::from_utf8(req.body().to_vec()).unwrap()
    }

    #[test]
    fn client_credentials_ask_for_the_default_scope_on_v2() {
        let r = client(false).token_request(Grant::ClientCredentials { client_secret: "s&1" });
        assert_eq!(r.method(), http::Method::POST);
        assert_eq!(r.uri(), "https://login.example/t1/oauth2/v2.0/token");
        assert_eq!(r.headers()[http::header::CONTENT_TYPE], "application/x-www-form-urlencoded");
        assert_eq!(form(&r), "grant_type=client_credentials&client_id=c1&client_secret=s%261&scope=6dae42f8-4368-4678-94ff-3960e28e3630%2F.default");
    }

    #[test]
    fn v1_asks_for_a_resource_with_the_api_version() {
        let c = client(true);
        let r = c.token_request(Grant::Password { username: "alice@contoso", password: "pw" });
        assert_eq!(r.uri(), "https://login.example/t1/oauth2/token?api-version=1.0");
        assert_eq!(form(&r), "grant_type=password&client_id=c1&username=alice%40contoso&password=pw&resource=6dae42f8-4368-4678-94ff-3960e28e3630");
        let d = c.device_code_request();
        assert_eq!(d.uri(), "https://login.example/t1/oauth2/devicecode?api-version=1.0");
        assert_eq!(form(&d), "client_id=c1&resource=6dae42f8-4368-4678-94ff-3960e28e3630");
        assert_eq!(form(&c.token_request(Grant::DeviceCode { device_code: "dc" })), "grant_type=device_code&client_id=c1&code=dc&resource=6dae42f8-4368-4678-94ff-3960e28e3630");
    }

    #[test]
    fn v2_polls_a_device_code_with_the_rfc_8628_grant_and_no_scope() {
        let c = client(false);
        assert_eq!(form(&c.token_request(Grant::DeviceCode { device_code: "dc" })), "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&client_id=c1&device_code=dc");
        assert_eq!(c.device_code_request().uri(), "https://login.example/t1/oauth2/v2.0/devicecode");
    }

    #[test]
    fn a_token_expires_at_expires_on_else_after_expires_in() {
        let t = read_token(200, br#"{"access_token":"a","expires_in":3599,"expires_on":"1700000000"}"#, 5).unwrap();
        assert_eq!(t, Token { access_token: "a".into(), expires_at_ms: 1_700_000_000_000 });
        let t = read_token(200, br#"{"access_token":"a","expires_in":"60"}"#, 1_000).unwrap();
        assert_eq!(t.expires_at_ms, 61_000);
        let t = read_token(200, br#"{"access_token":"a"}"#, 0).unwrap();
        assert_eq!(t.expires_at_ms, 3_599_000);
        assert_eq!(read_token(200, br#"{"token_type":"Bearer"}"#, 0), Err(TokenError::Missing("access_token")));
    }

    #[test]
    fn a_refusal_keeps_the_error_and_its_aadsts_codes_as_data() {
        let body = br#"{"error":"authorization_pending","error_description":"AADSTS70016: OAuth 2.0 device flow error. Authorization is pending.","error_codes":[70016]}"#;
        let TokenError::Refused(e) = read_token(400, body, 0).unwrap_err() else { panic!() };
        assert!(e.is_pending() && !e.is_slow_down() && e.has_code(70016) && !e.has_code(7000215));
        assert_eq!(e.status, 400);
        assert_eq!(e.to_string(), "AADSTS70016: OAuth 2.0 device flow error. Authorization is pending.");
        let slow = refusal(400, br#"{"error":"slow_down","error_codes":[70016]}"#);
        assert!(slow.is_slow_down() && !slow.is_pending());
        assert_eq!(slow.to_string(), "slow_down");
    }

    #[test]
    fn a_refusal_without_json_says_what_came_back() {
        assert_eq!(refusal(502, b"<html>Bad gateway</html>").description, "<html>Bad gateway</html>");
        assert_eq!(refusal(503, b"").description, "HTTP 503");
        assert!(refusal(503, b"").codes.is_empty());
    }

    #[test]
    fn a_device_code_reads_v1_strings_and_v2_numbers() {
        let v2 = read_device_code(200, br#"{"device_code":"d","user_code":"U","verification_uri":"https://x/devicelogin","interval":5,"expires_in":900,"message":"m"}"#).unwrap();
        assert_eq!((v2.interval_secs, v2.expires_in_secs, v2.verification_uri.as_str()), (5, 900, "https://x/devicelogin"));
        let v1 = read_device_code(200, br#"{"device_code":"d","user_code":"U","verification_url":"https://x/devicelogin","interval":"7","expires_in":"600"}"#).unwrap();
        assert_eq!((v1.interval_secs, v1.expires_in_secs, v1.verification_uri.as_str()), (7, 600, "https://x/devicelogin"));
        assert_eq!(read_device_code(200, b"{}"), Err(TokenError::Missing("device_code")));
        assert!(matches!(read_device_code(400, br#"{"error":"invalid_client","error_codes":[700016]}"#), Err(TokenError::Refused(e)) if e.has_code(700016)));
    }
}
