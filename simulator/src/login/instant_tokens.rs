//! App-only tokens within one instant. Token times are whole seconds, so two
//! client-credentials requests in the same second whose claims match would get tokens that
//! differ only in their `uti`. The second gets the first's token: the same claims give the
//! same token, and it is not signed again (signing is nearly all a token answer costs).
//!
//! Which request draws the `uti` is decided under the state lock, in the order requests take
//! it, so a run stays a function of its seed: the first draws it, later ones in the same
//! second draw nothing. The second's tokens are part of the world and saved with it (their
//! claims; a token is signed again from them, to the same bytes), so a run restored or
//! resumed within a second gives what an uninterrupted one would. Like drawing an id,
//! issuing needs only a shared reference: it is not a change a served simulator must save
//! before answering. Signing happens after the lock is let go; a request that finds its token
//! still being signed signs it too rather than wait (RS256 is deterministic: the same bytes),
//! so no worker thread sits idle behind another's signature.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use serde::{Deserialize, Serialize};

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
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(from = "SavedSecond", into = "SavedSecond")]
pub struct InstantTokens {
    second: Mutex<Second>,
}

#[derive(Debug, Default)]
struct Second {
    iat: i64,
    by_claims: HashMap<String, Arc<InstantToken>>,
}

/// How the second's tokens are saved: its time and each token's claims, in issue order
/// (a `uti` is drawn in that order, so sorting by it is stable across saves).
#[derive(Serialize, Deserialize)]
struct SavedSecond {
    iat: i64,
    tokens: Vec<AccessClaims>,
}

impl From<SavedSecond> for InstantTokens {
    fn from(saved: SavedSecond) -> Self {
        let by_claims = saved.tokens.into_iter().map(|claims| (key_of(&claims), Arc::new(InstantToken { claims, signed: OnceLock::new() }))).collect();
        InstantTokens { second: Mutex::new(Second { iat: saved.iat, by_claims }) }
    }
}

impl From<InstantTokens> for SavedSecond {
    fn from(tokens: InstantTokens) -> Self {
        SavedSecond::of(&tokens)
    }
}

impl SavedSecond {
    fn of(tokens: &InstantTokens) -> Self {
        let second = tokens.lock();
        let mut claims: Vec<AccessClaims> = second.by_claims.values().map(|t| t.claims.clone()).collect();
        // A map's order is not the same twice: saved bytes must be.
        claims.sort_by(|a, b| a.uti.cmp(&b.uti));
        SavedSecond { iat: second.iat, tokens: claims }
    }
}

impl Clone for InstantTokens {
    fn clone(&self) -> Self {
        SavedSecond::of(self).into()
    }
}

/// The claims without their `uti`, as text: what two requests must share to share a token.
fn key_of(claims: &AccessClaims) -> String {
    let mut without_id = claims.clone();
    without_id.uti.clear();
    serde_json::to_string(&without_id).expect("claims serialise")
}

impl InstantTokens {
    fn lock(&self) -> std::sync::MutexGuard<'_, Second> {
        self.second.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Nothing issued in the current second (nothing to save).
    pub fn is_empty(&self) -> bool {
        self.lock().by_claims.is_empty()
    }

    /// The token for `claims` (their `uti` not yet drawn): the one issued in the same second
    /// for the same claims, or a new one whose `uti` comes from `draw_uti`. Call it while
    /// holding the state lock, so draws keep the lock's order.
    pub fn issue(&self, mut claims: AccessClaims, draw_uti: impl FnOnce() -> String) -> Arc<InstantToken> {
        let key = key_of(&claims);
        let mut second = self.lock();
        if second.iat != claims.iat {
            second.iat = claims.iat;
            second.by_claims.clear();
        }
        if let Some(token) = second.by_claims.get(&key) {
            return token.clone();
        }
        if second.by_claims.len() >= MAX_PER_SECOND {
            second.by_claims.clear();
        }
        claims.uti = draw_uti();
        let token = Arc::new(InstantToken { claims, signed: OnceLock::new() });
        second.by_claims.insert(key, token.clone());
        token
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
        assert_eq!(tokens.lock().by_claims.len(), 1);
    }

    #[test]
    fn a_saved_second_gives_the_same_tokens_again_and_saves_to_the_same_bytes() {
        let key = SigningKey::for_seed(1);
        let tokens = InstantTokens::default();
        let issued: Vec<_> = ["arm", "graph", "aks"].iter().enumerate().map(|(i, aud)| tokens.issue(claims(7, aud), || format!("uti{i}"))).collect();
        let saved = serde_json::to_string(&tokens).unwrap();
        assert_eq!(saved, serde_json::to_string(&tokens.clone()).unwrap(), "a copy saves the same bytes");
        let restored: InstantTokens = serde_json::from_str(&saved).unwrap();
        for (t, aud) in issued.iter().zip(["arm", "graph", "aks"]) {
            let again = restored.issue(claims(7, aud), || panic!("the restored second draws nothing for claims it has"));
            assert_eq!(again.signed(&key), t.signed(&key));
        }
        assert!(InstantTokens::default().is_empty() && !restored.is_empty());
    }
}
