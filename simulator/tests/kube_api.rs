//! Each cluster's Kubernetes API: seed 000's troubleshooting cases with the real 401/403
//! bodies, managed AAD admin groups, the local account, Tables, reviews and object CRUD.

mod support;

use base64::Engine as _;
use serde_json::{Value, json};
use support::*;

const API: &str = "api-version=2024-09-01";

struct Cluster {
    s: Sim,
    server: String,
    admin_token: String,
}

impl Cluster {
    /// A cluster (legacy AAD when `legacy` names the server/client apps and secret).
    async fn new(seed: u64, aad: Value, s: Option<Sim>) -> Cluster {
        let s = s.unwrap_or_else(|| Sim::new(seed));
        let op = s.operator_token("https://management.azure.com/.default").await;
        let sub = s.sim.operator().subscription_id;
        s.json("PUT", &format!("/subscriptions/{sub}/resourcegroups/rg?api-version=2024-11-01"), &op, json!({"location": "eastus"})).await;
        let path = format!("/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks");
        let r = s.json("PUT", &format!("{path}?{API}"), &op, json!({"location": "eastus", "properties": {"enableRBAC": true, "aadProfile": aad, "agentPoolProfiles": [{"name": "nodepool1", "count": 2}]}})).await;
        assert_eq!(r.status, 201, "{}", r.text());
        s.clock.advance(std::time::Duration::from_secs(600));
        let r = s.send("POST", &format!("{path}/listClusterAdminCredential?{API}"), &[("authorization", &format!("Bearer {op}"))], vec![]).await;
        let kc: serde_yaml::Value = serde_yaml::from_slice(&base64::engine::general_purpose::STANDARD.decode(r.json()["kubeconfigs"][0]["value"].as_str().unwrap()).unwrap()).unwrap();
        let server = kc["clusters"][0]["cluster"]["server"].as_str().unwrap().trim_start_matches("https://sim.aksflow.invalid").to_string();
        let admin_token = kc["users"][0]["user"]["token"].as_str().unwrap().to_string();
        Cluster { s, server, admin_token }
    }

    async fn get(&self, path: &str, token: &str) -> Resp {
        self.s.send("GET", &format!("{}{path}", self.server), &[("authorization", &format!("Bearer {token}")), ("accept", "application/json")], vec![]).await
    }

    async fn post(&self, path: &str, token: &str, body: Value) -> Resp {
        self.s.json("POST", &format!("{}{path}", self.server), token, body).await
    }

    async fn bind(&self, name: &str, kind: &str, subject: &str) {
        let crb = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": subject}]});
        let r = self.post("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", &self.admin_token, crb).await;
        assert_eq!(r.status, 201, "{}", r.text());
    }
}

fn status(r: &Resp) -> (u16, String, String) {
    let v = r.json();
    assert_eq!(v["kind"], "Status", "{v}");
    (v["code"].as_u64().unwrap() as u16, v["reason"].as_str().unwrap().into(), v["message"].as_str().unwrap().into())
}

/// Seed 000's apps, made through Graph as an administrator: the server app (groups claim,
/// a user_impersonation scope, a secret, Graph's Directory.Read.All consented), the public
/// client app, and consent.
async fn legacy_apps(s: &Sim) -> (String, String, String) {
    let apps = legacy_apps_without_directory_consent(s).await;
    let admin = s.user_token("admin@contoso.onmicrosoft.com", "https://graph.microsoft.com/.default").await;
    let graph_sp = s.get("/v1.0/servicePrincipals?$filter=appId%20eq%20'00000003-0000-0000-c000-000000000000'", &admin).await.json()["value"][0]["id"].as_str().unwrap().to_string();
    let server_sp = s.get(&format!("/v1.0/servicePrincipals?$filter=appId%20eq%20'{}'", apps.0), &admin).await.json()["value"][0]["id"].as_str().unwrap().to_string();
    let r = s.json("POST", &format!("/v1.0/servicePrincipals/{graph_sp}/appRoleAssignedTo"), &admin, json!({"principalId": server_sp, "resourceId": graph_sp, "appRoleId": "7ab1d382-f21e-4acd-a863-ba3e13f7da61"})).await;
    assert_eq!(r.status, 201, "{}", r.text());
    apps
}

async fn legacy_apps_without_directory_consent(s: &Sim) -> (String, String, String) {
    let admin = s.user_token("admin@contoso.onmicrosoft.com", "https://graph.microsoft.com/.default").await;
    let server = s.json("POST", "/v1.0/applications", &admin, json!({"displayName": "myAKSServer", "identifierUris": ["api://myAKSServer"], "groupMembershipClaims": "All",
        "api": {"oauth2PermissionScopes": [{"id": "0c8c5a80-1d4c-4f8e-9a5e-4b2a8f2a9d11", "value": "user_impersonation", "type": "User"}]}})).await.json();
    let server_app = server["appId"].as_str().unwrap().to_string();
    let server_sp = s.json("POST", "/v1.0/servicePrincipals", &admin, json!({"appId": server_app})).await.json()["id"].as_str().unwrap().to_string();
    let secret = s.json("POST", &format!("/v1.0/servicePrincipals/{server_sp}/addPassword"), &admin, json!({"passwordCredential": {"displayName": "AKSPassword"}})).await.json()["secretText"].as_str().unwrap().to_string();
    let client = s.json("POST", "/v1.0/applications", &admin, json!({"displayName": "myAKSClient", "isFallbackPublicClient": true, "publicClient": {"redirectUris": ["https://myAKSClient"]}})).await.json();
    let client_app = client["appId"].as_str().unwrap().to_string();
    let client_sp = s.json("POST", "/v1.0/servicePrincipals", &admin, json!({"appId": client_app})).await.json()["id"].as_str().unwrap().to_string();
    let r = s.json("POST", "/v1.0/oauth2PermissionGrants", &admin, json!({"clientId": client_sp, "consentType": "AllPrincipals", "resourceId": server_sp, "scope": "user_impersonation"})).await;
    assert_eq!(r.status, 201);
    (server_app, client_app, secret)
}

async fn legacy_token(s: &Sim, client_app: &str, server_app: &str, upn: &str) -> String {
    let pw = s.password(upn);
    let r = s.form(&format!("/{}/oauth2/token?api-version=1.0", s.tenant), &[("grant_type", "password"), ("client_id", client_app), ("resource", server_app), ("username", upn), ("password", &pw)]).await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["access_token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn seed_000_troubleshooting_cases_on_a_legacy_cluster() {
    let s = Sim::in_2019(41);
    let (server_app, client_app, secret) = legacy_apps(&s).await;
    let c = Cluster::new(41, json!({"clientAppID": client_app, "serverAppID": server_app, "serverAppSecret": secret, "tenantID": s.tenant}), Some(s)).await;
    let s = &c.s;
    let alice = legacy_token(s, &client_app, &server_app, "alice@contoso.onmicrosoft.com").await;
    assert_eq!(claims(&alice)["aud"], format!("spn:{server_app}"));

    // Before any binding: authenticated, but Forbidden, with the apiserver's message.
    let r = c.get("/api/v1/pods", &alice).await;
    assert_eq!(status(&r), (403, "Forbidden".into(), "pods is forbidden: User \"alice@contoso.onmicrosoft.com\" cannot list resource \"pods\" in API group \"\" at the cluster scope".into()));
    // A binding by UPN works for a user of the same tenant.
    c.bind("contoso-cluster-admins", "User", "alice@contoso.onmicrosoft.com").await;
    let pods = c.get("/api/v1/pods", &alice).await.json();
    assert_eq!(pods["kind"], "PodList");
    assert!(pods["items"].as_array().unwrap().iter().any(|p| p["metadata"]["name"].as_str().unwrap().starts_with("coredns-")));

    // A guest: the UPN does not work (the token has no upn); the object id does.
    let carol = legacy_token(s, &client_app, &server_app, "carol@fabrikam.onmicrosoft.com").await;
    let carol_oid = claims(&carol)["oid"].as_str().unwrap().to_string();
    c.bind("guest-by-upn", "User", "carol@fabrikam.onmicrosoft.com").await;
    let r = c.get("/api/v1/namespaces/default/pods", &carol).await;
    let (code, _, message) = status(&r);
    assert_eq!(code, 403);
    assert!(message.contains(&format!("User \"{carol_oid}\"")), "{message}");
    c.bind("guest-by-oid", "User", &carol_oid).await;
    assert_eq!(c.get("/api/v1/namespaces/default/pods", &carol).await.status, 200);

    // More than 200 groups: the token carries the overage claim, the cluster asks Graph.
    let crowded = legacy_token(s, &client_app, &server_app, "crowded@contoso.onmicrosoft.com").await;
    assert!(claims(&crowded).get("groups").is_none());
    let admin_graph = s.user_token("admin@contoso.onmicrosoft.com", "https://graph.microsoft.com/.default").await;
    let group = s.get("/v1.0/groups?$filter=displayName%20eq%20'overage-150'", &admin_graph).await.json()["value"][0]["id"].as_str().unwrap().to_string();
    c.bind("overage-group", "Group", &group).await;
    assert_eq!(c.get("/api/v1/nodes", &crowded).await.status, 200, "group membership resolved through Graph");

    // No token, a garbage token, an expired token: 401 with the apiserver's Status.
    let r = s.send("GET", &format!("{}/api/v1/pods", c.server), &[], vec![]).await;
    assert_eq!(status(&r), (401, "Unauthorized".into(), "Unauthorized".into()));
    assert_eq!(c.get("/api/v1/pods", "not-a-token").await.status, 401);
    s.clock.advance(std::time::Duration::from_secs(5000));
    assert_eq!(c.get("/api/v1/pods", &alice).await.status, 401, "expired by the virtual clock");
}

/// The legacy webhook asks Graph for every sign-in with the server app's secret: a wrong
/// secret locks out every user, whether their groups fit in the token or not.
#[tokio::test]
async fn a_wrong_server_app_secret_locks_every_user_out_of_a_legacy_cluster() {
    let s = Sim::in_2019(42);
    let (server_app, client_app, _secret) = legacy_apps(&s).await;
    let c = Cluster::new(42, json!({"clientAppID": client_app, "serverAppID": server_app, "serverAppSecret": "not-the-real-secret", "tenantID": s.tenant}), Some(s)).await;
    c.bind("alice", "User", "alice@contoso.onmicrosoft.com").await;
    for user in ["crowded@contoso.onmicrosoft.com", "alice@contoso.onmicrosoft.com"] {
        let t = legacy_token(&c.s, &client_app, &server_app, user).await;
        assert_eq!(status(&c.get("/api/v1/pods", &t).await), (401, "Unauthorized".into(), "Unauthorized".into()), "{user}");
    }
}

/// Without Directory.Read.All consented to the server app, Graph refuses the webhook's
/// lookup: every user is locked out, even one bound by name.
#[tokio::test]
async fn a_server_app_without_directory_consent_locks_every_user_out_of_a_legacy_cluster() {
    let s = Sim::in_2019(43);
    let (server_app, client_app, secret) = legacy_apps_without_directory_consent(&s).await;
    let c = Cluster::new(43, json!({"clientAppID": client_app, "serverAppID": server_app, "serverAppSecret": secret, "tenantID": s.tenant}), Some(s)).await;
    c.bind("alice", "User", "alice@contoso.onmicrosoft.com").await;
    let alice = legacy_token(&c.s, &client_app, &server_app, "alice@contoso.onmicrosoft.com").await;
    assert_eq!(status(&c.get("/api/v1/pods", &alice).await).0, 401);
}

/// Today's Azure refuses a new legacy cluster, and serves one saved in 2019 as managed.
#[tokio::test]
async fn today_refuses_new_legacy_clusters_and_serves_old_ones_as_migrated() {
    let s = Sim::new(44);
    let (server_app, client_app, secret) = legacy_apps(&s).await;
    let op = s.operator_token("https://management.azure.com/.default").await;
    let sub = s.sim.operator().subscription_id;
    s.json("PUT", &format!("/subscriptions/{sub}/resourcegroups/rg?api-version=2024-11-01"), &op, json!({"location": "eastus"})).await;
    let path = format!("/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks?{API}");
    let legacy = json!({"location": "eastus", "properties": {"enableRBAC": true, "aadProfile": {"clientAppID": client_app, "serverAppID": server_app, "serverAppSecret": secret}}});
    let r = s.json("PUT", &path, &op, legacy.clone()).await;
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(r.json()["error"]["code"], "BadRequest");
    assert!(r.json()["error"]["message"].as_str().unwrap().starts_with("No new clusters can be created with Azure AD Integration (legacy)."));

    let then = Sim::in_2019(44);
    let (server_app, client_app, secret) = legacy_apps(&then).await;
    let legacy = json!({"location": "eastus", "properties": {"enableRBAC": true, "aadProfile": {"clientAppID": client_app, "serverAppID": server_app, "serverAppSecret": secret}}});
    let op = then.operator_token("https://management.azure.com/.default").await;
    then.json("PUT", &format!("/subscriptions/{sub}/resourcegroups/rg?api-version=2024-11-01"), &op, json!({"location": "eastus"})).await;
    assert_eq!(then.json("PUT", &path, &op, legacy).await.status, 201);
    let now = aksflow_simulator::Simulator::restore(aksflow_simulator::SimConfig::in_process(44), then.clock.clone(), then.sim.snapshot()).unwrap();
    let now = Sim { tenant: then.tenant.clone(), sim: now, clock: then.clock.clone() };
    let op = now.operator_token("https://management.azure.com/.default").await;
    let aad = now.get(&path, &op).await.json()["properties"]["aadProfile"].clone();
    assert_eq!(aad["managed"], true, "{aad}");
    assert!(aad.get("serverAppID").is_none_or(Value::is_null), "{aad}");
}

/// Guard trusts only `https://sts.windows.net/{tenant}/`. A server app switched to v2 tokens
/// (`api.requestedAccessTokenVersion: 2`) gets tokens with the right audience, its appId, but
/// the v2 issuer: the cluster refuses them, even for a user bound as cluster-admin.
#[tokio::test]
async fn a_v2_token_for_the_server_app_is_refused_for_its_issuer() {
    let s = Sim::in_2019(45);
    let (server_app, client_app, secret) = legacy_apps(&s).await;
    let c = Cluster::new(45, json!({"clientAppID": client_app, "serverAppID": server_app, "serverAppSecret": secret, "tenantID": s.tenant}), Some(s)).await;
    let s = &c.s;
    c.bind("alice-admin", "User", "alice@contoso.onmicrosoft.com").await;
    let v1 = legacy_token(s, &client_app, &server_app, "alice@contoso.onmicrosoft.com").await;
    assert_eq!(c.get("/api/v1/nodes", &v1).await.status, 200, "the v1 token of a bound user works");
    // The server app asks for v2 tokens; bind the user's object id too, as v2 tokens have no upn.
    c.bind("alice-admin-by-oid", "User", claims(&v1)["oid"].as_str().unwrap()).await;
    let admin = s.user_token("admin@contoso.onmicrosoft.com", "https://graph.microsoft.com/.default").await;
    let apps = s.get(&format!("/v1.0/applications?$filter=appId%20eq%20'{server_app}'"), &admin).await.json();
    let object_id = apps["value"][0]["id"].as_str().unwrap().to_string();
    let r = s.json("PATCH", &format!("/v1.0/applications/{object_id}"), &admin, json!({"api": {"requestedAccessTokenVersion": 2}})).await;
    assert_eq!(r.status, 204, "{}", r.text());
    let v2 = legacy_token(s, &client_app, &server_app, "alice@contoso.onmicrosoft.com").await;
    let v2_claims = claims(&v2);
    assert_eq!((v2_claims["ver"].as_str(), v2_claims["aud"].as_str()), (Some("2.0"), Some(server_app.as_str())), "right audience: {v2_claims}");
    assert_eq!(v2_claims["iss"], format!("https://sim.aksflow.invalid/{}/v2.0", s.tenant), "the v2 issuer");
    assert_eq!(status(&c.get("/api/v1/nodes", &v2).await), (401, "Unauthorized".into(), "Unauthorized".into()));
}

#[tokio::test]
async fn managed_aad_admin_group_members_are_cluster_admins() {
    let s = Sim::new(43);
    let admin = s.user_token("admin@contoso.onmicrosoft.com", "https://graph.microsoft.com/.default").await;
    let bob = claims(&s.user_token("bob@contoso.onmicrosoft.com", "https://graph.microsoft.com/.default").await)["oid"].as_str().unwrap().to_string();
    let g = s.json("POST", "/v1.0/groups", &admin, json!({"displayName": "aks-admins", "mailNickname": "aks-admins", "securityEnabled": true, "mailEnabled": false})).await.json()["id"].as_str().unwrap().to_string();
    s.json("POST", &format!("/v1.0/groups/{g}/members/$ref"), &admin, json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{bob}")})).await;
    let c = Cluster::new(43, json!({"managed": true, "adminGroupObjectIDs": [g]}), Some(s)).await;
    let bob_token = c.s.user_token("bob@contoso.onmicrosoft.com", &format!("{AKS_SERVER}/.default")).await;
    let alice_token = c.s.user_token("alice@contoso.onmicrosoft.com", &format!("{AKS_SERVER}/.default")).await;
    assert_eq!(c.get("/api/v1/nodes", &bob_token).await.status, 200, "admin group → cluster-admin");
    let r = c.get("/api/v1/nodes", &alice_token).await;
    assert_eq!(status(&r), (403, "Forbidden".into(), "nodes is forbidden: User \"alice@contoso.onmicrosoft.com\" cannot list resource \"nodes\" in API group \"\" at the cluster scope".into()));
    c.bind("alice-admin", "User", "alice@contoso.onmicrosoft.com").await;
    assert_eq!(c.get("/api/v1/nodes", &alice_token).await.status, 200, "forbidden until bound");
    // SelfSubjectAccessReview, as kubectl auth can-i sends it.
    let ssar = json!({"kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1", "metadata": {"creationTimestamp": null},
        "spec": {"resourceAttributes": {"namespace": "default", "verb": "list", "group": "", "resource": "pods"}}, "status": {"allowed": false}});
    let r = c.post("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", &bob_token, ssar.clone()).await;
    assert_eq!(r.status, 201);
    assert_eq!(r.json()["status"]["allowed"], true);
    assert!(r.json()["status"]["reason"].as_str().unwrap().contains("aks-cluster-admin-binding-aad"));
    let carol = c.s.user_token("carol@fabrikam.onmicrosoft.com", &format!("{AKS_SERVER}/.default")).await;
    assert_eq!(c.post("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", &carol, ssar).await.json()["status"]["allowed"], false);
    // A Graph token (wrong audience) is refused; for a wrong issuer with the right audience see
    // `a_v2_token_for_the_server_app_is_refused_for_its_issuer`.
    let graph = c.s.user_token("bob@contoso.onmicrosoft.com", "https://graph.microsoft.com/.default").await;
    assert_eq!(c.get("/api/v1/nodes", &graph).await.status, 401);
}

/// Seed 001's CI sign-in: a service principal in the cluster's admin group signs in with
/// client credentials as kubelogin's `spn` mode does (the OpenID Connect scopes ride along),
/// and its app-only token carries its groups, so it is a cluster admin. One outside the
/// group is not.
#[tokio::test]
async fn a_service_principal_in_the_admin_group_is_a_cluster_admin() {
    let s = Sim::in_2019(45);
    let admin = s.user_token("admin@contoso.onmicrosoft.com", "https://graph.microsoft.com/.default").await;
    let mut ci = Vec::new();
    for name in ["ci-in-group", "ci-outside"] {
        let app = s.json("POST", "/v1.0/applications", &admin, json!({"displayName": name})).await.json();
        let app_id = app["appId"].as_str().unwrap().to_string();
        let sp = s.json("POST", "/v1.0/servicePrincipals", &admin, json!({"appId": app_id})).await.json();
        let secret = s.json("POST", &format!("/v1.0/servicePrincipals/{}/addPassword", sp["id"].as_str().unwrap()), &admin, json!({"passwordCredential": {"displayName": "ci"}})).await.json();
        ci.push((app_id, sp["id"].as_str().unwrap().to_string(), secret["secretText"].as_str().unwrap().to_string()));
    }
    let g = s.json("POST", "/v1.0/groups", &admin, json!({"displayName": "aks-admins", "mailNickname": "aks-admins", "securityEnabled": true, "mailEnabled": false})).await.json()["id"].as_str().unwrap().to_string();
    let added = s.json("POST", &format!("/v1.0/groups/{g}/members/$ref"), &admin, json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{}", ci[0].1)})).await;
    assert_eq!(added.status, 204);
    let c = Cluster::new(45, json!({"managed": true, "adminGroupObjectIDs": [g]}), Some(s)).await;
    let mut tokens = Vec::new();
    for (app_id, _, secret) in &ci {
        let r = c
            .s
            .form(
                &format!("/{}/oauth2/v2.0/token", c.s.tenant),
                &[("grant_type", "client_credentials"), ("client_id", app_id), ("client_secret", secret), ("scope", &format!("{AKS_SERVER}/.default openid offline_access profile"))],
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
        tokens.push(r.json()["access_token"].as_str().unwrap().to_string());
    }
    assert_eq!(claims(&tokens[0])["groups"], json!([g]), "the app-only token carries its groups");
    assert_eq!(c.get("/api/v1/nodes", &tokens[0]).await.status, 200, "admin group → cluster-admin");
    assert_eq!(c.get("/api/v1/nodes", &tokens[1]).await.status, 403, "outside the group: authenticated, not authorised");
    // A Graph token carries no groups: Graph's app does not ask for them.
    let graph = c.s.form(&format!("/{}/oauth2/v2.0/token", c.s.tenant), &[("grant_type", "client_credentials"), ("client_id", &ci[0].0), ("client_secret", &ci[0].2), ("scope", "https://graph.microsoft.com/.default")]).await;
    assert!(claims(graph.json()["access_token"].as_str().unwrap()).get("groups").is_none());
}

#[tokio::test]
async fn the_local_account_tables_discovery_and_object_errors() {
    let c = Cluster::new(44, json!({"managed": true}), None).await;
    let t = &c.admin_token;
    let version = c.get("/version", t).await.json();
    assert!(version["gitVersion"].as_str().unwrap().starts_with("v1."));
    assert_eq!(c.get("/api", t).await.json()["kind"], "APIVersions");
    assert!(c.get("/apis", t).await.json()["groups"].as_array().unwrap().iter().any(|g| g["name"] == "rbac.authorization.k8s.io"));
    let v1 = c.get("/api/v1", t).await.json();
    assert!(v1["resources"].as_array().unwrap().iter().any(|r| r["name"] == "pods" && r["shortNames"] == json!(["po"])));
    let table = c.s.send("GET", &format!("{}/api/v1/pods", c.server), &[("authorization", &format!("Bearer {t}")), ("accept", "application/json;as=Table;v=v1;g=meta.k8s.io,application/json")], vec![]).await.json();
    assert_eq!(table["kind"], "Table");
    let cols = table["columnDefinitions"].as_array().unwrap().len();
    let row = &table["rows"][0];
    assert_eq!(row["cells"].as_array().unwrap().len(), cols);
    assert_eq!(row["object"]["metadata"]["namespace"], "kube-system");
    assert_eq!(row["cells"][2], "Running");
    let nodes = c.get("/api/v1/nodes", t).await.json();
    assert_eq!(nodes["items"].as_array().unwrap().len(), 2, "one node per agent-pool node");
    // Object errors: 404, 409, 422, 405 on pods.
    let r = c.get("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/missing", t).await;
    assert_eq!(status(&r), (404, "NotFound".into(), "clusterrolebindings.rbac.authorization.k8s.io \"missing\" not found".into()));
    c.bind("dup", "User", "x").await;
    let crb = json!({"metadata": {"name": "dup"}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"}, "subjects": [{"kind": "User", "name": "x"}]});
    assert_eq!(status(&c.post("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", t, crb).await).1, "AlreadyExists");
    let bad = json!({"metadata": {"name": "bad"}, "roleRef": {"kind": "Role", "name": "x"}});
    let r = c.post("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", t, bad).await;
    assert_eq!(status(&r).0, 422);
    // Update with a stale resourceVersion conflicts; a merge patch works.
    let cur = c.get("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/dup", t).await.json();
    let mut stale = cur.clone();
    stale["metadata"]["resourceVersion"] = json!("1");
    let r = c.s.json("PUT", &format!("{}/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/dup", c.server), t, stale).await;
    assert_eq!(status(&r).1, "Conflict");
    let r = c.s.send("PATCH", &format!("{}/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/dup", c.server), &[("authorization", &format!("Bearer {t}")), ("content-type", "application/merge-patch+json")], br#"{"metadata":{"labels":{"team":"a"}}}"#.to_vec()).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["metadata"]["labels"]["team"], "a");
}

#[tokio::test]
async fn dot_segments_as_namespace_or_name_are_a_bad_request() {
    let c = Cluster::new(45, json!({"managed": true}), None).await;
    let t = &c.admin_token;
    let r = c.get("/api/v1/namespaces/../pods", t).await;
    assert_eq!(status(&r), (400, "BadRequest".into(), "Namespace parameter invalid: \"..\": may not be '..'".into()));
    let r = c.get("/api/v1/namespaces/default/configmaps/..", t).await;
    assert_eq!(status(&r), (400, "BadRequest".into(), "Name parameter invalid: \"..\": may not be '..'".into()));
    assert_eq!(c.get("/api/v1/namespaces/default/pods", t).await.status, 200);
}

#[tokio::test]
async fn the_saved_state_keeps_no_client_secret_in_plaintext() {
    let s = Sim::in_2019(46);
    let (server_app, client_app, secret) = legacy_apps(&s).await;
    let c = Cluster::new(46, json!({"clientAppID": client_app, "serverAppID": server_app, "serverAppSecret": secret, "tenantID": s.tenant}), Some(s)).await;
    let saved = serde_json::to_string(&c.s.sim.snapshot()).unwrap();
    assert!(!saved.contains(&secret), "the server app's secret is in the snapshot");
    assert!(!saved.contains(&c.s.sim.operator().client_secret), "the operator's secret is in the snapshot");
    // The legacy cluster still proves its secret to Graph for users past the group limit.
    let crowded = legacy_token(&c.s, &client_app, &server_app, "crowded@contoso.onmicrosoft.com").await;
    c.bind("crowded", "User", "crowded@contoso.onmicrosoft.com").await;
    assert_eq!(c.get("/api/v1/nodes", &crowded).await.status, 200);
}
