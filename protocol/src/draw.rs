//! Everything drawn from a challenge seed: sampled chunk indices, the verifier of each
//! round, and a contest committee. All are pure functions of their arguments, so the
//! programs and every off-chain party compute the same draw.

use crate::{domain, hashv, Hash};

/// seed = sha256(SEED ‖ job ‖ slot hash ‖ committed root).
///
/// The slot hash is from a slot after the commitment, so the provider cannot know the
/// seed when it commits and the verifier cannot choose it.
pub fn challenge_seed(job: &[u8; 32], slot_hash: &Hash, root: &Hash) -> Hash {
    hashv(&[domain::SEED, job, slot_hash, root])
}

/// seed = sha256(COMMITTEE_SEED ‖ job ‖ slot hash ‖ fault evidence): a contest committee's
/// own randomness, from a slot after `contest_fault` landed, so neither the provider who
/// contests nor anyone who saw the challenge seed knows the committee in advance.
pub fn committee_seed(job: &[u8; 32], slot_hash: &Hash, evidence: &Hash) -> Hash {
    hashv(&[domain::COMMITTEE_SEED, job, slot_hash, evidence])
}

/// Bytes of one SlotHashes entry: slot (u64 LE) + hash (32).
const SLOT_HASH_ENTRY_LEN: usize = 40;

/// Entries the SlotHashes sysvar keeps: the most recent slots (before the current one)
/// that produced a block.
pub const SLOT_HASHES_ENTRIES: u64 = 512;

/// The longest draw window: a draw cranked at any slot `t` with
/// `seed_slot < t <= seed_slot + MAX_DRAW_WINDOW_SLOTS` finds its seed `Known` (or
/// `Pending` while no block at or after the seed slot exists), never `Gone`.
///
/// Proof: let `s'` be the first slot at or after `seed_slot` with a block and `p` the last
/// block before `seed_slot`. At `t` the sysvar holds the 512 newest blocks before `t`.
/// If `s' = seed_slot`, the blocks in `[s', t)` number at most `t - seed_slot <= 512`, so
/// `s'` is held, and a held seed slot proves itself first. Otherwise they number at most
/// `t - s' <= 511`, so with `p` at most 512: both `s'` and the proof that it is the first
/// (`p`) are held. At 513 a chain with no skipped slot has already dropped the seed slot.
/// (`draw::tests::a_crank_within_the_draw_window_always_finds_its_seed` checks both over
/// random block patterns.)
pub const MAX_DRAW_WINDOW_SLOTS: u64 = SLOT_HASHES_ENTRIES;

/// What the SlotHashes sysvar says about the hash that seeds a draw armed for `seed_slot`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeedHash {
    /// The hash of the first slot at or after `seed_slot`, provably the first: the sysvar
    /// also holds that exact slot, or an older one (so no earlier qualifying slot exists).
    Known(Hash),
    /// No slot at or after `seed_slot` has a hash yet: wait.
    Pending,
    /// The first slot at or after `seed_slot` has left the sysvar (or the sysvar cannot be
    /// read): the draw can no longer be made, and is never taken from whichever hash is
    /// now oldest. A draw cranked within [`MAX_DRAW_WINDOW_SLOTS`] of its seed slot never
    /// sees this.
    Gone,
}

/// Looks up the seed of a draw armed for `seed_slot` in the SlotHashes sysvar's data
/// (`u64 count ‖ (slot u64, hash [32])*`, newest first). A pure function of the sysvar,
/// so the programs and every off-chain predictor agree. Entries are sorted by slot, so it
/// binary-searches: about 9 probes of the 512 entries a cluster's sysvar holds.
pub fn seed_slot_hash(slot_hashes: &[u8], seed_slot: u64) -> SeedHash {
    let Some(count) = slot_hashes
        .get(..8)
        .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
    else {
        return SeedHash::Gone;
    };
    let stored = (slot_hashes.len() - 8) / SLOT_HASH_ENTRY_LEN;
    let count = usize::try_from(count).map_or(stored, |c| c.min(stored));
    let entry = |i: usize| -> (u64, Hash) {
        let at = 8 + i * SLOT_HASH_ENTRY_LEN;
        let bytes = &slot_hashes[at..at + SLOT_HASH_ENTRY_LEN];
        (
            u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")),
            bytes[8..].try_into().expect("32 bytes"),
        )
    };
    // The first entry older than the seed slot (entries are newest first).
    let (mut lo, mut hi) = (0usize, count);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if entry(mid).0 < seed_slot {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    match lo {
        // Nothing at or after the seed slot yet (or an empty sysvar).
        0 if count > 0 => SeedHash::Pending,
        0 => SeedHash::Gone,
        // An older slot is present, so the oldest one at or after is the first.
        older if older < count => SeedHash::Known(entry(older - 1).1),
        // Every entry is at or after the seed slot: only the seed slot itself proves it.
        _ => match entry(count - 1) {
            (slot, hash) if slot == seed_slot => SeedHash::Known(hash),
            _ => SeedHash::Gone,
        },
    }
}

pub(crate) fn draw_u64(tag: &[u8], seed: &Hash, counter: u32) -> u64 {
    let digest = hashv(&[tag, seed, &counter.to_le_bytes()]);
    u64::from_le_bytes(digest[..8].try_into().expect("8 bytes"))
}

/// The `k` distinct chunk indices in `0..n_chunks` sampled by `seed`, in draw order.
///
/// Returns an empty list when `k == 0` or `k > n_chunks` (the programs reject such jobs).
/// Each candidate is sha256(SAMPLE ‖ seed ‖ counter) mod n; repeats are skipped.
pub fn sample_indices(seed: &Hash, n_chunks: u32, k: u32) -> Vec<u32> {
    if k == 0 || k > n_chunks {
        return Vec::new();
    }
    let mut picked: Vec<u32> = Vec::with_capacity(k as usize);
    let mut counter = 0u32;
    while picked.len() < k as usize {
        let candidate = (draw_u64(domain::SAMPLE, seed, counter) % u64::from(n_chunks)) as u32;
        if !picked.contains(&candidate) {
            picked.push(candidate);
        }
        counter = counter.wrapping_add(1);
    }
    picked
}

/// Whether chunk `index` is among the `k` sampled by `seed`.
pub fn is_sampled(seed: &Hash, n_chunks: u32, k: u32, index: u32) -> bool {
    sample_indices(seed, n_chunks, k).contains(&index)
}

/// Stake-weighted pick: index `i` is chosen with probability `weights[i] / Σ weights`.
///
/// `tag` separates uses (verifier rounds, committee seats), `counter` separates draws.
/// `None` when every weight is zero.
pub fn weighted_pick(tag: &[u8], seed: &Hash, counter: u32, weights: &[u64]) -> Option<usize> {
    let total: u128 = weights.iter().map(|&w| u128::from(w)).sum();
    if total == 0 {
        return None;
    }
    let mut target = u128::from(draw_u64(tag, seed, counter)) % total;
    for (i, &w) in weights.iter().enumerate() {
        let w = u128::from(w);
        if target < w {
            return Some(i);
        }
        target -= w;
    }
    None
}

/// Up to `count` distinct indices drawn by weight without replacement (committee seats).
pub fn pick_distinct(tag: &[u8], seed: &Hash, count: usize, weights: &[u64]) -> Vec<usize> {
    let mut remaining = weights.to_vec();
    let mut chosen = Vec::with_capacity(count);
    for seat in 0..count {
        match weighted_pick(tag, seed, seat as u32, &remaining) {
            Some(i) => {
                chosen.push(i);
                remaining[i] = 0;
            }
            None => break,
        }
    }
    chosen
}

/// The verifier assigned to `round` among `weights` (ineligible operators carry weight 0).
pub fn verifier_for_round(seed: &Hash, round: u8, weights: &[u64]) -> Option<usize> {
    weighted_pick(domain::VERIFIER, seed, u32::from(round), weights)
}

/// [`verifier_for_round`] over a registry's weight tree (`assay_protocol::sumtree`), with
/// the `excluded` leaves weighing 0: the same pick, in O(log n) per excluded leaf.
pub fn verifier_in_tree<W: crate::sumtree::Weights + ?Sized>(
    seed: &Hash,
    round: u8,
    tree: &W,
    excluded: &[usize],
) -> Option<usize> {
    crate::sumtree::pick(domain::VERIFIER, seed, u32::from(round), tree, excluded)
}

/// [`committee`] over a registry's weight tree, with the `excluded` leaves weighing 0.
pub fn committee_in_tree<W: crate::sumtree::Weights + ?Sized>(
    seed: &Hash,
    size: usize,
    tree: &W,
    excluded: &[usize],
) -> Vec<usize> {
    crate::sumtree::pick_distinct(domain::COMMITTEE, seed, size, tree, excluded)
}

/// The contest committee: `size` distinct operators drawn by weight.
pub fn committee(seed: &Hash, size: usize, weights: &[u64]) -> Vec<usize> {
    pick_distinct(domain::COMMITTEE, seed, size, weights)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn samples_are_distinct_in_range_and_deterministic() {
        let seed = [9u8; 32];
        let a = sample_indices(&seed, 4096, 64);
        assert_eq!(a.len(), 64);
        assert_eq!(a, sample_indices(&seed, 4096, 64));
        let mut sorted = a.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 64);
        assert!(a.iter().all(|&i| i < 4096));
        assert_ne!(a, sample_indices(&[8u8; 32], 4096, 64));
    }

    #[test]
    fn sampling_all_chunks_returns_a_permutation() {
        let mut all = sample_indices(&[1; 32], 16, 16);
        all.sort_unstable();
        assert_eq!(all, (0..16).collect::<Vec<_>>());
    }

    #[test]
    fn impossible_samples_are_empty() {
        assert!(sample_indices(&[1; 32], 4, 5).is_empty());
        assert!(sample_indices(&[1; 32], 4, 0).is_empty());
    }

    #[test]
    fn zero_weight_is_never_picked() {
        for c in 0..200 {
            assert_eq!(weighted_pick(b"t", &[3; 32], c, &[0, 5, 0]), Some(1));
        }
        assert_eq!(weighted_pick(b"t", &[3; 32], 0, &[0, 0]), None);
    }

    #[test]
    fn picks_follow_stake_weight() {
        let weights = [1u64, 3];
        let heavy = (0..4000)
            .filter(|&c| weighted_pick(b"t", &[4; 32], c, &weights) == Some(1))
            .count();
        // Expected 3000; a 5-sigma band is about ±137.
        assert!(
            (2860..3140).contains(&heavy),
            "heavy picked {heavy} of 4000"
        );
    }

    /// SlotHashes data with `slots` (newest first), each hashed as `[slot as u8; 32]`.
    fn sysvar(slots: &[u64]) -> Vec<u8> {
        let mut data = (slots.len() as u64).to_le_bytes().to_vec();
        for &slot in slots {
            data.extend_from_slice(&slot.to_le_bytes());
            data.extend_from_slice(&[slot as u8; 32]);
        }
        data
    }

    #[test]
    fn the_seed_is_the_first_slot_at_or_after_and_never_drifts() {
        // Slots 95, 97, 100, 103, 110 exist; the draw is armed for 98.
        let window = sysvar(&[110, 103, 100, 97, 95]);
        assert_eq!(seed_slot_hash(&window, 98), SeedHash::Known([100; 32]));
        assert_eq!(seed_slot_hash(&window, 100), SeedHash::Known([100; 32]));
        assert_eq!(seed_slot_hash(&window, 111), SeedHash::Pending);
        // Once 97 (the proof that nothing between 97 and 100 exists) and 100 are gone,
        // the oldest remaining hash is not taken: the draw re-arms.
        assert_eq!(seed_slot_hash(&sysvar(&[110, 103]), 98), SeedHash::Gone);
        // With only 100 and later left, slot 100 itself still proves it is the first.
        assert_eq!(
            seed_slot_hash(&sysvar(&[110, 103, 100]), 100),
            SeedHash::Known([100; 32])
        );
        assert_eq!(seed_slot_hash(&[1, 2], 5), SeedHash::Gone);
    }

    /// The linear definition `seed_slot_hash` implements by binary search.
    fn linear(slots: &[u64], seed_slot: u64) -> SeedHash {
        let mut first = None;
        for &slot in slots {
            if slot < seed_slot {
                return first.map_or(SeedHash::Pending, SeedHash::Known);
            }
            first = Some([slot as u8; 32]);
        }
        match slots.last() {
            Some(&slot) if slot == seed_slot => SeedHash::Known([slot as u8; 32]),
            _ => SeedHash::Gone,
        }
    }

    proptest! {
        #[test]
        fn binary_search_finds_the_linear_answer(
            mut slots in proptest::collection::btree_set(0u64..2_000, 0..600),
            seed_slot in 0u64..2_100,
        ) {
            let slots: Vec<u64> = std::mem::take(&mut slots).into_iter().rev().collect();
            prop_assert_eq!(seed_slot_hash(&sysvar(&slots), seed_slot), linear(&slots, seed_slot));
        }

        #[test]
        fn committee_seats_are_distinct_and_weighted(seed in any::<[u8; 32]>(), size in 0usize..6, weights in proptest::collection::vec(0u64..1000, 0..10)) {
            let seats = committee(&seed, size, &weights);
            let eligible = weights.iter().filter(|&&w| w > 0).count();
            prop_assert_eq!(seats.len(), size.min(eligible));
            for (i, s) in seats.iter().enumerate() {
                prop_assert!(weights[*s] > 0);
                prop_assert!(!seats[..i].contains(s));
            }
        }
    }

    /// Which slots of `0..len` produced a block: each is skipped with probability
    /// `skip_per_mille`/1000, from a small generator seeded by `seed`.
    fn blocks(len: u64, skip_per_mille: u64, seed: u64) -> Vec<u64> {
        let mut state = seed | 1;
        (0..len)
            .filter(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state % 1000 >= skip_per_mille
            })
            .collect()
    }

    /// The seed a crank at `crank` reads from the sysvar as the runtime keeps it: the 512
    /// newest blocks before the crank's slot.
    fn read_at(blocks: &[u64], seed_slot: u64, crank: u64) -> SeedHash {
        let mut newest_first: Vec<u64> = blocks.iter().copied().filter(|&s| s < crank).collect();
        newest_first.reverse();
        newest_first.truncate(SLOT_HASHES_ENTRIES as usize);
        seed_slot_hash(&sysvar(&newest_first), seed_slot)
    }

    proptest::proptest! {
        /// Blocks at random slots (none skipped, or skipped anywhere, the seed slot's
        /// included): a crank at any slot of the draw window reads the hash of the first
        /// block at or after the seed slot, or Pending before one exists; never Gone.
        #[test]
        fn a_crank_within_the_draw_window_always_finds_its_seed(
            skip_per_mille in proptest::prop_oneof![proptest::strategy::Just(0u64), 0u64..500],
            seed in proptest::num::u64::ANY,
            seed_offset in 0u64..400,
            delay in 1u64..=MAX_DRAW_WINDOW_SLOTS,
        ) {
            let blocks = blocks(1600, skip_per_mille, seed);
            let seed_slot = 600 + seed_offset;
            let crank = seed_slot + delay;
            let first = blocks.iter().copied().find(|&s| s >= seed_slot && s < crank);
            let expected = first.map_or(SeedHash::Pending, |s| SeedHash::Known([s as u8; 32]));
            proptest::prop_assert_eq!(read_at(&blocks, seed_slot, crank), expected);
        }
    }

    #[test]
    fn one_slot_past_the_draw_window_the_seed_of_a_full_chain_is_gone() {
        let blocks = blocks(1600, 0, 1);
        let seed_slot = 700;
        let last = seed_slot + MAX_DRAW_WINDOW_SLOTS;
        assert_eq!(
            read_at(&blocks, seed_slot, last),
            SeedHash::Known([700u64 as u8; 32])
        );
        assert_eq!(read_at(&blocks, seed_slot, last + 1), SeedHash::Gone);
    }
}
