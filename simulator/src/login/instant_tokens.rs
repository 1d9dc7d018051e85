//! App-only tokens within one instant. Token times are whole seconds, so two
//! client-credentials requests in the same second whose claims match would get tokens that
//! differ only in their `uti`. The second gets the first's token: the same claims give the
//! same token, and it is not signed again (signing is nearly all a token answer costs).
//!
//! Which request draws the `uti` is decided under the state lock, in the order requests take
//! it, so a run stays a function of its seed: the first draws it, later ones in the same
//! second draw nothing. Signing happens after the lock is let go; a request that finds its
//! token still being signed signs it too rather than wait (RS256 is deterministic: the same
//! bytes), so no worker thread sits idle behind another's signature.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use super::tokens::{AccessClaims, mint};
use crate::keys::SigningKey;

/// Distinct claim sets kept within one second; past it, the second starts again empty.
const MAX_PER_SECOND: usize = 4096;

/// A token decided on: its claims (with their `uti`), signed on first use.
#[derive(Debug)]
pub struct InstantToken {
    pub claims: AccessClaims,
    signed: OnceLock<String>,
}

impl InstantToken {
    /// The signed token: kept from an earlier caller, or signed now.
    pub fn signed(&self, key: &SigningKey) -> String {
        if let Some(token) = self.signed.get() {
            return token.clone();
        }
        let token = mint(key, &self.claims);
        let _ = self.signed.set(token.clone());
        token
    }
}

/// The app-only tokens issued in the current second, by their claims.
#[derive(Default)]
pub struct InstantTokens {
    second: Mutex<Second>,
}

#[derive(Default)]
struct Second {
    iat: i64,
    by_claims: HashMap<String, Arc<InstantToken>>,
}

impl InstantTokens {
    /// The token for `claims` (their `uti` not yet drawn): the one issued in the same second
    /// for the same claims, or a new one whose `uti` comes from `draw_uti`. Call it while
    /// holding the state lock, so draws keep the lock's order.
    pub fn issue(&self, mut claims: AccessClaims, draw_uti: impl FnOnce() -> String) -> Arc<InstantToken> {
        claims.uti.clear();
        let key = serde_json::to_string(&claims).expect("claims serialise");
        let mut second = self.second.lock().unwrap_or_else(|p| p.into_inner());
        if second.iat != claims.iat || second.by_claims.len() >= MAX_PER_SECOND {
            second.iat = claims.iat;
            second.by_claims.clear();
        }
        second
            .by_claims
            .entry(key)
            .or_insert_with(|| {
                claims.uti = draw_uti();
                Arc::new(InstantToken { claims, signed: OnceLock::new() })
            })
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(iat: i64, aud: &str) -> AccessClaims {
        AccessClaims::app_only(aud, "tid", "oid", "appid", iat, iat + 3599, String::new())
    }

    #[test]
    fn the_same_claims_in_the_same_second_give_the_same_token_and_draw_once() {
        let key = SigningKey::for_seed(1);
        let tokens = InstantTokens::default();
        let mut draws = 0;
        let mut draw = || {
            draws += 1;
            format!("uti{draws}")
        };
        let first = tokens.issue(claims(100, "arm"), &mut draw);
        let again = tokens.issue(claims(100, "arm"), &mut draw);
        assert!(Arc::ptr_eq(&first, &again));
        assert_eq!(first.signed(&key), again.signed(&key));
        assert_eq!(first.signed(&key), mint(&key, &first.claims), "signed again, the same bytes");
        assert_eq!(first.claims.uti, "uti1");
        // Other claims, or the next second: a token of its own, with a uti of its own.
        let graph = tokens.issue(claims(100, "graph"), &mut draw);
        assert_eq!(graph.claims.uti, "uti2");
        let later = tokens.issue(claims(101, "arm"), &mut draw);
        assert_eq!(later.claims.uti, "uti3");
        assert_ne!(later.signed(&key), first.signed(&key));
        // The earlier second is gone: coming back to it (a clock set back) issues anew.
        let back = tokens.issue(claims(100, "arm"), &mut draw);
        assert_eq!(back.claims.uti, "uti4");
        assert_eq!(draws, 4);
    }

    #[test]
    fn a_full_second_starts_again_rather_than_growing() {
        let tokens = InstantTokens::default();
        let mut n = 0;
        for i in 0..MAX_PER_SECOND + 1 {
            tokens.issue(claims(5, &format!("aud{i}")), || {
                n += 1;
                n.to_string()
            });
        }
        assert_eq!(tokens.second.lock().unwrap().by_claims.len(), 1);
    }
}
