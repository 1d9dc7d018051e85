//! The token checks' rules at their exact boundaries, each refusal by its kind, written so
//! that breaking a rule breaks a test (checked with cargo-mutants; see docs/testing.md).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::*;

const AUD: &str = "https://management.azure.com/";
const NOW: i64 = 1_800_000_000;
/// Entra's allowance for clocks that run behind: a token is good this long before its `nbf`.
const SKEW: i64 = 300;

fn key() -> std::sync::Arc<SigningKey> {
    SigningKey::for_seed(42)
}

fn claims(nbf: i64, exp: i64, ver: &str) -> AccessClaims {
    AccessClaims { ver: ver.into(), ..AccessClaims::app_only(AUD, "t1", "o1", "a1", nbf, exp, "u".into()) }
}

fn trusted(c: &AccessClaims) -> bool {
    c.iss == v1_issuer(&c.tid)
}

/// Validates a fresh v1 token with these times at `now`.
fn check_at(nbf: i64, exp: i64, now: i64) -> Result<AccessClaims, TokenError> {
    let k = key();
    validate(&k, &mint(&k, &claims(nbf, exp, "1.0")), &[AUD], &trusted, now)
}

#[test]
fn a_token_is_good_until_the_second_before_exp() {
    let exp = NOW + 3600;
    assert_eq!(check_at(NOW, exp, exp - 1).unwrap().exp, exp);
}

#[test]
fn a_token_is_expired_at_exactly_exp_and_after() {
    let exp = NOW + 3600;
    for now in [exp, exp + 1] {
        assert_eq!(check_at(NOW, exp, now).unwrap_err(), TokenError::Expired { exp, now });
    }
}

#[test]
fn a_token_is_good_from_five_minutes_before_nbf() {
    // Clocks running behind by up to the skew: at nbf − 300 s and later, the token is good.
    for now in [NOW - SKEW, NOW - SKEW + 1, NOW - 1, NOW, NOW + 1] {
        assert!(check_at(NOW, NOW + 3600, now).is_ok(), "now = nbf {:+}", now - NOW);
    }
}

#[test]
fn a_token_is_not_yet_valid_more_than_five_minutes_before_nbf() {
    for now in [NOW - SKEW - 1, NOW - SKEW - 3600] {
        assert_eq!(check_at(NOW, NOW + 3600, now).unwrap_err(), TokenError::NotYetValid { nbf: NOW, now }, "now = nbf {:+}", now - NOW);
    }
}

#[test]
fn the_not_before_skew_is_added_to_now_not_multiplied() {
    // With small clock values `now * 300` would pass where `now + 300` does not.
    assert_eq!(check_at(1_000, 2_000, 10).unwrap_err(), TokenError::NotYetValid { nbf: 1_000, now: 10 });
    assert!(check_at(1_000, 2_000, 700).is_ok());
}

#[test]
fn a_tampered_payload_is_a_bad_signature() {
    let k = key();
    let token = mint(&k, &claims(NOW, NOW + 3600, "1.0"));
    let [header, _, signature] = token.split('.').collect::<Vec<_>>()[..] else { panic!("three parts: {token}") };
    // Well-formed claims, only not the ones that were signed.
    let elevated = AccessClaims { roles: Some(vec!["Owner".into()]), ..claims(NOW, NOW + 3600, "1.0") };
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&elevated).unwrap());
    let forged = format!("{header}.{payload}.{signature}");
    assert_eq!(validate(&k, &forged, &[AUD], &trusted, NOW).unwrap_err(), TokenError::BadSignature);
}

#[test]
fn another_keys_signature_under_our_kid_is_a_bad_signature() {
    let (ours, theirs) = (key(), SigningKey::for_seed(43));
    let token = mint(&ours, &claims(NOW, NOW + 3600, "1.0"));
    let other = mint(&theirs, &claims(NOW, NOW + 3600, "1.0"));
    let (signed, _) = token.rsplit_once('.').unwrap();
    let (_, their_signature) = other.rsplit_once('.').unwrap();
    let forged = format!("{signed}.{their_signature}");
    assert_eq!(validate(&ours, &forged, &[AUD], &trusted, NOW).unwrap_err(), TokenError::BadSignature);
}

#[test]
fn a_token_from_another_key_is_an_unknown_key() {
    let (ours, theirs) = (key(), SigningKey::for_seed(43));
    let foreign = mint(&theirs, &claims(NOW, NOW + 3600, "1.0"));
    assert_eq!(validate(&ours, &foreign, &[AUD], &trusted, NOW).unwrap_err(), TokenError::UnknownKey(theirs.kid.clone()));
}

#[test]
fn a_token_without_kid_is_an_unknown_key() {
    let k = key();
    let token = mint(&k, &claims(NOW, NOW + 3600, "1.0"));
    let (_, rest) = token.split_once('.').unwrap();
    let no_kid = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#);
    assert_eq!(validate(&k, &format!("{no_kid}.{rest}"), &[AUD], &trusted, NOW).unwrap_err(), TokenError::UnknownKey(String::new()));
}

#[test]
fn an_hs256_token_is_the_wrong_algorithm() {
    let k = key();
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(k.kid.clone());
    let hs = jsonwebtoken::encode(&header, &claims(NOW, NOW + 3600, "1.0"), &jsonwebtoken::EncodingKey::from_secret(b"guessable")).unwrap();
    assert_eq!(validate(&k, &hs, &[AUD], &trusted, NOW).unwrap_err(), TokenError::WrongAlgorithm);
}

#[test]
fn garbage_is_malformed() {
    let k = key();
    for garbage in ["", "not-a-jwt", "a.b.c"] {
        assert_eq!(validate(&k, garbage, &[AUD], &trusted, NOW).unwrap_err(), TokenError::Malformed, "{garbage:?}");
    }
}

#[test]
fn v1_tokens_carry_x5t_and_v2_tokens_do_not() {
    let k = key();
    let v1 = jsonwebtoken::decode_header(&mint(&k, &claims(NOW, NOW + 3600, "1.0"))).unwrap();
    assert_eq!((v1.kid.as_deref(), v1.x5t.as_deref()), (Some(k.kid.as_str()), Some(k.kid.as_str())));
    let v2 = jsonwebtoken::decode_header(&mint(&k, &claims(NOW, NOW + 3600, "2.0"))).unwrap();
    assert_eq!((v2.kid.as_deref(), v2.x5t), (Some(k.kid.as_str()), None));
}

#[test]
fn audience_is_checked_before_issuer_and_issuer_before_time() {
    // A refusal names the first rule broken, in the order resources report them.
    let k = key();
    let c = AccessClaims { aud: "other".into(), iss: "https://evil.example/".into(), ..claims(NOW, NOW + 1, "1.0") };
    let t = mint(&k, &c);
    assert_eq!(validate(&k, &t, &[AUD], &trusted, NOW + 10).unwrap_err(), TokenError::WrongAudience("other".into()));
    assert_eq!(validate(&k, &t, &["other"], &trusted, NOW + 10).unwrap_err(), TokenError::WrongIssuer("https://evil.example/".into()));
    assert_eq!(validate(&k, &t, &["other"], &|_| true, NOW + 10).unwrap_err(), TokenError::Expired { exp: NOW + 1, now: NOW + 10 });
}

#[test]
fn issuers_are_written_as_entra_writes_them() {
    // Byte for byte: resources compare the issuer as a string.
    assert_eq!(v1_issuer("t1"), "https://sts.windows.net/t1/");
    assert_eq!(v2_issuer("https://login.microsoftonline.com", "t1"), "https://login.microsoftonline.com/t1/v2.0");
}
