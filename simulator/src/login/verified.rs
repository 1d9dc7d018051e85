//! Tokens whose signature has already been checked, by their signature. Every call a step
//! makes presents a bearer token, mostly one it presented before: checking an RSA signature
//! again for each costs more than the rest of the call. A hit needs the whole token to be
//! byte-identical to the one verified (header and claims are what was signed), so a token
//! with a reused signature and other claims is verified afresh and fails. Only the signature
//! check is skipped: audience, issuer and the times are checked on every use by the caller.

use std::collections::HashMap;
use std::sync::Mutex;

use super::tokens::AccessClaims;

/// How many verified tokens are kept. A flow presents a few dozen; a served simulator under
/// load sees more, and expired ones go first.
const CAPACITY: usize = 4096;

#[derive(Default)]
pub struct VerifiedTokens {
    by_signature: Mutex<HashMap<String, Verified>>,
}

struct Verified {
    /// `header.claims`, the part the signature covers.
    signed: String,
    claims: AccessClaims,
}

/// A JWT split at its last dot: what was signed, and the signature.
fn split(token: &str) -> Option<(&str, &str)> {
    token.rsplit_once('.')
}

impl VerifiedTokens {
    /// The claims of `token` if exactly this token was verified before.
    pub fn get(&self, token: &str) -> Option<AccessClaims> {
        let (signed, signature) = split(token)?;
        let map = self.by_signature.lock().unwrap_or_else(|p| p.into_inner());
        map.get(signature).filter(|v| v.signed == signed).map(|v| v.claims.clone())
    }

    /// Remembers a token whose signature verified. When full, tokens expired by `now_secs`
    /// are dropped; if none had expired, the cache starts again empty.
    pub fn insert(&self, token: &str, claims: &AccessClaims, now_secs: i64) {
        let Some((signed, signature)) = split(token) else { return };
        let mut map = self.by_signature.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= CAPACITY {
            map.retain(|_, v| v.claims.exp > now_secs);
            if map.len() >= CAPACITY {
                map.clear();
            }
        }
        map.insert(signature.to_string(), Verified { signed: signed.to_string(), claims: claims.clone() });
    }

    pub fn len(&self) -> usize {
        self.by_signature.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: i64) -> AccessClaims {
        AccessClaims::app_only("aud", "tid", "oid", "appid", 0, exp, String::new())
    }

    #[test]
    fn a_hit_needs_the_whole_token() {
        let v = VerifiedTokens::default();
        assert!(v.is_empty());
        v.insert("h.c.sig", &claims(10), 0);
        assert_eq!(v.get("h.c.sig").map(|c| c.exp), Some(10));
        // The same signature over other claims is not a hit.
        assert!(v.get("h.other.sig").is_none());
        assert!(v.get("h.c.sig2").is_none());
        assert!(v.get("no-dots").is_none());
    }

    #[test]
    fn a_full_cache_drops_expired_tokens_first() {
        let v = VerifiedTokens::default();
        for i in 0..CAPACITY {
            // Half expire at 100, half at 1000.
            v.insert(&format!("h.c.{i}"), &claims(if i % 2 == 0 { 100 } else { 1000 }), 0);
        }
        assert_eq!(v.len(), CAPACITY);
        assert!(!v.is_empty());
        // At 100 exactly, those expiring at 100 have expired.
        v.insert("h.c.new", &claims(1000), 100);
        assert_eq!(v.len(), CAPACITY / 2 + 1);
        assert!(v.get("h.c.1").is_some() && v.get("h.c.0").is_none());
        // Nothing expired: it starts again.
        for i in 0..CAPACITY {
            v.insert(&format!("x.c.{i}"), &claims(1000), 500);
        }
        assert!(v.len() < CAPACITY);
    }
}
