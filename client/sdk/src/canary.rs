//! Canary jobs: planted faults that make a lazy verifier's pass a losing bet.
//!
//! A canary operator funds ordinary-looking jobs as buyer and provider under separate
//! keys, computes them honestly, and commits a wrong output for a secret set of chunks.
//! A verifier that re-executes its sample finds a planted chunk whenever the sample holds
//! one and reports it (earning the finder share of the canary provider's collateral); a
//! verifier that signs "pass" without re-executing passes it, and the canary challenges
//! the pass within its window (`challenge_pass`): the committee upholds, and the lazy
//! verifier's bond is slashed. docs/economics.md ("Lazy verifiers") sizes the rate.

use std::collections::BTreeSet;

use anchor_lang::prelude::Pubkey;
use assay_market::instructions::ChallengePassArgs;
use assay_market::state::Job;
use assay_protocol::{hashv, Hash, MerkleTree};

/// Domain tag of the planted-chunk choice.
const CANARY_TAG: &[u8] = b"assay.canary.v1";

/// Which chunks of one canary job carry a planted fault: a function of a secret only the
/// canary operator holds, so nobody can tell a canary's chunks (or the job) apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanaryPlan {
    planted: BTreeSet<u32>,
}

impl CanaryPlan {
    /// Plants `count` distinct faults (at most `n_chunks`) among `job`'s chunks, chosen
    /// by `secret`.
    pub fn new(secret: &[u8; 32], job: &Pubkey, n_chunks: u32, count: u32) -> Self {
        let count = count.min(n_chunks);
        let mut planted = BTreeSet::new();
        let mut counter = 0u64;
        while (planted.len() as u32) < count {
            let draw = hashv(&[CANARY_TAG, secret, job.as_ref(), &counter.to_le_bytes()]);
            let value = u64::from_le_bytes(draw[..8].try_into().expect("8 bytes"));
            planted.insert((value % u64::from(n_chunks)) as u32);
            counter += 1;
        }
        Self { planted }
    }

    /// The plan whose planted chunks are `planted` (as recorded when the job was run).
    pub fn from_planted(planted: BTreeSet<u32>) -> Self {
        Self { planted }
    }

    pub fn planted(&self) -> &BTreeSet<u32> {
        &self.planted
    }

    /// The output committed for chunk `index` of a job whose outputs are compared
    /// exactly: the honest one, except at a planted chunk, whose first byte is flipped (a
    /// byte is added to an empty output). Canary jobs of real kernels plant with
    /// `assay_gpu::plant_fault` instead, which every comparison rule rejects (a flipped
    /// low byte of an f32 passes a float rule).
    pub fn committed_output(&self, index: u32, honest: &[u8]) -> Vec<u8> {
        let mut output = honest.to_vec();
        if self.planted.contains(&index) {
            match output.first_mut() {
                Some(byte) => *byte ^= 0xff,
                None => output.push(0xff),
            }
        }
        output
    }

    /// The challenge of `job`'s pass: the first planted chunk in its drawn sample, with
    /// its committed leaf and proof from `committed` and the sha256 of its honest output
    /// (`honest_hash(index)`, as a verifier's recomputation reports it); `None` when the
    /// sample missed every planted chunk.
    pub fn challenge(
        &self,
        job: &Job,
        committed: &MerkleTree,
        honest_hash: impl Fn(u32) -> Option<Hash>,
    ) -> Option<ChallengePassArgs> {
        let sample =
            assay_protocol::sample_indices(&job.seed, job.n_chunks, u32::from(job.samples));
        let index = sample.into_iter().find(|i| self.planted.contains(i))?;
        Some(ChallengePassArgs {
            chunk_index: index,
            provider_leaf: committed.leaf(index)?,
            proof: committed.proof(index)?,
            recomputed_output_hash: honest_hash(index)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_plants_the_asked_number_of_distinct_chunks_within_the_job() {
        let job = Pubkey::new_unique();
        for (n, count) in [(1, 1), (8, 2), (64, 64), (1_000, 10), (4, 9)] {
            let plan = CanaryPlan::new(&[7; 32], &job, n, count);
            assert_eq!(plan.planted().len() as u32, count.min(n), "n {n}");
            assert!(plan.planted().iter().all(|&i| i < n));
        }
    }

    #[test]
    fn only_planted_chunks_differ_from_the_honest_output() {
        let job = Pubkey::new_unique();
        let plan = CanaryPlan::new(&[1; 32], &job, 16, 3);
        for i in 0..16 {
            let honest = vec![i as u8; 4];
            let committed = plan.committed_output(i, &honest);
            assert_eq!(
                committed != honest,
                plan.planted().contains(&i),
                "chunk {i}"
            );
        }
        assert_eq!(
            CanaryPlan::new(&[1; 32], &job, 1, 1).committed_output(0, &[]),
            [0xff]
        );
    }

    #[test]
    fn different_secrets_plant_different_chunks() {
        let job = Pubkey::new_unique();
        let a = CanaryPlan::new(&[1; 32], &job, 1_000, 5);
        let b = CanaryPlan::new(&[2; 32], &job, 1_000, 5);
        assert_ne!(a, b);
    }
}
