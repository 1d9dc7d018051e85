//! A part of the world shared between the live simulator and its snapshots until one of them
//! changes it.
//!
//! A run snapshots the world after every step (to save it, or to keep it for the run's end),
//! and most of the world does not change between two steps: the seeded directory's groups,
//! its first-party service principals, a cluster's system objects. Cloning them every time
//! was a tenth of a suite's CPU. Here a clone is a reference count, and the first change
//! after a clone copies the value (`Arc::make_mut`), so each holder still sees a value of
//! its own: nothing a snapshot holds moves when the live world changes, and the reverse.
//!
//! Serialised as the value itself: saved states read and write as before.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub struct CopyOnWrite<T>(Arc<T>);

impl<T> CopyOnWrite<T> {
    pub fn new(value: T) -> Self {
        CopyOnWrite(Arc::new(value))
    }
}

impl<T> Deref for CopyOnWrite<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

/// Any mutable use copies a shared value first, even one that ends up changing nothing: at
/// most one copy per snapshot, what every snapshot cost before.
impl<T: Clone> DerefMut for CopyOnWrite<T> {
    fn deref_mut(&mut self) -> &mut T {
        Arc::make_mut(&mut self.0)
    }
}

impl<T> Clone for CopyOnWrite<T> {
    fn clone(&self) -> Self {
        CopyOnWrite(Arc::clone(&self.0))
    }
}

impl<T: Default> Default for CopyOnWrite<T> {
    fn default() -> Self {
        CopyOnWrite::new(T::default())
    }
}

impl<A, T: FromIterator<A>> FromIterator<A> for CopyOnWrite<T> {
    fn from_iter<I: IntoIterator<Item = A>>(items: I) -> Self {
        CopyOnWrite::new(items.into_iter().collect())
    }
}

impl<T: fmt::Debug> fmt::Debug for CopyOnWrite<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<T: PartialEq> PartialEq for CopyOnWrite<T> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl<'a, T> IntoIterator for &'a CopyOnWrite<T>
where
    &'a T: IntoIterator,
{
    type Item = <&'a T as IntoIterator>::Item;
    type IntoIter = <&'a T as IntoIterator>::IntoIter;

    fn into_iter(self) -> Self::IntoIter {
        (&*self.0).into_iter()
    }
}

impl<T: Serialize> Serialize for CopyOnWrite<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for CopyOnWrite<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(CopyOnWrite::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clone_shares_until_either_side_changes() {
        let mut live = CopyOnWrite::new(vec![1, 2, 3]);
        let snapshot = live.clone();
        assert!(Arc::ptr_eq(&live.0, &snapshot.0), "a clone is a reference, not a copy");
        live.push(4);
        assert_eq!(*snapshot, vec![1, 2, 3], "the snapshot keeps what it was given");
        assert_eq!(*live, vec![1, 2, 3, 4]);
        let mut other = snapshot.clone();
        other.clear();
        assert_eq!(*snapshot, vec![1, 2, 3], "a change through another clone moves nothing here either");
    }

    #[test]
    fn an_unshared_value_changes_in_place() {
        let mut only = CopyOnWrite::new(vec![1]);
        let before = Arc::as_ptr(&only.0);
        only.push(2);
        assert_eq!(Arc::as_ptr(&only.0), before);
    }

    #[test]
    fn compared_and_shown_as_the_value_itself() {
        let (a, b) = (CopyOnWrite::new(vec![1]), CopyOnWrite::new(vec![1]));
        assert_eq!(a, b, "equal values, though not shared");
        assert_ne!(a, CopyOnWrite::new(vec![2]));
        assert_eq!(format!("{a:?}"), "[1]");
    }

    #[test]
    fn serialised_as_the_value_itself() {
        let v = CopyOnWrite::new(vec!["a".to_string()]);
        let text = serde_json::to_string(&v).unwrap();
        assert_eq!(text, r#"["a"]"#);
        let back: CopyOnWrite<Vec<String>> = serde_json::from_str(&text).unwrap();
        assert_eq!(back, v);
    }
}
