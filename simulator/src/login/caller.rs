//! Who is calling a resource that takes Entra ID access tokens (Graph, ARM): one bearer-token
//! check for all of them. The token must be RS256 by the simulator's key, for one of the
//! resource's audiences, from a v1 or v2 issuer of a tenant the directory holds, and unexpired
//! by the virtual clock. Each resource says in its own words why it refused.


use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::response::IntoResponse;

use super::tokens::{self, AccessClaims, TokenError};
use crate::router::Sim;
use crate::state::Shared;

/// Why a request carries no token a resource accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BearerError {
    /// No `Authorization` header (or one that is not text).
    NoHeader,
    /// An `Authorization` header of another scheme than `Bearer`.
    NotBearer,
    /// `Bearer` and nothing after it.
    Empty,
    /// A bearer token that does not pass the checks.
    Token(TokenError),
}

/// The token of a `Authorization: Bearer …` header, trimmed.
pub fn bearer(headers: &HeaderMap) -> Result<&str, BearerError> {
    let auth = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).ok_or(BearerError::NoHeader)?;
    let token = auth.strip_prefix("Bearer ").or_else(|| auth.strip_prefix("bearer ")).ok_or(BearerError::NotBearer)?.trim();
    if token.is_empty() { Err(BearerError::Empty) } else { Ok(token) }
}

/// A resource's view of its caller, made from a checked token.
pub trait FromToken: Sized {
    /// The audiences the resource accepts.
    const AUDIENCES: &'static [&'static str];
    /// The resource's own error.
    type Rejection: IntoResponse;
    fn reject(e: BearerError) -> Self::Rejection;
    /// The resource's own 500, for a request that reached it without its simulator (which
    /// the Router never lets happen).
    fn internal() -> Self::Rejection;
    fn from_claims(claims: AccessClaims) -> Self;
    /// Whether the simulator's own address is also one of its audiences (Graph: see
    /// `simulator::name_graph_by_own_address`).
    const OWN_ADDRESS_IS_AUDIENCE: bool = false;
    /// What the resource checks of a request after the token and before the handler.
    fn check(_parts: &Parts) -> Result<(), Self::Rejection> {
        Ok(())
    }
}

/// The extractor: `Caller(who): Caller<GraphCaller>` in a handler's arguments.
pub struct Caller<C>(pub C);

impl<C: FromToken, S: Send + Sync> FromRequestParts<S> for Caller<C> {
    type Rejection = C::Rejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Sim(s) = Sim::from_request_parts(parts, state).await.map_err(|_| C::internal())?;
        let claims = if C::OWN_ADDRESS_IS_AUDIENCE && s.config.is_served() {
            let own = [s.config.base_url.trim_end_matches('/').to_string(), format!("{}/", s.config.base_url.trim_end_matches('/'))];
            let audiences: Vec<&str> = C::AUDIENCES.iter().copied().chain(own.iter().map(String::as_str)).collect();
            check(&s, &parts.headers, &audiences)
        } else {
            check(&s, &parts.headers, C::AUDIENCES)
        }
        .map_err(C::reject)?;
        C::check(parts)?;
        Ok(Caller(C::from_claims(claims)))
    }
}

/// The bearer token of `headers`, checked for one of `audiences`.
fn check(s: &Shared, headers: &HeaderMap, audiences: &[&str]) -> Result<AccessClaims, BearerError> {
    let token = bearer(headers)?;
    let tenants: Vec<String> = s.world().directory.tenants.iter().map(|t| t.id.clone()).collect();
    let trusted = |c: &AccessClaims| tenants.contains(&c.tid) && (c.iss == tokens::v1_issuer(&c.tid) || c.iss == tokens::v2_issuer(&s.config.base_url, &c.tid) || c.iss == tokens::v2_issuer(crate::origin::LOGIN, &c.tid));
    tokens::validate(&s.key, token, audiences, &trusted, s.clock.now_secs()).map_err(BearerError::Token)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(authorization: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(a) = authorization {
            h.insert(header::AUTHORIZATION, a.parse().unwrap());
        }
        h
    }

    #[test]
    fn the_bearer_token_is_read_from_either_spelling_and_trimmed() {
        assert_eq!(bearer(&headers(Some("Bearer abc"))), Ok("abc"));
        assert_eq!(bearer(&headers(Some("bearer  abc "))), Ok("abc"));
        assert_eq!(bearer(&headers(None)), Err(BearerError::NoHeader));
        assert_eq!(bearer(&headers(Some("Basic abc"))), Err(BearerError::NotBearer));
        assert_eq!(bearer(&headers(Some("BEARER abc"))), Err(BearerError::NotBearer));
        assert_eq!(bearer(&headers(Some("Bearer   "))), Err(BearerError::Empty));
    }
}
