//! Graph's side of the bearer-token check (`login::caller`): its audiences, and its words for a
//! refused token. [protocols.md §B.0]

use super::error::GraphError;
use super::model::GraphCaller;
use crate::directory::Caller as Principal;
use crate::login::caller::{BearerError, FromToken};
use crate::login::tokens::{AccessClaims, TokenError};

/// The audiences Graph accepts.
pub const AUDIENCES: &[&str] = &["https://graph.microsoft.com", "https://graph.microsoft.com/", "00000003-0000-0000-c000-000000000000"];

impl FromToken for GraphCaller {
    const AUDIENCES: &'static [&'static str] = AUDIENCES;
    const OWN_ADDRESS_IS_AUDIENCE: bool = true;
    type Rejection = GraphError;

    fn reject(e: BearerError) -> GraphError {
        GraphError::unauthorized(match e {
            BearerError::NoHeader | BearerError::NotBearer | BearerError::Empty => "Access token is empty.",
            BearerError::Token(TokenError::Expired { .. } | TokenError::NotYetValid { .. }) => "Access token has expired or is not yet valid.",
            BearerError::Token(TokenError::WrongAudience(_)) => "Access token validation failure. Invalid audience.",
            BearerError::Token(TokenError::BadSignature | TokenError::UnknownKey(_)) => "Access token validation failure.",
            BearerError::Token(_) => "Invalid JWT token. The token is malformed.",
        })
    }

    fn internal() -> GraphError {
        GraphError::new(axum::http::StatusCode::INTERNAL_SERVER_ERROR, "generalException", "General exception while processing.")
    }

    fn from_claims(claims: AccessClaims) -> Self {
        let is_app = claims.idtyp.as_deref() == Some("app");
        GraphCaller { principal: Principal { tenant_id: claims.tid, object_id: claims.oid, is_app }, roles: claims.roles.unwrap_or_default() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_in_graphs_words() {
        let message = |e| GraphCaller::reject(e).message;
        assert_eq!(message(BearerError::NoHeader), "Access token is empty.");
        assert_eq!(message(BearerError::NotBearer), "Access token is empty.");
        assert_eq!(message(BearerError::Token(TokenError::Expired { exp: 1, now: 2 })), "Access token has expired or is not yet valid.");
        assert_eq!(message(BearerError::Token(TokenError::WrongAudience("x".into()))), "Access token validation failure. Invalid audience.");
        assert_eq!(message(BearerError::Token(TokenError::Malformed)), "Invalid JWT token. The token is malformed.");
        assert_eq!(GraphCaller::reject(BearerError::Empty).status, axum::http::StatusCode::UNAUTHORIZED);
    }
}
