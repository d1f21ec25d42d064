//! Fenwick (binary indexed) trees: the verifier registry's weights and slot occupancy,
//! with point updates, prefix sums and searches in O(log n).
//!
//! A weight tree over leaves `w[0..n]` stores at index `j` (0-based) the sum of the
//! leaves `(j + 1 − lowbit(j + 1)) ..= j`. Arithmetic wraps: every true prefix sum fits in
//! a u64 (stake is bounded by the mint's supply), so a decrease is a wrapping add of its
//! two's complement and the sums stay exact.
//!
//! [`pick`] over a tree picks exactly what [`crate::draw::weighted_pick`] picks over the
//! dense array of its leaves (excluded leaves counted as 0), but touches O(log n) nodes
//! per excluded leaf instead of all n leaves.

use crate::draw::draw_u64;
use crate::Hash;

fn lowbit(x: usize) -> usize {
    x & x.wrapping_neg()
}

/// Sum of the leaves `0..end`.
pub fn prefix(tree: &[u64], end: usize) -> u64 {
    let mut at = end.min(tree.len());
    let mut sum = 0u64;
    while at > 0 {
        sum = sum.wrapping_add(tree[at - 1]);
        at -= lowbit(at);
    }
    sum
}

/// Sum of every leaf.
pub fn total(tree: &[u64]) -> u64 {
    prefix(tree, tree.len())
}

/// Leaf `i`'s own value.
pub fn value(tree: &[u64], i: usize) -> u64 {
    prefix(tree, i + 1).wrapping_sub(prefix(tree, i))
}

/// Sets leaf `i` to `new`.
pub fn set(tree: &mut [u64], i: usize, new: u64) {
    add(tree, i, new.wrapping_sub(value(tree, i)));
}

/// Adds `delta` (wrapping: a decrease is its two's complement) to leaf `i`.
pub fn add(tree: &mut [u64], i: usize, delta: u64) {
    let mut at = i + 1;
    while at <= tree.len() {
        tree[at - 1] = tree[at - 1].wrapping_add(delta);
        at += lowbit(at);
    }
}

/// Weights a draw picks from, by leaf: what [`pick`] needs. A Fenwick tree (`[u64]`) is
/// one; [`crate::needtree::NeedWeights`] (the registry's blocked layout) another. Every
/// implementation answers as the dense array of its leaves would.
pub trait Weights {
    /// Number of leaves.
    fn len(&self) -> usize;
    /// Sum of the leaves `0..end`.
    fn prefix(&self, end: usize) -> u64;
    /// Leaf `i`'s own value.
    fn value(&self, i: usize) -> u64;
    /// The smallest `i` with `prefix(i + 1) > target`; `target` below [`total`](Self::total).
    fn find(&self, target: u64) -> usize;
    /// Sum of every leaf.
    fn total(&self) -> u64 {
        self.prefix(self.len())
    }
    /// Whether there are no leaves.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Weights for [u64] {
    fn len(&self) -> usize {
        <[u64]>::len(self)
    }
    fn prefix(&self, end: usize) -> u64 {
        prefix(self, end)
    }
    fn value(&self, i: usize) -> u64 {
        value(self, i)
    }
    fn find(&self, target: u64) -> usize {
        find(self, target)
    }
}

/// The leaf whose cumulative range holds `target`: the smallest `i` with
/// `prefix(i + 1) > target`. `target` must be below [`total`].
pub fn find(tree: &[u64], target: u64) -> usize {
    let n = tree.len();
    let mut pos = 0usize;
    let mut rest = target;
    let mut step = if n == 0 {
        0
    } else {
        1 << (usize::BITS - 1 - n.leading_zeros())
    };
    while step > 0 {
        let next = pos + step;
        if next <= n && tree[next - 1] <= rest {
            pos = next;
            rest -= tree[next - 1];
        }
        step >>= 1;
    }
    pos
}

/// Adds one to leaf `i` of a count tree (`up`), or takes one from it.
pub fn count_step(tree: &mut [u32], i: usize, up: bool) {
    let mut at = i + 1;
    while at <= tree.len() {
        tree[at - 1] = if up {
            tree[at - 1] + 1
        } else {
            tree[at - 1] - 1
        };
        at += lowbit(at);
    }
}

fn count_prefix(tree: &[u32], end: usize) -> u32 {
    let mut at = end.min(tree.len());
    let mut sum = 0u32;
    while at > 0 {
        sum += tree[at - 1];
        at -= lowbit(at);
    }
    sum
}

/// The total of a count tree's leaves (each leaf a count of set flags, such as the busy
/// slots of a registry block).
pub fn count(tree: &[u32]) -> u32 {
    count_prefix(tree, tree.len())
}

/// The first leaf of a count tree below `capacity` (each leaf counting up to `capacity`
/// set flags of its own, such as the occupied slots of a block), if any.
pub fn first_not_full(tree: &[u32], capacity: u32) -> Option<usize> {
    let n = tree.len();
    let mut pos = 0usize;
    let mut step = if n == 0 {
        0
    } else {
        1 << (usize::BITS - 1 - n.leading_zeros())
    };
    while step > 0 {
        let next = pos + step;
        // The node at `next` covers exactly the `step` leaves after `pos`.
        if next <= n && tree[next - 1] as usize == step * capacity as usize {
            pos = next;
        }
        step >>= 1;
    }
    (pos < n).then_some(pos)
}

/// Stake-weighted pick over a weight tree: leaf `i` with probability
/// `w[i] / Σ w` among leaves not in `excluded`; the same leaf
/// [`weighted_pick`](crate::draw::weighted_pick) returns for the dense leaves with the
/// excluded ones set to 0. `None` when no weight is left.
///
/// The target is drawn in the sum without the excluded weight and then mapped onto the
/// full tree by stepping over each excluded leaf's range that starts at or before it.
pub fn pick<W: Weights + ?Sized>(
    tag: &[u8],
    seed: &Hash,
    counter: u32,
    tree: &W,
    excluded: &[usize],
) -> Option<usize> {
    pick_skipping(tag, seed, counter, tree, &Skipped::new(tree, excluded))
}

/// The excluded leaves that weigh, as (start of the leaf's range, its weight) in order of
/// start, and their total: what [`pick`] steps over.
struct Skipped {
    ranges: Vec<(u64, u64)>,
    hidden: u64,
}

impl Skipped {
    fn new<W: Weights + ?Sized>(tree: &W, excluded: &[usize]) -> Self {
        let mut skipped = Self {
            ranges: Vec::with_capacity(excluded.len()),
            hidden: 0,
        };
        for &i in excluded {
            skipped.insert(tree, i);
        }
        skipped
    }

    /// Adds leaf `i` (once; a leaf out of range or without weight hides nothing).
    fn insert<W: Weights + ?Sized>(&mut self, tree: &W, i: usize) {
        if i >= tree.len() {
            return;
        }
        let w = tree.value(i);
        if w == 0 {
            return;
        }
        let start = tree.prefix(i);
        if let Err(at) = self.ranges.binary_search_by_key(&start, |&(s, _)| s) {
            self.ranges.insert(at, (start, w));
            self.hidden = self.hidden.wrapping_add(w);
        }
    }
}

fn pick_skipping<W: Weights + ?Sized>(
    tag: &[u8],
    seed: &Hash,
    counter: u32,
    tree: &W,
    skipped: &Skipped,
) -> Option<usize> {
    let remaining = tree.total().checked_sub(skipped.hidden)?;
    if remaining == 0 {
        return None;
    }
    let mut at = draw_u64(tag, seed, counter) % remaining;
    for &(start, w) in &skipped.ranges {
        if start > at {
            break;
        }
        at += w;
    }
    Some(tree.find(at))
}

/// Up to `count` distinct leaves drawn by weight without replacement, never one of
/// `excluded`: the same leaves [`pick_distinct`](crate::draw::pick_distinct) returns for
/// the dense leaves with the excluded ones set to 0. Each pick joins the skipped ranges
/// once, so a committee costs one range lookup per seat and per exclusion, not one per
/// seat per exclusion.
pub fn pick_distinct<W: Weights + ?Sized>(
    tag: &[u8],
    seed: &Hash,
    count: usize,
    tree: &W,
    excluded: &[usize],
) -> Vec<usize> {
    let mut out: Vec<usize> = Vec::with_capacity(count);
    let mut skipped = Skipped::new(tree, excluded);
    for seat in 0..count {
        match pick_skipping(tag, seed, seat as u32, tree, &skipped) {
            Some(i) => {
                out.push(i);
                skipped.insert(tree, i);
            }
            None => break,
        }
    }
    out
}

/// A weight tree over `leaves` (O(n)).
pub fn build(leaves: &[u64]) -> Vec<u64> {
    let mut tree = leaves.to_vec();
    for j in 1..=tree.len() {
        let parent = j + lowbit(j);
        if parent <= tree.len() {
            tree[parent - 1] = tree[parent - 1].wrapping_add(tree[j - 1]);
        }
    }
    tree
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::draw::{pick_distinct as dense_distinct, weighted_pick};
    use proptest::prelude::*;

    /// A count tree with leaves 0 or 1, as the tests below use it.
    fn set_flag(tree: &mut [u32], i: usize, occupied: bool) {
        if flag(tree, i) != occupied {
            count_step(tree, i, occupied);
        }
    }

    fn flag(tree: &[u32], i: usize) -> bool {
        count_prefix(tree, i + 1) > count_prefix(tree, i)
    }

    fn first_unset(tree: &[u32]) -> Option<usize> {
        first_not_full(tree, 1)
    }

    fn zeroed(weights: &[u64], excluded: &[usize]) -> Vec<u64> {
        weights
            .iter()
            .enumerate()
            .map(|(i, &w)| if excluded.contains(&i) { 0 } else { w })
            .collect()
    }

    #[test]
    fn prefix_value_and_find_agree_with_the_leaves() {
        let leaves = [5u64, 0, 3, 0, 0, 7, 1];
        let tree = build(&leaves);
        assert_eq!(total(&tree), 16);
        for (i, &w) in leaves.iter().enumerate() {
            assert_eq!(value(&tree, i), w);
        }
        assert_eq!(find(&tree, 0), 0);
        assert_eq!(find(&tree, 4), 0);
        assert_eq!(find(&tree, 5), 2);
        assert_eq!(find(&tree, 8), 5);
        assert_eq!(find(&tree, 15), 6);
    }

    #[test]
    fn first_unset_finds_the_first_free_slot() {
        let mut flags = vec![0u32; 10];
        assert_eq!(first_unset(&flags), Some(0));
        for i in 0..10 {
            set_flag(&mut flags, i, true);
        }
        assert_eq!(first_unset(&flags), None);
        set_flag(&mut flags, 7, false);
        set_flag(&mut flags, 3, false);
        assert_eq!(first_unset(&flags), Some(3));
        assert!(!flag(&flags, 7) && flag(&flags, 6));
    }

    proptest! {
        #[test]
        fn tree_picks_are_the_dense_picks(
            leaves in proptest::collection::vec(prop_oneof![Just(0u64), 1u64..1_000_000], 1..200),
            excluded in proptest::collection::vec(0usize..220, 0..6),
            seed in any::<[u8; 32]>(),
            counter in 0u32..1000,
            count in 0usize..8,
        ) {
            let tree = build(&leaves);
            prop_assert_eq!(
                pick(b"t", &seed, counter, &tree[..], &excluded),
                weighted_pick(b"t", &seed, counter, &zeroed(&leaves, &excluded))
            );
            prop_assert_eq!(
                pick_distinct(b"c", &seed, count, &tree[..], &excluded),
                dense_distinct(b"c", &seed, count, &zeroed(&leaves, &excluded))
            );
        }

        #[test]
        fn updates_keep_the_tree_exact(
            ops in proptest::collection::vec((0usize..64, 0u64..1_000_000), 1..200),
        ) {
            let mut leaves = vec![0u64; 64];
            let mut tree = vec![0u64; 64];
            let mut flags = vec![0u32; 64];
            for (i, w) in ops {
                leaves[i] = w;
                set(&mut tree, i, w);
                set_flag(&mut flags, i, w > 0);
                prop_assert_eq!(&tree, &build(&leaves));
                prop_assert_eq!(first_unset(&flags), leaves.iter().position(|&w| w == 0));
            }
        }
    }
}
