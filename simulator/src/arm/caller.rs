//! ARM's side of the bearer-token check (`login::caller`): its audiences, its words for a
//! refused token, and the `api-version` every ARM request needs — checked after the token, in
//! ARM's order. [protocols.md §C.0]

use axum::http::request::Parts;

use super::error::ArmError;
use super::model::ArmCaller;
use crate::login::caller::{BearerError, FromToken};
use crate::login::tokens::{AccessClaims, TokenError};

/// The audiences ARM accepts.
pub const AUDIENCES: &[&str] = &[
    "https://management.core.windows.net/",
    "https://management.core.windows.net",
    "https://management.azure.com/",
    "https://management.azure.com",
];

impl FromToken for ArmCaller {
    const AUDIENCES: &'static [&'static str] = AUDIENCES;
    type Rejection = ArmError;

    fn reject(e: BearerError) -> ArmError {
        match e {
            BearerError::NoHeader => ArmError::MissingAuthorization,
            BearerError::Token(TokenError::Expired { exp, now }) => ArmError::ExpiredToken { expired: arm_time(exp), now: arm_time(now) },
            BearerError::Token(TokenError::WrongAudience(audience)) => ArmError::WrongAudience { audience },
            BearerError::NotBearer | BearerError::Empty | BearerError::Token(_) => ArmError::InvalidToken { tenant: None },
        }
    }

    fn internal() -> ArmError {
        ArmError::InternalServerError { diagnostics: "the request reached the simulator's routes without its simulator".into() }
    }

    fn from_claims(claims: AccessClaims) -> Self {
        ArmCaller { display: claims.upn.clone().or(claims.appid.clone()).unwrap_or(claims.oid.clone()), object_id: claims.oid }
    }

    fn check(parts: &Parts) -> Result<(), ArmError> {
        // Decoded leniently: a version that is not UTF-8 is refused as invalid, not missing.
        let query = parts.uri.query().unwrap_or_default();
        match form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k.eq_ignore_ascii_case("api-version")) {
            Some((_, v)) if v.is_empty() => Err(ArmError::MissingApiVersion),
            Some((_, v)) if is_api_version(&v) => Ok(()),
            Some((_, v)) => Err(ArmError::InvalidApiVersion { version: v.into_owned() }),
            None => Err(ArmError::MissingApiVersion),
        }
    }
}

/// ARM's api-version shape: a date, `YYYY-MM-DD`, maybe with a suffix such as `-preview`.
fn is_api_version(v: &str) -> bool {
    let (date, suffix) = v.split_at(v.len().min(10));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let mut parts = date.split('-');
    let date_ok = matches!((parts.next(), parts.next(), parts.next(), parts.next()), (Some(y), Some(m), Some(d), None) if y.len() == 4 && m.len() == 2 && d.len() == 2 && digits(y) && digits(m) && digits(d));
    let suffix_ok = suffix.is_empty() || suffix.strip_prefix('-').is_some_and(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric()));
    date_ok && suffix_ok
}

/// ARM's own time format in token-expiry messages: `01/01/2026 01:00:00`.
fn arm_time(secs: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(secs).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let f = time::macros::format_description!("[month]/[day]/[year] [hour]:[minute]:[second]");
    t.format(&f).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(uri: &str) -> Parts {
        axum::http::Request::builder().uri(uri).body(()).unwrap().into_parts().0
    }

    #[test]
    fn api_version_is_required_in_any_case_and_not_empty() {
        assert_eq!(ArmCaller::check(&parts("/subscriptions?api-version=2024-11-01")), Ok(()));
        assert_eq!(ArmCaller::check(&parts("/subscriptions?API-Version=2024-11-01")), Ok(()));
        assert_eq!(ArmCaller::check(&parts("/subscriptions")), Err(ArmError::MissingApiVersion));
        assert_eq!(ArmCaller::check(&parts("/subscriptions?api-version=")), Err(ArmError::MissingApiVersion));
    }

    #[test]
    fn a_malformed_api_version_is_invalid() {
        assert_eq!(ArmCaller::check(&parts("/subscriptions?api-version=2017-05-01-preview")), Ok(()));
        assert_eq!(ArmCaller::check(&parts("/subscriptions?api-version=%00%FF")), Err(ArmError::InvalidApiVersion { version: "\0\u{fffd}".into() }));
        for bad in ["2024", "2024-1-01", "2024-11-01-", "2024-11-01x", "latest", "2024-11-01-pre%2Fview"] {
            assert!(matches!(ArmCaller::check(&parts(&format!("/subscriptions?api-version={bad}"))), Err(ArmError::InvalidApiVersion { .. })), "{bad}");
        }
    }

    #[test]
    fn refusals_in_arms_words() {
        assert_eq!(ArmCaller::reject(BearerError::NoHeader), ArmError::MissingAuthorization);
        assert_eq!(ArmCaller::reject(BearerError::NotBearer), ArmError::InvalidToken { tenant: None });
        assert_eq!(ArmCaller::reject(BearerError::Empty), ArmError::InvalidToken { tenant: None });
        assert_eq!(
            ArmCaller::reject(BearerError::Token(TokenError::Expired { exp: 1_767_225_600, now: 1_767_229_200 })),
            ArmError::ExpiredToken { expired: "01/01/2026 00:00:00".into(), now: "01/01/2026 01:00:00".into() }
        );
        assert_eq!(ArmCaller::reject(BearerError::Token(TokenError::WrongAudience("x".into()))), ArmError::WrongAudience { audience: "x".into() });
    }
}
