//! Finds the known secrets in a text: leftmost first, the longest where several start at
//! the same place, never overlapping (what one leftmost-longest automaton of them all
//! finds). The automaton holds only each secret's first bytes, and a secret is confirmed
//! where its head was found. Secrets run to kilobytes (tokens, kubeconfigs, keys): an
//! automaton of them whole costs a state per byte to build, once per run, where this one
//! costs a few hundred states.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

/// How much of each secret the automaton holds.
const HEAD_LEN: usize = 16;

pub(super) struct SecretMatcher {
    heads: AhoCorasick,
    /// For each head (by its pattern id), the secrets that start with it, longest first.
    by_head: Vec<Vec<usize>>,
    secrets: Vec<String>,
}

fn head(secret: &str) -> &str {
    &secret[..secret.floor_char_boundary(HEAD_LEN)]
}

impl SecretMatcher {
    /// `None` when there are no secrets. Secrets are never empty.
    pub fn new<'a>(secrets: impl IntoIterator<Item = &'a String>) -> Option<Self> {
        let mut secrets: Vec<String> = secrets.into_iter().cloned().collect();
        if secrets.is_empty() {
            return None;
        }
        // Longest first, so each head's list is too (ties in a fixed order).
        secrets.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        let mut heads: Vec<&str> = Vec::new();
        let mut by_head: Vec<Vec<usize>> = Vec::new();
        let mut head_ids: HashMap<&str, usize> = HashMap::new();
        for (i, s) in secrets.iter().enumerate() {
            let id = *head_ids.entry(head(s)).or_insert_with(|| {
                heads.push(head(s));
                by_head.push(Vec::new());
                heads.len() - 1
            });
            by_head[id].push(i);
        }
        // Every place any head occurs (heads may contain each other), so the standard kind;
        // a contiguous NFA, as the heads are few.
        let heads = AhoCorasick::builder().kind(Some(AhoCorasickKind::ContiguousNFA)).match_kind(MatchKind::Standard).build(&heads).expect("secrets are plain strings");
        Some(SecretMatcher { heads, by_head, secrets })
    }

    /// Where the secrets are in `s`, as byte ranges, in order.
    fn found(&self, s: &str) -> Vec<(usize, usize)> {
        let mut at: Vec<(usize, usize)> = self
            .heads
            .find_overlapping_iter(s)
            .filter_map(|m| {
                let rest = &s[m.start()..];
                let longest = self.by_head[m.pattern().as_usize()].iter().find(|&&i| rest.starts_with(self.secrets[i].as_str()))?;
                Some((m.start(), m.start() + self.secrets[*longest].len()))
            })
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

    proptest::proptest! {
        /// Secrets that share heads, contain each other and overlap (a two-letter alphabet,
        /// longer than a head): the same text as one automaton of them whole.
        #[test]
        fn finds_what_an_automaton_of_whole_secrets_finds(secrets in proptest::collection::hash_set("[ab]{1,40}", 1..12), text in "[abc]{0,300}") {
            let secrets: Vec<String> = secrets.into_iter().collect();
            let m = SecretMatcher::new(&secrets).unwrap();
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
