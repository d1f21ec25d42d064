//! Merkle commitment over chunk outputs (via `assay-protocol`) and the verifier's
//! per-chunk check.

use assay_protocol::{leaf_hash, verify_proof, MerkleTree, ProofError};

use crate::compare::{compare_chunk, Mismatch};
use crate::executor::ChunkOutputs;
use crate::manifest::JobManifest;
use crate::Hash;

/// Commitment failures.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommitError {
    #[error("cannot commit an empty job")]
    EmptyJob,
    #[error("outputs are not the complete, ordered chunk set 0..{0}")]
    Incomplete(u32),
    #[error("chunk {index} output is {actual} bytes, expected {expected}")]
    WrongOutputSize {
        index: u32,
        expected: usize,
        actual: usize,
    },
}

/// Leaf hashes of `(index, output)` pairs for `job`, computed on all available cores.
/// Leaf `i` = `assay_protocol::leaf_hash(job, index_i, output_i)`.
pub fn leaf_hashes(job: &[u8; 32], outputs: &ChunkOutputs) -> Vec<Hash> {
    let positions: Vec<usize> = (0..outputs.len()).collect();
    par_map(&positions, |&pos| {
        leaf_hash(job, outputs.indices()[pos], outputs.slot(pos))
    })
}

/// `f` over `items` on all available cores (contiguous runs per thread), results in
/// order: the CPU work of committing and auditing (hashing megabytes of outputs) is
/// spread over the machine.
pub fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |t| t.get())
        .min(items.len().max(1));
    if threads <= 1 {
        return items.iter().map(f).collect();
    }
    let per = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|s| {
        let parts: Vec<_> = items
            .chunks(per)
            .map(|part| s.spawn(move || part.iter().map(f).collect::<Vec<R>>()))
            .collect();
        parts
            .into_iter()
            .flat_map(|p| {
                p.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

/// The provider's commitment: the Merkle tree over every chunk's leaf.
#[derive(Debug, Clone)]
pub struct Commitment {
    tree: MerkleTree,
}

impl Commitment {
    /// Commits to a complete run (chunks `0..n_chunks`, in order, `chunk_bytes` each).
    pub fn build(
        job: &[u8; 32],
        manifest: &JobManifest,
        outputs: &ChunkOutputs,
    ) -> Result<Self, CommitError> {
        let n = manifest.n_chunks();
        if n == 0 || outputs.is_empty() {
            return Err(CommitError::EmptyJob);
        }
        if outputs.chunk_bytes() as u64 != manifest.chunk_bytes() {
            return Err(CommitError::WrongOutputSize {
                index: outputs.indices()[0],
                expected: manifest.chunk_bytes() as usize,
                actual: outputs.chunk_bytes(),
            });
        }
        if !outputs.is_complete(n) {
            return Err(CommitError::Incomplete(n));
        }
        let tree =
            MerkleTree::from_leaves(leaf_hashes(job, outputs)).ok_or(CommitError::EmptyJob)?;
        Ok(Self { tree })
    }

    /// The root the provider commits on chain.
    pub fn root(&self) -> Hash {
        self.tree.root()
    }

    /// Number of leaves (= chunks).
    pub fn len(&self) -> u32 {
        self.tree.len()
    }

    /// Always false (a commitment has at least one chunk).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Leaf of chunk `index`.
    pub fn leaf(&self, index: u32) -> Option<Hash> {
        self.tree.leaf(index)
    }

    /// Inclusion proof of chunk `index`.
    pub fn proof(&self, index: u32) -> Option<Vec<Hash>> {
        self.tree.proof(index)
    }

    /// The underlying tree.
    pub fn tree(&self) -> &MerkleTree {
        &self.tree
    }
}

/// Why a sampled chunk failed the verifier's check.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ChunkFault {
    #[error("chunk {index}: served output is {actual} bytes, expected {expected}")]
    WrongOutputSize {
        index: u32,
        expected: u64,
        actual: usize,
    },
    #[error("chunk {index}: Merkle proof rejected: {error:?}")]
    BadProof { index: u32, error: ProofError },
    #[error("chunk {index}: recomputed output differs: {mismatch}")]
    WrongOutput { index: u32, mismatch: Mismatch },
}

/// The verifier's check of one sampled chunk, in protocol order:
/// 1. the served output has the manifest's size;
/// 2. `leaf_hash(job, index, served)` is proven under `root` by `proof`;
/// 3. `served` matches `recomputed` under the manifest's comparison rule (`scale` is the
///    scale entry point's output for this chunk, if the rule has one).
#[allow(clippy::too_many_arguments)] // the inputs of the three checks (docs/verification.md)
pub fn check_chunk(
    job: &[u8; 32],
    manifest: &JobManifest,
    root: &Hash,
    index: u32,
    served: &[u8],
    proof: &[Hash],
    recomputed: &[u8],
    scale: Option<&[u8]>,
) -> Result<(), ChunkFault> {
    if served.len() as u64 != manifest.chunk_bytes() {
        return Err(ChunkFault::WrongOutputSize {
            index,
            expected: manifest.chunk_bytes(),
            actual: served.len(),
        });
    }
    let leaf = leaf_hash(job, index, served);
    verify_proof(root, &leaf, index, manifest.n_chunks(), proof)
        .map_err(|error| ChunkFault::BadProof { index, error })?;
    compare_chunk(
        &manifest.compare,
        manifest.output.element,
        served,
        recomputed,
        scale,
    )
    .map_err(|mismatch| ChunkFault::WrongOutput { index, mismatch })
}
