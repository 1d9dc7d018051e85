//! Access tokens: minted RS256 with the tenant's signing key, checked the way a resource
//! (ARM, Graph, a cluster's webhook) checks them. Time is the virtual clock's, never the
//! wall clock's, so a test can jump past `exp`.

use jsonwebtoken::{Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::directory::{Directory, ServicePrincipal};
use crate::keys::SigningKey;

/// The claims of an Entra ID access token. [protocols.md §A.6]
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AccessClaims {
    pub aud: String,
    pub iss: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub tid: String,
    pub oid: String,
    pub sub: String,
    pub ver: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appidacr: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idtyp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unique_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub _claim_names: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub _claim_sources: Option<serde_json::Value>,
    #[serde(default)]
    pub uti: String,
}

impl AccessClaims {
    /// An app-only v1 token (client credentials): the service principal `oid` of app
    /// `appid` in `tid`, for `aud`, valid from `iat` until `exp`.
    pub fn app_only(aud: &str, tid: &str, oid: &str, appid: &str, iat: i64, exp: i64, uti: String) -> Self {
        AccessClaims {
            aud: aud.into(),
            iss: v1_issuer(tid),
            iat,
            nbf: iat,
            exp,
            tid: tid.into(),
            oid: oid.into(),
            sub: oid.into(),
            ver: "1.0".into(),
            appid: Some(appid.into()),
            appidacr: Some("1".into()),
            azp: None,
            idtyp: Some("app".into()),
            upn: None,
            unique_name: None,
            name: None,
            scp: None,
            roles: None,
            groups: None,
            _claim_names: None,
            _claim_sources: None,
            uti,
        }
    }
}

/// The v1 issuer, byte for byte as Entra writes it (trailing slash included).
pub fn v1_issuer(tenant_id: &str) -> String {
    format!("https://sts.windows.net/{tenant_id}/")
}

/// The v2 issuer on the simulator's own host.
pub fn v2_issuer(base_url: &str, tenant_id: &str) -> String {
    format!("{base_url}/{tenant_id}/v2.0")
}

/// The group claims of a token for `resource`, when its app asks for them
/// (`groupMembershipClaims`): the object's groups, or past the limit only a pointer to
/// where they can be read (the overage claims). Users and service principals alike.
pub struct GroupClaims {
    pub groups: Option<Vec<String>>,
    pub claim_names: Option<serde_json::Value>,
    pub claim_sources: Option<serde_json::Value>,
}

impl GroupClaims {
    /// `collection` is the object's Graph collection (`users`, `servicePrincipals`), for the
    /// overage pointer.
    pub fn of(dir: &Directory, tenant_id: &str, resource: &ServicePrincipal, collection: &str, object_id: &str) -> GroupClaims {
        let none = GroupClaims { groups: None, claim_names: None, claim_sources: None };
        match resource.group_membership_claims.as_deref() {
            Some(g) if !g.eq_ignore_ascii_case("None") => {}
            _ => return none,
        }
        let groups = dir.transitive_groups(tenant_id, object_id);
        if groups.len() > dir.group_claim_limit {
            return GroupClaims {
                groups: None,
                claim_names: Some(serde_json::json!({ "groups": "src1" })),
                claim_sources: Some(serde_json::json!({ "src1": { "endpoint": format!("https://graph.windows.net/{tenant_id}/{collection}/{object_id}/getMemberObjects") } })),
            };
        }
        GroupClaims { groups: Some(groups), ..none }
    }
}

pub fn mint(key: &SigningKey, claims: &AccessClaims) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(key.kid.clone());
    if claims.ver == "1.0" {
        header.x5t = Some(key.kid.clone());
    }
    jsonwebtoken::encode(&header, claims, &key.encoding).expect("RS256 signing with a valid key")
}

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is not a well-formed JWT")]
    Malformed,
    #[error("the token is signed with an algorithm other than RS256")]
    WrongAlgorithm,
    #[error("the token's signing key `{0}` is not one of the tenant's keys")]
    UnknownKey(String),
    #[error("the token's signature does not verify")]
    BadSignature,
    #[error("the token was issued for audience `{0}`")]
    WrongAudience(String),
    #[error("the token was issued by `{0}`, an issuer this service does not trust")]
    WrongIssuer(String),
    #[error("the token expired at {exp}, and it is now {now}")]
    Expired { exp: i64, now: i64 },
    #[error("the token is not valid before {nbf}, and it is now {now}")]
    NotYetValid { nbf: i64, now: i64 },
}

/// RS256, our key, and a signature that verifies: the claims of a token signed by `key`.
fn verify_signature(key: &SigningKey, token: &str) -> Result<AccessClaims, TokenError> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
    if header.alg != Algorithm::RS256 {
        return Err(TokenError::WrongAlgorithm);
    }
    match header.kid {
        Some(ref kid) if *kid == key.kid => {}
        other => return Err(TokenError::UnknownKey(other.unwrap_or_default())),
    }
    let mut v = Validation::new(Algorithm::RS256);
    // Time and audience are checked by `validate` on every use, against the virtual clock
    // and with our errors.
    v.validate_exp = false;
    v.validate_nbf = false;
    v.validate_aud = false;
    v.required_spec_claims.clear();
    let data = jsonwebtoken::decode::<AccessClaims>(token, &key.decoding, &v).map_err(|e| match e.kind() {
        jsonwebtoken::errors::ErrorKind::InvalidSignature => TokenError::BadSignature,
        _ => TokenError::Malformed,
    })?;
    Ok(data.claims)
}

/// Checks a bearer token: RS256, our key, signature, one of `audiences`, an issuer in
/// `issuers`, and `nbf <= now < exp` by the virtual clock (with Entra's 5-minute skew on nbf).
pub fn validate(
    key: &SigningKey,
    token: &str,
    audiences: &[&str],
    issuers: &dyn Fn(&AccessClaims) -> bool,
    now_secs: i64,
) -> Result<AccessClaims, TokenError> {
    let c = match key.verified.get(token) {
        Some(c) => c,
        None => {
            let c = verify_signature(key, token)?;
            key.verified.insert(token, &c, now_secs);
            c
        }
    };
    if !audiences.iter().any(|a| *a == c.aud) {
        return Err(TokenError::WrongAudience(c.aud));
    }
    if !issuers(&c) {
        return Err(TokenError::WrongIssuer(c.iss));
    }
    if now_secs >= c.exp {
        return Err(TokenError::Expired { exp: c.exp, now: now_secs });
    }
    if now_secs + 300 < c.nbf {
        return Err(TokenError::NotYetValid { nbf: c.nbf, now: now_secs });
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use proptest::prelude::*;

    #[test]
    fn a_token_verified_before_is_still_checked_for_audience_and_time() {
        let k = SigningKey::for_seed(42);
        let trusted = |_: &AccessClaims| true;
        let t = mint(&k, &claims("https://management.azure.com/", 1_800_000_000, 3600));
        assert!(validate(&k, &t, &["https://management.azure.com/"], &trusted, 1_800_000_001).is_ok());
        assert!(k.verified.get(&t).is_some(), "the signature is remembered");
        assert!(matches!(validate(&k, &t, &["https://graph.microsoft.com"], &trusted, 1_800_000_001), Err(TokenError::WrongAudience(_))));
        assert!(matches!(validate(&k, &t, &["https://management.azure.com/"], &trusted, 1_800_003_600), Err(TokenError::Expired { .. })));
        assert!(matches!(validate(&k, &t, &["https://management.azure.com/"], &|_: &AccessClaims| false, 1_800_000_001), Err(TokenError::WrongIssuer(_))));
    }

    fn claims(aud: &str, iat: i64, lifetime: i64) -> AccessClaims {
        AccessClaims::app_only(aud, "t1", "o1", "a1", iat, iat + lifetime, "u".into())
    }

    fn trusted(c: &AccessClaims) -> bool {
        c.iss == v1_issuer(&c.tid)
    }

    fn key() -> std::sync::Arc<SigningKey> {
        SigningKey::for_seed(42)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn minted_tokens_verify_until_exp_and_not_after(iat in 1_700_000_000i64..1_900_000_000, life in 60i64..7200, into in 0i64..7200) {
            let k = key();
            let t = mint(&k, &claims("https://management.azure.com/", iat, life));
            let now = iat + into;
            let r = validate(&k, &t, &["https://management.azure.com/"], &trusted, now);
            if into < life {
                prop_assert_eq!(r.unwrap().exp, iat + life);
            } else {
                prop_assert_eq!(r.unwrap_err(), TokenError::Expired { exp: iat + life, now });
            }
        }

        #[test]
        fn any_changed_payload_byte_breaks_the_signature(pos in 0usize..200, flip in 1u8..=255) {
            let k = key();
            let t = mint(&k, &claims("aud", 1_800_000_000, 3600));
            let parts: Vec<&str> = t.split('.').collect();
            let mut payload = URL_SAFE_NO_PAD.decode(parts[1]).unwrap();
            let i = pos % payload.len();
            payload[i] ^= flip;
            let forged = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(&payload), parts[2]);
            prop_assert_eq!(validate(&k, &forged, &["aud"], &trusted, 1_800_000_001).unwrap_err(), TokenError::BadSignature);
        }

        #[test]
        fn other_audiences_are_refused(aud in "[a-z:/.]{1,30}") {
            prop_assume!(aud != "https://graph.microsoft.com");
            let k = key();
            let t = mint(&k, &claims(&aud, 1_800_000_000, 3600));
            prop_assert_eq!(validate(&k, &t, &["https://graph.microsoft.com"], &trusted, 1_800_000_001).unwrap_err(), TokenError::WrongAudience(aud));
        }
    }

    #[test]
    fn alg_none_unknown_kid_and_foreign_issuer_are_refused() {
        let k = key();
        let good = mint(&k, &claims("aud", 1_800_000_000, 3600));
        let parts: Vec<&str> = good.split('.').collect();
        let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let unsigned = format!("{none_header}.{}.", parts[1]);
        // `none` is not an algorithm jsonwebtoken knows, so the header itself does not parse.
        assert_eq!(validate(&k, &unsigned, &["aud"], &trusted, 1_800_000_001).unwrap_err(), TokenError::Malformed);

        let other_kid = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"RS256","typ":"JWT","kid":"not-{}"}}"#, k.kid));
        let rekeyed = format!("{other_kid}.{}.{}", parts[1], parts[2]);
        assert_eq!(validate(&k, &rekeyed, &["aud"], &trusted, 1_800_000_001).unwrap_err(), TokenError::UnknownKey(format!("not-{}", k.kid)));

        let other_seed = SigningKey::for_seed(43);
        let foreign = mint(&other_seed, &claims("aud", 1_800_000_000, 3600));
        assert_eq!(validate(&k, &foreign, &["aud"], &trusted, 1_800_000_001).unwrap_err(), TokenError::UnknownKey(other_seed.kid.clone()));

        let mut c = claims("aud", 1_800_000_000, 3600);
        c.iss = "https://evil.example/".into();
        let t = mint(&k, &c);
        assert_eq!(validate(&k, &t, &["aud"], &trusted, 1_800_000_001).unwrap_err(), TokenError::WrongIssuer("https://evil.example/".into()));
    }
}

#[cfg(test)]
#[path = "tokens_rules_tests.rs"]
mod rules_tests;
