//! Replays exchanges recorded against the real Azure (tests/recordings/, see SOURCES.md)
//! against the simulator, and compares what a client can tell apart: the status, the error
//! code, and the JSON key paths of the answer. Values the service generates (ids, times,
//! tokens) are not compared. The scrubbed placeholders of a recording are mapped to the
//! simulator's own: the tenant, the client id and secret, the resource, the user. Exchanges
//! with hosts the simulator is not (a federated tenant's AD FS) are listed and not sent.
//!
//! The az CLI's vcrpy cassettes (tests/recordings/azure-cli/) are replayed in order against
//! one simulator each (a run may save that simulator's state and go on with it opened in
//! another era, as a store saved in 2019 is opened today). Every id the service generated is
//! mapped to the simulator's by aligning each recorded answer with the simulator's answer to
//! the same request, and substituted into the requests that follow. Their answers are also
//! compared in the values of settings and in what a collection holds (its size, and the known
//! items it lists).

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;
use aksflow_simulator::Era;
use support::*;

/// One go-vcr (v2) interaction: what was sent and what came back.
#[derive(serde::Deserialize)]
struct Cassette {
    interactions: Vec<Interaction>,
}

#[derive(serde::Deserialize)]
struct Interaction {
    request: Request,
    response: Response,
}

#[derive(serde::Deserialize)]
struct Request {
    method: String,
    url: String,
    #[serde(default)]
    form: std::collections::BTreeMap<String, Vec<String>>,
}

#[derive(serde::Deserialize)]
struct Response {
    code: u16,
    body: String,
}

fn recordings() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().join("tests/recordings")
}

/// Every key path of a JSON document: `a.b`, `a[].c` (array items share one path).
fn key_paths(v: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                let p = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                out.insert(p.clone());
                key_paths(child, &p, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| key_paths(i, &format!("{prefix}[]"), out)),
        _ => {}
    }
}

/// The error code a client branches on: the token service's `error` and first AADSTS number.
fn error_code(v: &Value) -> Option<String> {
    let error = v.get("error")?;
    Some(match error {
        Value::String(e) => format!("{e} {}", v["error_codes"][0]),
        other => other["code"].as_str().unwrap_or_default().to_string(),
    })
}

/// The simulator's stand-ins for a recording's scrubbed values.
struct Stand {
    tenant: String,
    client_id: String,
    client_secret: String,
    /// kubelogin asks for the AKS server app (`6dae42f8-…`) as the resource.
    resource: String,
    /// The signed-in user of the username/password cassettes (scrubbed to `USERNAME`).
    username: String,
    password: String,
}

/// The token service's host: the simulator serves it, and only it, of the hosts kubelogin's
/// cassettes reach.
const LOGIN_HOST: &str = "https://login.microsoftonline.com";

impl Stand {
    fn url(&self, recorded: &str) -> String {
        let path = recorded.strip_prefix(LOGIN_HOST).unwrap_or(recorded);
        path.replace("AZURE_TENANT_ID", &self.tenant).replace("USERNAME", &self.username)
    }

    fn form_value(&self, key: &str, value: &str) -> String {
        match (key, value) {
            ("client_id", "[REDACTED]") => self.client_id.clone(),
            ("client_secret", "[REDACTED]") => self.client_secret.clone(),
            ("password", "[REDACTED]") => self.password.clone(),
            ("username", "USERNAME") => self.username.clone(),
            ("scope", v) => v.replace("[REDACTED]", &self.resource),
            (_, v) => v.replace("AZURE_TENANT_ID", &self.tenant),
        }
    }
}

/// kubelogin's exchanges the replay does not send, each with its reason (mirrored in
/// tests/recordings/SOURCES.md and docs/fidelity.md): (cassette, interaction id, reason). Each
/// must be an exchange with a host other than the token service's, or the test fails.
const KUBELOGIN_NOT_REPLAYED: &[(&str, usize, &str)] = &[
    ("kubelogin/ROPCPoPTokenFromUsernamePasswordVCR.yaml", 2, "WS-Trust metadata (mex) from the recording tenant's federation server (msft.sts.microsoft.com, AD FS), a host the simulator is not"),
    ("kubelogin/ROPCPoPTokenFromUsernamePasswordVCR.yaml", 3, "WS-Trust username/password exchange with the recording tenant's AD FS server, a host the simulator is not"),
    ("kubelogin/ROPCPoPTokenFromBadPasswordVCR.yaml", 2, "WS-Trust metadata (mex) from the recording tenant's AD FS server, a host the simulator is not"),
    ("kubelogin/ROPCPoPTokenFromBadPasswordVCR.yaml", 3, "WS-Trust username/password exchange with the recording tenant's AD FS server (it refused the bad password with a SOAP fault), a host the simulator is not"),
];

/// kubelogin's exchanges the simulator answers otherwise on purpose (mirrored in
/// docs/fidelity.md): (cassette, interaction id, reason). Each must still differ, or the test
/// fails.
const KUBELOGIN_DELIBERATE: &[(&str, usize, &str)] = &[
    (
        "kubelogin/ROPCPoPTokenFromUsernamePasswordVCR.yaml",
        1,
        "user realm discovery: the recording's account (microsoft.com) is federated to AD FS (account_type Federated, with the federation protocol and metadata and endpoint urls); the simulator's tenants are managed (cloud) tenants, so it answers Managed, without federation_*",
    ),
    (
        "kubelogin/ROPCPoPTokenFromUsernamePasswordVCR.yaml",
        4,
        "the SAML 1.1 bearer grant (urn:ietf:params:oauth:grant-type:saml1_1-bearer) redeems the assertion the recording tenant's AD FS issued; the simulator federates with no identity provider, so it grants no SAML assertion (400 unsupported_grant_type)",
    ),
    ("kubelogin/ROPCPoPTokenFromBadPasswordVCR.yaml", 1, "user realm discovery, as for the good password: Federated in the recording, Managed in the simulator"),
];

#[derive(Default)]
struct Tally {
    matched: usize,
    mismatched: Vec<String>,
    /// Of the matched, how many differ in a way DELIBERATE lists.
    deliberate: usize,
}

/// The reason a table gives for exchange `i` of `file`, if it lists it.
fn listed(table: &[(&str, usize, &'static str)], file: &str, i: usize) -> Option<&'static str> {
    table.iter().find(|(f, n, _)| *f == file && *n == i).map(|(_, _, why)| *why)
}

async fn replay(s: &Sim, stand: &Stand, file: &str, tally: &mut Tally, skipped: &mut usize) {
    let text = std::fs::read_to_string(recordings().join(file)).unwrap();
    let cassette: Cassette = serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
    for (i, it) in cassette.interactions.iter().enumerate() {
        let not_replayed = listed(KUBELOGIN_NOT_REPLAYED, file, i);
        assert_eq!(
            not_replayed.is_some(),
            !it.request.url.starts_with(LOGIN_HOST),
            "{file} #{i} {}: every exchange with the token service is replayed, and only those",
            it.request.url
        );
        if let Some(why) = not_replayed {
            println!("  not replayed: {file} #{i} {} {} ({why})", it.request.method, it.request.url);
            *skipped += 1;
            continue;
        }
        let url = stand.url(&it.request.url);
        let resp = if it.request.method == "POST" {
            let pairs: Vec<(String, String)> = it.request.form.iter().map(|(k, vs)| (k.clone(), stand.form_value(k, &vs[0]))).collect();
            let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            s.form(&url, &pairs).await
        } else {
            s.send(&it.request.method, &url, &[], vec![]).await
        };
        let what = format!("{file} #{i} {} {}", it.request.method, it.request.url);
        let mut problems = Vec::new();
        if resp.status != it.response.code {
            problems.push(format!("status {} where Azure answered {}", resp.status, it.response.code));
        }
        if let Ok(recorded) = serde_json::from_str::<Value>(&it.response.body) {
            let ours: Value = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
            if error_code(&recorded) != error_code(&ours) {
                problems.push(format!("error {:?} where Azure said {:?}", error_code(&ours), error_code(&recorded)));
            }
            let (mut want, mut have) = (BTreeSet::new(), BTreeSet::new());
            key_paths(&recorded, "", &mut want);
            key_paths(&ours, "", &mut have);
            let missing: Vec<&String> = want.difference(&have).collect();
            if !missing.is_empty() {
                problems.push(format!("missing {missing:?}"));
            }
        }
        if let Some(why) = listed(KUBELOGIN_DELIBERATE, file, i) {
            assert!(!problems.is_empty(), "{what} is listed as deliberately different but matches now: remove it from KUBELOGIN_DELIBERATE and docs/fidelity.md");
            println!("  deliberately different: {what}: {} ({why})", problems.join("; "));
            tally.matched += 1;
            tally.deliberate += 1;
        } else if problems.is_empty() {
            tally.matched += 1;
        } else {
            tally.mismatched.push(format!("{what}: {}", problems.join("; ")));
        }
    }
}

#[tokio::test]
async fn kubelogin_recordings_replay_against_the_token_service() {
    let s = Sim::new(1);
    let op = s.sim.operator();
    let user = s.sim.personas().into_iter().find(|p| p.tenant_id == s.tenant).expect("a member of the operator's tenant");
    let stand = Stand {
        tenant: s.tenant.clone(),
        client_id: op.client_id.clone(),
        client_secret: op.client_secret.clone(),
        resource: AKS_SERVER.into(),
        username: user.user_principal_name.clone(),
        password: user.password.clone(),
    };
    let mut tally = Tally::default();
    let mut skipped = 0;
    for file in [
        "kubelogin/ServicePrincipalTokenFromSecretVCR.yaml",
        "kubelogin/ServicePrincipalTokenFromBadSecretVCR.yaml",
        "kubelogin/ROPCPoPTokenFromUsernamePasswordVCR.yaml",
        "kubelogin/ROPCPoPTokenFromBadPasswordVCR.yaml",
    ] {
        replay(&s, &stand, file, &mut tally, &mut skipped).await;
    }
    println!("{} matched, {} mismatched ({} of the matched differ deliberately; {skipped} not replayed)", tally.matched, tally.mismatched.len(), tally.deliberate);
    assert!(tally.mismatched.is_empty(), "{} matched, {} mismatched:\n{}", tally.matched, tally.mismatched.len(), tally.mismatched.join("\n"));
    assert_eq!(tally.matched, 11, "every recorded exchange with the token service was replayed");
    assert_eq!(tally.deliberate, KUBELOGIN_DELIBERATE.len());
    assert_eq!(skipped, KUBELOGIN_NOT_REPLAYED.len());
}

// ---------- the az CLI's vcrpy cassettes ----------

/// One vcrpy interaction, as kept under tests/recordings/azure-cli/.
#[derive(serde::Deserialize)]
struct VcrCassette {
    interactions: Vec<VcrInteraction>,
}

#[derive(serde::Deserialize)]
struct VcrInteraction {
    request: VcrRequest,
    response: VcrResponse,
}

#[derive(serde::Deserialize)]
struct VcrRequest {
    body: Option<String>,
    method: String,
    uri: String,
}

#[derive(serde::Deserialize)]
struct VcrResponse {
    body: VcrBody,
    status: VcrStatus,
    #[serde(default)]
    headers: BTreeMap<String, Vec<String>>,
}

#[derive(serde::Deserialize)]
struct VcrBody {
    string: String,
}

#[derive(serde::Deserialize)]
struct VcrStatus {
    code: u16,
}

/// Where the simulator answers otherwise on purpose, each with its reason (mirrored in
/// docs/fidelity.md): (cassettes whose path starts so, a difference that starts so, reason).
/// A difference is one status, error code, key path or setting; an exchange whose every
/// difference is listed here counts as matched, and an entry that no longer matches anything
/// fails the test, so the list stays true.
const DELIBERATE: &[(&str, &str, &str)] = &[
    (
        "azure-cli/role/",
        "extra value[].serviceProvisioningErrors",
        "Graph v1.0 returns serviceProvisioningErrors on groups since 2023, after this recording (2022); the simulator follows today's group as documented",
    ),
    (
        "azure-cli/role/",
        "extra value[].uniqueName",
        "Graph v1.0 returns uniqueName on groups since 2024, after this recording (2022); the simulator follows today's group as documented",
    ),
    (
        "azure-cli/role/",
        "extra serviceProvisioningErrors",
        "as for listed groups: a group created or read by id carries serviceProvisioningErrors, which Graph v1.0 added after this recording (2022)",
    ),
    (
        "azure-cli/role/",
        "extra uniqueName",
        "as for listed groups: a group created or read by id carries uniqueName, which Graph v1.0 added after this recording (2022)",
    ),
];

/// Exchanges the simulator answers otherwise as a whole, on purpose (mirrored in
/// docs/fidelity.md): ("era: cassette", interaction index in the kept file, reason). Each must
/// still differ, or the test fails.
const DELIBERATE_EXCHANGES: &[(&str, usize, &str)] = &[
    (
        "today: azure-cli/acs/test_aks_create_aadv1_and_update_with_managed_aad.yaml",
        1,
        "AKS creates no new clusters with the legacy Azure AD integration since August 2023 (400 BadRequest, see the era section); the recording is from May 2022. In seed 000's era the same exchange is replayed and matches",
    ),
    ("today: azure-cli/acs/test_aks_create_aadv1_and_update_with_managed_aad.yaml", 2, "the refused create started no operation to poll (404)"),
    (
        "2019, opened today at #4: azure-cli/acs/test_aks_create_aadv1_and_update_with_managed_aad.yaml",
        4,
        "Azure migrated the legacy clusters left in 2023 (see the era section): the cluster made in 2019, read today, has AKS-managed Azure AD (managed: true, its clientAppID and serverAppID forgotten), where the recording read it legacy right after its create in 2022",
    ),
    (
        "2019, opened today at #4: azure-cli/acs/test_aks_create_aadv1_and_update_with_managed_aad.yaml",
        5,
        "the cluster made in 2019 runs 2019's Kubernetes (1.14.8; the recording's 1.22.6 is long out of support too) and az aks update sends it back: the simulator refuses a PUT naming a version its era does not offer (400 K8sVersionNotSupported), so today the update is refused until the cluster is upgraded. No recording shows AKS's answer to an update of a cluster on an unsupported version",
    ),
    ("2019, opened today at #4: azure-cli/acs/test_aks_create_aadv1_and_update_with_managed_aad.yaml", 6, "the refused update started no operation to poll (404)"),
    ("2019, opened today at #4: azure-cli/acs/test_aks_create_aadv1_and_update_with_managed_aad.yaml", 7, "the refused update started no operation to poll (404)"),
    (
        "today: azure-cli/acs/test_aks_disable_local_accounts.yaml",
        1,
        "since Kubernetes 1.25 AKS refuses disableLocalAccounts on a cluster without Azure AD integration (400 BadRequest); the recording's cluster got 1.21, the simulator's default version is newer",
    ),
    ("today: azure-cli/acs/test_aks_disable_local_accounts.yaml", 2, "the refused create started no operation to poll (404)"),
];

/// Exchanges of an az cassette a run does not send, each with its reason (mirrored in
/// tests/recordings/SOURCES.md and docs/fidelity.md): ("run: cassette", interaction index in
/// the kept file, reason). Each must be met, or the test fails.
const AZ_NOT_REPLAYED: &[(&str, usize, &str)] = &[
    (
        "today: azure-cli/acs/test_aks_create_aadv1_and_update_with_managed_aad.yaml",
        3,
        "the create's last poll: today the legacy create is refused (#1), so there is no operation to poll; the cluster made in 2019 is polled, read and migrated in the run `2019, opened today at #4`",
    ),
    ("today: azure-cli/acs/test_aks_create_aadv1_and_update_with_managed_aad.yaml", 4, "the read after the create: the refused create made no cluster"),
    (
        "today: azure-cli/acs/test_aks_create_aadv1_and_update_with_managed_aad.yaml",
        5,
        "az aks update --enable-aad: there is no legacy cluster to migrate (the create was refused); sent anyway, it would be taken for the create of a new cluster. Today's answer to the migration of a cluster made in 2019 is replayed in the run `2019, opened today at #4`",
    ),
    ("today: azure-cli/acs/test_aks_create_aadv1_and_update_with_managed_aad.yaml", 6, "the migration's first poll: no migration was started"),
    ("today: azure-cli/acs/test_aks_create_aadv1_and_update_with_managed_aad.yaml", 7, "the migration's last poll: no migration was started"),
    ("today: azure-cli/acs/test_aks_create_aadv1_and_update_with_managed_aad.yaml", 8, "the read after the migration: there is no cluster"),
];

/// Properties AKS reports today that api-versions 2021-10-01 to 2022-03-01 (the acs
/// recordings') did not:
/// the simulator answers every api-version with today's shape (mirrored in docs/fidelity.md).
const AKS_LATER_PROPERTIES: &[&str] = &[
    "properties.currentKubernetesVersion",
    "properties.agentPoolProfiles[].currentOrchestratorVersion",
    "properties.agentPoolProfiles[].upgradeSettings",
    "properties.agentPoolProfiles[].workloadRuntime",
    "properties.networkProfile.loadBalancerProfile.backendPoolType",
    "properties.oidcIssuerProfile",
    "properties.securityProfile",
    "properties.storageProfile",
    "properties.supportPlan",
    "properties.workloadAutoScalerProfile",
    "properties.aadProfile.adminUsers",
    "properties.aadProfile.enableAzureRBAC",
];

fn deliberate(file: &str, problem: &str) -> Option<String> {
    if let Some((_, _, why)) = DELIBERATE.iter().find(|(f, p, _)| file.starts_with(f) && problem.starts_with(p)) {
        return Some(why.to_string());
    }
    let later = problem.strip_prefix("extra ").is_some_and(|p| AKS_LATER_PROPERTIES.iter().any(|l| p == *l || p.starts_with(&format!("{l}."))));
    (file.starts_with("azure-cli/acs/") && later).then(|| "a property of a later AKS api-version than the recording's: the simulator answers with today's shape".to_string())
}

/// Who the recording's requests are sent as.
#[derive(Clone, Copy, PartialEq)]
enum As {
    /// The seeded operator (a service principal that is tenant administrator).
    Operator,
    /// The tenant's Global Administrator, signed in through the Azure CLI client: the
    /// recording depends on a signed-in user (it becomes the owner of what it creates).
    Admin,
}

/// What the recording assumed existed before its first request.
enum Before {
    /// A resource group (made by the test's preparer, unrecorded).
    ResourceGroup(&'static str),
    /// A security group of the recording tenant, by display name and recorded id.
    Group { name: &'static str, recorded_id: &'static str },
    /// The service principal every tenant has for a Microsoft application (by its appId),
    /// whose recorded id the recording sends (a grant's resourceId) after reading it in an
    /// answer the cassette leaves out.
    ServicePrincipal { app_id: &'static str, recorded_id: &'static str },
}

struct AzCassette {
    file: &'static str,
    caller: As,
    before: &'static [Before],
    /// Which Azure the simulator is: the legacy integration can only be created in seed
    /// 000's era.
    era: Era,
    /// Whether the simulator's state is saved and opened in another era partway through.
    reopen: Option<Reopen>,
}

/// Before interaction `at`, the simulator's state is saved (a snapshot) and opened in `era`,
/// as `aksflow sim serve --state` opens a store saved in another era: what was made in 2019
/// meets today's Azure. The interactions before `at` are replayed only to make that state
/// (and the ids the replay maps): they are compared, and fail the test if they differ in a
/// way not listed, but counted in the run of the starting era, not in this one.
struct Reopen {
    at: usize,
    era: Era,
}

impl AzCassette {
    /// How the run is named in the output and in DELIBERATE_EXCHANGES and AZ_NOT_REPLAYED.
    fn run(&self) -> String {
        match &self.reopen {
            None => self.era.name().to_string(),
            Some(r) => format!("{}, opened {} at #{}", self.era.name(), r.era.name(), r.at),
        }
    }
}

const AZ_CASSETTES: &[AzCassette] = &[
    AzCassette { file: "azure-cli/role/test_app_create_idempotent.yaml", caller: As::Operator, before: &[], era: Era::Today, reopen: None },
    AzCassette { file: "azure-cli/role/test_service_principal_scenario.yaml", caller: As::Operator, before: &[], era: Era::Today, reopen: None },
    AzCassette { file: "azure-cli/role/test_app_credential.yaml", caller: As::Operator, before: &[], era: Era::Today, reopen: None },
    AzCassette { file: "azure-cli/role/test_app_owner.yaml", caller: As::Admin, before: &[], era: Era::Today, reopen: None },
    AzCassette {
        file: "azure-cli/role/test_user_scenario.yaml",
        caller: As::Operator,
        before: &[Before::Group { name: "graphusertest_g", recorded_id: "00e7bb05-86a1-49e2-bb6e-3dd60ab63a3a" }],
        era: Era::Today,
        reopen: None,
    },
    AzCassette {
        file: "azure-cli/role/test_app_permission_grant.yaml",
        caller: As::Operator,
        before: &[Before::ServicePrincipal { app_id: "00000003-0000-0000-c000-000000000000", recorded_id: "a3efc889-f1b7-4532-9e01-91e32d1039f4" }],
        era: Era::Today,
        reopen: None,
    },
    AzCassette { file: "azure-cli/role/test_group_scenario.yaml", caller: As::Operator, before: &[], era: Era::Today, reopen: None },
    AzCassette { file: "azure-cli/role/test_role_assignment_create_update.yaml", caller: As::Operator, before: &[Before::ResourceGroup("cli_role_assign000001")], era: Era::Today, reopen: None },
    AzCassette { file: "azure-cli/acs/test_aks_create_nonaad_and_update_with_managed_aad.yaml", caller: As::Operator, before: &[Before::ResourceGroup("clitest000001")], era: Era::Today, reopen: None },
    AzCassette { file: "azure-cli/acs/test_aks_disable_local_accounts.yaml", caller: As::Operator, before: &[Before::ResourceGroup("clitest000001")], era: Era::Today, reopen: None },
    AzCassette { file: "azure-cli/acs/test_aks_create_enable_azure_rbac.yaml", caller: As::Operator, before: &[Before::ResourceGroup("clitest000001")], era: Era::Today, reopen: None },
    // The legacy integration, as created in 2022 and migrated with `az aks update --enable-aad`:
    // in seed 000's era as recorded; today, where AKS refuses the create (listed in
    // DELIBERATE_EXCHANGES) and so the rest has nothing to act on (AZ_NOT_REPLAYED); and made
    // in 2019 and opened today once created, where the cluster reads as Azure migrated it and
    // the update is today's answer to it.
    AzCassette { file: "azure-cli/acs/test_aks_create_aadv1_and_update_with_managed_aad.yaml", caller: As::Operator, before: &[Before::ResourceGroup("clitest000001")], era: Era::Y2019, reopen: None },
    AzCassette { file: "azure-cli/acs/test_aks_create_aadv1_and_update_with_managed_aad.yaml", caller: As::Operator, before: &[Before::ResourceGroup("clitest000001")], era: Era::Today, reopen: None },
    AzCassette {
        file: "azure-cli/acs/test_aks_create_aadv1_and_update_with_managed_aad.yaml",
        caller: As::Operator,
        before: &[Before::ResourceGroup("clitest000001")],
        era: Era::Y2019,
        reopen: Some(Reopen { at: 4, era: Era::Today }),
    },
];

/// The recorded subscription (scrubbed), tenants and directory domain.
const REC_SUBSCRIPTION: &str = "00000000-0000-0000-0000-000000000000";
const REC_TENANTS: &[&str] = &["54826b22-38d6-4fb2-bad9-b7b93a3e9c5a", "72f988bf-86f1-41af-91ab-2d7cd011db47", "d5b55040-0c14-48cc-a028-91457fc190d9"];
const REC_DOMAINS: &[&str] = &["AzureSDKTeam.onmicrosoft.com", "azuresdkteam.onmicrosoft.com"];
/// The signed-in user of the recordings, scrubbed.
const REC_USER: &str = "example@example.com";
/// The scrubber's stand-in for the directory domain in the users a recording creates
/// (`testgroupuser1000004@example.com`, deleted as `…@AzureSDKTeam.onmicrosoft.com`).
const REC_SCRUBBED_DOMAIN: &str = "@example.com";

fn is_guid(s: &str) -> bool {
    uuid::Uuid::parse_str(s).is_ok() && s.len() == 36
}

/// The az CLI's scrubber writes `00000000-0000-0000-0000-00000000000N` for ids it hides; they
/// are the same in every cassette and stand for no one object, so they are never learned.
fn is_placeholder(s: &str) -> bool {
    s.starts_with("00000000-0000-0000-0000-")
}

/// Values the service chose that a client sends back later (the version AKS picked when the
/// request left it empty).
const CHOSEN: &[&str] = &["kubernetesVersion", "orchestratorVersion", "currentKubernetesVersion"];

/// Recorded value → the simulator's, learned as the replay goes.
#[derive(Default)]
struct IdMap {
    pairs: Vec<(String, String)>,
}

impl IdMap {
    fn learn(&mut self, recorded: &str, ours: &str) {
        if recorded == ours || recorded.is_empty() || ours.is_empty() || is_placeholder(recorded) || self.pairs.iter().any(|(r, _)| r == recorded) {
            return;
        }
        self.pairs.push((recorded.to_string(), ours.to_string()));
    }

    /// Walks a recorded answer and the simulator's side by side; where both hold an id at the
    /// same path (a GUID, or an ARM id whose GUID segments line up), remembers the pair.
    fn align(&mut self, recorded: &Value, ours: &Value, key: &str) {
        match (recorded, ours) {
            (Value::Object(a), Value::Object(b)) => {
                for (k, v) in a {
                    if let Some(w) = b.get(k) {
                        self.align(v, w, k);
                    }
                }
            }
            (Value::Array(a), Value::Array(b)) => a.iter().zip(b).for_each(|(v, w)| self.align(v, w, key)),
            (Value::String(a), Value::String(b)) => {
                // Graph's ids are GUIDs, except a permission grant's (base64url of the ids it joins).
                let opaque_id = key == "id" && !a.contains('/') && !b.contains('/');
                if is_guid(a) && is_guid(b) || CHOSEN.contains(&key) || opaque_id {
                    self.learn(a, b);
                } else if a.contains('/') && b.contains('/') {
                    let (sa, sb): (Vec<&str>, Vec<&str>) = (a.split(['/', '?']).collect(), b.split(['/', '?']).collect());
                    if sa.len() == sb.len() {
                        sa.iter().zip(&sb).filter(|(x, y)| is_guid(x) && is_guid(y)).for_each(|(x, y)| self.learn(x, y));
                    }
                }
            }
            _ => {}
        }
    }

    /// The simulator's id for a recorded one, once learned.
    fn known(&self, recorded: &str) -> Option<&str> {
        self.pairs.iter().find(|(r, _)| r == recorded).map(|(_, o)| o.as_str())
    }

    fn apply(&self, text: &str) -> String {
        let mut pairs: Vec<&(String, String)> = self.pairs.iter().collect();
        pairs.sort_by_key(|(r, _)| std::cmp::Reverse(r.len()));
        let mut out = text.to_string();
        for (r, o) in pairs {
            out = out.replace(r.as_str(), o);
        }
        out
    }
}

/// A collection's items by id: a `value` of ids (checkMemberGroups, getMemberGroups) or of
/// objects with an `id` (members, owners, lists).
fn collection_ids(v: &Value) -> Option<Vec<&str>> {
    let items = v.get("value")?.as_array()?;
    Some(items.iter().filter_map(|i| i.as_str().or_else(|| i["id"].as_str())).collect())
}

/// Where a collection holds other items than the recorded one: its size, and every recorded
/// item whose id the replay already knows (made or read earlier), mapped to the simulator's.
/// Checked before this answer's ids are learned, so a wrong item is not taken for the right one.
fn collection_differences(recorded: &Value, ours: &Value, ids: &IdMap, out: &mut Vec<String>) {
    let (Some(want), Some(have)) = (collection_ids(recorded), collection_ids(ours)) else { return };
    if want.len() != have.len() {
        out.push(format!("value has {} items where Azure had {}", have.len(), want.len()));
        return;
    }
    for id in want {
        if let Some(ours) = ids.known(id) {
            if !have.contains(&ours) {
                out.push(format!("value lacks {id} (the simulator's {ours})"));
            }
        }
    }
}

/// The error code a client branches on: Graph's and ARM's `error.code`.
fn service_error_code(v: &Value) -> Option<String> {
    v.get("error").and_then(|e| e["code"].as_str()).map(str::to_string)
}

fn json_or_null(text: &[u8]) -> Option<Value> {
    if text.iter().all(u8::is_ascii_whitespace) { None } else { Some(serde_json::from_slice(text).unwrap_or(Value::Null)) }
}

fn is_terminal(v: &Value) -> bool {
    matches!(v["status"].as_str(), Some("Succeeded" | "Failed" | "Canceled"))
}

struct AzTokens {
    graph: String,
    arm: String,
}

async fn az_tokens(s: &Sim, caller: As, admin: &str) -> AzTokens {
    match caller {
        As::Operator => AzTokens { graph: s.operator_token(&format!("{GRAPH}/.default")).await, arm: s.operator_token("https://management.azure.com/.default").await },
        As::Admin => AzTokens { graph: s.user_token(admin, &format!("{GRAPH}/.default")).await, arm: s.user_token(admin, "https://management.azure.com/.default").await },
    }
}

/// Keys whose values a client reads as settings, not as generated data: defaults the service
/// fills in and states it reports. Compared by value wherever the recording has them.
const SETTINGS: &[&str] = &[
    "signInAudience",
    "requestedAccessTokenVersion",
    "servicePrincipalType",
    "accountEnabled",
    "appRoleAssignmentRequired",
    "securityEnabled",
    "mailEnabled",
    "groupTypes",
    "principalType",
    "provisioningState",
    "status",
    "managed",
    "enableAzureRBAC",
    "disableLocalAccounts",
    "enableRBAC",
    "networkPlugin",
    "outboundType",
    "loadBalancerSku",
    "type",
    "tier",
    "mode",
    "osType",
];

/// Where a recorded setting's value differs from the simulator's at the same path.
fn setting_differences(recorded: &Value, ours: &Value, path: &str, key: &str, out: &mut Vec<String>) {
    match (recorded, ours) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                if let Some(w) = b.get(k) {
                    let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                    setting_differences(v, w, &p, k, out);
                }
            }
        }
        (Value::Array(a), Value::Array(b)) if !SETTINGS.contains(&key) => {
            a.iter().zip(b).for_each(|(v, w)| setting_differences(v, w, &format!("{path}[]"), key, out));
        }
        (a, b) if SETTINGS.contains(&key) && !a.is_object() && a != b => {
            // ARM's resource types are case-insensitive (`ManagedClusters`).
            if let (Some(x), Some(y)) = (a.as_str(), b.as_str()) {
                if key == "type" && x.eq_ignore_ascii_case(y) {
                    return;
                }
            }
            out.push(format!("{path} = {b} where Azure had {a}"));
        }
        _ => {}
    }
}

async fn prepare(s: &Sim, tokens: &AzTokens, sub: &str, before: &Before, ids: &mut IdMap) {
    match before {
        Before::ResourceGroup(name) => {
            // As azure-cli's ResourceGroupPreparer makes it (its tags are in the recordings).
            let tags = serde_json::json!({"product": "azurecli", "cause": "automation", "date": "2022-01-25T03:45:11Z"});
            let r = s.json("PUT", &format!("/subscriptions/{sub}/resourcegroups/{name}?api-version=2021-04-01"), &tokens.arm, serde_json::json!({"location": "westus2", "tags": tags})).await;
            assert!(r.status == 200 || r.status == 201, "{}", r.text());
        }
        Before::ServicePrincipal { app_id, recorded_id } => {
            let r = s.get(&format!("/v1.0/servicePrincipals?$filter=appId%20eq%20'{app_id}'"), &tokens.graph).await;
            assert_eq!(r.status, 200, "{}", r.text());
            ids.learn(recorded_id, r.json()["value"][0]["id"].as_str().expect("the tenant has the application's service principal"));
        }
        Before::Group { name, recorded_id } => {
            let body = serde_json::json!({"displayName": name, "mailNickname": name, "description": name, "mailEnabled": false, "securityEnabled": true});
            let r = s.json("POST", "/v1.0/groups", &tokens.graph, body).await;
            assert_eq!(r.status, 201, "{}", r.text());
            ids.learn(recorded_id, r.json()["id"].as_str().unwrap());
        }
    }
}

/// The same simulator state, opened in another era (as a saved store is): what a snapshot
/// holds is kept, and what the era changes about it is applied on opening.
fn reopened(s: &Sim, era: Era) -> Sim {
    let config = aksflow_simulator::SimConfig { era, ..s.sim.config().clone() };
    let sim = aksflow_simulator::Simulator::restore(config, s.clock.clone(), s.sim.snapshot()).expect("the same seed");
    Sim { sim, clock: s.clock.clone(), tenant: s.tenant.clone() }
}

/// What one az cassette's run came to.
#[derive(Default)]
struct AzRun {
    matched: usize,
    mismatched: Vec<String>,
    /// Listed in AZ_NOT_REPLAYED.
    not_replayed: usize,
    /// Replayed before a reopen, only to make the state (counted in another run).
    setup: usize,
}

async fn replay_az(c: &AzCassette, tally: &mut Tally, used: &mut BTreeSet<&'static str>) -> AzRun {
    let text = std::fs::read_to_string(recordings().join(c.file)).unwrap();
    let cassette: VcrCassette = serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", c.file));
    let run = c.run();
    let key = format!("{run}: {}", c.file);
    let mut s = Sim::in_era(1, c.era);
    let op = s.sim.operator();
    let admin = s.sim.personas().into_iter().find(|p| p.user_principal_name.starts_with("admin@")).expect("an admin persona");
    let domain = admin.user_principal_name.split_once('@').unwrap().1.to_string();
    let tokens = az_tokens(&s, c.caller, &admin.user_principal_name).await;
    let mut ids = IdMap::default();
    // The scrubbed subscription looks like a placeholder, and is one: it stands for ours.
    ids.pairs.push((REC_SUBSCRIPTION.to_string(), op.subscription_id.clone()));
    REC_TENANTS.iter().for_each(|t| ids.learn(t, &op.tenant_id));
    REC_DOMAINS.iter().for_each(|d| ids.learn(d, &domain));
    ids.learn(REC_USER, &admin.user_principal_name);
    ids.learn(REC_SCRUBBED_DOMAIN, &format!("@{domain}"));
    for b in c.before {
        prepare(&s, &tokens, &op.subscription_id, b, &mut ids).await;
    }
    let mut out = AzRun::default();
    for (i, it) in cassette.interactions.iter().enumerate() {
        if let Some(why) = listed(AZ_NOT_REPLAYED, &key, i) {
            println!("  not replayed: {} ({run}) #{i} {} {} ({why})", c.file, it.request.method, it.request.uri);
            out.not_replayed += 1;
            continue;
        }
        if c.reopen.as_ref().is_some_and(|r| r.at == i) {
            s = reopened(&s, c.reopen.as_ref().unwrap().era);
        }
        let setup = c.reopen.as_ref().is_some_and(|r| i < r.at);
        // Virtual time passes while a poller waits; a client's tokens are renewed as they expire.
        let tokens = az_tokens(&s, c.caller, &admin.user_principal_name).await;
        let uri = ids.apply(&it.request.uri);
        let (path, token) = if let Some(p) = uri.strip_prefix("https://graph.microsoft.com") {
            (p.to_string(), &tokens.graph)
        } else if let Some(p) = uri.strip_prefix("https://management.azure.com") {
            (p.to_string(), &tokens.arm)
        } else {
            panic!("{}: a host this replay does not serve: {uri}", c.file)
        };
        let body = it.request.body.as_deref().map(|b| ids.apply(b)).unwrap_or_default();
        let mut headers = vec![("authorization".to_string(), format!("Bearer {token}"))];
        if !body.is_empty() {
            headers.push(("content-type".into(), "application/json".into()));
        }
        let send = || {
            let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let (m, p, b) = (it.request.method.clone(), path.clone(), body.clone().into_bytes());
            let s = &s;
            async move { s.send(&m, &p, &h, b).await }
        };
        let recorded = json_or_null(it.response.body.string.as_bytes());
        let mut resp = send().await;
        // A poller waits as long as the operation takes: where the recording's poll saw the
        // operation finished, let virtual time pass until the simulator's has too.
        if path.contains("/operations/") && recorded.as_ref().is_some_and(is_terminal) {
            for _ in 0..200 {
                if json_or_null(&resp.body).as_ref().is_some_and(is_terminal) {
                    break;
                }
                s.clock.advance(std::time::Duration::from_secs(15));
                resp = send().await;
            }
        }
        let ours = json_or_null(&resp.body);
        let mut problems = Vec::new();
        if let (Some(rec), Some(our)) = (&recorded, &ours) {
            collection_differences(rec, our, &ids, &mut problems);
            ids.align(rec, our, "");
        }
        // A poller's link (Azure-AsyncOperation, Location) ends in the operation's id.
        for (name, values) in &it.response.headers {
            if let (Some(rec), Some(our)) = (values.first(), resp.headers.get(name.as_str()).and_then(|v| v.to_str().ok())) {
                let last = |u: &str| u.split('?').next().unwrap_or_default().rsplit('/').next().unwrap_or_default().to_string();
                ids.learn(&last(rec), &last(our));
            }
        }
        if resp.status != it.response.status.code {
            problems.push(format!("status {} where Azure answered {}", resp.status, it.response.status.code));
        }
        match (&recorded, &ours) {
            (Some(rec), Some(our)) => {
                if service_error_code(rec) != service_error_code(our) {
                    problems.push(format!("error {:?} where Azure said {:?}", service_error_code(our), service_error_code(rec)));
                }
                let (mut want, mut have) = (BTreeSet::new(), BTreeSet::new());
                key_paths(rec, "", &mut want);
                key_paths(our, "", &mut have);
                problems.extend(want.difference(&have).map(|p| format!("missing {p}")));
                problems.extend(have.difference(&want).map(|p| format!("extra {p}")));
                setting_differences(rec, our, "", "", &mut problems);
            }
            (Some(_), None) => problems.push("no body where Azure sent JSON".into()),
            (None, Some(_)) => problems.push(format!("a body where Azure sent none: {}", resp.text())),
            (None, None) => {}
        }
        let what = format!("{} ({run}) #{i} {} {}", c.file, it.request.method, it.request.uri);
        if let Some(why) = listed(DELIBERATE_EXCHANGES, &key, i) {
            assert!(!setup, "{what}: an exchange replayed only to make the state is not listed");
            assert!(!problems.is_empty(), "{what} is listed as deliberately different but matches now: remove it from DELIBERATE_EXCHANGES and docs/fidelity.md");
            println!("  deliberately different: {what}: {} ({why})", problems.first().cloned().unwrap_or_default());
            out.matched += 1;
            tally.deliberate += 1;
            continue;
        }
        let (listed, unlisted): (Vec<String>, Vec<String>) = problems.into_iter().partition(|p| deliberate(c.file, p).is_some());
        for p in &listed {
            if let Some(d) = DELIBERATE.iter().find(|(f, q, _)| c.file.starts_with(f) && p.starts_with(q)) {
                used.insert(d.1);
            }
        }
        if !unlisted.is_empty() {
            out.mismatched.push(format!("{what}: {}", unlisted.join("; ")));
        } else if setup {
            out.setup += 1;
        } else {
            out.matched += 1;
            if !listed.is_empty() {
                tally.deliberate += 1;
                println!("  deliberately different: {what}: {}", listed.join("; "));
            }
        }
    }
    out
}

#[tokio::test]
async fn azure_cli_recordings_replay_against_graph_and_arm() {
    let mut total = Tally::default();
    let mut used = BTreeSet::new();
    let (mut not_replayed, mut setup) = (0, 0);
    for c in AZ_CASSETTES {
        let r = replay_az(c, &mut total, &mut used).await;
        let extra = if r.setup > 0 { format!(" ({} replayed only to make the state, counted in the {} run)", r.setup, c.era.name()) } else { String::new() };
        println!("{} ({}): {} matched, {} mismatched{extra}", c.file, c.run(), r.matched, r.mismatched.len());
        for m in &r.mismatched {
            println!("  {m}");
        }
        total.matched += r.matched;
        total.mismatched.extend(r.mismatched);
        not_replayed += r.not_replayed;
        setup += r.setup;
    }
    println!(
        "{} matched, {} mismatched ({} of the matched differ deliberately; {not_replayed} not replayed; {setup} replayed only to make a reopened state)",
        total.matched,
        total.mismatched.len(),
        total.deliberate
    );
    assert_eq!(not_replayed, AZ_NOT_REPLAYED.len(), "every exchange listed in AZ_NOT_REPLAYED is met");
    assert!(total.mismatched.is_empty(), "{} matched, {} mismatched:\n{}", total.matched, total.mismatched.len(), total.mismatched.join("\n"));
    let stale: Vec<&str> = DELIBERATE.iter().map(|d| d.1).filter(|p| !used.contains(p)).collect();
    assert!(stale.is_empty(), "listed as deliberate differences but no longer seen (remove them here and in docs/fidelity.md): {stale:?}");
}
