//! Replication lag: a new directory object (or secret) is unknown to the other services for
//! a while, as Azure shows it (`[faults.replication]`):
//!
//! * ARM's principal lookup answers `PrincipalNotFound` to a role assignment that names a
//!   principal too new for it, unless the request says the principal's type
//!   (`principalType`), Microsoft's documented way around it;
//! * the token service answers AADSTS700016 for a new app and AADSTS7000215 for a new secret;
//! * a Graph read by id that reaches another replica answers 404 `Request_ResourceNotFound`.

use super::profile::{FaultProfile, millis};

/// How long each reader lags behind the directory, in milliseconds (0: not at all).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Lag {
    pub principal_ms: i64,
    pub token_ms: i64,
    pub graph_ms: i64,
}

impl Lag {
    pub fn of(profile: Option<&FaultProfile>) -> Lag {
        let Some(p) = profile else { return Lag::default() };
        Lag { principal_ms: millis(&p.replication.principal), token_ms: millis(&p.replication.token), graph_ms: millis(&p.replication.graph) }
    }
}

/// Whether something made at `created_ms` is still unknown, at `now_ms`, to a reader that
/// lags `lag_ms` behind.
pub fn hides(lag_ms: i64, created_ms: i64, now_ms: i64) -> bool {
    lag_ms > 0 && now_ms < created_ms.saturating_add(lag_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_object_is_hidden_for_exactly_the_lag() {
        assert!(hides(30_000, 1_000, 1_000));
        assert!(hides(30_000, 1_000, 30_999));
        assert!(!hides(30_000, 1_000, 31_000));
        assert!(!hides(0, 1_000, 1_000), "no lag: seen at once");
        let p = FaultProfile::presets("replication").unwrap();
        assert_eq!(Lag::of(Some(&p)), Lag { principal_ms: 30_000, token_ms: 20_000, graph_ms: 10_000 });
        assert_eq!(Lag::of(None), Lag::default());
    }
}
