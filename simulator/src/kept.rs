//! Values that are a function of their key (a seed's world, a certificate), made once and
//! kept in a bounded map. At the cap the map is emptied: each value is made again on demand,
//! with the same bytes, so nothing is lost.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

/// `map[key]`, made by `make` the first time (outside the lock: making may sign), the map
/// holding at most `cap` values.
pub(crate) fn kept<K: Hash + Eq, T: Clone>(map: &Mutex<HashMap<K, T>>, cap: usize, key: K, make: impl FnOnce() -> T) -> T {
    if let Some(v) = map.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
        return v.clone();
    }
    let v = make();
    let mut map = map.lock().unwrap_or_else(|p| p.into_inner());
    if map.len() >= cap {
        map.clear();
    }
    map.entry(key).or_insert(v).clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_once_and_again_only_after_the_cap_empties_the_map() {
        let map = Mutex::new(HashMap::new());
        let mut made = 0;
        for key in [1, 1, 2] {
            kept(&map, 2, key, || {
                made += 1;
                key * 10
            });
        }
        assert_eq!(made, 2);
        assert_eq!(kept(&map, 2, 3, || 30), 30, "at the cap the map is emptied, then 3 is kept");
        assert_eq!(kept(&map, 2, 1, || 11), 11, "1 is made again");
    }
}
