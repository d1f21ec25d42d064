//! The verifier registry's weights in a compact layout: one stake and one capability byte
//! per slot, and per job need a Fenwick tree of the stake of each block of [`BLOCK`]
//! slots that need covers. 8 + 1 bytes per slot and 64 per block, where one Fenwick tree
//! per need over slots took 64 bytes per slot.
//!
//! A draw over [`NeedWeights`] searches the need's block tree (O(log n)) and then the
//! block's slots (at most [`BLOCK`]); it picks exactly what a dense array of the need's
//! weights would ([`crate::sumtree::Weights`]), so a registry in this layout draws the
//! same verifiers as one in the old.

use crate::capability::{covers, Capabilities};
use crate::sumtree::{self, Weights};

/// Slots per block: a search reads the block tree, then at most this many slots.
pub const BLOCK: usize = 32;

/// Slot `i` weighs `stake[i]` for a job needing `need` when `capabilities[i]` covers it,
/// else 0; `blocks` is the need's Fenwick tree of those weights summed per block.
#[derive(Clone, Copy, Debug)]
pub struct NeedWeights<'a> {
    stake: &'a [u64],
    capabilities: &'a [Capabilities],
    need: Capabilities,
    blocks: &'a [u64],
}

impl<'a> NeedWeights<'a> {
    /// The weights of `need` over `stake` and `capabilities` (equal lengths, `blocks` one
    /// node per [`BLOCK`] slots).
    pub fn new(
        stake: &'a [u64],
        capabilities: &'a [Capabilities],
        need: Capabilities,
        blocks: &'a [u64],
    ) -> Self {
        debug_assert_eq!(stake.len(), capabilities.len());
        debug_assert_eq!(blocks.len(), stake.len().div_ceil(BLOCK));
        Self {
            stake,
            capabilities,
            need,
            blocks,
        }
    }

    fn slots(&self, block: usize) -> core::ops::Range<usize> {
        block * BLOCK..((block + 1) * BLOCK).min(self.stake.len())
    }
}

impl Weights for NeedWeights<'_> {
    fn len(&self) -> usize {
        self.stake.len()
    }

    fn value(&self, i: usize) -> u64 {
        match (self.stake.get(i), self.capabilities.get(i)) {
            (Some(&stake), Some(&caps)) if covers(caps, self.need) => stake,
            _ => 0,
        }
    }

    fn prefix(&self, end: usize) -> u64 {
        let end = end.min(self.stake.len());
        let block = end / BLOCK;
        let block_end = (block + 1) * BLOCK;
        if end - block * BLOCK <= BLOCK / 2 || block_end > self.stake.len() {
            // Up to the block's start, then its slots before `end`.
            (block * BLOCK..end).fold(sumtree::prefix(self.blocks, block), |sum, i| {
                sum.wrapping_add(self.value(i))
            })
        } else {
            // Through the block's end, less its slots from `end` on: the shorter walk.
            (end..block_end).fold(sumtree::prefix(self.blocks, block + 1), |sum, i| {
                sum.wrapping_sub(self.value(i))
            })
        }
    }

    fn total(&self) -> u64 {
        sumtree::total(self.blocks)
    }

    fn find(&self, target: u64) -> usize {
        let block = sumtree::find(self.blocks, target);
        let mut rest = target.wrapping_sub(sumtree::prefix(self.blocks, block));
        for i in self.slots(block) {
            let w = self.value(i);
            if rest < w {
                return i;
            }
            rest -= w;
        }
        self.stake.len()
    }
}

/// Sets slot `i` to `new_stake` with `new_capabilities`, keeping each need's block tree
/// (`trees[need]`) exact: O(needs × log blocks).
pub fn set<const BLOCKS: usize>(
    stake: &mut [u64],
    capabilities: &mut [Capabilities],
    trees: &mut [[u64; BLOCKS]],
    i: usize,
    new_stake: u64,
    new_capabilities: Capabilities,
) {
    let (old_stake, old_capabilities) = (stake[i], capabilities[i]);
    let weight = |stake: u64, caps: Capabilities, need: Capabilities| {
        if covers(caps, need) {
            stake
        } else {
            0
        }
    };
    for (need, tree) in trees.iter_mut().enumerate() {
        let need = need as Capabilities;
        let old = weight(old_stake, old_capabilities, need);
        let new = weight(new_stake, new_capabilities, need);
        if old != new {
            sumtree::add(tree, i / BLOCK, new.wrapping_sub(old));
        }
    }
    stake[i] = new_stake;
    capabilities[i] = new_capabilities;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capability::NEED_CLASSES;
    use crate::draw::{pick_distinct as dense_distinct, weighted_pick};
    use crate::sumtree::{pick, pick_distinct};
    use proptest::prelude::*;

    const SLOTS: usize = 200;
    const BLOCKS: usize = SLOTS.div_ceil(BLOCK);

    fn dense(stake: &[u64], caps: &[u8], need: u8, excluded: &[usize]) -> Vec<u64> {
        (0..stake.len())
            .map(|i| {
                if excluded.contains(&i) || !covers(caps[i], need) {
                    0
                } else {
                    stake[i]
                }
            })
            .collect()
    }

    proptest! {
        #[test]
        fn blocked_picks_are_the_dense_picks_of_every_need(
            ops in proptest::collection::vec(
                (0usize..SLOTS, prop_oneof![Just(0u64), 1u64..1_000_000], 0u8..8),
                1..120,
            ),
            excluded in proptest::collection::vec(0usize..220, 0..6),
            seed in any::<[u8; 32]>(),
            counter in 0u32..1000,
            count in 0usize..8,
        ) {
            let mut stake = vec![0u64; SLOTS];
            let mut caps = vec![0u8; SLOTS];
            let mut trees = vec![[0u64; BLOCKS]; NEED_CLASSES];
            for (i, w, c) in ops {
                set(&mut stake, &mut caps, &mut trees, i, w, c);
            }
            for need in 0..NEED_CLASSES as u8 {
                let view = NeedWeights::new(&stake, &caps, need, &trees[usize::from(need)]);
                let leaves = dense(&stake, &caps, need, &[]);
                prop_assert_eq!(view.total(), leaves.iter().sum::<u64>());
                for i in [0, 16, 17, 31, 32, 33, 60, 150, SLOTS - 1, SLOTS] {
                    prop_assert_eq!(view.value(i), leaves.get(i).copied().unwrap_or(0));
                    prop_assert_eq!(view.prefix(i), leaves[..i].iter().sum::<u64>());
                }
                prop_assert_eq!(
                    pick(b"t", &seed, counter, &view, &excluded),
                    weighted_pick(b"t", &seed, counter, &dense(&stake, &caps, need, &excluded))
                );
                prop_assert_eq!(
                    pick_distinct(b"c", &seed, count, &view, &excluded),
                    dense_distinct(b"c", &seed, count, &dense(&stake, &caps, need, &excluded))
                );
            }
        }
    }

    #[test]
    fn a_block_search_finds_the_slot_whose_range_holds_the_target() {
        let mut stake = vec![0u64; 70];
        let mut caps = vec![0u8; 70];
        let mut trees = vec![[0u64; 3]; NEED_CLASSES];
        set(&mut stake, &mut caps, &mut trees, 3, 5, 0);
        set(&mut stake, &mut caps, &mut trees, 40, 7, 1);
        set(&mut stake, &mut caps, &mut trees, 69, 1, 3);
        let all = NeedWeights::new(&stake, &caps, 0, &trees[0]);
        assert_eq!([0, 4, 5, 11, 12].map(|t| all.find(t)), [3, 3, 40, 40, 69]);
        let need_one = NeedWeights::new(&stake, &caps, 1, &trees[1]);
        assert_eq!((need_one.total(), need_one.find(7)), (8, 69));
        let need_two = NeedWeights::new(&stake, &caps, 2, &trees[2]);
        assert_eq!((need_two.total(), need_two.value(40)), (1, 0));
    }
}
