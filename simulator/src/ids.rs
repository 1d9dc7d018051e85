//! Everything the simulator invents (object ids, secrets, codes) is drawn from the run's
//! seed. Each draw takes its own ChaCha stream, numbered by a counter that is part of the
//! saved state, so a restored simulator goes on drawing exactly where it stopped.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdSource {
    seed: u64,
    draws: u64,
}

const SECRET_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789~._-";
const BASE64URL_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

impl IdSource {
    pub fn new(seed: u64) -> Self {
        IdSource { seed, draws: 0 }
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    fn next_rng(&mut self) -> ChaCha20Rng {
        let mut rng = ChaCha20Rng::seed_from_u64(self.seed);
        rng.set_stream(self.draws);
        self.draws += 1;
        rng
    }

    /// A random (version 4) GUID, as Entra ID and ARM use for object and request ids.
    pub fn guid(&mut self) -> Uuid {
        let bytes: [u8; 16] = self.next_rng().r#gen();
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }

    /// A client secret in the shape Entra ID gives (40 characters, with a `Q~` marker).
    pub fn client_secret(&mut self) -> String {
        let mut rng = self.next_rng();
        let head: String = (0..3).map(|_| pick(&mut rng, SECRET_ALPHABET)).collect();
        let tail: String = (0..34).map(|_| pick(&mut rng, SECRET_ALPHABET)).collect();
        format!("{head}8Q~{tail}")
    }

    /// A device-code user code: nine upper-case letters and digits, no look-alikes.
    pub fn user_code(&mut self) -> String {
        let mut rng = self.next_rng();
        (0..9).map(|_| pick(&mut rng, CODE_ALPHABET)).collect()
    }

    /// `len` hex digits (pod name suffixes, resource versions, thumbprints).
    pub fn hex(&mut self, len: usize) -> String {
        let mut rng = self.next_rng();
        (0..len).map(|_| char::from_digit(rng.gen_range(0..16), 16).unwrap()).collect()
    }

    /// `len` characters of base64url, as Graph's oauth2PermissionGrant ids are written (no
    /// `.` or `~`, unlike [`opaque`](Self::opaque)).
    pub fn base64url(&mut self, len: usize) -> String {
        let mut rng = self.next_rng();
        (0..len).map(|_| pick(&mut rng, BASE64URL_ALPHABET)).collect()
    }

    /// An opaque token (refresh tokens, device codes): URL-safe, `len` characters.
    pub fn opaque(&mut self, len: usize) -> String {
        let mut rng = self.next_rng();
        (0..len).map(|_| pick(&mut rng, &SECRET_ALPHABET[..64])).collect()
    }
}

fn pick(rng: &mut ChaCha20Rng, alphabet: &[u8]) -> char {
    alphabet[rng.gen_range(0..alphabet.len())] as char
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_draws_and_different_seed_different_draws() {
        let mut a = IdSource::new(7);
        let mut b = IdSource::new(7);
        let mut c = IdSource::new(8);
        let (ga, gb, gc) = (a.guid(), b.guid(), c.guid());
        assert_eq!(ga, gb);
        assert_ne!(ga, gc);
        assert_eq!(ga.get_version_num(), 4);
        assert_eq!(a.client_secret(), b.client_secret());
        assert_ne!(a.guid(), ga, "each draw is fresh");
    }

    #[test]
    fn a_restored_source_continues_where_it_stopped() {
        let mut a = IdSource::new(1);
        a.guid();
        let saved = serde_json::to_string(&a).unwrap();
        let mut restored: IdSource = serde_json::from_str(&saved).unwrap();
        assert_eq!(a.guid(), restored.guid());
    }

    #[test]
    fn shapes() {
        let mut s = IdSource::new(3);
        let secret = s.client_secret();
        assert_eq!(secret.len(), 40);
        assert_eq!(&secret[3..6], "8Q~");
        let code = s.user_code();
        assert_eq!(code.len(), 9);
        assert!(code.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()));
        assert_eq!(s.hex(10).len(), 10);
    }
}
