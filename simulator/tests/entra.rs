//! The token service over its wire: discovery, JWKS, every grant and its errors.

mod support;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;
use support::*;

/// Verifies a token with the key found through OIDC discovery → jwks_uri, as a resource would.
async fn verify_via_discovery(s: &Sim, token: &str, aud: &str, v1: bool) -> Value {
    let doc_path = if v1 { format!("/{}/.well-known/openid-configuration", s.tenant) } else { format!("/{}/v2.0/.well-known/openid-configuration", s.tenant) };
    let doc = s.send("GET", &doc_path, &[], vec![]).await.json();
    let jwks_uri = doc["jwks_uri"].as_str().unwrap();
    let path = jwks_uri.split_once("invalid").unwrap().1;
    let jwks = s.send("GET", path, &[], vec![]).await.json();
    let kid = jsonwebtoken::decode_header(token).unwrap().kid.unwrap();
    let key = jwks["keys"].as_array().unwrap().iter().find(|k| k["kid"] == kid.as_str()).expect("the token's kid is in the JWKS");
    let dk = DecodingKey::from_rsa_components(key["n"].as_str().unwrap(), key["e"].as_str().unwrap()).unwrap();
    let mut v = Validation::new(Algorithm::RS256);
    v.set_audience(&[aud]);
    v.set_issuer(&[doc["issuer"].as_str().unwrap()]);
    v.validate_exp = false; // the virtual clock is in 2026; expiry is checked against it below
    let c = jsonwebtoken::decode::<Value>(token, &dk, &v).expect("verifies").claims;
    let now = s.clock.now_secs();
    assert!(c["nbf"].as_i64().unwrap() <= now && now < c["exp"].as_i64().unwrap());
    c
}

#[tokio::test]
async fn discovery_documents_name_our_endpoints_with_device_authorization() {
    let s = Sim::new(1);
    let v2 = s.send("GET", &format!("/{}/v2.0/.well-known/openid-configuration", s.tenant), &[], vec![]).await.json();
    assert_eq!(v2["token_endpoint"], format!("https://sim.aksflow.invalid/{}/oauth2/v2.0/token", s.tenant));
    assert_eq!(v2["device_authorization_endpoint"], format!("https://sim.aksflow.invalid/{}/oauth2/v2.0/devicecode", s.tenant));
    assert_eq!(v2["issuer"], format!("https://sim.aksflow.invalid/{}/v2.0", s.tenant));
    let v1 = s.send("GET", &format!("/{}/.well-known/openid-configuration", s.tenant), &[], vec![]).await.json();
    assert_eq!(v1["issuer"], format!("https://sts.windows.net/{}/", s.tenant));
    let by_domain = s.send("GET", "/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration", &[], vec![]).await;
    assert_eq!(by_domain.status, 200);
    let missing = s.send("GET", "/nowhere.example/v2.0/.well-known/openid-configuration", &[], vec![]).await;
    assert_eq!((missing.status, missing.aadsts()), (400, 90002));
}

#[tokio::test]
async fn client_credentials_tokens_verify_and_their_errors_are_entras() {
    let s = Sim::new(2);
    let op = s.sim.operator();
    let token = s.operator_token("https://management.azure.com/.default").await;
    let c = verify_via_discovery(&s, &token, "https://management.azure.com", true).await;
    assert_eq!(c["ver"], "1.0");
    assert_eq!(c["idtyp"], "app");
    assert_eq!(c["appid"], op.client_id.as_str());
    assert!(c.get("upn").is_none() && c.get("scp").is_none());

    let url = format!("/{}/oauth2/v2.0/token", s.tenant);
    let cases: Vec<(Vec<(&str, &str)>, u16, u64)> = vec![
        (vec![("client_id", &op.client_id), ("client_secret", "wrong"), ("scope", "https://graph.microsoft.com/.default")], 401, 7000215),
        (vec![("client_id", &op.client_id), ("scope", "https://graph.microsoft.com/.default")], 401, 7000218),
        (vec![("client_id", "11111111-1111-1111-1111-111111111111"), ("client_secret", "x"), ("scope", "https://graph.microsoft.com/.default")], 400, 700016),
        (vec![("client_id", &op.client_id), ("client_secret", &op.client_secret), ("scope", "https://nothing.example/.default")], 400, 500011),
        (vec![("client_id", &op.client_id), ("client_secret", &op.client_secret), ("scope", "https://graph.microsoft.com/User.Read")], 400, 1002012),
        // The secret is judged before the scope.
        (vec![("client_id", &op.client_id), ("client_secret", "wrong"), ("scope", "https://graph.microsoft.com/User.Read")], 401, 7000215),
    ];
    for (pairs, status, code) in cases {
        let mut form = vec![("grant_type", "client_credentials")];
        form.extend(pairs);
        let r = s.form(&url, &form).await;
        assert_eq!((r.status, r.aadsts()), (status, code), "{}", r.text());
        let body = r.json();
        assert!(body["error_description"].as_str().unwrap().starts_with(&format!("AADSTS{code}: ")), "{body}");
        assert!(!r.text().contains(&op.client_secret), "the secret never comes back");
    }
    // kubelogin's `spn` mode and Microsoft's Go libraries add the OpenID Connect scopes;
    // Entra issues the app-only token all the same.
    let r = s
        .form(&url, &[("grant_type", "client_credentials"), ("client_id", &op.client_id), ("client_secret", &op.client_secret), ("scope", "https://graph.microsoft.com/.default openid offline_access profile")])
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let body = r.json();
    assert!(body.get("refresh_token").is_none() && body.get("id_token").is_none(), "{body}");
    assert_eq!(claims(body["access_token"].as_str().unwrap())["aud"], "https://graph.microsoft.com");

    let r = s.form(&url, &[("grant_type", "magic")]).await;
    assert_eq!((r.status, r.json()["error"].as_str().unwrap()), (400, "unsupported_grant_type"));
}

#[tokio::test]
async fn an_expired_token_is_refused_by_arm_after_the_clock_jumps() {
    let s = Sim::new(3);
    let token = s.operator_token("https://management.azure.com/.default").await;
    let sub = s.sim.operator().subscription_id;
    assert_eq!(s.get(&format!("/subscriptions/{sub}?api-version=2022-12-01"), &token).await.status, 200);
    s.clock.advance(std::time::Duration::from_secs(3600));
    let r = s.get(&format!("/subscriptions/{sub}?api-version=2022-12-01"), &token).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error"]["code"], "ExpiredAuthenticationToken");
}

#[tokio::test]
async fn device_code_v2_pending_slow_down_approval_and_redemption() {
    let s = Sim::new(4);
    let start = s.form(&format!("/{}/oauth2/v2.0/devicecode", s.tenant), &[("client_id", AKS_CLIENT), ("scope", &format!("{AKS_SERVER}/.default openid offline_access profile"))]).await;
    assert_eq!(start.status, 200, "{}", start.text());
    let flow = start.json();
    assert_eq!(flow["expires_in"], 900);
    assert_eq!(flow["interval"], 5);
    assert!(flow["message"].as_str().unwrap().contains(flow["user_code"].as_str().unwrap()));
    assert!(flow.get("verification_uri_complete").is_none());
    let dc = flow["device_code"].as_str().unwrap();
    let token_url = format!("/{}/oauth2/v2.0/token", s.tenant);
    let poll_pairs = [("grant_type", "urn:ietf:params:oauth:grant-type:device_code"), ("client_id", AKS_CLIENT), ("device_code", dc), ("client_info", "1")];
    let poll = || s.form(&token_url, &poll_pairs);
    let r = poll().await;
    assert_eq!((r.status, r.json()["error"].as_str().unwrap(), r.aadsts()), (400, "authorization_pending", 70016));
    let r = poll().await;
    assert_eq!(r.json()["error"], "slow_down", "polled again without waiting the interval");
    s.clock.advance(std::time::Duration::from_secs(5));

    // alice signs in on the device login page
    let page = s.send("GET", "/devicelogin", &[], vec![]).await;
    assert!(page.text().contains("name=\"otc\""));
    let pw = s.password("alice@contoso.onmicrosoft.com");
    let bad = s.form("/devicelogin", &[("otc", flow["user_code"].as_str().unwrap()), ("login", "alice@contoso.onmicrosoft.com"), ("passwd", "nope")]).await;
    assert_eq!(bad.status, 400);
    assert!(bad.text().contains("Your account or password is incorrect."));
    let ok = s.form("/devicelogin", &[("otc", flow["user_code"].as_str().unwrap()), ("login", "alice@contoso.onmicrosoft.com"), ("passwd", &pw), ("action", "signin")]).await;
    assert_eq!(ok.status, 200, "{}", ok.text());
    assert!(ok.text().contains("You have signed in"));

    let r = poll().await;
    assert_eq!(r.status, 200, "{}", r.text());
    let body = r.json();
    let c = verify_via_discovery(&s, body["access_token"].as_str().unwrap(), AKS_SERVER, true).await;
    assert_eq!(c["aud"], AKS_SERVER);
    assert_eq!(c["upn"], "alice@contoso.onmicrosoft.com");
    assert_eq!(c["scp"], "user.read");
    assert_eq!(c["ver"], "1.0");
    assert!(body["refresh_token"].is_string() && body["id_token"].is_string() && body["client_info"].is_string());
    let id = claims(body["id_token"].as_str().unwrap());
    assert_eq!(id["aud"], AKS_CLIENT);
    assert_eq!(id["preferred_username"], "alice@contoso.onmicrosoft.com");
    // A code is redeemed once.
    s.clock.advance(std::time::Duration::from_secs(5));
    assert_eq!(poll().await.aadsts(), 70018);
    // The refresh token gets a new access token (and a new refresh token).
    let rt = body["refresh_token"].as_str().unwrap();
    let r = s.form(&token_url, &[("grant_type", "refresh_token"), ("client_id", AKS_CLIENT), ("refresh_token", rt), ("scope", &format!("{AKS_SERVER}/.default"))]).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_ne!(r.json()["refresh_token"], body["refresh_token"]);
    let r = s.form(&token_url, &[("grant_type", "refresh_token"), ("client_id", AKS_CLIENT), ("refresh_token", "0.Abogus"), ("scope", &format!("{AKS_SERVER}/.default"))]).await;
    assert_eq!((r.status, r.aadsts()), (400, 70000));
}

#[tokio::test]
async fn device_code_declined_and_expired() {
    let s = Sim::new(5);
    let url = format!("/{}/oauth2/v2.0/devicecode", s.tenant);
    let scope = format!("{AKS_SERVER}/.default");
    let pairs = [("client_id", AKS_CLIENT), ("scope", scope.as_str())];
    let flow = s.form(&url, &pairs).await.json();
    let declined = s.form("/devicelogin", &[("otc", flow["user_code"].as_str().unwrap()), ("action", "decline")]).await;
    assert!(declined.text().contains("Sign-in cancelled"));
    let r = s.form(&format!("/{}/oauth2/v2.0/token", s.tenant), &[("grant_type", "device_code"), ("client_id", AKS_CLIENT), ("device_code", flow["device_code"].as_str().unwrap())]).await;
    assert_eq!(r.json()["error"], "authorization_declined");

    let flow = s.form(&url, &pairs).await.json();
    s.clock.advance(std::time::Duration::from_secs(901));
    let r = s.form(&format!("/{}/oauth2/v2.0/token", s.tenant), &[("grant_type", "device_code"), ("client_id", AKS_CLIENT), ("device_code", flow["device_code"].as_str().unwrap())]).await;
    assert_eq!((r.json()["error"].as_str().unwrap(), r.aadsts()), ("expired_token", 70019));
    let late = s.form("/devicelogin", &[("otc", flow["user_code"].as_str().unwrap()), ("login", "alice@contoso.onmicrosoft.com"), ("passwd", "x")]).await;
    assert!(late.text().contains("That code has expired"));
}

#[tokio::test]
async fn device_code_v1_uses_strings_verification_url_and_the_spn_audience() {
    let s = Sim::new(6);
    let r = s.form(&format!("/{}/oauth2/devicecode?api-version=1.0", s.tenant), &[("client_id", AKS_CLIENT), ("resource", AKS_SERVER)]).await;
    let flow = r.json();
    assert_eq!(flow["expires_in"], "900");
    assert_eq!(flow["interval"], "5");
    assert!(flow["verification_url"].is_string() && flow.get("verification_uri").is_none());
    let pw = s.password("bob@contoso.onmicrosoft.com");
    s.form("/devicelogin", &[("otc", flow["user_code"].as_str().unwrap()), ("login", "bob@contoso.onmicrosoft.com"), ("passwd", &pw)]).await;
    let r = s.form(&format!("/{}/oauth2/token?api-version=1.0", s.tenant), &[("grant_type", "device_code"), ("client_id", AKS_CLIENT), ("code", flow["device_code"].as_str().unwrap()), ("resource", AKS_SERVER)]).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let body = r.json();
    assert!(body["expires_on"].is_string() && body["expires_in"].is_string());
    assert_eq!(claims(body["access_token"].as_str().unwrap())["aud"], format!("spn:{AKS_SERVER}"));
}

#[tokio::test]
async fn password_grant_errors_name_the_cause() {
    let s = Sim::new(7);
    let url = format!("/{}/oauth2/v2.0/token", s.tenant);
    async fn ropc_at(s: &Sim, url: &str, user: &str, pw: String, client: &str, scope: &str) -> Resp {
        s.form(url, &[("grant_type", "password"), ("client_id", client), ("username", user), ("password", &pw), ("scope", scope)]).await
    }
    let ropc = |user: &'static str, pw: String, client: String, scope: &'static str| {
        let (s, url) = (&s, url.clone());
        async move { ropc_at(s, &url, user, pw, &client, scope).await }
    };
    let arm = "https://management.core.windows.net//.default";
    assert_eq!(ropc("alice@contoso.onmicrosoft.com", "nope".into(), CLI.into(), arm).await.aadsts(), 50126);
    assert_eq!(ropc("zed@contoso.onmicrosoft.com", "x".into(), CLI.into(), arm).await.aadsts(), 50034);
    assert_eq!(ropc("dave@fabrikam.onmicrosoft.com", s.password("dave@fabrikam.onmicrosoft.com"), CLI.into(), arm).await.aadsts(), 50020);
    let r = ropc("alice@contoso.onmicrosoft.com", s.password("alice@contoso.onmicrosoft.com"), CLI.into(), "https://graph.microsoft.com/Application.ReadWrite.All").await;
    assert_eq!((r.aadsts(), r.json()["suberror"].as_str().unwrap()), (65001, "consent_required"), "an unconsented scope");
    let op = s.sim.operator();
    let r = ropc("alice@contoso.onmicrosoft.com", s.password("alice@contoso.onmicrosoft.com"), op.client_id.clone(), arm).await;
    assert_eq!((r.status, r.aadsts()), (401, 7000218), "a confidential client cannot use ROPC without a secret");
    let ok = ropc("alice@contoso.onmicrosoft.com", s.password("alice@contoso.onmicrosoft.com"), CLI.into(), arm).await;
    assert_eq!(claims(ok.json()["access_token"].as_str().unwrap())["aud"], "https://management.core.windows.net/");
}

#[tokio::test]
async fn guests_get_no_upn_and_overage_replaces_groups_past_the_limit() {
    let s = Sim::new(8);
    let guest = s.user_token("carol@fabrikam.onmicrosoft.com", &format!("{AKS_SERVER}/.default")).await;
    let g = claims(&guest);
    assert!(g.get("upn").is_none(), "guests have no upn in the resource tenant");
    assert_eq!(g["unique_name"], "live.com#carol@fabrikam.onmicrosoft.com");
    assert_eq!(g["tid"], s.tenant.as_str());

    let crowded = claims(&s.user_token("crowded@contoso.onmicrosoft.com", &format!("{AKS_SERVER}/.default")).await);
    assert!(crowded.get("groups").is_none());
    assert_eq!(crowded["_claim_names"]["groups"], "src1");
    assert!(crowded["_claim_sources"]["src1"]["endpoint"].as_str().unwrap().ends_with("/getMemberObjects"));
}

/// A user in exactly N groups: N ≤ 200 carries them all, 201 carries the overage claim.
#[tokio::test]
async fn overage_starts_at_201_groups() {
    for (n, overage) in [(200usize, false), (201, true)] {
        let s = Sim::new(9);
        let admin = s.user_token("admin@contoso.onmicrosoft.com", "https://graph.microsoft.com/.default").await;
        let bob = claims(&s.user_token("bob@contoso.onmicrosoft.com", "https://graph.microsoft.com/User.Read").await)["oid"].as_str().unwrap().to_string();
        for i in 0..n {
            let g = s.json("POST", "/v1.0/groups", &admin, serde_json::json!({"displayName": format!("g{i}"), "mailNickname": format!("g{i}"), "mailEnabled": false, "securityEnabled": true})).await;
            let gid = g.json()["id"].as_str().unwrap().to_string();
            let r = s.json("POST", &format!("/v1.0/groups/{gid}/members/$ref"), &admin, serde_json::json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{bob}")})).await;
            assert_eq!(r.status, 204);
        }
        let c = claims(&s.user_token("bob@contoso.onmicrosoft.com", &format!("{AKS_SERVER}/.default")).await);
        if overage {
            assert!(c.get("groups").is_none() && c.get("_claim_names").is_some(), "{n}");
        } else {
            assert_eq!(c["groups"].as_array().unwrap().len(), n);
            assert!(c.get("_claim_names").is_none());
        }
    }
}

/// A service principal's app-only token follows the same rule as a user's: past 200 groups
/// the groups give way to the overage claim, which points at the service principal.
#[tokio::test]
async fn a_service_principal_past_the_group_limit_gets_the_overage_claim() {
    let s = Sim::new(11);
    let admin = s.user_token("admin@contoso.onmicrosoft.com", "https://graph.microsoft.com/.default").await;
    let app = s.json("POST", "/v1.0/applications", &admin, serde_json::json!({"displayName": "ci"})).await.json();
    let app_id = app["appId"].as_str().unwrap().to_string();
    let sp = s.json("POST", "/v1.0/servicePrincipals", &admin, serde_json::json!({"appId": app_id})).await.json()["id"].as_str().unwrap().to_string();
    let secret = s.json("POST", &format!("/v1.0/servicePrincipals/{sp}/addPassword"), &admin, serde_json::json!({"passwordCredential": {}})).await.json()["secretText"].as_str().unwrap().to_string();
    let token = |scope: String| {
        let (app_id, secret, url) = (app_id.clone(), secret.clone(), format!("/{}/oauth2/v2.0/token", s.tenant));
        let s = &s;
        async move { s.form(&url, &[("grant_type", "client_credentials"), ("client_id", &app_id), ("client_secret", &secret), ("scope", &scope)]).await.json()["access_token"].as_str().unwrap().to_string() }
    };
    for i in 0..201 {
        let g = s.json("POST", "/v1.0/groups", &admin, serde_json::json!({"displayName": format!("g{i}"), "mailNickname": format!("g{i}"), "mailEnabled": false, "securityEnabled": true})).await;
        let gid = g.json()["id"].as_str().unwrap().to_string();
        let r = s.json("POST", &format!("/v1.0/groups/{gid}/members/$ref"), &admin, serde_json::json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{sp}")})).await;
        assert_eq!(r.status, 204);
    }
    let c = claims(&token(format!("{AKS_SERVER}/.default")).await);
    assert!(c.get("groups").is_none(), "{c}");
    assert_eq!(c["_claim_names"]["groups"], "src1");
    assert!(c["_claim_sources"]["src1"]["endpoint"].as_str().unwrap().ends_with(&format!("/servicePrincipals/{sp}/getMemberObjects")), "{c}");
    // No app role was granted: no roles claim at all.
    assert!(c.get("roles").is_none(), "{c}");
}

/// PyJWT, outside our code, verifies a token with the key from discovery.
#[tokio::test]
async fn an_independent_verifier_accepts_our_tokens() {
    outside_tools::require_python_modules(&["jwt", "cryptography"]);
    let s = Sim::new(10);
    let token = s.user_token("alice@contoso.onmicrosoft.com", &format!("{AKS_SERVER}/.default")).await;
    let jwks = s.send("GET", "/common/discovery/keys", &[], vec![]).await.text();
    let dir = std::env::temp_dir().join(format!("aksflow-pyjwt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("jwks.json"), &jwks).unwrap();
    std::fs::write(dir.join("token"), &token).unwrap();
    let script = r#"
import json, sys, jwt
d = sys.argv[1]
jwks = json.load(open(d + "/jwks.json"))
token = open(d + "/token").read()
kid = jwt.get_unverified_header(token)["kid"]
key = next(jwt.PyJWK(k) for k in jwks["keys"] if k["kid"] == kid)
claims = jwt.decode(token, key.key, algorithms=["RS256"], audience=sys.argv[2], issuer=sys.argv[3], options={"verify_exp": False})
try:
    jwt.decode(token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB"), key.key, algorithms=["RS256"], audience=sys.argv[2], options={"verify_exp": False})
    print("tampered token accepted"); sys.exit(3)
except jwt.InvalidSignatureError:
    pass
print(claims["upn"])
"#;
    let out = std::process::Command::new("python3")
        .args(["-c", script, dir.to_str().unwrap(), AKS_SERVER, &format!("https://sts.windows.net/{}/", s.tenant)])
        .output()
        .expect("python3 runs (CI installs PyJWT: pip install pyjwt cryptography)");
    assert!(out.status.success(), "PyJWT refused the token: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "alice@contoso.onmicrosoft.com");
}

#[tokio::test]
async fn expired_device_codes_are_forgotten_on_the_virtual_clock() {
    let s = Sim::new(31);
    let url = format!("/{}/oauth2/v2.0/devicecode", s.tenant);
    let scope = format!("{AKS_SERVER}/.default");
    for _ in 0..50 {
        assert_eq!(s.form(&url, &[("client_id", AKS_CLIENT), ("scope", &scope)]).await.status, 200);
    }
    assert_eq!(s.sim.snapshot().world.login.device_codes.len(), 50);
    // A day past their fifteen minutes, the next code is the only one left.
    s.clock.advance(std::time::Duration::from_secs(900 + 24 * 3600));
    assert_eq!(s.form(&url, &[("client_id", AKS_CLIENT), ("scope", &scope)]).await.status, 200);
    assert_eq!(s.sim.snapshot().world.login.device_codes.len(), 1);
}
