//! Bearer-token validation, as every simulated service does it before anything else. The
//! first byte picks the mode:
//! - even: the rest is a token as a client sends it (any text);
//! - odd: the rest is a claims object, signed with the simulator's own key, so the fuzzer
//!   reaches the claim checks behind the signature.
//!
//! Whatever is accepted must be in date and for one of the audiences asked for.

use std::sync::{Arc, OnceLock};

use aksflow_simulator::keys::SigningKey;
use aksflow_simulator::login::tokens::{self, AccessClaims};

const AUDIENCES: &[&str] = &["https://graph.microsoft.com", "6dae42f8-4368-4678-94ff-3960e28e3630"];
const NOW: i64 = aksflow_simulator::clock::EPOCH_MS / 1000;

fn key() -> &'static Arc<SigningKey> {
    static KEY: OnceLock<Arc<SigningKey>> = OnceLock::new();
    KEY.get_or_init(|| SigningKey::for_seed_cached(1, Some(&std::env::temp_dir().join("aksflow-fuzz-keys"))))
}

fn trusted(c: &AccessClaims) -> bool {
    c.iss.starts_with("https://sts.windows.net/")
}

pub fn run(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else { return };
    let key = key();
    let token = if mode % 2 == 0 {
        String::from_utf8_lossy(rest).into_owned()
    } else {
        let Ok(claims) = serde_json::from_slice::<serde_json::Value>(rest) else { return };
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.kid = Some(key.kid.clone());
        jsonwebtoken::encode(&header, &claims, &key.encoding).expect("RS256 signing with a valid key")
    };
    if let Ok(c) = tokens::validate(key, &token, AUDIENCES, &trusted, NOW) {
        assert!(AUDIENCES.contains(&c.aud.as_str()), "accepted a token for {}", c.aud);
        assert!(NOW < c.exp && c.nbf <= NOW + 300, "accepted a token out of date: nbf {} exp {}", c.nbf, c.exp);
        assert!(trusted(&c), "accepted a token from {}", c.iss);
    }
}
