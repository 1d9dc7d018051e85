//! ARM for AKS over its wire: the seeds' limitations with their error bodies, the
//! long-running operation as az polls it, both user kubeconfig formats, and who may list
//! which credentials.

mod support;

use base64::Engine as _;
use serde_json::{Value, json};
use support::*;

const API: &str = "api-version=2024-09-01";

struct Aks {
    s: Sim,
    op: String,
    sub: String,
}

impl Aks {
    async fn new(seed: u64) -> Aks {
        Aks::on(Sim::new(seed)).await
    }

    /// In seed 000's Azure, where legacy-AAD clusters can be created.
    async fn in_2019(seed: u64) -> Aks {
        Aks::on(Sim::in_2019(seed)).await
    }

    async fn on(s: Sim) -> Aks {
        let op = s.operator_token("https://management.azure.com/.default").await;
        let sub = s.sim.operator().subscription_id;
        let r = s.json("PUT", &format!("/subscriptions/{sub}/resourcegroups/myResourceGroup?api-version=2024-11-01"), &op, json!({"location": "eastus"})).await;
        assert_eq!(r.status, 201);
        Aks { s, op, sub }
    }

    fn path(&self, name: &str) -> String {
        format!("/subscriptions/{}/resourceGroups/myResourceGroup/providers/Microsoft.ContainerService/managedClusters/{name}", self.sub)
    }

    async fn put(&self, name: &str, properties: Value) -> Resp {
        let body = json!({"location": "eastus", "properties": properties});
        self.s.json("PUT", &format!("{}?{API}", self.path(name)), &self.op, body).await
    }

    /// Polls Azure-AsyncOperation as az does, moving the clock by Retry-After.
    async fn wait(&self, r: &Resp) -> Value {
        let url = r.headers.get("azure-asyncoperation").expect("an async operation").to_str().unwrap().to_string();
        let path = url.trim_start_matches("https://sim.aksflow.invalid");
        for _ in 0..100 {
            let st = self.s.get(path, &self.op).await.json();
            match st["status"].as_str().unwrap() {
                "InProgress" => self.s.clock.advance(std::time::Duration::from_secs(15)),
                "Succeeded" => return st,
                other => panic!("operation ended {other}: {st}"),
            }
        }
        panic!("never finished");
    }

    async fn create(&self, name: &str, properties: Value) -> Value {
        let r = self.put(name, properties).await;
        assert_eq!(r.status, 201, "{}", r.text());
        self.wait(&r).await;
        self.s.get(&format!("{}?{API}", self.path(name)), &self.op).await.json()
    }

    async fn credential(&self, name: &str, kind: &str, query: &str, token: &str) -> Resp {
        self.s.send("POST", &format!("{}/{kind}?{API}{query}", self.path(name)), &[("authorization", &format!("Bearer {token}"))], vec![]).await
    }
}

fn kubeconfig(r: &Resp) -> serde_yaml::Value {
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json()["kubeconfigs"][0]["value"].as_str().unwrap().to_string();
    serde_yaml::from_slice(&base64::engine::general_purpose::STANDARD.decode(v).unwrap()).unwrap()
}

fn arm_error(r: &Resp) -> (u16, String, String) {
    let v = r.json();
    (r.status, v["error"]["code"].as_str().unwrap_or_default().into(), v["error"]["message"].as_str().unwrap_or_default().into())
}

#[tokio::test]
async fn create_polls_to_succeeded_and_get_shows_the_managed_aad_profile() {
    let a = Aks::new(31).await;
    let r = a.put("myAKSCluster", json!({"kubernetesVersion": "", "dnsPrefix": "myaks", "enableRBAC": true, "aadProfile": {"managed": true, "adminGroupObjectIDs": ["g1"], "enableAzureRBAC": false}, "agentPoolProfiles": [{"name": "nodepool1", "count": 2, "vmSize": "Standard_DS2_v2", "mode": "System", "tags": {"team": "a"}, "nodeLabels": {"tier": "system"}}]})).await;
    assert_eq!(r.status, 201);
    assert_eq!(r.json()["properties"]["provisioningState"], "Creating");
    assert_eq!(r.headers.get("retry-after").unwrap(), "15");
    let st = a.wait(&r).await;
    assert!(st["endTime"].is_string());
    let c = a.s.get(&format!("{}?{API}", a.path("myAKSCluster")), &a.op).await.json();
    assert_eq!(c["properties"]["provisioningState"], "Succeeded");
    assert_eq!(c["properties"]["aadProfile"], json!({"managed": true, "enableAzureRBAC": false, "adminGroupObjectIDs": ["g1"], "adminUsers": null, "tenantID": a.s.tenant}));
    assert!(c["properties"]["fqdn"].as_str().unwrap().ends_with(".hcp.eastus.azmk8s.io"));
    // The read-only profiles AKS fills in.
    let props = &c["properties"];
    assert_eq!(props["storageProfile"]["diskCSIDriver"]["enabled"], true);
    assert_eq!((&props["securityProfile"], &props["workloadAutoScalerProfile"]), (&json!({}), &json!({})));
    assert_eq!(props["networkProfile"]["ipFamilies"], json!(["IPv4"]));
    assert_eq!(props["networkProfile"]["podCidrs"], json!([props["networkProfile"]["podCidr"]]));
    // An agent pool's tags and node labels come back as sent.
    let pool = &c["properties"]["agentPoolProfiles"][0];
    assert_eq!((&pool["tags"], &pool["nodeLabels"]), (&json!({"team": "a"}), &json!({"tier": "system"})));
    assert_eq!(c["id"].as_str().unwrap().contains("/resourcegroups/myResourceGroup/"), true);
    // az aks update while an operation runs is refused.
    let r = a.put("busy", json!({"enableRBAC": true})).await;
    let again = a.put("busy", json!({"enableRBAC": true})).await;
    assert_eq!(arm_error(&again).1, "OperationNotAllowed");
    a.wait(&r).await;
}

/// What AKS reports of what az sends on create (azure-cli's recordings): no kubelet identity
/// or outbound IP while creating; the sent network and storage profiles over AKS's defaults;
/// the SKU spelt `Standard` once provisioned; an empty `addonProfiles` not echoed.
#[tokio::test]
async fn a_created_cluster_reports_what_az_sent_over_akss_defaults() {
    let a = Aks::new(35).await;
    let sent = json!({"kubernetesVersion": "", "dnsPrefix": "cli", "enableRBAC": true, "addonProfiles": {}, "storageProfile": {}, "enablePodSecurityPolicy": false,
        "networkProfile": {"networkPlugin": "kubenet", "podCidr": "10.244.0.0/16", "serviceCidr": "10.0.0.0/16", "dnsServiceIP": "10.0.0.10", "outboundType": "loadBalancer", "loadBalancerSku": "standard"}});
    let r = a.put("cli", sent).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let creating = r.json()["properties"].clone();
    assert!(creating.get("identityProfile").is_none() && creating["networkProfile"]["loadBalancerProfile"].get("effectiveOutboundIPs").is_none(), "{creating}");
    assert_eq!((&creating["networkProfile"]["loadBalancerSku"], &creating["networkProfile"]["serviceCidrs"]), (&json!("standard"), &json!(["10.0.0.0/16"])));
    assert!(creating.get("addonProfiles").is_none(), "{creating}");
    assert_eq!(creating["enablePodSecurityPolicy"], false);
    a.wait(&r).await;
    let done = a.s.get(&format!("{}?{API}", a.path("cli")), &a.op).await.json()["properties"].clone();
    assert!(done["identityProfile"]["kubeletidentity"]["clientId"].is_string(), "{done}");
    assert_eq!(done["networkProfile"]["loadBalancerProfile"]["effectiveOutboundIPs"].as_array().map(Vec::len), Some(1));
    assert_eq!(done["networkProfile"]["loadBalancerSku"], "Standard");
    assert_eq!(done["storageProfile"]["fileCSIDriver"]["enabled"], true, "{done}");
}

#[tokio::test]
async fn the_seeds_limitations_each_with_its_arm_error() {
    let a = Aks::new(32).await;
    // AAD needs Kubernetes RBAC.
    let r = a.put("norbac", json!({"enableRBAC": false, "aadProfile": {"managed": true}})).await;
    assert_eq!(arm_error(&r).1, "BadRequest");
    assert!(arm_error(&r).2.contains("without Kubernetes RBAC"));
    // Managed AAD can't be disabled, nor turned into legacy.
    a.create("managed", json!({"enableRBAC": true, "aadProfile": {"managed": true}})).await;
    let r = a.put("managed", json!({"enableRBAC": true})).await;
    assert_eq!(arm_error(&r), (400, "PropertyChangeNotAllowed".into(), "Changing property 'aadProfile.managed' is not allowed.".into()));
    let r = a.put("managed", json!({"enableRBAC": true, "aadProfile": {"managed": true, "clientAppID": "c", "serverAppID": "s", "serverAppSecret": "x"}})).await;
    assert_eq!(arm_error(&r).2, "Operation 'resetAADProfile' is not allowed for managed AAD enabled cluster.");
    // Legacy AAD only at creation.
    a.create("plain", json!({"enableRBAC": true})).await;
    let r = a.put("plain", json!({"enableRBAC": true, "aadProfile": {"clientAppID": "c", "serverAppID": "s", "serverAppSecret": "x"}})).await;
    assert_eq!(arm_error(&r), (400, "PropertyChangeNotAllowed".into(), "Changing property 'aadProfile' is not allowed.".into()));
    // RBAC can't be toggled; local accounts need AAD.
    let r = a.put("plain", json!({"enableRBAC": false})).await;
    assert_eq!(arm_error(&r).2, "Changing property 'enableRBAC' is not allowed.");
    let r = a.put("plain", json!({"enableRBAC": true, "disableLocalAccounts": true})).await;
    assert_eq!(arm_error(&r).2, "Since kubernetes version 1.25, disableLocalAccounts can only be set on Azure AD integration enabled cluster. Please integrate your cluster with AAD.");
    // Enabling managed AAD on the existing cluster works (seed 001).
    let r = a.put("plain", json!({"enableRBAC": true, "aadProfile": {"managed": true, "adminGroupObjectIDs": ["g"]}})).await;
    assert_eq!(r.status, 200, "{}", r.text());
    a.wait(&r).await;
    // A missing cluster.
    let r = a.s.get(&format!("{}?{API}", a.path("nope")), &a.op).await;
    assert_eq!(arm_error(&r).1, "ResourceNotFound");
}

#[tokio::test]
async fn legacy_to_managed_migration_changes_the_user_credential() {
    let a = Aks::in_2019(33).await;
    a.create("legacy", json!({"enableRBAC": true, "aadProfile": {"clientAppID": "client-app", "serverAppID": "server-app", "serverAppSecret": "s3cret-server", "tenantID": a.s.tenant}})).await;
    let before = kubeconfig(&a.credential("legacy", "listClusterUserCredential", "&format=azure", &a.op).await);
    let cfg = &before["users"][0]["user"]["auth-provider"]["config"];
    assert_eq!(cfg["apiserver-id"].as_str(), Some("server-app"));
    assert!(cfg.get("config-mode").is_none(), "legacy kubeconfigs carry no config-mode");
    let got = a.s.get(&format!("{}?{API}", a.path("legacy")), &a.op).await.json();
    let aad = &got["properties"]["aadProfile"];
    assert!(aad.get("serverAppSecret").is_none(), "the secret is never returned, not even as null (as recorded): {aad}");
    assert!(aad.get("adminGroupObjectIDs").is_some_and(Value::is_null) && aad.get("adminUsers").is_some_and(Value::is_null), "{aad}");
    let r = a.put("legacy", json!({"enableRBAC": true, "aadProfile": {"managed": true}})).await;
    assert_eq!(r.status, 200);
    a.wait(&r).await;
    let after = kubeconfig(&a.credential("legacy", "listClusterUserCredential", "", &a.op).await);
    let args: Vec<String> = after["users"][0]["user"]["exec"]["args"].as_sequence().unwrap().iter().map(|x| x.as_str().unwrap().to_string()).collect();
    assert_eq!(args[..6], ["get-token", "--environment", "AzurePublicCloud", "--server-id", AKS_SERVER, "--client-id"]);
    assert!(args.contains(&AKS_CLIENT.to_string()));
}

#[tokio::test]
async fn both_formats_parse_as_kubeconfigs_and_admin_carries_system_masters() {
    let a = Aks::new(34).await;
    a.create("c", json!({"enableRBAC": true, "aadProfile": {"managed": true}})).await;
    let exec = kubeconfig(&a.credential("c", "listClusterUserCredential", "&format=exec", &a.op).await);
    assert_eq!(exec["kind"].as_str(), Some("Config"));
    assert_eq!(exec["users"][0]["user"]["exec"]["command"].as_str(), Some("kubelogin"));
    assert_eq!(exec["current-context"].as_str(), Some("c"));
    let azure = kubeconfig(&a.credential("c", "listClusterUserCredential", "&format=azure", &a.op).await);
    assert_eq!(azure["users"][0]["user"]["auth-provider"]["config"]["config-mode"].as_str(), Some("1"));
    let admin = kubeconfig(&a.credential("c", "listClusterAdminCredential", "", &a.op).await);
    // The context ARM returns is the cluster name; az appends `-admin` when it merges.
    assert_eq!(admin["current-context"].as_str(), Some("c"));
    assert_eq!(admin["users"][0]["name"].as_str(), Some("clusterAdmin_myResourceGroup_c"));
    let ca = admin["clusters"][0]["cluster"]["certificate-authority-data"].as_str().unwrap();
    assert_eq!(String::from_utf8(base64::engine::general_purpose::STANDARD.decode(ca).unwrap()).unwrap(), a.s.sim.ca_pem());
    assert_eq!(admin["users"][0]["user"]["token"].as_str().unwrap().len(), 128);
    let bad = a.credential("c", "listClusterUserCredential", "&format=yaml", &a.op).await;
    assert_eq!(arm_error(&bad).1, "InvalidParameter");
}

/// Seed 001: users need the Cluster User role to get credentials; break-glass admin access
/// needs the Cluster Admin role, and is closed when local accounts are disabled.
#[tokio::test]
async fn cluster_roles_gate_credentials_and_break_glass() {
    let a = Aks::new(35).await;
    a.create("c", json!({"enableRBAC": true, "aadProfile": {"managed": true}})).await;
    let bob_arm = a.s.user_token("bob@contoso.onmicrosoft.com", "https://management.core.windows.net//.default").await;
    let bob = claims(&bob_arm)["oid"].as_str().unwrap().to_string();
    let r = a.credential("c", "listClusterUserCredential", "", &bob_arm).await;
    let (status, code, message) = arm_error(&r);
    assert_eq!((status, code.as_str()), (403, "AuthorizationFailed"));
    assert!(message.contains("'Microsoft.ContainerService/managedClusters/listClusterUserCredential/action'") && message.contains(&bob), "{message}");

    let assign = |role: &str| json!({"properties": {"roleDefinitionId": format!("/subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions/{role}", a.sub), "principalId": bob, "principalType": "User"}});
    let scope = a.path("c");
    let r = a.s.json("PUT", &format!("{scope}/providers/Microsoft.Authorization/roleAssignments/11111111-1111-1111-1111-111111111111?api-version=2022-04-01"), &a.op, assign("4abbcc35-e782-43d8-92c5-2d3f1bd2253f")).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let dup = a.s.json("PUT", &format!("{scope}/providers/Microsoft.Authorization/roleAssignments/22222222-1111-1111-1111-111111111111?api-version=2022-04-01"), &a.op, assign("4abbcc35-e782-43d8-92c5-2d3f1bd2253f")).await;
    assert_eq!(arm_error(&dup).1, "RoleAssignmentExists");
    assert_eq!(a.credential("c", "listClusterUserCredential", "", &bob_arm).await.status, 200);
    assert_eq!(arm_error(&a.credential("c", "listClusterAdminCredential", "", &bob_arm).await).1, "AuthorizationFailed");

    a.s.json("PUT", &format!("{scope}/providers/Microsoft.Authorization/roleAssignments/33333333-1111-1111-1111-111111111111?api-version=2022-04-01"), &a.op, assign("0ab0b1a8-8aac-4efd-b8c2-3ee1fb270be8")).await;
    assert_eq!(a.credential("c", "listClusterAdminCredential", "", &bob_arm).await.status, 200, "break-glass admin access");
    // Bob may not hand out roles himself.
    let r = a.s.json("PUT", &format!("{scope}/providers/Microsoft.Authorization/roleAssignments/44444444-1111-1111-1111-111111111111?api-version=2022-04-01"), &bob_arm, assign("0ab0b1a8-8aac-4efd-b8c2-3ee1fb270be8")).await;
    assert_eq!(arm_error(&r).1, "AuthorizationFailed");

    let r = a.put("c", json!({"enableRBAC": true, "aadProfile": {"managed": true}, "disableLocalAccounts": true})).await;
    a.wait(&r).await;
    let r = a.credential("c", "listClusterAdminCredential", "", &bob_arm).await;
    assert_eq!(arm_error(&r), (400, "BadRequest".into(), "Getting static credential is not allowed because this cluster is set to disable local accounts.".into()));
}

/// Role assignments at resource-group and cluster scope: listed (with `atScope()` and
/// `principalId` filters), read, deleted and made again, with the fields ARM returns.
#[tokio::test]
async fn role_assignments_at_every_scope_list_read_and_delete_as_arm_does() {
    let a = Aks::new(62).await;
    a.create("c", json!({"enableRBAC": true, "aadProfile": {"managed": true}})).await;
    let bob = claims(&a.s.user_token("bob@contoso.onmicrosoft.com", "https://management.core.windows.net//.default").await)["oid"].as_str().unwrap().to_string();
    let op_id = claims(&a.op)["oid"].as_str().unwrap().to_string();
    let rg = format!("/subscriptions/{}/resourceGroups/myResourceGroup", a.sub);
    let cluster = a.path("c");
    let body = json!({"properties": {"roleDefinitionId": format!("/subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions/4abbcc35-e782-43d8-92c5-2d3f1bd2253f", a.sub), "principalId": bob, "principalType": "User", "description": "CI reads credentials"}});
    let at = |scope: &str, name: &str| format!("{scope}/providers/Microsoft.Authorization/roleAssignments/{name}?api-version=2022-04-01");
    let list = |scope: &str, filter: &str| format!("{scope}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01{filter}");
    let names = |v: Value| v["value"].as_array().unwrap().iter().map(|x| x["name"].as_str().unwrap().to_string()).collect::<Vec<_>>();

    let made = a.s.json("PUT", &at(&cluster, "55555555-1111-1111-1111-111111111111"), &a.op, body.clone()).await;
    assert_eq!(made.status, 201, "{}", made.text());
    let p = &made.json()["properties"];
    assert_eq!((p["description"].as_str(), p["condition"].is_null(), p["createdBy"].as_str()), (Some("CI reads credentials"), true, Some(op_id.as_str())));
    assert!(p["createdOn"].as_str().unwrap().starts_with("20"), "{p}");

    // A list at the cluster holds it; at the group too (it is below), but not with atScope().
    assert!(names(a.s.get(&list(&cluster, ""), &a.op).await.json()).contains(&"55555555-1111-1111-1111-111111111111".to_string()));
    assert!(names(a.s.get(&list(&rg, ""), &a.op).await.json()).contains(&"55555555-1111-1111-1111-111111111111".to_string()));
    let at_rg = names(a.s.get(&list(&rg, "&$filter=atScope()"), &a.op).await.json());
    assert!(!at_rg.contains(&"55555555-1111-1111-1111-111111111111".to_string()) && !at_rg.is_empty(), "the operator's subscription Owner is above: {at_rg:?}");
    assert_eq!(names(a.s.get(&list(&cluster, &format!("&$filter=principalId%20eq%20'{bob}'")), &a.op).await.json()), ["55555555-1111-1111-1111-111111111111"]);
    let bad = a.s.get(&list(&cluster, "&$filter=roleName%20eq%20'x'"), &a.op).await;
    assert_eq!((arm_error(&bad).0, arm_error(&bad).1.as_str()), (400, "UnsupportedQuery"));

    // Read it where it is; delete it (200 with what was deleted, then 204); make it again.
    assert_eq!(a.s.get(&at(&cluster, "55555555-1111-1111-1111-111111111111"), &a.op).await.json()["properties"]["principalId"], bob.as_str());
    assert_eq!(arm_error(&a.s.get(&at(&rg, "55555555-1111-1111-1111-111111111111"), &a.op).await).1, "RoleAssignmentNotFound", "not at the group's scope");
    let deleted = a.s.send("DELETE", &at(&cluster, "55555555-1111-1111-1111-111111111111"), &[("authorization", &format!("Bearer {}", a.op))], vec![]).await;
    assert_eq!((deleted.status, deleted.json()["name"].as_str()), (200, Some("55555555-1111-1111-1111-111111111111")));
    let again = a.s.send("DELETE", &at(&cluster, "55555555-1111-1111-1111-111111111111"), &[("authorization", &format!("Bearer {}", a.op))], vec![]).await;
    assert_eq!(again.status, 204);
    let gone = a.s.get(&at(&cluster, "55555555-1111-1111-1111-111111111111"), &a.op).await;
    assert_eq!(arm_error(&gone).0, 404);
    assert_eq!(a.s.json("PUT", &at(&cluster, "66666666-1111-1111-1111-111111111111"), &a.op, body).await.status, 201, "made again after the delete");
    // At the resource group: put, read, delete.
    let rg_body = json!({"properties": {"roleDefinitionId": format!("/subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7", a.sub), "principalId": bob}});
    assert_eq!(a.s.json("PUT", &at(&rg, "77777777-1111-1111-1111-111111111111"), &a.op, rg_body).await.status, 201);
    assert_eq!(a.s.get(&at(&rg, "77777777-1111-1111-1111-111111111111"), &a.op).await.status, 200);
    assert_eq!(a.s.send("DELETE", &at(&rg, "77777777-1111-1111-1111-111111111111"), &[("authorization", &format!("Bearer {}", a.op))], vec![]).await.status, 200);

    // `az role assignment create -g/--scope` looks the role up where it assigns: the built-in
    // definitions answer at every scope, their ids naming the subscription (as recorded).
    let defs = |scope: &str| format!("{scope}/providers/Microsoft.Authorization/roleDefinitions?$filter=roleName%20eq%20%27reader%27&api-version=2018-01-01-preview");
    for scope in [format!("/subscriptions/{}", a.sub), rg.clone(), cluster.clone()] {
        let r = a.s.get(&defs(&scope), &a.op).await;
        assert_eq!(r.status, 200, "{scope}: {}", r.text());
        let d = &r.json()["value"][0];
        assert_eq!(d["id"], format!("/subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7", a.sub));
        assert_eq!(d["properties"]["description"], "View all resources, but does not allow you to make any changes.");
        for key in ["createdOn", "updatedOn", "createdBy", "updatedBy"] {
            assert!(d["properties"].get(key).is_some(), "{key}: {d}");
        }
    }
    let missing = a.s.get(&defs(&format!("/subscriptions/{}/resourceGroups/nosuchgroup", a.sub)), &a.op).await;
    assert_eq!(arm_error(&missing).1, "ResourceGroupNotFound");
}

#[tokio::test]
async fn a_malformed_api_version_gets_arms_invalid_api_version_error() {
    let a = Aks::new(61).await;
    for q in ["api-version=%00%FF", "api-version=latest"] {
        let r = a.s.get(&format!("/subscriptions/{}/resourcegroups?{q}", a.sub), &a.op).await;
        let (status, code, message) = arm_error(&r);
        assert_eq!((status, code.as_str()), (400, "InvalidApiVersionParameter"), "{q}: {message}");
        assert!(message.starts_with("The api-version '") && message.contains("is invalid. The supported versions are '"), "{message}");
    }
    assert_eq!(a.s.get(&format!("/subscriptions/{}/resourcegroups?api-version=2024-11-01", a.sub), &a.op).await.status, 200);
}
