//! jsonwebtoken's AWS-LC crypto provider, with RS256 signing on a key parsed once. The stock
//! provider parses (and checks) the DER key for every token it signs, which costs a quarter
//! as much as the signature itself. Everything else is the stock provider's.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};

use aws_lc_rs::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, aws_lc};
use jsonwebtoken::{Algorithm, EncodingKey};

static PROVIDER: LazyLock<CryptoProvider> = LazyLock::new(|| CryptoProvider { signer_factory: new_signer, ..aws_lc::DEFAULT_PROVIDER.clone() });

/// Keys parsed so far, by their DER bytes: one per seed and purpose, a handful per process.
static PARSED: LazyLock<Mutex<HashMap<Vec<u8>, Arc<RsaKeyPair>>>> = LazyLock::new(Default::default);

/// RS256 JWT signatures made through this provider.
static SIGNATURES: AtomicU64 = AtomicU64::new(0);

#[cfg(test)]
thread_local! {
    /// The same count, for this thread alone (tests run side by side in one process).
    static ON_THIS_THREAD: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// How many RS256 JWT signatures this process has made through the simulator's provider so
/// far: every access and id token of every simulator in it, and any other RS256
/// `jsonwebtoken::encode` after [`install`]. Certificates and TLS handshakes are not JWTs and
/// are not counted. The flow bench divides it by the flows it ran.
pub fn signatures_made() -> u64 {
    SIGNATURES.load(Ordering::Relaxed)
}

/// Makes this the process's provider, once. If another was installed first, that one signs.
pub fn install() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = PROVIDER.install_default();
    });
}

fn new_signer(alg: &Algorithm, key: &EncodingKey) -> jsonwebtoken::errors::Result<Box<dyn JwtSigner>> {
    if *alg != Algorithm::RS256 {
        return (aws_lc::DEFAULT_PROVIDER.signer_factory)(alg, key);
    }
    let der = key.inner();
    let mut parsed = PARSED.lock().unwrap_or_else(|p| p.into_inner());
    let pair = match parsed.get(der) {
        Some(pair) => pair.clone(),
        None => {
            let pair = Arc::new(RsaKeyPair::from_der(der).map_err(|e| jsonwebtoken::errors::ErrorKind::InvalidRsaKey(e.to_string()))?);
            parsed.insert(der.to_vec(), pair.clone());
            pair
        }
    };
    Ok(Box::new(Rs256(pair)))
}

struct Rs256(Arc<RsaKeyPair>);

impl signature::Signer<Vec<u8>> for Rs256 {
    fn try_sign(&self, msg: &[u8]) -> Result<Vec<u8>, signature::Error> {
        let mut sig = vec![0; self.0.public_modulus_len()];
        // PKCS#1 v1.5 is deterministic: the random source only feeds AWS-LC's blinding.
        self.0.sign(&RSA_PKCS1_SHA256, &aws_lc_rs::rand::SystemRandom::new(), msg, &mut sig).map_err(signature::Error::from_source)?;
        SIGNATURES.fetch_add(1, Ordering::Relaxed);
        #[cfg(test)]
        ON_THIS_THREAD.with(|n| n.set(n.get() + 1));
        Ok(sig)
    }
}

impl JwtSigner for Rs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::RS256
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_signature_as_the_stock_provider() {
        install();
        let key = crate::keys::SigningKey::for_seed(42);
        let header = jsonwebtoken::Header::new(Algorithm::RS256);
        let ours = jsonwebtoken::encode(&header, &serde_json::json!({ "a": 1 }), &key.encoding).unwrap();
        let (message, signature) = ours.rsplit_once('.').unwrap();
        let stock = (aws_lc::DEFAULT_PROVIDER.signer_factory)(&Algorithm::RS256, &key.encoding).unwrap();
        use base64::Engine as _;
        let theirs = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(signature::Signer::try_sign(stock.as_ref(), message.as_bytes()).unwrap());
        assert_eq!(signature, theirs);
        assert!(PARSED.lock().unwrap().contains_key(key.encoding.inner()), "the key was parsed once and kept");
    }

    #[test]
    fn each_rs256_signature_is_counted_once_and_nothing_else() {
        install();
        let key = crate::keys::SigningKey::for_seed(42);
        let header = jsonwebtoken::Header::new(Algorithm::RS256);
        let on_this_thread = || ON_THIS_THREAD.with(std::cell::Cell::get);
        let (before, process_before) = (on_this_thread(), signatures_made());
        for i in 0..3 {
            jsonwebtoken::encode(&header, &serde_json::json!({ "i": i }), &key.encoding).unwrap();
        }
        assert_eq!(on_this_thread() - before, 3);
        assert!(signatures_made() >= process_before + 3, "the process-wide count includes this thread's");
        // Another algorithm goes to the stock signer and is no RS256 signature.
        let hs = jsonwebtoken::encode(&jsonwebtoken::Header::new(Algorithm::HS256), &serde_json::json!({ "i": 0 }), &EncodingKey::from_secret(b"s")).unwrap();
        assert_eq!(hs.split('.').count(), 3);
        assert_eq!(on_this_thread() - before, 3);
    }
}
