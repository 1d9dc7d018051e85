//! Microsoft Graph v1.0 conventions: the `/v1.0` prefix, Graph's error body, paging with
//! `@odata.nextLink`, `$filter` quoting, and finding applications and service principals the
//! way az CLI does. [protocols.md §B]
//!
//! ```ignore
//! use aksflow_sdk::graph;
//! let app = graph::application("api://myAKSServer")?;          // by appId, identifier URI or object id
//! let sps: Vec<graph::ServicePrincipal> =
//!     graph::list("/servicePrincipals", &[("$filter", &format!("appId eq {}", graph::quote(&app.app_id)))])?;
//! graph::send(graph::call("PATCH", &format!("/applications/{}", app.id)).json(&body))?;
//! ```

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::{Call, Response, Service, StepError, log};

/// The version segment every Graph path starts with.
pub const VERSION: &str = "/v1.0";

/// The `@odata.id` base for directory object references (`members/$ref`).
pub const DIRECTORY_OBJECTS: &str = "https://graph.microsoft.com/v1.0/directoryObjects";

/// A call to Graph at `path` below `/v1.0`, e.g. `call("POST", "/applications")`. A path that
/// already starts with `/v1.0` is taken as is.
pub fn call(method: &str, path: &str) -> Call {
    let full = if path.starts_with("/v1.0/") || path == VERSION { path.to_string() } else { format!("{VERSION}{path}") };
    Call::new(Service::Graph, method, &full)
}

/// `GET` below `/v1.0`.
pub fn get(path: &str) -> Call {
    call("GET", path)
}

/// Sends a call and turns any non-2xx answer into Graph's own error (see [`error`]).
pub fn send(call: Call) -> Result<Response, StepError> {
    let resp = call.send()?;
    if resp.is_success() { Ok(resp) } else { Err(error(&resp)) }
}

/// Sends a call and reads the 2xx answer's JSON body as `T`.
pub fn send_json<T: DeserializeOwned>(call: Call) -> Result<T, StepError> {
    send(call)?.json()
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    code: String,
    #[serde(default)]
    message: String,
}

/// Turns Graph's error body (`{"error":{"code","message"}}`) into a step error carrying
/// Graph's own code (`Authorization_RequestDenied`, `Request_ResourceNotFound`, …), so a flow
/// can `expect` it. A body that is not Graph's shape becomes `HTTP<status>`.
pub fn error(resp: &Response) -> StepError {
    let Ok(b) = serde_json::from_slice::<ErrorBody>(&resp.body) else {
        return StepError::new(format!("HTTP{}", resp.status), format!("Graph answered {} with: {}", resp.status, resp.text()));
    };
    let e = StepError::new(b.error.code.as_str(), b.error.message);
    match b.error.code.as_str() {
        "Authorization_RequestDenied" => e.with_hint(
            "the identity the step acts as (the operator, unless the step has `as`) lacks the directory permission for this: use a tenant administrator, or give it a role such as \
             Application Administrator (or the Graph application permission Application.ReadWrite.All / Group.ReadWrite.All)",
        ),
        "InvalidAuthenticationToken" => e.with_hint("the token was refused by Graph: sign in again (for a user token, it may have expired)"),
        "HostNameNotOnVerifiedDomain" => e.with_hint("use an identifier URI of the form api://NAME, or one on a verified domain of the tenant"),
        _ => e,
    }
}

/// A `$filter` string literal: `it's` → `'it''s'`.
pub fn quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// Whether `s` looks like a GUID (`xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`).
pub fn is_guid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36 && b.iter().enumerate().all(|(i, c)| if matches!(i, 8 | 13 | 18 | 23) { *c == b'-' } else { c.is_ascii_hexdigit() })
}

/// `s` escaped for use as one path segment (a UPN with `#EXT#`, say): everything but
/// unreserved characters, `@`, `'` and `:` is percent-encoded.
pub fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'@' | b'\'' | b':') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[derive(Deserialize)]
struct Page<T> {
    value: Vec<T>,
    #[serde(rename = "@odata.nextLink", default)]
    next_link: Option<String>,
}

/// Pages a list cannot go past: a guard against a service that links a page to itself.
const MAX_PAGES: usize = 1000;

/// Lists a collection (`path` below `/v1.0`, query parameters unencoded), following
/// `@odata.nextLink` until the last page, as az CLI does.
pub fn list<T: DeserializeOwned>(path: &str, query: &[(&str, &str)]) -> Result<Vec<T>, StepError> {
    let mut c = call("GET", path);
    for (k, v) in query {
        c = c.query(k, v);
    }
    let mut items = Vec::new();
    for _ in 0..MAX_PAGES {
        let page: Page<T> = send_json(c)?;
        items.extend(page.value);
        let Some(link) = page.next_link else { return Ok(items) };
        let (path, query) = split_next_link(&link)?;
        c = Call::get(Service::Graph, &path);
        for (k, v) in &query {
            c = c.query(k, v);
        }
    }
    Err(StepError::new("UnexpectedResponse", format!("Graph kept returning @odata.nextLink after {MAX_PAGES} pages of {path}")))
}

/// An absolute `@odata.nextLink` split into the path below the origin (kept as sent) and its
/// query parameters, decoded, ready for [`Call`].
pub fn split_next_link(link: &str) -> Result<(String, Vec<(String, String)>), StepError> {
    let bad = || StepError::new("UnexpectedResponse", format!("Graph returned an @odata.nextLink that is not a URL: {link}"));
    let rest = match link.find("://") {
        Some(i) => &link[i + 3..],
        None if link.starts_with('/') => link,
        None => return Err(bad()),
    };
    let at = if link.contains("://") { rest.find('/').ok_or_else(bad)? } else { 0 };
    let path_and_query = &rest[at..];
    let (path, query) = path_and_query.split_once('?').unwrap_or((path_and_query, ""));
    let query = form_urlencoded::parse(query.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    Ok((path.to_string(), query))
}

/// Null and absent both read as the type's default (Graph writes `null` for empty values).
fn nullable<'de, D: Deserializer<'de>, T: Default + Deserialize<'de>>(d: D) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// An application registration (the parts steps work with).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Application {
    /// Object id.
    pub id: String,
    pub app_id: String,
    #[serde(default, deserialize_with = "nullable")]
    pub display_name: String,
    #[serde(default, deserialize_with = "nullable")]
    pub identifier_uris: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub api: ApiApplication,
    #[serde(default, deserialize_with = "nullable")]
    pub required_resource_access: Vec<RequiredResourceAccess>,
    #[serde(default, deserialize_with = "nullable")]
    pub password_credentials: Vec<PasswordCredential>,
}

/// An application's `api` object. Properties this type does not name are kept in `other`
/// so a PATCH of `api` sends the whole object back unchanged.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiApplication {
    #[serde(default, deserialize_with = "nullable")]
    pub oauth2_permission_scopes: Vec<PermissionScope>,
    #[serde(default)]
    pub requested_access_token_version: Option<i64>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// A delegated permission an API exposes (`user_impersonation`, `User.Read`, …).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PermissionScope {
    pub id: String,
    #[serde(default, deserialize_with = "nullable")]
    pub value: String,
    /// `User` (users may consent) or `Admin`.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// An application permission an API exposes.
#[derive(Debug, Clone, Deserialize)]
pub struct AppRole {
    pub id: String,
    #[serde(default, deserialize_with = "nullable")]
    pub value: String,
}

/// One API's entry in an application's `requiredResourceAccess`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequiredResourceAccess {
    pub resource_app_id: String,
    #[serde(default, deserialize_with = "nullable")]
    pub resource_access: Vec<ResourceAccess>,
}

/// A permission id and whether it is delegated (`Scope`) or an application permission (`Role`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceAccess {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
}

/// A client secret's metadata (the secret itself appears only in `addPassword`'s answer).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PasswordCredential {
    pub key_id: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub secret_text: Option<String>,
}

/// A service principal (the parts steps work with).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServicePrincipal {
    /// Object id.
    pub id: String,
    pub app_id: String,
    #[serde(default, deserialize_with = "nullable")]
    pub display_name: String,
    #[serde(default, deserialize_with = "nullable")]
    pub app_owner_organization_id: String,
    #[serde(default, deserialize_with = "nullable")]
    pub service_principal_names: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub oauth2_permission_scopes: Vec<PermissionScope>,
    #[serde(default, deserialize_with = "nullable")]
    pub app_roles: Vec<AppRole>,
    #[serde(default, deserialize_with = "nullable")]
    pub password_credentials: Vec<PasswordCredential>,
}

/// A delegated permission grant (`oauth2PermissionGrant`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PermissionGrant {
    pub id: String,
    pub client_id: String,
    pub consent_type: String,
    #[serde(default)]
    pub principal_id: Option<String>,
    pub resource_id: String,
    #[serde(default, deserialize_with = "nullable")]
    pub scope: String,
}

/// An app role assigned to a principal (application permission consent).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppRoleAssignment {
    pub id: String,
    pub principal_id: String,
    pub resource_id: String,
    pub app_role_id: String,
}

/// Finds an application as az CLI resolves `--id` (§B.2): a GUID is tried as an appId, then as
/// an object id; anything else is matched against `identifierUris`.
pub fn find_application(id: &str) -> Result<Option<Application>, StepError> {
    if is_guid(id) {
        let by_app_id: Vec<Application> = list("/applications", &[("$filter", &format!("appId eq {}", quote(id)))])?;
        if let Some(app) = by_app_id.into_iter().next() {
            return Ok(Some(app));
        }
        let resp = get(&format!("/applications/{id}")).send()?;
        return match resp.status {
            404 => Ok(None),
            _ if resp.is_success() => Ok(Some(resp.json()?)),
            _ => Err(error(&resp)),
        };
    }
    let by_uri: Vec<Application> = list("/applications", &[("$filter", &format!("identifierUris/any(s:s eq {})", quote(id)))])?;
    Ok(by_uri.into_iter().next())
}

/// Like [`find_application`], but a missing application is [`application_not_found`].
pub fn application(id: &str) -> Result<Application, StepError> {
    find_application(id)?.ok_or_else(|| application_not_found(id))
}

/// The error `ApplicationNotFound` for an identifier that names no application.
pub fn application_not_found(id: &str) -> StepError {
    StepError::new("ApplicationNotFound", format!("Can't find application with identifier '{id}'"))
        .with_hint("pass the appId, an identifier URI or the object id of an application registered in this tenant (the `app` step's outputs)")
}

/// Finds the service principal of an application in this tenant, as az CLI does
/// (`servicePrincipalNames/any(c:c eq '…')`, so an identifier URI works too); an exact appId
/// match wins.
pub fn find_service_principal(app_id: &str) -> Result<Option<ServicePrincipal>, StepError> {
    let filter = format!("servicePrincipalNames/any(c:c eq {})", quote(app_id));
    let found: Vec<ServicePrincipal> = list("/servicePrincipals", &[("$filter", &filter)])?;
    let exact = found.iter().position(|sp| sp.app_id.eq_ignore_ascii_case(app_id)).unwrap_or(0);
    Ok(found.into_iter().nth(exact))
}

/// Like [`find_service_principal`], but a missing one is the error `ServicePrincipalNotFound`.
pub fn service_principal(app_id: &str) -> Result<ServicePrincipal, StepError> {
    find_service_principal(app_id)?.ok_or_else(|| {
        StepError::new(
            "ServicePrincipalNotFound",
            format!("Unable to find service principal for application '{app_id}' in this tenant: run the `service-principal` step for it first"),
        )
        .with_hint(format!("add a step with `uses = \"service-principal\"` and `app-id = \"{app_id}\"` before this one"))
    })
}

/// Creates the service principal of an application: `POST /servicePrincipals
/// {"appId","accountEnabled":true}` (§B.4), waiting out replication when the application was
/// registered moments ago (see [`send_fresh`]).
pub fn create_service_principal(app_id: &str) -> Result<ServicePrincipal, StepError> {
    let body = serde_json::json!({ "appId": app_id, "accountEnabled": true });
    send_fresh(|| call("POST", "/servicePrincipals").json(&body))?.json()
}

/// Sends the call `make` builds, and again after 2, 4 and 8 seconds while Graph answers that
/// an object does not exist (404, or "does not reference a valid application object"): right
/// after an object is created, not every Graph replica knows it yet. Use it only for calls on
/// objects created moments ago, or a real "not found" takes 14 seconds to report.
pub fn send_fresh(make: impl Fn() -> Call) -> Result<Response, StepError> {
    let mut wait = 2;
    loop {
        let resp = make().send()?;
        if resp.is_success() {
            return Ok(resp);
        }
        let e = error(&resp);
        let lagging = resp.status == 404 || (resp.status == 400 && e.message.contains("does not reference a valid application object"));
        if !lagging || wait > 8 {
            return Err(e);
        }
        log::debug(&format!("Graph does not know the object yet ({}); retrying in {wait}s", e.code));
        std::thread::sleep(std::time::Duration::from_secs(wait));
        wait *= 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_are_doubled() {
        assert_eq!(quote("it's"), "'it''s'");
        assert_eq!(quote("plain"), "'plain'");
    }

    #[test]
    fn next_link_is_split_and_decoded() {
        let (p, q) = split_next_link("https://graph.microsoft.com/v1.0/applications?%24filter=startswith(displayName%2C%27a%27)&%24skiptoken=100").unwrap();
        assert_eq!(p, "/v1.0/applications");
        assert_eq!(q, vec![("$filter".to_string(), "startswith(displayName,'a')".to_string()), ("$skiptoken".to_string(), "100".to_string())]);
        let (p, q) = split_next_link("https://127.0.0.1:8443/v1.0/groups").unwrap();
        assert_eq!((p.as_str(), q.len()), ("/v1.0/groups", 0));
        assert!(split_next_link("nonsense").is_err());
    }

    #[test]
    fn guids_and_segments() {
        assert!(is_guid("00000003-0000-0000-c000-000000000000"));
        assert!(!is_guid("api://myAKSServer"));
        assert_eq!(segment("carol_fabrikam.onmicrosoft.com#EXT#@contoso.onmicrosoft.com"), "carol_fabrikam.onmicrosoft.com%23EXT%23@contoso.onmicrosoft.com");
    }
}
