//! The cluster API's authentication rules, one test per rule, each written so that breaking
//! the rule breaks the test (checked with cargo-mutants; see docs/testing.md).

use std::sync::Arc;

use serde_json::json;

use super::*;
use crate::arm::aks::{self, AadSpec, ClusterSpec};
use crate::ids::IdSource;
use crate::login::tokens::{AccessClaims, TokenError};

const NOW: i64 = 1_800_000_000;
const SERVER_SECRET: &str = "server-app-secret";
const SERVER_URI: &str = "api://myAKSServer";

struct World {
    dir: Directory,
    key: Arc<SigningKey>,
    tenant: String,
    /// The legacy server app registered in the directory (its appId).
    server_app: String,
}

/// A directory with the legacy server app, its Directory.Read.All consented by an admin.
fn world() -> World {
    let mut w = world_without_consent();
    let mut ids = IdSource::new(8);
    let admin = w.dir.user(&w.tenant, "admin@contoso.onmicrosoft.com").unwrap().id.clone();
    let admin = crate::directory::Caller { tenant_id: w.tenant.clone(), object_id: admin, is_app: false };
    let graph = w.dir.resource(&w.tenant, crate::directory::well_known::MICROSOFT_GRAPH).unwrap().id.clone();
    let server_sp = w.dir.service_principal(&w.tenant, &w.server_app).unwrap().id.clone();
    w.dir.assign_app_role(&mut ids, &admin, &graph, &server_sp, crate::directory::well_known::GRAPH_DIRECTORY_READ_ALL_ROLE, 0).unwrap();
    w
}

fn world_without_consent() -> World {
    let mut ids = IdSource::new(7);
    let mut dir = Directory::seeded(&mut ids, 0);
    let tenant = dir.home_tenant.clone();
    let (app, _) = dir.register_app(&mut ids, &tenant, "myAKSServer", SERVER_SECRET, NOW * 1000, false);
    dir.applications.iter_mut().find(|a| a.app_id == app.app_id).unwrap().identifier_uris = vec![SERVER_URI.into()];
    World { dir, key: SigningKey::for_seed(7), tenant, server_app: app.app_id }
}

fn cluster(w: &World, aad: AadSpec) -> ManagedCluster {
    let spec = ClusterSpec { location: Some("eastus".into()), aad: Some(aad), ..Default::default() };
    aks::create(&mut IdSource::new(1), "00000000-aaaa", "rg", "aks", spec, &w.tenant, 0, crate::era::Era::Y2019).unwrap()
}

fn managed(w: &World) -> ManagedCluster {
    cluster(w, AadSpec { managed: Some(true), ..Default::default() })
}

fn legacy(w: &World, secret: &str) -> ManagedCluster {
    let aad = AadSpec {
        client_app_id: Some("client".into()),
        server_app_id: Some(w.server_app.clone()),
        server_app_secret: Some(secret.into()),
        ..Default::default()
    };
    cluster(w, aad)
}

fn oid_of(w: &World, upn: &str) -> String {
    w.dir.user(&w.tenant, upn).unwrap().id.clone()
}

/// A v1 user token for `aud` from the cluster's tenant, as Entra mints it for kubelogin.
fn user_claims(w: &World, upn: &str, aud: &str) -> AccessClaims {
    let oid = oid_of(w, upn);
    AccessClaims {
        aud: aud.into(),
        iss: tokens::v1_issuer(&w.tenant),
        iat: NOW,
        nbf: NOW,
        exp: NOW + 3600,
        tid: w.tenant.clone(),
        oid: oid.clone(),
        sub: oid,
        ver: "1.0".into(),
        appid: Some("client".into()),
        appidacr: Some("0".into()),
        azp: None,
        idtyp: Some("user".into()),
        upn: Some(upn.into()),
        unique_name: Some(upn.into()),
        name: None,
        scp: Some("user.read".into()),
        roles: None,
        groups: None,
        _claim_names: None,
        _claim_sources: None,
        uti: "u".into(),
    }
}

/// The claims of a token past the group limit: no `groups`, the overage pointer instead.
fn overage(mut c: AccessClaims) -> AccessClaims {
    c._claim_names = Some(json!({ "groups": "src1" }));
    c._claim_sources = Some(json!({ "src1": { "endpoint": "https://graph.windows.net/t/users/o/getMemberObjects" } }));
    c
}

/// A service principal's token (client credentials): no upn, `idtyp` app.
fn app_claims(w: &World, aud: &str) -> AccessClaims {
    AccessClaims { upn: None, unique_name: None, scp: None, idtyp: Some("app".into()), ..user_claims(w, "alice@contoso.onmicrosoft.com", aud) }
}

fn authn(w: &World, c: &ManagedCluster, claims: &AccessClaims) -> Result<Authenticated, AuthnError> {
    authenticate(&w.dir, &w.key, c, Some(&tokens::mint(&w.key, claims)), NOW)
}

fn only_authenticated(a: &Authenticated) -> bool {
    a.user.groups == [SYSTEM_AUTHENTICATED]
}

#[test]
fn the_local_account_is_system_masters_while_local_accounts_are_enabled() {
    let w = world();
    let c = managed(&w);
    let a = authenticate(&w.dir, &w.key, &c, Some(&c.admin_token), NOW).unwrap();
    assert_eq!(a.user, UserInfo::new("masterclient", &[SYSTEM_MASTERS, SYSTEM_AUTHENTICATED]));
    assert_eq!(a.object_id, None);
}

#[test]
fn the_local_account_is_refused_once_local_accounts_are_disabled() {
    let w = world();
    let mut c = managed(&w);
    c.disable_local_accounts = true;
    assert_eq!(authenticate(&w.dir, &w.key, &c, Some(&c.admin_token), NOW).unwrap_err(), AuthnError::LocalAccountsDisabled);
}

/// The cluster's own PKI, valid at NOW.
fn cluster_pki(c: &ManagedCluster) -> crate::pki::Pki {
    crate::pki::Pki::new(7, NOW - 60).for_cluster(&c.pki_key())
}

/// The admin kubeconfig's client certificate, as a TLS client presents it, from `pki`.
fn admin_certificate(pki: &crate::pki::Pki) -> super::super::x509::PeerCertificate {
    let pem = pki.client("admin", "masterclient", "system:masters").cert_pem;
    super::super::x509::PeerCertificate(super::super::x509::first_der(&pem).unwrap())
}

#[test]
fn a_client_certificate_from_the_cluster_ca_comes_before_the_token_and_outlives_disabling_local_accounts() {
    let w = world();
    let mut c = managed(&w);
    let pki = cluster_pki(&c);
    let cert = admin_certificate(&pki);
    let a = authenticate_request(&w.dir, &w.key, &c, &pki.ca_der, Some(&cert), Some("not a token"), NOW).unwrap();
    assert_eq!(a.user, UserInfo::new("masterclient", &[SYSTEM_MASTERS, SYSTEM_AUTHENTICATED]));
    // AKS: after disabling local accounts, certificates stay valid until they are rotated.
    c.disable_local_accounts = true;
    assert!(authenticate_request(&w.dir, &w.key, &c, &pki.ca_der, Some(&cert), None, NOW).is_ok());
    assert_eq!(authenticate_request(&w.dir, &w.key, &c, &pki.ca_der, None, Some(&c.admin_token), NOW).unwrap_err(), AuthnError::LocalAccountsDisabled);
}

#[test]
fn a_certificate_of_another_ca_or_a_rotated_cluster_falls_back_to_the_token() {
    let w = world();
    let mut c = managed(&w);
    let cert = admin_certificate(&cluster_pki(&c));
    c.certificate_generation += 1;
    let rotated = cluster_pki(&c);
    assert_eq!(authenticate_request(&w.dir, &w.key, &c, &rotated.ca_der, Some(&cert), None, NOW).unwrap_err(), AuthnError::NoCredentials);
    let a = authenticate_request(&w.dir, &w.key, &c, &rotated.ca_der, Some(&cert), Some(&c.admin_token), NOW).unwrap();
    assert_eq!(a.user.name, "masterclient", "the token still authenticates");
}

#[test]
fn no_or_blank_bearer_is_no_credentials() {
    let w = world();
    let c = managed(&w);
    for bearer in [None, Some(""), Some("   ")] {
        assert_eq!(authenticate(&w.dir, &w.key, &c, bearer, NOW).unwrap_err(), AuthnError::NoCredentials, "{bearer:?}");
    }
}

#[test]
fn a_token_on_a_cluster_without_aad_is_refused() {
    let w = world();
    let spec = ClusterSpec { location: Some("eastus".into()), ..Default::default() };
    let c = aks::create(&mut IdSource::new(1), "00000000-aaaa", "rg", "aks", spec, &w.tenant, 0, crate::era::Era::Y2019).unwrap();
    let t = user_claims(&w, "alice@contoso.onmicrosoft.com", AKS_AAD_SERVER);
    assert_eq!(authn(&w, &c, &t).unwrap_err(), AuthnError::NotAadCluster);
}

#[test]
fn a_managed_cluster_accepts_the_aks_server_app_with_or_without_spn_prefix() {
    let w = world();
    let c = managed(&w);
    for aud in [AKS_AAD_SERVER.to_string(), format!("spn:{AKS_AAD_SERVER}")] {
        let a = authn(&w, &c, &user_claims(&w, "alice@contoso.onmicrosoft.com", &aud)).unwrap();
        assert_eq!(a.user.name, "alice@contoso.onmicrosoft.com");
        assert_eq!(a.object_id.as_deref(), Some(oid_of(&w, "alice@contoso.onmicrosoft.com").as_str()));
    }
}

#[test]
fn a_legacy_cluster_accepts_its_server_apps_identifier_uris_as_audience() {
    let w = world();
    let c = legacy(&w, SERVER_SECRET);
    let a = authn(&w, &c, &user_claims(&w, "alice@contoso.onmicrosoft.com", SERVER_URI)).unwrap();
    assert_eq!(a.user.name, "alice@contoso.onmicrosoft.com");
    // …and still only its own: another app's URI is the wrong audience.
    let e = authn(&w, &c, &user_claims(&w, "alice@contoso.onmicrosoft.com", "api://someone-else")).unwrap_err();
    assert_eq!(e, AuthnError::Token(TokenError::WrongAudience("api://someone-else".into()).to_string()));
}

#[test]
fn only_the_v1_issuer_of_the_clusters_tenant_is_trusted() {
    let w = world();
    let c = managed(&w);
    let other_tenant = w.dir.tenants.iter().find(|t| t.id != w.tenant).unwrap().id.clone();
    for iss in [tokens::v2_issuer("https://login.microsoftonline.com", &w.tenant), tokens::v1_issuer(&other_tenant), "https://evil.example/".into()] {
        let t = AccessClaims { iss: iss.clone(), ..user_claims(&w, "alice@contoso.onmicrosoft.com", AKS_AAD_SERVER) };
        assert_eq!(authn(&w, &c, &t).unwrap_err(), AuthnError::Token(TokenError::WrongIssuer(iss).to_string()));
    }
}

#[test]
fn the_username_is_the_upn_or_else_the_object_id() {
    let w = world();
    let c = managed(&w);
    let guest = AccessClaims { upn: None, ..user_claims(&w, "alice@contoso.onmicrosoft.com", AKS_AAD_SERVER) };
    assert_eq!(authn(&w, &c, &guest).unwrap().user.name, oid_of(&w, "alice@contoso.onmicrosoft.com"));
}

#[test]
fn groups_come_from_the_token_and_system_authenticated_is_added() {
    let w = world();
    let c = managed(&w);
    let t = AccessClaims { groups: Some(vec!["g1".into(), "g2".into()]), ..user_claims(&w, "crowded@contoso.onmicrosoft.com", AKS_AAD_SERVER) };
    assert_eq!(authn(&w, &c, &t).unwrap().user.groups, ["g1", "g2", SYSTEM_AUTHENTICATED]);
}

#[test]
fn past_the_group_limit_a_users_groups_are_read_from_the_directory() {
    let w = world();
    let c = managed(&w);
    let crowded = oid_of(&w, "crowded@contoso.onmicrosoft.com");
    let a = authn(&w, &c, &overage(user_claims(&w, "crowded@contoso.onmicrosoft.com", AKS_AAD_SERVER))).unwrap();
    let mut want = w.dir.transitive_groups(&w.tenant, &crowded);
    assert!(want.len() > w.dir.group_claim_limit);
    want.push(SYSTEM_AUTHENTICATED.into());
    assert_eq!(a.user.groups, want);
}

#[test]
fn a_service_principal_past_the_group_limit_is_refused() {
    let w = world();
    let c = managed(&w);
    assert_eq!(authn(&w, &c, &overage(app_claims(&w, AKS_AAD_SERVER))).unwrap_err(), AuthnError::ServicePrincipalOverage);
    // Without the overage claim the same principal is let in (with no groups).
    assert!(only_authenticated(&authn(&w, &c, &app_claims(&w, AKS_AAD_SERVER)).unwrap()));
}

#[test]
fn claim_names_without_groups_is_not_a_group_overage() {
    let w = world();
    let c = managed(&w);
    let other_claims = |claims: AccessClaims| AccessClaims { _claim_names: Some(json!({ "roles": "src1" })), ..claims };
    let user = authn(&w, &c, &other_claims(user_claims(&w, "crowded@contoso.onmicrosoft.com", AKS_AAD_SERVER))).unwrap();
    assert!(only_authenticated(&user), "{:?}", user.user.groups);
    let app = authn(&w, &c, &other_claims(app_claims(&w, AKS_AAD_SERVER))).unwrap();
    assert!(only_authenticated(&app), "{:?}", app.user.groups);
}

#[test]
fn a_legacy_cluster_reads_every_users_groups_from_graph_and_never_the_token() {
    let w = world();
    let c = legacy(&w, SERVER_SECRET);
    let crowded = overage(user_claims(&w, "crowded@contoso.onmicrosoft.com", &w.server_app));
    let mut want = w.dir.transitive_groups(&w.tenant, &oid_of(&w, "crowded@contoso.onmicrosoft.com"));
    assert!(want.len() > w.dir.group_claim_limit, "guard has no group limit of its own");
    want.push(SYSTEM_AUTHENTICATED.into());
    assert_eq!(authn(&w, &c, &crowded).unwrap().user.groups, want);
    let claimed = AccessClaims { groups: Some(vec!["claimed".into()]), ..user_claims(&w, "alice@contoso.onmicrosoft.com", &w.server_app) };
    let a = authn(&w, &c, &claimed).unwrap();
    assert_eq!(a.user.name, "alice@contoso.onmicrosoft.com");
    assert!(!a.user.groups.contains(&"claimed".to_string()), "{:?}", a.user.groups);
}

#[test]
fn a_wrong_server_secret_locks_every_user_out_of_a_legacy_cluster() {
    let w = world();
    let c = legacy(&w, "not-the-secret");
    let tenant = &w.tenant;
    for user in ["alice@contoso.onmicrosoft.com", "crowded@contoso.onmicrosoft.com"] {
        let e = authn(&w, &c, &user_claims(&w, user, &w.server_app)).unwrap_err();
        assert_eq!(e, AuthnError::LegacyGraph { request: format!("/{tenant}/oauth2/v2.0/token"), status: 401 });
    }
}

#[test]
fn a_server_app_without_directory_consent_locks_every_user_out_of_a_legacy_cluster() {
    let w = world_without_consent();
    let c = legacy(&w, SERVER_SECRET);
    let e = authn(&w, &c, &user_claims(&w, "alice@contoso.onmicrosoft.com", &w.server_app)).unwrap_err();
    assert_eq!(e, AuthnError::LegacyGraph { request: "/v1.0/users/alice@contoso.onmicrosoft.com/getMemberGroups".into(), status: 403 });
    // The same token on a managed cluster needs no app of the tenant's.
    assert!(authn(&w, &managed(&w), &user_claims(&w, "alice@contoso.onmicrosoft.com", AKS_AAD_SERVER)).is_ok());
}

#[test]
fn a_service_principal_is_no_user_to_a_legacy_clusters_graph_lookup() {
    let w = world();
    let c = legacy(&w, SERVER_SECRET);
    let app = AccessClaims { oid: "0a0a0a0a-0000-0000-0000-000000000000".into(), ..app_claims(&w, &w.server_app) };
    let e = authn(&w, &c, &app).unwrap_err();
    assert_eq!(e, AuthnError::LegacyGraph { request: "/v1.0/users/0a0a0a0a-0000-0000-0000-000000000000/getMemberGroups".into(), status: 404 });
}

#[test]
fn a_managed_cluster_reads_overage_groups_without_any_app_secret() {
    let w = world();
    // A managed cluster has no server app secret: asking the directory with one would fail.
    let c = managed(&w);
    let a = authn(&w, &c, &overage(user_claims(&w, "crowded@contoso.onmicrosoft.com", AKS_AAD_SERVER))).unwrap();
    assert!(a.user.groups.len() > w.dir.group_claim_limit);
}

#[test]
fn token_refusals_keep_their_kind() {
    let w = world();
    let c = managed(&w);
    let t = user_claims(&w, "alice@contoso.onmicrosoft.com", AKS_AAD_SERVER);
    let e = authenticate(&w.dir, &w.key, &c, Some(&tokens::mint(&w.key, &t)), t.exp).unwrap_err();
    assert_eq!(e, AuthnError::Token(TokenError::Expired { exp: t.exp, now: t.exp }.to_string()));
    assert_eq!(authenticate(&w.dir, &w.key, &c, Some("not-a-jwt"), NOW).unwrap_err(), AuthnError::Token(TokenError::Malformed.to_string()));
}
