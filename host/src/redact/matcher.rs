//! Finds the known secrets in a text: leftmost first, the longest where several start at
//! the same place, never overlapping (what one leftmost-longest automaton of them all
//! finds). The automaton holds only each secret's first bytes, and a secret is confirmed
//! where its head was found. Secrets run to kilobytes (tokens, kubeconfigs, keys): an
//! automaton of them whole costs a state per byte to build, once per run, where this one
//! costs a few hundred states.

use std::collections::{HashMap, HashSet};

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

/// How much of each secret the automaton holds.
const HEAD_LEN: usize = 16;

/// Up to this many secrets behind one head are compared one by one; more are looked up by
/// length. Tokens from one issuer share their first tens of bytes (the same JWT header), so a
/// long run puts all its tokens behind one head.
const COMPARED_ONE_BY_ONE: usize = 8;

pub(super) struct SecretMatcher {
    heads: AhoCorasick,
    /// For each head (by its pattern id), the secrets that start with it.
    by_head: Vec<Group>,
}

/// The secrets behind one head.
enum Group {
    /// Few: compared one by one, longest first.
    Few(Vec<String>),
    /// Many: their distinct lengths, longest first, and the secrets to look up.
    ByLength(Vec<usize>, HashSet<String>),
}

impl Group {
    fn new(mut secrets: Vec<String>) -> Self {
        secrets.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        if secrets.len() <= COMPARED_ONE_BY_ONE {
            return Group::Few(secrets);
        }
        let mut lengths: Vec<usize> = secrets.iter().map(String::len).collect();
        lengths.dedup();
        Group::ByLength(lengths, secrets.into_iter().collect())
    }

    /// The length of the longest secret `rest` starts with.
    fn longest_at(&self, rest: &str) -> Option<usize> {
        match self {
            Group::ByLength(lengths, set) => lengths.iter().copied().find(|&n| rest.get(..n).is_some_and(|c| set.contains(c))),
            Group::Few(secrets) => secrets.iter().find(|s| rest.starts_with(s.as_str())).map(String::len),
        }
    }
}

fn head(secret: &str) -> &str {
    &secret[..secret.floor_char_boundary(HEAD_LEN)]
}

impl SecretMatcher {
    /// `None` when there are no secrets. Secrets are never empty.
    pub fn new<'a>(secrets: impl IntoIterator<Item = &'a String>) -> Option<Self> {
        let mut groups: HashMap<&str, Vec<String>> = HashMap::new();
        for s in secrets {
            groups.entry(head(s)).or_default().push(s.clone());
        }
        if groups.is_empty() {
            return None;
        }
        // In a fixed order, so pattern ids do not depend on the map's.
        let mut groups: Vec<(&str, Vec<String>)> = groups.into_iter().collect();
        groups.sort_by(|a, b| a.0.cmp(b.0));
        // Every place any head occurs (heads may contain each other), so the standard kind;
        // a contiguous NFA, as the heads are few.
        let heads = AhoCorasick::builder()
            .kind(Some(AhoCorasickKind::ContiguousNFA))
            .match_kind(MatchKind::Standard)
            .build(groups.iter().map(|(h, _)| h))
            .expect("secrets are plain strings");
        let by_head = groups.into_iter().map(|(_, secrets)| Group::new(secrets)).collect();
        Some(SecretMatcher { heads, by_head })
    }

    /// Where the secrets are in `s`, as byte ranges, in order.
    fn found(&self, s: &str) -> Vec<(usize, usize)> {
        let mut at: Vec<(usize, usize)> = self
            .heads
            .find_overlapping_iter(s)
            .filter_map(|m| Some((m.start(), m.start() + self.by_head[m.pattern().as_usize()].longest_at(&s[m.start()..])?)))
            .collect();
        // Leftmost, then longest; a match inside one already taken is not another.
        at.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        let mut taken: Vec<(usize, usize)> = Vec::with_capacity(at.len());
        for (start, end) in at {
            if taken.last().is_none_or(|&(_, last_end)| start >= last_end) {
                taken.push((start, end));
            }
        }
        taken
    }

    /// `s` with each secret replaced by `with`, or `None` when it holds none.
    pub fn replace(&self, s: &str, with: &str) -> Option<String> {
        let found = self.found(s);
        if found.is_empty() {
            return None;
        }
        let mut out = String::with_capacity(s.len());
        let mut from = 0;
        for (start, end) in found {
            out.push_str(&s[from..start]);
            out.push_str(with);
            from = end;
        }
        out.push_str(&s[from..]);
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One leftmost-longest automaton of the secrets whole: what the matcher must equal.
    fn whole(secrets: &[String], s: &str) -> String {
        let m = AhoCorasick::builder().match_kind(MatchKind::LeftmostLongest).build(secrets).unwrap();
        m.replace_all(s, &vec!["#"; secrets.len()])
    }

    #[test]
    fn a_long_secret_is_confirmed_past_its_head() {
        let secrets: Vec<String> = vec!["0123456789abcdefTAIL-ONE".into(), "0123456789abcdefTAIL-TWO-LONGER".into(), "0123456789abcdef".into()];
        let m = SecretMatcher::new(&secrets).unwrap();
        assert_eq!(m.replace("x0123456789abcdefTAIL-TWO-LONGERy", "#").unwrap(), "x#y");
        assert_eq!(m.replace("x0123456789abcdefTAIL-ONE", "#").unwrap(), "x#");
        assert_eq!(m.replace("x0123456789abcdefTAIL-THREE", "#").unwrap(), "x#TAIL-THREE", "only the head is a secret here");
        assert!(m.replace("0123456789abcde", "#").is_none());
        assert!(SecretMatcher::new(&[]).is_none());
    }

    #[test]
    fn many_secrets_behind_one_head_are_found_by_length() {
        // Tokens of one issuer: the same header, then their own bytes, of a few lengths.
        let secrets: Vec<String> = (0..200).map(|i| format!("eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.{i:0width$}", width = 8 + i % 5)).collect();
        let m = SecretMatcher::new(&secrets).unwrap();
        assert_eq!(m.by_head.len(), 1);
        let text = format!("a {} b {}x c eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.999999999999 d", secrets[7], secrets[123]);
        assert_eq!(m.replace(&text, "#").unwrap(), whole(&secrets, &text));
        assert_eq!(m.replace(&text, "#").unwrap(), "a # b #x c eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.999999999999 d");
    }

    proptest::proptest! {
        /// Secrets that share heads, contain each other and overlap (a two-letter alphabet,
        /// longer than a head): the same text as one automaton of them whole.
        #[test]
        fn finds_what_an_automaton_of_whole_secrets_finds(secrets in proptest::collection::hash_set("[ab]{1,40}", 1..40), text in "[abc]{0,300}") {
            let secrets: Vec<String> = secrets.into_iter().collect();
            let m = SecretMatcher::new(&secrets).unwrap();
            proptest::prop_assert_eq!(m.replace(&text, "#").unwrap_or_else(|| text.clone()), whole(&secrets, &text));
        }

        /// Many secrets behind one head (a long shared start, as tokens of one issuer have),
        /// containing and overlapping each other: looked up by length, the same answer.
        #[test]
        fn a_large_group_finds_the_same(tails in proptest::collection::hash_set("[ab]{0,12}", 9..40), text in proptest::collection::vec(("[ab]{0,12}", proptest::bool::ANY), 0..30)) {
            const SHARED: &str = "0123456789abcdefXY";
            let secrets: Vec<String> = tails.into_iter().map(|t| format!("{SHARED}{t}")).collect();
            let text: String = text.into_iter().map(|(t, prefixed)| if prefixed { format!("{SHARED}{t}") } else { t }).collect();
            let m = SecretMatcher::new(&secrets).unwrap();
            proptest::prop_assert!(m.by_head.iter().any(|g| matches!(g, Group::ByLength(..))));
            proptest::prop_assert_eq!(m.replace(&text, "#").unwrap_or_else(|| text.clone()), whole(&secrets, &text));
        }

        /// Multi-byte text: heads are cut at a character boundary.
        #[test]
        fn characters_are_never_split(secrets in proptest::collection::hash_set("[aé€]{1,12}", 1..6), text in "[aé€x]{0,80}") {
            let secrets: Vec<String> = secrets.into_iter().collect();
            let m = SecretMatcher::new(&secrets).unwrap();
            proptest::prop_assert_eq!(m.replace(&text, "#").unwrap_or_else(|| text.clone()), whole(&secrets, &text));
        }
    }
}
