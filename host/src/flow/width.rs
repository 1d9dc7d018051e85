//! How many of a flow's steps can ever run at once: the most steps of which none needs another,
//! directly or through others (the largest antichain of the dependency order). Two running
//! steps never depend on each other (a step starts only once its needs have finished), so a
//! run never holds more sandboxes than this, and it can reserve them all before it starts.

/// The width of the order given by `deps` (`deps[i]`: the steps step `i` needs). The steps
/// form no cycle (the flow loader refuses them).
///
/// Dilworth: the largest antichain is as large as the fewest chains that cover every step,
/// which is the number of steps less a maximum matching of "a comes before b" pairs.
pub fn width(deps: &[Vec<usize>]) -> usize {
    let n = deps.len();
    let before = transitive_needs(deps);
    // matched_to[b] = the step matched to come just before b in a chain.
    let mut matched_to: Vec<Option<usize>> = vec![None; n];
    let mut matching = 0;
    for a in 0..n {
        let mut seen = vec![false; n];
        if augment(a, &before, &mut matched_to, &mut seen) {
            matching += 1;
        }
    }
    n - matching
}

/// `before[a][b]`: step `b` needs step `a`, directly or through others.
fn transitive_needs(deps: &[Vec<usize>]) -> Vec<Vec<bool>> {
    let n = deps.len();
    let mut before = vec![vec![false; n]; n];
    for (b, needs) in deps.iter().enumerate() {
        for &a in needs {
            before[a][b] = true;
        }
    }
    for k in 0..n {
        for a in 0..n {
            if before[a][k] {
                for b in 0..n {
                    if before[k][b] {
                        before[a][b] = true;
                    }
                }
            }
        }
    }
    before
}

/// Kuhn's augmenting path from `a` to a step that can come after it in a chain.
fn augment(a: usize, before: &[Vec<bool>], matched_to: &mut [Option<usize>], seen: &mut [bool]) -> bool {
    for b in 0..before.len() {
        if before[a][b] && !seen[b] {
            seen[b] = true;
            if matched_to[b].is_none_or(|other| augment(other, before, matched_to, seen)) {
                matched_to[b] = Some(a);
                return true;
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn independent_steps_all_run_at_once() {
        assert_eq!(width(&[vec![], vec![], vec![]]), 3);
    }

    #[test]
    fn a_chain_runs_one_at_a_time() {
        assert_eq!(width(&[vec![], vec![0], vec![1], vec![2]]), 1);
    }

    #[test]
    fn no_steps_need_no_sandbox() {
        assert_eq!(width(&[]), 0);
    }

    #[test]
    fn two_chains_beside_a_loner() {
        // 0 → 1 → 2, 3 → 4, and 5 alone: three at once, never four.
        assert_eq!(width(&[vec![], vec![0], vec![1], vec![], vec![3], vec![]]), 3);
    }

    #[test]
    fn a_fan_out_and_back_in() {
        // 0 → {1, 2, 3} → 4
        assert_eq!(width(&[vec![], vec![0], vec![0], vec![0], vec![1, 2, 3]]), 3);
    }

    #[test]
    fn an_order_a_greedy_chain_cover_gets_wrong() {
        // 0 → 2, 1 → 2, 1 → 3: {0, 1} or {2, 3} at once, so two.
        assert_eq!(width(&[vec![], vec![], vec![0, 1], vec![1]]), 2);
    }

    /// The width by trying every set of steps (small flows only).
    fn by_brute_force(deps: &[Vec<usize>]) -> usize {
        let before = transitive_needs(deps);
        let n = deps.len();
        (0u32..1 << n)
            .filter(|set| (0..n).all(|a| (0..n).all(|b| !(set >> a & 1 == 1 && set >> b & 1 == 1 && before[a][b]))))
            .map(|set| set.count_ones() as usize)
            .max()
            .unwrap_or(0)
    }

    proptest! {
        /// Random acyclic flows: each step may need any earlier one.
        #[test]
        fn matches_every_set_tried(n in 0usize..10, edges in proptest::collection::vec(any::<bool>(), 45)) {
            let mut deps = vec![Vec::new(); n];
            let mut e = edges.iter();
            for (b, needs) in deps.iter_mut().enumerate() {
                for a in 0..b {
                    if *e.next().unwrap() {
                        needs.push(a);
                    }
                }
            }
            prop_assert_eq!(width(&deps), by_brute_force(&deps));
        }
    }
}
