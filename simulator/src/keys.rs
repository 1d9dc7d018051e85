//! The token-signing key of a simulated tenant. Fixed per seed: the same seed gives the same
//! RSA-2048 key, so tokens and transcripts are reproducible. Generating an RSA key costs a
//! noticeable fraction of a second, so keys are made once per seed per process.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{DecodingKey, EncodingKey};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// Keeps key generation's random stream apart from the id stream of the same seed.
const KEY_STREAM: u64 = 0x6b65_7973; // "keys"

pub struct SigningKey {
    pub kid: String,
    pub encoding: EncodingKey,
    pub decoding: DecodingKey,
    /// Base64url modulus and exponent, as a JWK carries them.
    pub n: String,
    pub e: String,
}

/// One key of a JWKS document (`/discovery/keys`).
#[derive(Serialize, Clone, Debug)]
pub struct Jwk {
    pub kty: &'static str,
    #[serde(rename = "use")]
    pub use_: &'static str,
    pub kid: String,
    pub x5t: String,
    pub n: String,
    pub e: String,
    pub issuer: String,
}

impl SigningKey {
    fn generate(seed: u64) -> Self {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        rng.set_stream(KEY_STREAM);
        let key = RsaPrivateKey::new(&mut rng, 2048).expect("RSA-2048 key generation");
        let der = key.to_pkcs1_der().expect("PKCS#1 encoding of a fresh key");
        let n = URL_SAFE_NO_PAD.encode(key.n().to_bytes_be());
        let e = URL_SAFE_NO_PAD.encode(key.e().to_bytes_be());
        // Entra's kid is the certificate thumbprint; ours is derived from the public key.
        let kid = URL_SAFE_NO_PAD.encode(&Sha256::digest(key.n().to_bytes_be())[..20]);
        SigningKey {
            kid,
            encoding: EncodingKey::from_rsa_der(der.as_bytes()),
            decoding: DecodingKey::from_rsa_components(&n, &e).expect("a fresh key's own components"),
            n,
            e,
        }
    }

    /// The key for `seed`, generated on first use and shared afterwards.
    pub fn for_seed(seed: u64) -> Arc<SigningKey> {
        static CACHE: OnceLock<Mutex<HashMap<u64, Arc<OnceLock<Arc<SigningKey>>>>>> = OnceLock::new();
        let slot = {
            let mut cache = CACHE.get_or_init(Default::default).lock().unwrap_or_else(|p| p.into_inner());
            cache.entry(seed).or_default().clone()
        };
        // Generate outside the map's lock so different seeds generate in parallel.
        slot.get_or_init(|| Arc::new(SigningKey::generate(seed))).clone()
    }

    pub fn jwk(&self, issuer: &str) -> Jwk {
        Jwk {
            kty: "RSA",
            use_: "sig",
            kid: self.kid.clone(),
            x5t: self.kid.clone(),
            n: self.n.clone(),
            e: self.e.clone(),
            issuer: issuer.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_key_per_seed() {
        let a = SigningKey::for_seed(11);
        let b = SigningKey::for_seed(11);
        assert!(Arc::ptr_eq(&a, &b));
        let c = SigningKey::for_seed(12);
        assert_ne!(a.kid, c.kid);
        assert_eq!(a.e, "AQAB");
    }
}
