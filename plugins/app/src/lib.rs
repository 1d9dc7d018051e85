//! `app`: what `az ad app create` (and `az ad app update --set …`) does on Graph (§B.1, §B.3).
//!
//! Like az CLI, an application with the same displayName (and the asked identifier URI, if
//! any) is patched instead of registered twice: `GET /applications?$filter=startswith(…)`,
//! then `PATCH /applications/{id}` (204) or `POST /applications` (201). Graph no longer creates
//! a `user_impersonation` scope by itself (§F.4), so `scope` adds one to
//! `api.oauth2PermissionScopes`, with an id derived from the appId and the value: a rerun
//! finds the same id and changes nothing.

use aksflow_sdk::graph::{self, Application, PermissionScope};
use aksflow_sdk::*;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

struct App;

inputs! {
    struct Args {
        display_name: String = "display-name" => "Display name of the application",
        identifier_uri: Option<String> = "identifier-uri" => "Application ID URI, e.g. api://myAKSServer (https:// only on a verified domain)",
        sign_in_audience: Option<String> = "sign-in-audience" => "AzureADMyOrg, AzureADMultipleOrgs, AzureADandPersonalMicrosoftAccount (Graph's default when none is given; seed 000's Azure AD Graph made AzureADMyOrg) or PersonalMicrosoftAccount",
        group_membership_claims: Option<String> = "group-membership-claims" => "Groups to put in tokens: None, SecurityGroup, DirectoryRole, ApplicationGroup or All",
        public_client: Option<bool> = "public-client" => "Allow public-client flows such as device code (isFallbackPublicClient)",
        redirect_uris: Option<Vec<String>> = "redirect-uris" => "Public-client redirect URIs, comma-separated",
        scope: Option<String> = "scope" => "A delegated permission (scope) to expose, e.g. user_impersonation; needs an identifier URI",
        requested_token_version: Option<i64> = "requested-token-version" => "Access token version the API accepts: 1 or 2",
    }
}

impl Guest for App {
    fn describe() -> StepInfo {
        StepInfo::new("app", "Register an Entra ID application, or update the one with that display name (az ad app create / update)")
            .takes::<Args>()
            .output("app-id", "Application (client) id")
            .output("object-id", "Object id of the application")
            .output("identifier-uri", "The application's first identifier URI, when it has one")
            .output("scope-id", "Id of the exposed scope, when `scope` was given")
            .output("created", "true if this run registered the application, false if it updated an existing one")
            .uses(Service::Graph)
    }

    fn run(inputs: Vec<Field>) -> Result<StepOutput, StepError> {
        let args = Args::from_fields(inputs)?;
        let name = args.display_name.trim();
        if name.is_empty() {
            return Err(StepError::bad_input("display-name", "must not be empty"));
        }
        let uri = args.identifier_uri.given();
        let scope = args.scope.given();
        if let Some(s) = scope.filter(|s| s.contains(char::is_whitespace)) {
            return Err(StepError::bad_input("scope", format!("a scope value is one word, e.g. user_impersonation; got `{s}`")));
        }
        let version = args.requested_token_version;
        if let Some(v) = version.filter(|v| !(1..=2).contains(v)) {
            return Err(StepError::bad_input("requested-token-version", format!("must be 1 or 2, got {v}")));
        }

        // The properties asked for, as az CLI maps its flags (§B.1).
        let mut props = Map::new();
        props.insert("displayName".into(), json!(name));
        if let Some(u) = uri {
            props.insert("identifierUris".into(), json!([u]));
        }
        if let Some(a) = args.sign_in_audience.given() {
            props.insert("signInAudience".into(), json!(a));
        }
        if let Some(g) = args.group_membership_claims.given() {
            props.insert("groupMembershipClaims".into(), json!(g));
        }
        if let Some(p) = args.public_client {
            props.insert("isFallbackPublicClient".into(), json!(p));
        }
        if let Some(uris) = &args.redirect_uris {
            props.insert("publicClient".into(), json!({ "redirectUris": uris }));
        }

        let filter = format!("startswith(displayName,{})", graph::quote(name));
        let mut same: Vec<Application> = graph::list("/applications", &[("$filter", &filter)])?;
        same.retain(|a| a.display_name == name);
        if let Some(u) = uri {
            same.retain(|a| a.identifier_uris.iter().any(|x| x.eq_ignore_ascii_case(u)));
        }
        if same.len() > 1 {
            let ids: Vec<&str> = same.iter().map(|a| a.app_id.as_str()).collect();
            return Err(StepError::new(
                "MultipleApplications",
                format!("More than one application has the display name '{name}' (appIds {})", ids.join(", ")),
            )
            .with_hint("rename or delete the extra registrations, or give this step an identifier-uri that only one of them has"));
        }

        let (mut app, created) = match same.pop() {
            Some(existing) => {
                log::info(&format!("found application {name} (appId {}); updating it", existing.app_id));
                let mut body = props.clone();
                if let Some(v) = version {
                    let mut api = existing.api.clone();
                    api.requested_access_token_version = Some(v);
                    body.insert("api".into(), serde_json::to_value(api).expect("api serialises"));
                }
                graph::send(graph::call("PATCH", &format!("/applications/{}", existing.id)).json(&body))?;
                (graph::send_json::<Application>(graph::get(&format!("/applications/{}", existing.id)))?, false)
            }
            None => {
                log::info(&format!("registering application {name}"));
                let mut body = props.clone();
                body.insert("keyCredentials".into(), json!([]));
                if let Some(v) = version {
                    body.insert("api".into(), json!({ "requestedAccessTokenVersion": v }));
                }
                let app: Application = graph::send_json(graph::call("POST", "/applications").json(&body))?;
                log::info(&format!("registered {name}: appId {}", app.app_id));
                (app, true)
            }
        };

        let mut scope_id = None;
        if let Some(value) = scope {
            if app.identifier_uris.is_empty() {
                return Err(StepError::bad_input("scope", "an application exposes scopes only with an identifier URI: give `identifier-uri` too"));
            }
            let id = match app.api.oauth2_permission_scopes.iter().find(|s| s.value.eq_ignore_ascii_case(value)) {
                Some(existing) => {
                    log::info(&format!("{name} already exposes scope {value}"));
                    existing.id.clone()
                }
                None => {
                    let id = scope_guid(&app.app_id, value);
                    log::info(&format!("exposing scope {value} on {name}"));
                    let mut api = app.api.clone();
                    api.oauth2_permission_scopes.push(new_scope(&id, value, name));
                    let body = json!({ "api": api });
                    let patch = || graph::call("PATCH", &format!("/applications/{}", app.id)).json(&body);
                    if created { graph::send_fresh(patch)? } else { graph::send(patch())? };
                    app.api = api;
                    id
                }
            };
            scope_id = Some(id);
        }

        let mut out = Outputs::new().text("app-id", &app.app_id).text("object-id", &app.id).text("created", created.to_string());
        if let Some(u) = app.identifier_uris.first() {
            out = out.text("identifier-uri", u);
        }
        if let Some(id) = scope_id {
            out = out.text("scope-id", id);
        }
        Ok(out.into())
    }
}

/// The scope az CLI's users add by hand today, worded as the legacy AAD Graph created it.
fn new_scope(id: &str, value: &str, app_name: &str) -> PermissionScope {
    let mut other = Map::new();
    other.insert("adminConsentDescription".into(), json!(format!("Allow the application to access {app_name} on behalf of the signed-in user.")));
    other.insert("adminConsentDisplayName".into(), json!(format!("Access {app_name}")));
    other.insert("isEnabled".into(), Value::Bool(true));
    other.insert("userConsentDescription".into(), json!(format!("Allow the application to access {app_name} on your behalf.")));
    other.insert("userConsentDisplayName".into(), json!(format!("Access {app_name}")));
    PermissionScope { id: id.into(), value: value.into(), kind: Some("User".into()), other }
}

/// A GUID from SHA-256 of `appId/value`, with the RFC 9562 version (8, custom) and variant bits.
fn scope_guid(app_id: &str, value: &str) -> String {
    let h = Sha256::digest(format!("{}/{value}", app_id.to_ascii_lowercase()).as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&h[..16]);
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}

export!(App with_types_in aksflow_sdk::bindings);
