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
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey};
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// Keeps key generation's random stream apart from the id stream of the same seed.
const KEY_STREAM: u64 = 0x6b65_7973; // "keys"

pub struct SigningKey {
    /// The private key as PKCS#8 DER (for certificates made with the same kind of key).
    pub pkcs8_der: Vec<u8>,
    pub kid: String,
    pub encoding: EncodingKey,
    pub decoding: DecodingKey,
    /// Base64url modulus and exponent, as a JWK carries them.
    pub n: String,
    pub e: String,
    /// Tokens this key's signature was already checked on.
    pub verified: crate::login::verified::VerifiedTokens,
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
    fn generate_key(seed: u64) -> RsaPrivateKey {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        rng.set_stream(KEY_STREAM);
        RsaPrivateKey::new(&mut rng, 2048).expect("RSA-2048 key generation")
    }

    fn generate(seed: u64) -> Self {
        Self::from_key(Self::generate_key(seed))
    }

    /// The key for `seed`, read from `dir` if an earlier process generated it there: prime
    /// generation is most of a cold start, and the key is a pure function of the seed.
    fn generate_or_load(seed: u64, dir: Option<&std::path::Path>) -> Self {
        let Some(dir) = dir else { return Self::generate(seed) };
        let path = dir.join(format!("sim-signing-key-{seed}.der"));
        if let Some(key) = std::fs::read(&path).ok().and_then(|der| RsaPrivateKey::from_pkcs1_der(&der).ok()) {
            // A key cached before keys were private is made private now.
            let _ = private::narrow(&path);
            return Self::from_key(key);
        }
        let key = Self::generate_key(seed);
        if let Ok(der) = key.to_pkcs1_der() {
            let tmp = dir.join(format!(".sim-signing-key-{seed}.{}.tmp", std::process::id()));
            let written = private::create_dir(dir).and_then(|_| private::write(&tmp, der.as_bytes())).and_then(|_| std::fs::rename(&tmp, &path));
            if let Err(e) = written {
                tracing::debug!("could not cache the signing key in {}: {e}", dir.display());
            }
        }
        Self::from_key(key)
    }

    fn from_key(key: RsaPrivateKey) -> Self {
        crate::signing::install();
        let der = key.to_pkcs1_der().expect("PKCS#1 encoding of a valid key");
        let n = URL_SAFE_NO_PAD.encode(key.n().to_bytes_be());
        let e = URL_SAFE_NO_PAD.encode(key.e().to_bytes_be());
        // Entra's kid is the certificate thumbprint; ours is derived from the public key.
        let kid = URL_SAFE_NO_PAD.encode(&Sha256::digest(key.n().to_bytes_be())[..20]);
        use rsa::pkcs8::EncodePrivateKey;
        let pkcs8_der = key.to_pkcs8_der().expect("PKCS#8 encoding of a valid key").as_bytes().to_vec();
        SigningKey {
            pkcs8_der,
            kid,
            encoding: EncodingKey::from_rsa_der(der.as_bytes()),
            decoding: DecodingKey::from_rsa_components(&n, &e).expect("a fresh key's own components"),
            n,
            e,
            verified: Default::default(),
        }
    }

    /// The key for `seed`, generated on first use and shared afterwards.
    pub fn for_seed(seed: u64) -> Arc<SigningKey> {
        Self::for_seed_cached(seed, None)
    }

    /// Like [`for_seed`](Self::for_seed), also keeping the key in `dir` across processes.
    pub fn for_seed_cached(seed: u64, dir: Option<&std::path::Path>) -> Arc<SigningKey> {
        static CACHE: OnceLock<Mutex<HashMap<u64, Arc<OnceLock<Arc<SigningKey>>>>>> = OnceLock::new();
        let slot = {
            let mut cache = CACHE.get_or_init(Default::default).lock().unwrap_or_else(|p| p.into_inner());
            cache.entry(seed).or_default().clone()
        };
        // Generate outside the map's lock so different seeds generate in parallel.
        slot.get_or_init(|| Arc::new(SigningKey::generate_or_load(seed, dir))).clone()
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

/// Key files only their owner may read (0600), in directories made 0700.
mod private {
    use std::io::Write;
    use std::path::Path;

    pub fn create_dir(dir: &Path) -> std::io::Result<()> {
        let mut b = std::fs::DirBuilder::new();
        b.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
        b.create(dir)
    }

    pub fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        opts.open(path)?.write_all(bytes)
    }

    pub fn narrow(path: &Path) -> std::io::Result<()> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            if std::fs::metadata(path)?.permissions().mode() & 0o077 != 0 {
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
            }
        }
        Ok(())
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

#[cfg(test)]
mod disk_tests {
    use super::*;

    #[test]
    fn a_cached_key_is_the_same_key() {
        let dir = tempfile_dir();
        let a = SigningKey::generate_or_load(77, Some(&dir));
        assert!(dir.join("sim-signing-key-77.der").exists());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&dir.join("sim-signing-key-77.der")), 0o600, "the key is its owner's alone");
            assert_eq!(mode(&dir), 0o700, "and so is the directory the cache made");
            // A key cached readable by others (as before) is narrowed when next read.
            std::fs::set_permissions(dir.join("sim-signing-key-77.der"), std::fs::Permissions::from_mode(0o644)).unwrap();
            SigningKey::generate_or_load(77, Some(&dir));
            assert_eq!(mode(&dir.join("sim-signing-key-77.der")), 0o600);
        }
        let b = SigningKey::generate_or_load(77, Some(&dir));
        assert_eq!(a.kid, b.kid);
        assert_eq!(a.n, SigningKey::generate(77).n);
        let _ = std::fs::remove_dir_all(dir.parent().unwrap());
    }

    /// A directory the cache itself creates.
    fn tempfile_dir() -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("aksflow-keytest-{}", std::process::id())).join("cache");
        let _ = std::fs::remove_dir_all(&d);
        d
    }
}
