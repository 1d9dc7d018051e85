//! Directory objects as Graph v1.0 writes them: every property present, nulls included,
//! as the recorded responses show. [protocols.md §B.1, §B.4, §B.9]

use serde_json::{Value, json};

use crate::clock::rfc3339;
use crate::directory::{AppRoleAssignment, Application, Directory, DirectoryObject, Group, PasswordCredential, PermissionGrant, ServicePrincipal, User, UserType};

pub const GRAPH_BASE: &str = "https://graph.microsoft.com/v1.0";

fn time(ms: i64) -> String {
    rfc3339(time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000).unwrap_or(time::OffsetDateTime::UNIX_EPOCH))
}

pub fn context(entity_set: &str, single: bool) -> String {
    if single { format!("{GRAPH_BASE}/$metadata#{entity_set}/$entity") } else { format!("{GRAPH_BASE}/$metadata#{entity_set}") }
}

pub fn password_credential(c: &PasswordCredential, secret: Option<&str>) -> Value {
    json!({
        "customKeyIdentifier": null,
        "displayName": c.display_name,
        "endDateTime": time(c.end_ms),
        "hint": c.hint,
        "keyId": c.key_id,
        "secretText": secret,
        "startDateTime": time(c.start_ms),
    })
}

/// A certificate credential: its `key` is write-only (null when read).
pub fn key_credential(k: &crate::directory::KeyCredential) -> Value {
    let mut v = serde_json::to_value(k).unwrap_or(Value::Null);
    v.as_object_mut().map(|o| o.insert("key".into(), Value::Null));
    v
}

/// The properties of an application that lookups filter on, as [`application`] renders them
/// (a list tests these before it renders the rest: [`crate::graph::filter::Filter::reads_only`]).
pub const APPLICATION_KEYS: &[&str] = &["id", "appId", "displayName", "identifierUris"];

/// [`APPLICATION_KEYS`] of an application, with the values [`application`] gives them. An
/// extra property named like a key in another case is kept too: a filter on that name
/// reads it (the exact name first), in the full rendering as here.
pub fn application_keys(a: &Application) -> Value {
    let mut v = json!({ "id": a.id, "appId": a.app_id, "displayName": a.display_name, "identifierUris": a.identifier_uris });
    for (k, val) in a.extra.iter().filter(|(k, _)| APPLICATION_KEYS.iter().any(|key| key.eq_ignore_ascii_case(k))) {
        v[k] = val.clone();
    }
    v
}

pub fn application(a: &Application, publisher_domain: &str) -> Value {
    let mut v = json!({
        "id": a.id,
        "deletedDateTime": null,
        "appId": a.app_id,
        "applicationTemplateId": null,
        "disabledByMicrosoftStatus": null,
        "createdDateTime": time(a.created_ms),
        "displayName": a.display_name,
        "description": null,
        "groupMembershipClaims": a.group_membership_claims,
        "identifierUris": a.identifier_uris,
        "isDeviceOnlyAuthSupported": null,
        "isFallbackPublicClient": a.is_fallback_public_client,
        "notes": null,
        "publisherDomain": publisher_domain,
        "serviceManagementReference": null,
        "signInAudience": a.sign_in_audience,
        "tags": [],
        "tokenEncryptionKeyId": null,
        "defaultRedirectUri": null,
        "certification": null,
        "optionalClaims": null,
        "addIns": [],
        "api": {
            "acceptMappedClaims": null,
            "knownClientApplications": [],
            "requestedAccessTokenVersion": a.requested_access_token_version,
            "oauth2PermissionScopes": a.oauth2_permission_scopes,
            "preAuthorizedApplications": [],
        },
        "appRoles": a.app_roles,
        "info": { "logoUrl": null, "marketingUrl": null, "privacyStatementUrl": null, "supportUrl": null, "termsOfServiceUrl": null },
        "keyCredentials": a.key_credentials.iter().map(key_credential).collect::<Vec<_>>(),
        "parentalControlSettings": { "countriesBlockedForMinors": [], "legalAgeGroupRule": "Allow" },
        "passwordCredentials": a.password_credentials.iter().map(|c| password_credential(c, None)).collect::<Vec<_>>(),
        "publicClient": { "redirectUris": a.public_client_redirect_uris },
        "requiredResourceAccess": a.required_resource_access,
        "verifiedPublisher": { "displayName": null, "verifiedPublisherId": null, "addedDateTime": null },
        "web": {
            "homePageUrl": null,
            "logoutUrl": null,
            "redirectUris": [],
            "implicitGrantSettings": { "enableAccessTokenIssuance": false, "enableIdTokenIssuance": false },
        },
        "spa": { "redirectUris": [] },
    });
    for (k, val) in &a.extra {
        v[k] = val.clone();
    }
    v
}

/// The properties of a service principal that lookups filter on, as [`service_principal`]
/// renders them.
pub const SERVICE_PRINCIPAL_KEYS: &[&str] = &["id", "appId", "displayName", "servicePrincipalNames"];

/// [`SERVICE_PRINCIPAL_KEYS`] of a service principal, with the values [`service_principal`]
/// gives them.
pub fn service_principal_keys(sp: &ServicePrincipal) -> Value {
    json!({ "id": sp.id, "appId": sp.app_id, "displayName": sp.display_name, "servicePrincipalNames": sp.service_principal_names })
}

pub fn service_principal(sp: &ServicePrincipal, sign_in_audience: &str) -> Value {
    json!({
        "id": sp.id,
        "deletedDateTime": null,
        "accountEnabled": sp.account_enabled,
        "alternativeNames": [],
        "appDisplayName": sp.display_name,
        "appDescription": null,
        "appId": sp.app_id,
        "applicationTemplateId": null,
        "appOwnerOrganizationId": sp.app_owner_tenant_id,
        "appRoleAssignmentRequired": sp.settings.app_role_assignment_required,
        "createdDateTime": time(sp.created_ms),
        "description": sp.settings.description,
        "disabledByMicrosoftStatus": null,
        "displayName": sp.display_name,
        "homepage": null,
        "loginUrl": null,
        "logoutUrl": null,
        "notes": sp.settings.notes,
        "notificationEmailAddresses": [],
        "preferredSingleSignOnMode": null,
        "preferredTokenSigningKeyThumbprint": null,
        "replyUrls": [],
        "servicePrincipalNames": sp.service_principal_names,
        "servicePrincipalType": "Application",
        "signInAudience": sign_in_audience,
        "tags": sp.settings.tags,
        "tokenEncryptionKeyId": null,
        "info": { "logoUrl": null, "marketingUrl": null, "privacyStatementUrl": null, "supportUrl": null, "termsOfServiceUrl": null },
        "samlSingleSignOnSettings": null,
        "addIns": [],
        "appRoles": sp.app_roles,
        "keyCredentials": [],
        "oauth2PermissionScopes": sp.oauth2_permission_scopes,
        "passwordCredentials": sp.password_credentials.iter().map(|c| password_credential(c, None)).collect::<Vec<_>>(),
        "resourceSpecificApplicationPermissions": [],
        "verifiedPublisher": { "displayName": null, "verifiedPublisherId": null, "addedDateTime": null },
    })
}

pub fn user(u: &User) -> Value {
    json!({
        "businessPhones": [],
        "displayName": u.display_name,
        "givenName": u.given_name,
        "jobTitle": u.job_title,
        "mail": if u.user_type == UserType::Guest { Some(u.home_upn.clone()) } else { None },
        "mobilePhone": null,
        "officeLocation": null,
        "preferredLanguage": null,
        "surname": u.surname,
        "userPrincipalName": u.user_principal_name,
        "id": u.id,
    })
}

/// The SID Entra gives a cloud object: `S-1-12-1-` and the object id's 16 bytes (as .NET
/// lays out a GUID) read as four little-endian 32-bit numbers.
fn security_identifier(object_id: &str) -> String {
    let Ok(id) = uuid::Uuid::parse_str(object_id) else { return String::new() };
    let b = id.to_bytes_le();
    let part = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    format!("S-1-12-1-{}-{}-{}-{}", part(0), part(4), part(8), part(12))
}

/// The properties of a group that lookups filter on (`az ad group show` asks by both
/// names), as [`group`] renders them.
pub const GROUP_KEYS: &[&str] = &["id", "displayName", "mailNickname"];

/// [`GROUP_KEYS`] of a group, with the values [`group`] gives them.
pub fn group_keys(g: &Group) -> Value {
    json!({ "id": g.id, "displayName": g.display_name, "mailNickname": g.mail_nickname })
}

/// A group with the properties Graph v1.0 returns by default.
pub fn group(g: &Group) -> Value {
    json!({
        "id": g.id,
        "deletedDateTime": null,
        "classification": null,
        "createdDateTime": time(g.created_ms),
        "creationOptions": [],
        "description": g.description,
        "displayName": g.display_name,
        "expirationDateTime": null,
        "groupTypes": [],
        "isAssignableToRole": null,
        "mail": null,
        "mailEnabled": g.mail_enabled,
        "mailNickname": g.mail_nickname,
        "membershipRule": null,
        "membershipRuleProcessingState": null,
        "onPremisesDomainName": null,
        "onPremisesLastSyncDateTime": null,
        "onPremisesNetBiosName": null,
        "onPremisesSamAccountName": null,
        "onPremisesSecurityIdentifier": null,
        "onPremisesSyncEnabled": null,
        "preferredDataLocation": null,
        "preferredLanguage": null,
        "proxyAddresses": [],
        "renewedDateTime": time(g.created_ms),
        "resourceBehaviorOptions": [],
        "resourceProvisioningOptions": [],
        "securityEnabled": g.security_enabled,
        "securityIdentifier": security_identifier(&g.id),
        "theme": null,
        "uniqueName": null,
        "visibility": null,
        "onPremisesProvisioningErrors": [],
        "serviceProvisioningErrors": [],
    })
}

pub fn grant(g: &PermissionGrant) -> Value {
    json!({
        "clientId": g.client_id,
        "consentType": g.consent_type,
        "id": g.id,
        "principalId": g.principal_id,
        "resourceId": g.resource_id,
        "scope": g.scope,
    })
}

pub fn app_role_assignment(a: &AppRoleAssignment) -> Value {
    json!({
        "id": a.id,
        "deletedDateTime": null,
        "appRoleId": a.app_role_id,
        "createdDateTime": time(a.created_ms),
        "principalDisplayName": a.principal_display_name,
        "principalId": a.principal_id,
        "principalType": a.principal_type,
        "resourceDisplayName": a.resource_display_name,
        "resourceId": a.resource_id,
    })
}

/// Any directory object, with the `@odata.type` that lists of mixed objects carry.
pub fn directory_object(dir: &Directory, o: DirectoryObject<'_>) -> Value {
    let (kind, mut v) = match o {
        DirectoryObject::User(u) => ("#microsoft.graph.user", user(u)),
        DirectoryObject::Group(g) => ("#microsoft.graph.group", group(g)),
        DirectoryObject::ServicePrincipal(sp) => ("#microsoft.graph.servicePrincipal", service_principal(sp, dir.sign_in_audience_of(sp))),
        DirectoryObject::Application(a) => {
            let domain = dir.tenant(&a.tenant_id).map(|t| t.default_domain.clone()).unwrap_or_default();
            ("#microsoft.graph.application", application(a, &domain))
        }
    };
    v["@odata.type"] = json!(kind);
    v
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_security_identifier_is_the_object_id_as_four_little_endian_numbers() {
        // Worked by hand: 00000001-0000-0000-0000-000000000000 is bytes 01 00 00 00 first.
        assert_eq!(super::security_identifier("00000001-0000-0000-0000-000000000000"), "S-1-12-1-1-0-0-0");
        // Data2 and Data3 are little-endian too: 0002 and 0003 land in the second number.
        assert_eq!(super::security_identifier("00000000-0002-0003-0000-000000000000"), "S-1-12-1-0-196610-0-0");
        assert_eq!(super::security_identifier("00000000-0000-0000-0400-000000000005"), "S-1-12-1-0-0-4-83886080");
        assert_eq!(super::security_identifier("not-a-guid"), "");
    }

    /// A list tests these before it renders the rest: they must be what the full rendering
    /// says, for the seeded directory's objects and for newly registered ones.
    #[test]
    fn lookup_keys_are_the_full_renderings_values() {
        use super::*;
        let mut ids = crate::ids::IdSource::new(7);
        let mut dir = crate::directory::Directory::seeded(&mut ids, 0);
        let tenant = dir.home_tenant.clone();
        let (mut app, _) = dir.register_app(&mut ids, &tenant, "registered", "secret", 0, false);
        app.identifier_uris = vec!["api://registered".into()];
        let plain = application_keys(&app);
        // Graph keeps only certain extra properties, none of them a key today; one named
        // like a key in another case is read by a filter on that name, so the keys keep it.
        app.extra.insert("DisplayName".into(), json!("shadow"));
        app.extra.insert("web".into(), json!({ "homePageUrl": null }));
        let check = |keys: Value, full: Value, names: &[&str]| {
            let keys = keys.as_object().unwrap().clone();
            assert_eq!(keys.keys().map(String::as_str).collect::<Vec<_>>(), names.to_vec());
            for (k, v) in &keys {
                assert_eq!(Some(v), full.get(k), "{k}");
            }
        };
        assert!(dir.service_principals.len() > 10);
        for sp in dir.service_principals.iter() {
            check(service_principal_keys(sp), service_principal(sp, "AzureADMyOrg"), SERVICE_PRINCIPAL_KEYS);
        }
        let mut names = APPLICATION_KEYS.to_vec();
        names.push("DisplayName");
        check(application_keys(&app), application(&app, "contoso.onmicrosoft.com"), &names);
        assert!(dir.groups.len() > 200);
        for g in dir.groups.iter() {
            check(group_keys(g), group(g), GROUP_KEYS);
        }
        assert_eq!(plain.as_object().unwrap().len(), APPLICATION_KEYS.len());
    }
}
