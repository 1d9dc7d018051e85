//! A fresh directory for a seed: two tenants (Contoso, home; Fabrikam, for guests and the
//! "other tenant" cases), the first-party service principals with Microsoft's consent for
//! its own clients, and personas to sign in as:
//!
//! | persona | what it is |
//! |---|---|
//! | `admin@contoso.onmicrosoft.com` | Global Administrator |
//! | `alice@contoso.onmicrosoft.com`, `bob@…` | ordinary members |
//! | `crowded@contoso.onmicrosoft.com` | member of 201 groups (`overage-001` … `overage-201`), past the token limit |
//! | `carol@fabrikam.onmicrosoft.com` | a Fabrikam user, invited to Contoso as a guest |
//! | `dave@fabrikam.onmicrosoft.com` | a Fabrikam member (another tenant) |
//!
//! Passwords are derived from the seed (`persona_password`), never stored in clear.

use super::model::*;
use super::well_known::{FIRST_PARTY, PRECONSENTED};
use crate::ids::IdSource;

pub const HOME_DOMAIN: &str = "contoso.onmicrosoft.com";
pub const OTHER_DOMAIN: &str = "fabrikam.onmicrosoft.com";
/// Groups the `crowded` persona is in: one past the token limit.
pub const CROWDED_GROUPS: usize = 201;
pub const DEFAULT_GROUP_CLAIM_LIMIT: usize = 200;

/// A persona's password: the same for the same seed, different across seeds.
pub fn persona_password(seed: u64, upn: &str) -> String {
    let h = hash(&format!("{seed}:{}", upn.to_ascii_lowercase()));
    format!("Sim-{}-{}!", &h[..8], &h[8..14])
}

/// (sign-in name, display name, tenant domain, admin, guest in home?)
const PERSONAS: &[(&str, &str, bool)] = &[
    ("admin@contoso.onmicrosoft.com", "Contoso Admin", true),
    ("alice@contoso.onmicrosoft.com", "Alice Example", false),
    ("bob@contoso.onmicrosoft.com", "Bob Example", false),
    ("crowded@contoso.onmicrosoft.com", "Crowded Example", false),
    ("carol@fabrikam.onmicrosoft.com", "Carol Fabrikam", false),
    ("dave@fabrikam.onmicrosoft.com", "Dave Fabrikam", false),
];

impl Directory {
    pub fn seeded(ids: &mut IdSource, now_ms: i64) -> Self {
        let seed = ids.seed();
        let home = Tenant { id: ids.guid().to_string(), default_domain: HOME_DOMAIN.into(), display_name: "Contoso".into() };
        let other = Tenant { id: ids.guid().to_string(), default_domain: OTHER_DOMAIN.into(), display_name: "Fabrikam".into() };
        let mut dir = Directory {
            home_tenant: home.id.clone(),
            tenants: vec![home.clone(), other.clone()],
            users: Default::default(),
            groups: Default::default(),
            applications: vec![],
            service_principals: Default::default(),
            grants: vec![],
            app_role_assignments: vec![],
            group_claim_limit: DEFAULT_GROUP_CLAIM_LIMIT,
            seeded_ids: Default::default(),
            deleted: Vec::new(),
        };
        for tenant in [&home, &other] {
            dir.seed_first_party(ids, &tenant.id, now_ms);
        }
        for (upn, name, admin) in PERSONAS {
            let domain = upn.split('@').nth(1).unwrap_or_default();
            let tenant = if domain == HOME_DOMAIN { &home } else { &other };
            dir.users.push(User {
                id: ids.guid().to_string(),
                tenant_id: tenant.id.clone(),
                user_principal_name: upn.to_string(),
                display_name: name.to_string(),
                given_name: name.split(' ').next().map(String::from),
                surname: name.split(' ').nth(1).map(String::from),
                mail_nickname: upn.split('@').next().unwrap_or_default().to_string(),
                user_type: UserType::Member,
                home_tenant_id: tenant.id.clone(),
                home_upn: upn.to_string(),
                account_enabled: true,
                password_sha256: hash(&persona_password(seed, upn)),
                tenant_admin: *admin,
                job_title: None,
            });
        }
        // Carol is invited to Contoso: a guest object there, signing in with her Fabrikam name.
        let carol_home = "carol@fabrikam.onmicrosoft.com";
        dir.users.push(User {
            id: ids.guid().to_string(),
            tenant_id: home.id.clone(),
            user_principal_name: format!("carol_fabrikam.onmicrosoft.com#EXT#@{HOME_DOMAIN}"),
            display_name: "Carol Fabrikam".into(),
            given_name: Some("Carol".into()),
            surname: Some("Fabrikam".into()),
            mail_nickname: "carol_fabrikam.onmicrosoft.com#EXT#".into(),
            user_type: UserType::Guest,
            home_tenant_id: other.id.clone(),
            home_upn: carol_home.into(),
            account_enabled: true,
            password_sha256: hash(&persona_password(seed, carol_home)),
            tenant_admin: false,
            job_title: None,
        });
        let crowded = dir.users.iter().find(|u| u.user_principal_name.starts_with("crowded@")).map(|u| u.id.clone()).unwrap_or_default();
        for i in 1..=CROWDED_GROUPS {
            let name = format!("overage-{i:03}");
            dir.groups.push(Group {
                id: ids.guid().to_string(),
                tenant_id: home.id.clone(),
                display_name: name.clone(),
                mail_nickname: name,
                description: Some("A group that puts crowded@ past the token's group limit".into()),
                security_enabled: true,
                mail_enabled: false,
                members: vec![crowded.clone()],
                owners: vec![],
                created_ms: now_ms,
            });
        }
        dir
    }

    fn seed_first_party(&mut self, ids: &mut IdSource, tenant_id: &str, now_ms: i64) {
        for fp in FIRST_PARTY {
            let scopes = fp
                .scopes
                .iter()
                .map(|(id, value, kind)| PermissionScope {
                    id: id.to_string(),
                    value: value.to_string(),
                    kind: kind.to_string(),
                    is_enabled: true,
                    admin_consent_display_name: Some(value.to_string()),
                    admin_consent_description: None,
                    user_consent_display_name: None,
                    user_consent_description: None,
                })
                .collect();
            let roles = fp
                .roles
                .iter()
                .map(|(id, value)| AppRole {
                    id: id.to_string(),
                    value: Some(value.to_string()),
                    allowed_member_types: vec!["Application".into()],
                    display_name: Some(value.to_string()),
                    description: None,
                    is_enabled: true,
                })
                .collect();
            self.service_principals.push(ServicePrincipal {
                id: ids.guid().to_string(),
                app_id: fp.app_id.into(),
                tenant_id: tenant_id.into(),
                app_owner_tenant_id: "f8cdef31-a31e-4b4a-93e4-5f571e91255a".into(),
                display_name: fp.display_name.into(),
                account_enabled: true,
                service_principal_names: std::iter::once(fp.app_id).chain(fp.names.iter().copied()).map(String::from).collect(),
                password_credentials: vec![],
                tenant_admin: false,
                oauth2_permission_scopes: scopes,
                app_roles: roles,
                group_membership_claims: fp.group_membership_claims.map(String::from),
                public_client: fp.public_client,
                created_ms: now_ms,
                settings: Default::default(),
                owners: vec![],
            });
        }
        for (client, resource, scope) in PRECONSENTED {
            let client_sp = self.service_principal(tenant_id, client).map(|s| s.id.clone()).unwrap_or_default();
            let resource_sp = self.service_principal(tenant_id, resource).map(|s| s.id.clone()).unwrap_or_default();
            self.grants.push(PermissionGrant {
                id: PermissionGrant::new_id(ids, &client_sp, &resource_sp, None),
                client_id: client_sp,
                consent_type: "AllPrincipals".into(),
                principal_id: None,
                resource_id: resource_sp,
                scope: scope.to_string(),
            });
        }
    }

    /// Registers a confidential application with a service principal and one secret (the
    /// runner's operator is made this way).
    pub fn register_app(&mut self, ids: &mut IdSource, tenant_id: &str, display_name: &str, secret: &str, now_ms: i64, tenant_admin: bool) -> (Application, ServicePrincipal) {
        let app_id = ids.guid().to_string();
        let cred = PasswordCredential::new(ids.guid().to_string(), Some("aksflow".into()), secret, now_ms, now_ms + 2 * YEAR_MS);
        let mut app = Application::new(ids.guid().to_string(), app_id.clone(), tenant_id, display_name, vec![], now_ms);
        app.password_credentials = vec![cred];
        let sp = ServicePrincipal {
            id: ids.guid().to_string(),
            app_id: app_id.clone(),
            tenant_id: tenant_id.into(),
            app_owner_tenant_id: tenant_id.into(),
            display_name: display_name.into(),
            account_enabled: true,
            service_principal_names: vec![app_id],
            password_credentials: vec![],
            tenant_admin,
            oauth2_permission_scopes: vec![],
            app_roles: vec![],
            group_membership_claims: None,
            public_client: false,
            created_ms: now_ms,
            settings: Default::default(),
            owners: vec![],
        };
        self.applications.push(app.clone());
        self.service_principals.push(sp.clone());
        (app, sp)
    }
}

pub const YEAR_MS: i64 = 365 * 24 * 3600 * 1000;
