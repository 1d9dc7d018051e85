//! Everything the simulator invents (object ids, secrets, codes) is drawn from the run's
//! seed. Each draw takes its own ChaCha stream, numbered by a counter that is part of the
//! saved state, so a restored simulator goes on drawing exactly where it stopped (a served
//! simulator restarted after a kill skips ahead instead, past every id it may have handed out).
//!
//! Drawing needs only a shared reference: a request that reads the world and draws a
//! request id or a token id has not changed the world (the state lock is what keeps two
//! draws apart). What was drawn is [`draws`](IdSource::draws), which a served simulator keeps
//! durable on its own, ahead of use.

use std::sync::atomic::{AtomicU64, Ordering};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Serialize, Deserialize)]
#[serde(from = "SavedIdSource", into = "SavedIdSource")]
pub struct IdSource {
    seed: u64,
    draws: AtomicU64,
}

/// How an [`IdSource`] is saved: its seed and how many draws it has made.
#[derive(Serialize, Deserialize)]
struct SavedIdSource {
    seed: u64,
    draws: u64,
}

impl From<SavedIdSource> for IdSource {
    fn from(s: SavedIdSource) -> Self {
        IdSource { seed: s.seed, draws: AtomicU64::new(s.draws) }
    }
}

impl From<IdSource> for SavedIdSource {
    fn from(s: IdSource) -> Self {
        SavedIdSource { seed: s.seed, draws: s.draws() }
    }
}

impl Clone for IdSource {
    fn clone(&self) -> Self {
        IdSource { seed: self.seed, draws: AtomicU64::new(self.draws()) }
    }
}

const SECRET_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789~._-";
const BASE64URL_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

impl IdSource {
    pub fn new(seed: u64) -> Self {
        IdSource { seed, draws: AtomicU64::new(0) }
    }

    /// How many draws were made: the next draw takes stream number `draws`.
    pub fn draws(&self) -> u64 {
        self.draws.load(Ordering::Relaxed)
    }

    /// Goes on from draw `draws`, if that is further on: a served simulator restarted after a
    /// kill skips every draw it may have handed out before (see `serve/store.rs`).
    pub fn skip_to(&mut self, draws: u64) {
        let d = self.draws.get_mut();
        *d = (*d).max(draws);
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    fn next_rng(&self) -> ChaCha20Rng {
        let mut rng = ChaCha20Rng::seed_from_u64(self.seed);
        // Relaxed: the world's lock orders draws; the atomic only lets `&self` draw.
        rng.set_stream(self.draws.fetch_add(1, Ordering::Relaxed));
        rng
    }

    /// A random (version 4) GUID, as Entra ID and ARM use for object and request ids.
    pub fn guid(&self) -> Uuid {
        let bytes: [u8; 16] = self.next_rng().r#gen();
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }

    /// A client secret in the shape Entra ID gives (40 characters, with a `Q~` marker).
    pub fn client_secret(&self) -> String {
        let mut rng = self.next_rng();
        let head: String = (0..3).map(|_| pick(&mut rng, SECRET_ALPHABET)).collect();
        let tail: String = (0..34).map(|_| pick(&mut rng, SECRET_ALPHABET)).collect();
        format!("{head}8Q~{tail}")
    }

    /// A device-code user code: nine upper-case letters and digits, no look-alikes.
    pub fn user_code(&self) -> String {
        let mut rng = self.next_rng();
        (0..9).map(|_| pick(&mut rng, CODE_ALPHABET)).collect()
    }

    /// `len` hex digits (pod name suffixes, resource versions, thumbprints).
    pub fn hex(&self, len: usize) -> String {
        let mut rng = self.next_rng();
        (0..len).map(|_| char::from_digit(rng.gen_range(0..16), 16).unwrap()).collect()
    }

    /// `len` characters of base64url, as Graph's oauth2PermissionGrant ids are written (no
    /// `.` or `~`, unlike [`opaque`](Self::opaque)).
    pub fn base64url(&self, len: usize) -> String {
        let mut rng = self.next_rng();
        (0..len).map(|_| pick(&mut rng, BASE64URL_ALPHABET)).collect()
    }

    /// An opaque token (refresh tokens, device codes): URL-safe, `len` characters.
    pub fn opaque(&self, len: usize) -> String {
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
        let a = IdSource::new(7);
        let b = IdSource::new(7);
        let c = IdSource::new(8);
        let (ga, gb, gc) = (a.guid(), b.guid(), c.guid());
        assert_eq!(ga, gb);
        assert_ne!(ga, gc);
        assert_eq!(ga.get_version_num(), 4);
        assert_eq!(a.client_secret(), b.client_secret());
        assert_ne!(a.guid(), ga, "each draw is fresh");
    }

    #[test]
    fn a_restored_source_continues_where_it_stopped() {
        let a = IdSource::new(1);
        a.guid();
        let saved = serde_json::to_string(&a).unwrap();
        assert_eq!(saved, r#"{"seed":1,"draws":1}"#, "saved as before draws were shared");
        let restored: IdSource = serde_json::from_str(&saved).unwrap();
        assert_eq!(a.guid(), restored.guid());
        let copy = a.clone();
        assert_eq!(a.guid(), copy.guid(), "a clone draws on from the same place, on its own");
    }

    #[test]
    fn skipping_ahead_never_goes_back() {
        let mut a = IdSource::new(1);
        let ahead = IdSource::new(1);
        for _ in 0..5 {
            ahead.guid();
        }
        a.skip_to(5);
        assert_eq!(a.draws(), 5);
        assert_eq!(a.guid(), ahead.guid());
        a.skip_to(2);
        assert_eq!(a.draws(), 6, "an earlier mark is ignored");
    }

    #[test]
    fn shapes() {
        let s = IdSource::new(3);
        let secret = s.client_secret();
        assert_eq!(secret.len(), 40);
        assert_eq!(&secret[3..6], "8Q~");
        let code = s.user_code();
        assert_eq!(code.len(), 9);
        assert!(code.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()));
        assert_eq!(s.hex(10).len(), 10);
        assert_eq!(s.seed(), 3);
        let grant_id = s.base64url(43);
        assert_eq!(grant_id.len(), 43);
        assert!(grant_id.bytes().all(|b| BASE64URL_ALPHABET.contains(&b)));
        assert_ne!(s.base64url(43), grant_id, "each draw is fresh");
        let token = s.opaque(22);
        assert_eq!(token.len(), 22);
        assert!(token.bytes().all(|b| SECRET_ALPHABET[..64].contains(&b)));
        assert_ne!(s.opaque(22), token);
    }
}
