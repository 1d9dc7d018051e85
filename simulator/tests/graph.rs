//! Microsoft Graph over its wire: the seed walkthrough's directory steps, by an administrator
//! and by an ordinary user, and Graph's errors.

mod support;

use serde_json::json;
use support::*;

const GRAPH_APP: &str = "00000003-0000-0000-c000-000000000000";

/// Seed 000's server-app steps: create, groupMembershipClaims, service principal, secret,
/// required permissions, then grant and admin consent, which only an administrator may do.
#[tokio::test]
async fn the_seeds_permission_grant_and_consent_steps() {
    let s = Sim::new(21);
    let alice = s.user_token("alice@contoso.onmicrosoft.com", "https://graph.microsoft.com/.default").await;
    let admin = s.user_token("admin@contoso.onmicrosoft.com", "https://graph.microsoft.com/.default").await;

    // The seed's identifier URI on an unverified domain is refused; today's api:// works.
    let r = s.json("POST", "/v1.0/applications", &alice, json!({"displayName": "myAKSServer", "identifierUris": ["https://myAKSServer"], "keyCredentials": []})).await;
    assert_eq!((r.status, r.graph_code()), (400, "HostNameNotOnVerifiedDomain".to_string()));
    assert_eq!(r.json()["error"]["message"], "Values of identifierUris property must use a verified domain of the organization or its subdomain: 'https://myAKSServer'");
    assert!(r.json()["error"]["innerError"]["request-id"].is_string());
    let r = s.json("POST", "/v1.0/applications", &alice, json!({"displayName": "myAKSServer", "identifierUris": ["api://myAKSServer"], "signInAudience": "AzureADMyOrg", "keyCredentials": []})).await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert!(r.headers.contains_key("location"));
    let app = r.json();
    assert_eq!(app["@odata.context"], "https://graph.microsoft.com/v1.0/$metadata#applications/$entity");
    assert_eq!(app["api"]["oauth2PermissionScopes"], json!([]), "Graph creates no user_impersonation scope");
    assert!(app["web"]["implicitGrantSettings"].is_object() && app["groupMembershipClaims"].is_null());
    let (obj, app_id) = (app["id"].as_str().unwrap().to_string(), app["appId"].as_str().unwrap().to_string());

    // Duplicate identifier URI.
    let r = s.json("POST", "/v1.0/applications", &alice, json!({"displayName": "again", "identifierUris": ["api://myAKSServer"]})).await;
    assert_eq!(r.graph_code(), "Request_MultipleObjectsWithSameKeyValue");

    // az ad app update --set groupMembershipClaims=All, and an explicit scope.
    let r = s.json("PATCH", &format!("/v1.0/applications/{obj}"), &alice, json!({"groupMembershipClaims": "All"})).await;
    assert_eq!(r.status, 204);
    let scope_id = "0c8c5a80-1d4c-4f8e-9a5e-4b2a8f2a9d11";
    let r = s.json("PATCH", &format!("/v1.0/applications/{obj}"), &alice, json!({"api": {"oauth2PermissionScopes": [{"id": scope_id, "value": "user_impersonation", "type": "User", "isEnabled": true, "adminConsentDisplayName": "Access myAKSServer"}]}})).await;
    assert_eq!(r.status, 204, "{}", r.text());
    // Resolution as az CLI does it.
    let by_app_id = s.get(&format!("/v1.0/applications?$filter=appId%20eq%20'{app_id}'"), &alice).await.json();
    assert_eq!(by_app_id["value"][0]["groupMembershipClaims"], "All");
    let by_uri = s.get("/v1.0/applications?$filter=identifierUris/any(s:s%20eq%20'api://myAKSServer')", &alice).await.json();
    assert_eq!(by_uri["value"].as_array().unwrap().len(), 1);

    // az ad sp create; a second one is refused.
    let r = s.json("POST", "/v1.0/servicePrincipals", &alice, json!({"appId": app_id, "accountEnabled": true})).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let sp = r.json();
    assert_eq!(sp["servicePrincipalNames"], json!([app_id, "api://myAKSServer"]));
    let sp_id = sp["id"].as_str().unwrap().to_string();
    assert_eq!(s.json("POST", "/v1.0/servicePrincipals", &alice, json!({"appId": app_id})).await.graph_code(), "Request_MultipleObjectsWithSameKeyValue");

    // az ad sp credential reset: the secret is on the service principal and works for client credentials.
    let r = s.json("POST", &format!("/v1.0/servicePrincipals/{sp_id}/addPassword"), &alice, json!({"passwordCredential": {"displayName": "AKSPassword"}})).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let secret = r.json()["secretText"].as_str().unwrap().to_string();
    let token = s.form(&format!("/{}/oauth2/v2.0/token", s.tenant), &[("grant_type", "client_credentials"), ("client_id", &app_id), ("client_secret", &secret), ("scope", "https://graph.microsoft.com/.default")]).await;
    assert_eq!(token.status, 200, "{}", token.text());
    let listed = s.get(&format!("/v1.0/servicePrincipals/{sp_id}"), &alice).await.json();
    assert_eq!(listed["passwordCredentials"][0]["secretText"], serde_json::Value::Null, "a secret is shown once");

    // az ad app permission add: User.Read, Directory.Read.All (delegated) and Directory.Read.All (application).
    let rra = json!([{"resourceAppId": GRAPH_APP, "resourceAccess": [
        {"id": "e1fe6dd8-ba31-4d61-89e7-88639da4683d", "type": "Scope"},
        {"id": "06da0dbc-49e2-44d2-8312-53f166ab848a", "type": "Scope"},
        {"id": "7ab1d382-f21e-4acd-a863-ba3e13f7da61", "type": "Role"}]}]);
    assert_eq!(s.json("PATCH", &format!("/v1.0/applications/{obj}"), &alice, json!({"requiredResourceAccess": rra})).await.status, 204);

    // az ad app permission grant (AllPrincipals) and admin consent: refused to alice, done by the admin.
    let graph_sp_json = s.get(&format!("/v1.0/servicePrincipals?$filter=servicePrincipalNames/any(c:c%20eq%20'{GRAPH_APP}')"), &alice).await.json()["value"][0].clone();
    // Microsoft Graph is Microsoft's multi-tenant app; the tenant's own apps are single-tenant.
    assert_eq!(graph_sp_json["signInAudience"], "AzureADMultipleOrgs");
    let own_sp = s.get(&format!("/v1.0/servicePrincipals/{sp_id}"), &alice).await.json();
    assert_eq!(own_sp["signInAudience"], "AzureADMyOrg", "{own_sp}");
    let graph_sp = graph_sp_json["id"].as_str().unwrap().to_string();
    let grant = json!({"clientId": sp_id, "consentType": "AllPrincipals", "principalId": null, "resourceId": graph_sp, "scope": "User.Read Directory.Read.All"});
    let r = s.json("POST", "/v1.0/oauth2PermissionGrants", &alice, grant.clone()).await;
    assert_eq!((r.status, r.graph_code()), (403, "Authorization_RequestDenied".to_string()));
    assert_eq!(r.json()["error"]["message"], "Insufficient privileges to complete the operation.");
    let role = json!({"principalId": sp_id, "resourceId": graph_sp, "appRoleId": "7ab1d382-f21e-4acd-a863-ba3e13f7da61"});
    assert_eq!(s.json("POST", &format!("/v1.0/servicePrincipals/{graph_sp}/appRoleAssignedTo"), &alice, role.clone()).await.status, 403);
    let r = s.json("POST", "/v1.0/oAuth2PermissionGrants", &admin, grant).await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["@odata.context"], "https://graph.microsoft.com/v1.0/$metadata#oauth2PermissionGrants/$entity");
    // Grant and assignment ids are base64url, as Graph writes them: never `.` or `~`.
    let base64url = |id: &str| id.len() == 43 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    let grant_id = r.json()["id"].as_str().unwrap().to_string();
    assert!(base64url(&grant_id), "{grant_id}");
    let assigned = s.json("POST", &format!("/v1.0/servicePrincipals/{graph_sp}/appRoleAssignedTo"), &admin, role).await;
    assert_eq!(assigned.status, 201);
    let assignment_id = assigned.json()["id"].as_str().unwrap().to_string();
    assert!(base64url(&assignment_id), "{assignment_id}");

    // Now the server app's own client-credentials token carries the application permission.
    let token = s.form(&format!("/{}/oauth2/v2.0/token", s.tenant), &[("grant_type", "client_credentials"), ("client_id", &app_id), ("client_secret", &secret), ("scope", "https://graph.microsoft.com/.default")]).await;
    assert_eq!(claims(token.json()["access_token"].as_str().unwrap())["roles"], json!(["Directory.Read.All"]));
    let grants = s.get(&format!("/v1.0/oauth2PermissionGrants?$filter=clientId%20eq%20'{sp_id}'"), &alice).await.json();
    assert_eq!(grants["value"][0]["scope"], "User.Read Directory.Read.All");
}

#[tokio::test]
async fn groups_members_and_membership_queries() {
    let s = Sim::new(22);
    let alice = s.user_token("alice@contoso.onmicrosoft.com", "https://graph.microsoft.com/.default").await;
    let bob_oid = claims(&s.user_token("bob@contoso.onmicrosoft.com", "https://graph.microsoft.com/.default").await)["oid"].as_str().unwrap().to_string();
    let r = s.json("POST", "/v1.0/groups", &alice, json!({"displayName": "aks-admins", "mailNickname": "aks-admins", "mailEnabled": false, "securityEnabled": true})).await;
    assert_eq!(r.status, 201);
    let gid = r.json()["id"].as_str().unwrap().to_string();
    // Graph's default properties of a group, all present (null where unset).
    let group = r.json();
    for key in ["creationOptions", "expirationDateTime", "isAssignableToRole", "membershipRuleProcessingState", "onPremisesSyncEnabled", "preferredDataLocation", "proxyAddresses", "renewedDateTime", "resourceBehaviorOptions", "resourceProvisioningOptions", "theme", "uniqueName", "serviceProvisioningErrors"] {
        assert!(group.get(key).is_some(), "{key} missing: {group}");
    }
    assert_eq!(group["securityIdentifier"].as_str().unwrap().split('-').count(), 8, "S-1-12-1 and four numbers: {group}");
    let member = json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{bob_oid}")});
    assert_eq!(s.json("POST", &format!("/v1.0/groups/{gid}/members/$ref"), &alice, member.clone()).await.status, 204);
    let dup = s.json("POST", &format!("/v1.0/groups/{gid}/members/$ref"), &alice, member).await;
    assert_eq!((dup.status, dup.graph_code()), (400, "Request_BadRequest".to_string()));
    assert_eq!(dup.json()["error"]["message"], "One or more added object references already exist for the following modified properties: 'members'.");
    let members = s.get(&format!("/v1.0/groups/{gid}/members"), &alice).await.json();
    assert_eq!(members["value"][0]["@odata.type"], "#microsoft.graph.user");
    let r = s.json("POST", "/v1.0/users/bob@contoso.onmicrosoft.com/getMemberGroups", &alice, json!({"securityEnabledOnly": false})).await;
    assert_eq!(r.json()["value"], json!([gid]));
    let r = s.json("POST", &format!("/v1.0/directoryObjects/{bob_oid}/checkMemberGroups"), &alice, json!({"groupIds": [gid, "00000000-0000-0000-0000-000000000001"]})).await;
    assert_eq!(r.json()["value"], json!([gid]));
    // `az ad user get-member-groups`: the direct groups, as directory objects, by id or UPN.
    for who in [bob_oid.as_str(), "bob@contoso.onmicrosoft.com"] {
        let r = s.get(&format!("/v1.0/users/{who}/memberOf"), &alice).await;
        assert_eq!(r.status, 200, "{}", r.text());
        let v = r.json();
        assert_eq!((&v["value"][0]["id"], &v["value"][0]["@odata.type"]), (&json!(gid), &json!("#microsoft.graph.group")), "{v}");
        assert_eq!(v["@odata.context"], "https://graph.microsoft.com/v1.0/$metadata#directoryObjects");
    }
    assert_eq!(s.get(&format!("/v1.0/groups/{gid}/memberOf"), &alice).await.json()["value"], json!([]), "a group in no group");
    assert_eq!(s.get(&format!("/v1.0/users/{gid}/memberOf"), &alice).await.status, 404, "a group is not a user");
    let r = s.json("POST", "/v1.0/directoryObjects/getByIds", &alice, json!({"ids": [gid, bob_oid], "types": ["group"]})).await;
    assert_eq!(r.json()["value"].as_array().unwrap().len(), 1);
    let gone = s.send("DELETE", &format!("/v1.0/groups/{gid}/members/{bob_oid}/$ref"), &[("authorization", &format!("Bearer {alice}"))], vec![]).await;
    assert_eq!(gone.status, 204);
    let filtered = s.get("/v1.0/groups?$filter=displayName%20eq%20'aks-admins'%20and%20mailNickname%20eq%20'aks-admins'", &alice).await.json();
    assert_eq!(filtered["value"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn me_users_paging_and_errors() {
    let s = Sim::new(23);
    let alice = s.user_token("alice@contoso.onmicrosoft.com", "https://graph.microsoft.com/.default").await;
    let me = s.get("/v1.0/me", &alice).await.json();
    assert_eq!(me["userPrincipalName"], "alice@contoso.onmicrosoft.com");
    assert_eq!(me["@odata.context"], "https://graph.microsoft.com/v1.0/$metadata#users/$entity");
    let app = s.operator_token("https://graph.microsoft.com/.default").await;
    let r = s.get("/v1.0/me", &app).await;
    assert_eq!((r.status, r.json()["error"]["message"].as_str().unwrap()), (400, "/me request is only valid with delegated authentication flow."));

    // Paging: 201 seeded groups, 100 a page.
    let page1 = s.get("/v1.0/groups", &alice).await.json();
    assert_eq!(page1["value"].as_array().unwrap().len(), 100);
    let next = page1["@odata.nextLink"].as_str().unwrap();
    let page2 = s.get(next.trim_start_matches("https://sim.aksflow.invalid"), &alice).await.json();
    assert_eq!(page2["value"].as_array().unwrap().len(), 100);
    assert_ne!(page1["value"][0]["id"], page2["value"][0]["id"]);

    let missing = s.get("/v1.0/applications/5f0e1c9a-0000-0000-0000-000000000000", &alice).await;
    assert_eq!((missing.status, missing.graph_code()), (404, "Request_ResourceNotFound".to_string()));
    let bad_json = s.send("POST", "/v1.0/applications", &[("authorization", &format!("Bearer {alice}")), ("content-type", "application/json")], b"{not json".to_vec()).await;
    assert_eq!(bad_json.status, 400);
    let unknown = s.json("POST", "/v1.0/applications", &alice, json!({"displayName": "x", "nativeApp": true})).await;
    assert_eq!(unknown.json()["error"]["message"], "Property 'nativeApp' does not exist as a declared property or extension property.");
    // As msgraph-sdk (Kiota) sends it: the type annotation on create and on update.
    let kiota = s.json("POST", "/v1.0/applications", &alice, json!({"@odata.type": "#microsoft.graph.application", "displayName": "kiota"})).await;
    assert_eq!(kiota.status, 201, "{}", kiota.text());
    let kiota_id = kiota.json()["id"].as_str().unwrap().to_string();
    let patched = s.json("PATCH", &format!("/v1.0/applications/{kiota_id}"), &alice, json!({"@odata.type": "microsoft.graph.application", "notes": "n"})).await;
    assert_eq!(patched.status, 204, "{}", patched.text());
    let wrong_type = s.json("POST", "/v1.0/applications", &alice, json!({"@odata.type": "#microsoft.graph.user", "displayName": "x"})).await;
    assert_eq!(wrong_type.status, 400, "another entity's type is not an application");
    let bad_filter = s.get("/v1.0/applications?$filter=appId%20eq", &alice).await;
    assert_eq!(bad_filter.status, 400);
    assert!(bad_filter.json()["error"]["message"].as_str().unwrap().starts_with("Invalid filter clause"));
    let no_token = s.send("GET", "/v1.0/users", &[], vec![]).await;
    assert_eq!((no_token.status, no_token.json()["error"]["message"].as_str().unwrap()), (401, "Access token is empty."));
    let arm_token = s.operator_token("https://management.azure.com/.default").await;
    assert_eq!(s.get("/v1.0/users", &arm_token).await.status, 401, "a token for ARM is not a token for Graph");

    // Guests may read only themselves.
    let carol = s.user_token("carol@fabrikam.onmicrosoft.com", "https://graph.microsoft.com/.default").await;
    assert_eq!(s.get("/v1.0/users", &carol).await.status, 403);
    assert_eq!(s.get("/v1.0/me", &carol).await.json()["userPrincipalName"], "carol_fabrikam.onmicrosoft.com#EXT#@contoso.onmicrosoft.com");
}

#[tokio::test]
async fn a_json_body_sent_as_text_is_refused_in_graphs_words() {
    let s = Sim::new(23);
    let alice = s.user_token("alice@contoso.onmicrosoft.com", "https://graph.microsoft.com/.default").await;
    let body = br#"{"displayName": "plain"}"#.to_vec();
    let r = s.send("POST", "/v1.0/applications", &[("authorization", &format!("Bearer {alice}")), ("content-type", "text/plain")], body.clone()).await;
    assert_eq!((r.status, r.graph_code()), (400, "BadRequest".to_string()), "{}", r.text());
    assert_eq!(r.json()["error"]["message"], "Entity only allows writes with a JSON Content-Type header.");
    assert!(r.json()["error"]["innerError"]["request-id"].is_string(), "{}", r.text());
    let list = s.get("/v1.0/applications?$filter=displayName%20eq%20'plain'", &alice).await.json();
    assert_eq!(list["value"], serde_json::json!([]), "nothing was created");
    let ok = s.send("POST", "/v1.0/applications", &[("authorization", &format!("Bearer {alice}")), ("content-type", "application/json; charset=utf-8")], body).await;
    assert_eq!(ok.status, 201, "{}", ok.text());
}

async fn owner_ids(s: &Sim, set: &str, id: &str, token: &str) -> Vec<String> {
    s.get(&format!("/v1.0/{set}/{id}/owners"), token).await.json()["value"].as_array().unwrap().iter().map(|o| o["id"].as_str().unwrap().to_string()).collect()
}

async fn remove_owner(s: &Sim, set: &str, id: &str, owner: &str, token: &str) -> u16 {
    s.send("DELETE", &format!("/v1.0/{set}/{id}/owners/{owner}/$ref"), &[("authorization", &format!("Bearer {token}"))], vec![]).await.status
}

/// `owners` on applications and groups: listed, added by reference, removed; an owner may
/// then change the object, and the errors are Graph's.
#[tokio::test]
async fn owners_of_applications_and_groups_are_listed_added_and_removed() {
    let s = Sim::new(27);
    let alice = s.user_token("alice@contoso.onmicrosoft.com", "https://graph.microsoft.com/.default").await;
    let bob = s.user_token("bob@contoso.onmicrosoft.com", "https://graph.microsoft.com/.default").await;
    let alice_oid = claims(&alice)["oid"].as_str().unwrap().to_string();
    let bob_oid = claims(&bob)["oid"].as_str().unwrap().to_string();
    let app = s.json("POST", "/v1.0/applications", &alice, json!({"displayName": "owned"})).await.json()["id"].as_str().unwrap().to_string();
    let group = s.json("POST", "/v1.0/groups", &alice, json!({"displayName": "owned", "mailNickname": "owned", "mailEnabled": false, "securityEnabled": true})).await.json()["id"].as_str().unwrap().to_string();
    let reference = |oid: &str| json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{oid}")});
    for (set, id) in [("applications", &app), ("groups", &group)] {
        assert_eq!(owner_ids(&s, set, id, &alice).await, [alice_oid.clone()], "{set}: the creator owns it");
        // Bob may not change it until he is an owner.
        assert_eq!(s.json("POST", &format!("/v1.0/{set}/{id}/owners/$ref"), &bob, reference(&bob_oid)).await.status, 403, "{set}");
        assert_eq!(s.json("POST", &format!("/v1.0/{set}/{id}/owners/$ref"), &alice, reference(&bob_oid)).await.status, 204, "{set}");
        let again = s.json("POST", &format!("/v1.0/{set}/{id}/owners/$ref"), &alice, reference(&bob_oid)).await;
        assert_eq!((again.status, again.json()["error"]["message"].as_str().unwrap().to_string()), (400, "One or more added object references already exist for the following modified properties: 'owners'.".to_string()));
        assert_eq!(owner_ids(&s, set, id, &alice).await.len(), 2);
        // Now bob, an owner, may remove alice.
        assert_eq!(remove_owner(&s, set, id, &alice_oid, &bob).await, 204, "{set}");
        assert_eq!(remove_owner(&s, set, id, &alice_oid, &bob).await, 404, "{set}: not an owner any more");
        assert_eq!(owner_ids(&s, set, id, &alice).await, [bob_oid.clone()]);
    }
    let missing = s.get("/v1.0/applications/5f0e1c9a-0000-0000-0000-000000000000/owners", &alice).await;
    assert_eq!((missing.status, missing.graph_code()), (404, "Request_ResourceNotFound".to_string()));
}

/// `az ad sp update --set accountEnabled=false`: a disabled service principal can no longer
/// sign in (AADSTS7000112) until it is enabled again; the other settable properties stick.
#[tokio::test]
async fn a_service_principal_patched_to_disabled_cannot_sign_in() {
    let s = Sim::new(28);
    let admin = s.user_token("admin@contoso.onmicrosoft.com", "https://graph.microsoft.com/.default").await;
    let app_id = s.json("POST", "/v1.0/applications", &admin, json!({"displayName": "ci"})).await.json()["appId"].as_str().unwrap().to_string();
    let sp = s.json("POST", "/v1.0/servicePrincipals", &admin, json!({"appId": app_id})).await.json()["id"].as_str().unwrap().to_string();
    let secret = s.json("POST", &format!("/v1.0/servicePrincipals/{sp}/addPassword"), &admin, json!({"passwordCredential": {}})).await.json()["secretText"].as_str().unwrap().to_string();
    let token_url = format!("/{}/oauth2/v2.0/token", s.tenant);
    let form = [("grant_type", "client_credentials"), ("client_id", app_id.as_str()), ("client_secret", secret.as_str()), ("scope", "https://graph.microsoft.com/.default")];
    let sign_in = || s.form(&token_url, &form);
    assert_eq!(sign_in().await.status, 200);

    let sp_path = format!("/v1.0/servicePrincipals/{sp}");
    let patch = |body: serde_json::Value| s.json("PATCH", &sp_path, &admin, body);
    assert_eq!(patch(json!({"accountEnabled": false, "tags": ["ci"], "notes": "paused"})).await.status, 204);
    let r = sign_in().await;
    assert_eq!((r.status, r.aadsts()), (400, 7000112), "{}", r.text());
    let got = s.get(&format!("/v1.0/servicePrincipals/{sp}"), &admin).await.json();
    assert_eq!((&got["accountEnabled"], &got["tags"], &got["notes"]), (&json!(false), &json!(["ci"]), &json!("paused")));
    let unknown = patch(json!({"servicePrincipalType": "Legacy"})).await;
    assert_eq!((unknown.status, unknown.json()["error"]["message"].as_str().unwrap().to_string()), (400, "Property 'servicePrincipalType' does not exist as a declared property or extension property.".to_string()));
    let bad = patch(json!({"accountEnabled": "no"})).await;
    assert_eq!(bad.status, 400);
    // Only administrators and the application's owners may change it.
    let bob = s.user_token("bob@contoso.onmicrosoft.com", "https://graph.microsoft.com/.default").await;
    assert_eq!(s.json("PATCH", &format!("/v1.0/servicePrincipals/{sp}"), &bob, json!({"accountEnabled": true})).await.status, 403);
    assert_eq!(patch(json!({"accountEnabled": true})).await.status, 204);
    assert_eq!(sign_in().await.status, 200, "enabled again");
}

/// `az ad user update`: an administrator disables a user (whose right password then gets
/// AADSTS50057), enables them again and sets a new password (the old one then fails).
#[tokio::test]
async fn an_administrator_patches_a_user_and_the_token_service_follows() {
    let s = Sim::new(29);
    let admin = s.user_token("admin@contoso.onmicrosoft.com", "https://graph.microsoft.com/.default").await;
    let alice = s.user_token("alice@contoso.onmicrosoft.com", "https://graph.microsoft.com/.default").await;
    let bob = "bob@contoso.onmicrosoft.com";
    let old_password = s.password(bob);
    let token_url = format!("/{}/oauth2/v2.0/token", s.tenant);
    let sign_in = |password: String| {
        let (s, url) = (&s, token_url.clone());
        async move { s.form(&url, &[("grant_type", "password"), ("client_id", CLI), ("username", bob), ("password", &password), ("scope", "https://graph.microsoft.com/.default")]).await }
    };
    let user_path = format!("/v1.0/users/{bob}");
    assert_eq!(s.json("PATCH", &user_path, &admin, json!({"accountEnabled": false, "officeLocation": "x"})).await.status, 400, "a property the simulator does not keep is refused, and nothing changes");
    assert_eq!(sign_in(old_password.clone()).await.status, 200);
    assert_eq!(s.json("PATCH", &user_path, &alice, json!({"accountEnabled": false})).await.status, 403, "only administrators");
    assert_eq!(s.json("PATCH", &user_path, &admin, json!({"accountEnabled": false, "displayName": "Bob (away)", "jobTitle": "Engineer"})).await.status, 204);
    let r = sign_in(old_password.clone()).await;
    assert_eq!((r.status, r.aadsts()), (400, 50057), "{}", r.text());
    let got = s.get(&user_path, &admin).await.json();
    // (accountEnabled is not among Graph's default user properties.)
    assert_eq!((&got["displayName"], &got["jobTitle"]), (&json!("Bob (away)"), &json!("Engineer")), "{got}");
    let new_password = "N3w-Passw0rd!x".to_string();
    assert_eq!(s.json("PATCH", &user_path, &admin, json!({"accountEnabled": true, "passwordProfile": {"password": new_password, "forceChangePasswordNextSignIn": false}})).await.status, 204);
    assert_eq!(sign_in(old_password).await.aadsts(), 50126, "the old password no longer works");
    assert_eq!(sign_in(new_password).await.status, 200);
    // `az ad user update --mail-nickname` (recorded in azure-cli's test_user_scenario).
    assert_eq!(s.json("PATCH", &user_path, &admin, json!({"mailNickname": "bobby"})).await.status, 204);
    assert_eq!(s.json("PATCH", &user_path, &admin, json!({"mailNickname": " "})).await.status, 400, "an empty nickname is refused");
}

/// Deleted applications, groups and users go to `/directory/deletedItems`, from where they
/// are restored or deleted for good (the role module's cleanup calls the latter).
#[tokio::test]
async fn deleted_items_can_be_read_restored_and_purged() {
    let s = Sim::new(81);
    let admin = s.user_token("admin@contoso.onmicrosoft.com", "https://graph.microsoft.com/.default").await;
    let app = s.json("POST", "/v1.0/applications", &admin, json!({"displayName": "doomed"})).await.json();
    let id = app["id"].as_str().unwrap().to_string();
    assert_eq!(s.send("DELETE", &format!("/v1.0/applications/{id}"), &[("authorization", &format!("Bearer {admin}"))], vec![]).await.status, 204);
    assert_eq!(s.get(&format!("/v1.0/applications/{id}"), &admin).await.status, 404);
    let d = s.get(&format!("/v1.0/directory/deletedItems/{id}"), &admin).await;
    assert_eq!(d.status, 200, "{}", d.text());
    assert_eq!(d.json()["@odata.type"], "#microsoft.graph.application");
    assert_eq!(d.json()["displayName"], "doomed");
    assert!(d.json()["deletedDateTime"].is_string());
    let r = s.send("POST", &format!("/v1.0/directory/deletedItems/{id}/restore"), &[("authorization", &format!("Bearer {admin}"))], vec![]).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(s.get(&format!("/v1.0/applications/{id}"), &admin).await.status, 200, "restored");
    s.send("DELETE", &format!("/v1.0/applications/{id}"), &[("authorization", &format!("Bearer {admin}"))], vec![]).await;
    assert_eq!(s.send("DELETE", &format!("/v1.0/directory/deletedItems/{id}"), &[("authorization", &format!("Bearer {admin}"))], vec![]).await.status, 204);
    assert_eq!(s.get(&format!("/v1.0/directory/deletedItems/{id}"), &admin).await.status, 404, "gone for good");

    // Users: administrators only.
    let bob = s.user_token("bob@contoso.onmicrosoft.com", "https://graph.microsoft.com/.default").await;
    let r = s.send("DELETE", "/v1.0/users/alice@contoso.onmicrosoft.com", &[("authorization", &format!("Bearer {bob}"))], vec![]).await;
    assert_eq!((r.status, r.graph_code()), (403, "Authorization_RequestDenied".to_string()));
    assert_eq!(s.send("DELETE", "/v1.0/users/alice@contoso.onmicrosoft.com", &[("authorization", &format!("Bearer {admin}"))], vec![]).await.status, 204);
    assert_eq!(s.get("/v1.0/users/alice@contoso.onmicrosoft.com", &admin).await.status, 404);
}

/// Service principals have owners too: listed, added by reference, removed.
#[tokio::test]
async fn service_principal_owners_are_listed_added_and_removed() {
    let s = Sim::new(82);
    let admin = s.user_token("admin@contoso.onmicrosoft.com", "https://graph.microsoft.com/.default").await;
    let app = s.json("POST", "/v1.0/applications", &admin, json!({"displayName": "owned"})).await.json();
    let sp = s.json("POST", "/v1.0/servicePrincipals", &admin, json!({"appId": app["appId"]})).await.json()["id"].as_str().unwrap().to_string();
    let bob = s.get("/v1.0/users/bob@contoso.onmicrosoft.com", &admin).await.json()["id"].as_str().unwrap().to_string();
    let r = s.json("POST", &format!("/v1.0/servicePrincipals/{sp}/owners/$ref"), &admin, json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{bob}")})).await;
    assert_eq!(r.status, 204, "{}", r.text());
    let owners = s.get(&format!("/v1.0/servicePrincipals/{sp}/owners"), &admin).await.json();
    assert_eq!(owners["value"][0]["id"], bob.as_str());
    assert_eq!(s.send("DELETE", &format!("/v1.0/servicePrincipals/{sp}/owners/{bob}/$ref"), &[("authorization", &format!("Bearer {admin}"))], vec![]).await.status, 204);
    assert_eq!(s.get(&format!("/v1.0/servicePrincipals/{sp}/owners"), &admin).await.json()["value"].as_array().unwrap().len(), 0);
}

/// Certificates on an application (`az ad app credential reset --cert`): kept, listed with
/// their key hidden, a key id and dates filled in; a malformed one is Graph's 400.
#[tokio::test]
async fn key_credentials_are_kept_and_their_key_is_write_only() {
    let s = Sim::new(83);
    let admin = s.user_token("admin@contoso.onmicrosoft.com", "https://graph.microsoft.com/.default").await;
    let app = s.json("POST", "/v1.0/applications", &admin, json!({"displayName": "certified"})).await.json();
    let id = app["id"].as_str().unwrap().to_string();
    assert_eq!(app["keyCredentials"], json!([]));
    let cert = json!({"type": "AsymmetricX509Cert", "usage": "Verify", "key": "MIIBszCCAVmgAwIBAgIU", "displayName": "CN=ci"});
    let r = s.json("PATCH", &format!("/v1.0/applications/{id}"), &admin, json!({"keyCredentials": [cert]})).await;
    assert_eq!(r.status, 204, "{}", r.text());
    let got = s.get(&format!("/v1.0/applications/{id}"), &admin).await.json();
    let k = &got["keyCredentials"][0];
    assert_eq!((k["type"].as_str(), k["usage"].as_str(), k["displayName"].as_str()), (Some("AsymmetricX509Cert"), Some("Verify"), Some("CN=ci")));
    assert!(k["key"].is_null(), "the key is write-only");
    assert!(k["keyId"].as_str().is_some_and(|v| v.len() == 36) && k["endDateTime"].is_string());
    let bad = s.json("PATCH", &format!("/v1.0/applications/{id}"), &admin, json!({"keyCredentials": [{"type": "AsymmetricX509Cert", "usage": "Verify", "key": "not base64!"}]})).await;
    assert_eq!((bad.status, bad.graph_code()), (400, "Request_BadRequest".to_string()));
}

/// `az ad app create` sends no sign-in audience: Microsoft Graph registers the app for work,
/// school and personal accounts with v2 tokens (every azure-cli recording), and its service
/// principal reports the same audience. Seed 000's az went through Azure AD Graph, whose
/// apps were single-tenant with v1 tokens.
#[tokio::test]
async fn an_application_without_an_audience_gets_graphs_default_in_each_era() {
    for (s, audience, version) in [(Sim::new(31), "AzureADandPersonalMicrosoftAccount", json!(2)), (Sim::in_2019(31), "AzureADMyOrg", json!(null))] {
        let admin = s.user_token("admin@contoso.onmicrosoft.com", "https://graph.microsoft.com/.default").await;
        let app = s.json("POST", "/v1.0/applications", &admin, json!({"displayName": "app000001", "keyCredentials": []})).await.json();
        assert_eq!((&app["signInAudience"], &app["api"]["requestedAccessTokenVersion"]), (&json!(audience), &version), "{app}");
        let sp = s.json("POST", "/v1.0/servicePrincipals", &admin, json!({"appId": app["appId"]})).await.json();
        assert_eq!(sp["signInAudience"], audience, "{sp}");
        // Named single-tenant, it keeps v1 tokens in either era.
        let mine = s.json("POST", "/v1.0/applications", &admin, json!({"displayName": "app000002", "signInAudience": "AzureADMyOrg"})).await.json();
        assert_eq!((&mine["signInAudience"], &mine["api"]["requestedAccessTokenVersion"]), (&json!("AzureADMyOrg"), &json!(null)), "{mine}");
    }
}
