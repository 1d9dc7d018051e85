//! ARM's side of the bearer-token check (`login::caller`): its audiences, its words for a
//! refused token, and the `api-version` every ARM request needs — checked after the token, in
//! ARM's order. [protocols.md §C.0]

use std::collections::HashMap;

use axum::extract::Query;
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

    fn from_claims(claims: AccessClaims) -> Self {
        ArmCaller { display: claims.upn.clone().or(claims.appid.clone()).unwrap_or(claims.oid.clone()), object_id: claims.oid }
    }

    fn check(parts: &Parts) -> Result<(), ArmError> {
        let q = Query::<HashMap<String, String>>::try_from_uri(&parts.uri).map(|Query(q)| q).unwrap_or_default();
        match q.iter().find(|(k, _)| k.eq_ignore_ascii_case("api-version")) {
            Some((_, v)) if !v.is_empty() => Ok(()),
            _ => Err(ArmError::MissingApiVersion),
        }
    }
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
