//! A cluster's RBAC policy, built once and kept until an object of the cluster changes.
//! Building it parses every Role, ClusterRole and binding from JSON and aggregates the
//! ClusterRoles: for every request that costs more than the rest of the authorisation.
//! Not part of the cluster's saved state: a restored cluster builds afresh; a clone shares it.

use std::sync::{Arc, Mutex};

use super::rbac::RbacStore;

#[derive(Default)]
pub struct RbacCache {
    /// The admin groups the policy was built with, and the policy.
    built: Mutex<Option<(Vec<String>, Arc<RbacStore>)>>,
}

impl RbacCache {
    /// The policy for `admin_groups`: the kept one, or `build()`'s, kept from now on.
    pub fn get_or_build(&self, admin_groups: &[String], build: impl FnOnce() -> RbacStore) -> Arc<RbacStore> {
        let mut built = self.built.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((groups, store)) = built.as_ref() {
            if groups == admin_groups {
                return store.clone();
            }
        }
        let store = Arc::new(build());
        *built = Some((admin_groups.to_vec(), store.clone()));
        store
    }

    /// Forgets the policy: an object changed.
    pub fn clear(&mut self) {
        *self.built.get_mut().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

/// A clone has the same objects, so the same policy: it shares the built one (which is
/// never changed, only replaced) until either side changes an object.
impl Clone for RbacCache {
    fn clone(&self) -> Self {
        RbacCache { built: Mutex::new(self.built.lock().unwrap_or_else(|p| p.into_inner()).clone()) }
    }
}

impl std::fmt::Debug for RbacCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RbacCache")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_once_per_admin_groups_until_cleared() {
        let mut cache = RbacCache::default();
        let mut builds = 0;
        let a = cache.get_or_build(&["g1".into()], || {
            builds += 1;
            RbacStore::default()
        });
        let b = cache.get_or_build(&["g1".into()], || unreachable!("kept"));
        assert!(Arc::ptr_eq(&a, &b));
        cache.get_or_build(&["g2".into()], || {
            builds += 1;
            RbacStore::default()
        });
        cache.clear();
        cache.get_or_build(&["g2".into()], || {
            builds += 1;
            RbacStore::default()
        });
        assert_eq!(builds, 3);
    }

    /// A clone shares the policy already built (its objects are the same), and clearing one
    /// side leaves the other's alone.
    #[test]
    fn a_clone_shares_the_built_policy_until_one_side_clears() {
        let mut original = RbacCache::default();
        let built = original.get_or_build(&["g1".into()], RbacStore::default);
        let mut copy = original.clone();
        let shared = copy.get_or_build(&["g1".into()], || unreachable!("shared, not built again"));
        assert!(Arc::ptr_eq(&built, &shared));
        copy.clear();
        let rebuilt = copy.get_or_build(&["g1".into()], RbacStore::default);
        assert!(!Arc::ptr_eq(&built, &rebuilt), "the cleared clone built its own");
        assert!(Arc::ptr_eq(&built, &original.get_or_build(&["g1".into()], || unreachable!("the original keeps its policy"))));
        original.clear();
        assert!(Arc::ptr_eq(&rebuilt, &copy.get_or_build(&["g1".into()], || unreachable!("the clone keeps its own"))));
    }
}
