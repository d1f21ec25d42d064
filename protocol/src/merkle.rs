//! Binary sha256 Merkle tree over chunk outputs.
//!
//! Leaf `i` = sha256(LEAF ‖ job ‖ i as u32 LE ‖ output slice i).
//! Node     = sha256(NODE ‖ left ‖ right).
//! A level of odd width promotes its last node unchanged to the next level, so a tree of
//! `n` leaves has exactly `n − 1` node hashes and a proof never contains padding.

use crate::{domain, hashv, Hash};

/// Hash of chunk `index`'s output for `job` (the job account's address).
pub fn leaf_hash(job: &[u8; 32], index: u32, output: &[u8]) -> Hash {
    hashv(&[domain::LEAF, job, &index.to_le_bytes(), output])
}

/// Hash of an inner node.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    hashv(&[domain::NODE, left, right])
}

/// Why a proof was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProofError {
    /// `index` is not below the leaf count.
    IndexOutOfRange,
    /// The proof has more or fewer siblings than the tree shape requires.
    WrongLength,
    /// The recomputed root differs from the committed one.
    RootMismatch,
}

/// Number of siblings a proof for `index` in a tree of `n_leaves` carries.
pub fn proof_len(index: u32, n_leaves: u32) -> usize {
    let (mut index, mut width, mut len) = (index, n_leaves, 0);
    while width > 1 {
        if !(index == width - 1 && width % 2 == 1) {
            len += 1;
        }
        index /= 2;
        width = width.div_ceil(2);
    }
    len
}

/// Checks that `leaf` sits at `index` of the tree of `n_leaves` leaves whose root is `root`.
pub fn verify_proof(
    root: &Hash,
    leaf: &Hash,
    index: u32,
    n_leaves: u32,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if index >= n_leaves {
        return Err(ProofError::IndexOutOfRange);
    }
    if proof.len() != proof_len(index, n_leaves) {
        return Err(ProofError::WrongLength);
    }
    let (mut index, mut width, mut acc) = (index, n_leaves, *leaf);
    let mut siblings = proof.iter();
    while width > 1 {
        let promoted = index == width - 1 && width % 2 == 1;
        if !promoted {
            let sibling = siblings.next().ok_or(ProofError::WrongLength)?;
            acc = if index % 2 == 0 {
                node_hash(&acc, sibling)
            } else {
                node_hash(sibling, &acc)
            };
        }
        index /= 2;
        width = width.div_ceil(2);
    }
    if &acc == root {
        Ok(())
    } else {
        Err(ProofError::RootMismatch)
    }
}

/// A whole tree, kept level by level (level 0 = leaves) so proofs are O(log n) lookups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerkleTree {
    levels: Vec<Vec<Hash>>,
}

impl MerkleTree {
    /// Builds the tree over `leaves`. An empty leaf set has no tree.
    pub fn from_leaves(leaves: Vec<Hash>) -> Option<Self> {
        if leaves.is_empty() {
            return None;
        }
        let mut levels = vec![leaves];
        while levels.last().map_or(0, Vec::len) > 1 {
            let below = levels.last().expect("levels is never empty");
            let above = below
                .chunks(2)
                .map(|pair| match pair {
                    [left, right] => node_hash(left, right),
                    [only] => *only,
                    _ => unreachable!("chunks(2) yields one or two items"),
                })
                .collect();
            levels.push(above);
        }
        Some(Self { levels })
    }

    /// The committed root.
    pub fn root(&self) -> Hash {
        self.levels.last().expect("levels is never empty")[0]
    }

    /// Number of leaves.
    pub fn len(&self) -> u32 {
        self.levels[0].len() as u32
    }

    /// Always false: a tree has at least one leaf.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The leaf hash at `index`.
    pub fn leaf(&self, index: u32) -> Option<Hash> {
        self.levels[0].get(index as usize).copied()
    }

    /// The siblings that prove leaf `index`, bottom-up; `None` if out of range.
    pub fn proof(&self, index: u32) -> Option<Vec<Hash>> {
        if index >= self.len() {
            return None;
        }
        let mut proof = Vec::new();
        let mut index = index as usize;
        for level in &self.levels[..self.levels.len() - 1] {
            let sibling = index ^ 1;
            if sibling < level.len() {
                proof.push(level[sibling]);
            }
            index /= 2;
        }
        Some(proof)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn leaves(n: u32) -> Vec<Hash> {
        (0..n)
            .map(|i| leaf_hash(&[7; 32], i, &i.to_le_bytes()))
            .collect()
    }

    #[test]
    fn single_leaf_is_its_own_root() {
        let tree = MerkleTree::from_leaves(leaves(1)).unwrap();
        assert_eq!(tree.root(), tree.leaf(0).unwrap());
        assert_eq!(tree.proof(0).unwrap(), Vec::<Hash>::new());
        assert_eq!(
            verify_proof(&tree.root(), &tree.leaf(0).unwrap(), 0, 1, &[]),
            Ok(())
        );
    }

    #[test]
    fn empty_leaf_set_has_no_tree() {
        assert!(MerkleTree::from_leaves(vec![]).is_none());
    }

    #[test]
    fn three_leaves_promote_the_last() {
        let l = leaves(3);
        let tree = MerkleTree::from_leaves(l.clone()).unwrap();
        assert_eq!(tree.root(), node_hash(&node_hash(&l[0], &l[1]), &l[2]));
        assert_eq!(tree.proof(2).unwrap(), vec![node_hash(&l[0], &l[1])]);
    }

    #[test]
    fn leaf_hash_binds_job_index_and_bytes() {
        let base = leaf_hash(&[1; 32], 5, b"out");
        assert_ne!(base, leaf_hash(&[2; 32], 5, b"out"));
        assert_ne!(base, leaf_hash(&[1; 32], 6, b"out"));
        assert_ne!(base, leaf_hash(&[1; 32], 5, b"ouT"));
    }

    proptest! {
        #[test]
        fn every_proof_verifies_and_tampering_fails(n in 1u32..300, pick in any::<u32>(), flip in 0usize..32) {
            let l = leaves(n);
            let tree = MerkleTree::from_leaves(l.clone()).unwrap();
            let index = pick % n;
            let proof = tree.proof(index).unwrap();
            prop_assert_eq!(proof.len(), proof_len(index, n));
            prop_assert_eq!(verify_proof(&tree.root(), &l[index as usize], index, n, &proof), Ok(()));
            // A different leaf at the same place fails.
            let mut forged = l[index as usize];
            forged[flip] ^= 1;
            prop_assert_eq!(verify_proof(&tree.root(), &forged, index, n, &proof), Err(ProofError::RootMismatch));
            // The right leaf claimed at another index fails.
            if n > 1 {
                let other = (index + 1) % n;
                prop_assert!(verify_proof(&tree.root(), &l[index as usize], other, n, &proof).is_err());
            }
            // Truncated or padded proofs fail on length.
            let mut padded = proof.clone();
            padded.push([0; 32]);
            prop_assert_eq!(verify_proof(&tree.root(), &l[index as usize], index, n, &padded), Err(ProofError::WrongLength));
            prop_assert_eq!(verify_proof(&tree.root(), &l[index as usize], n, n, &proof), Err(ProofError::IndexOutOfRange));
        }
    }
}
