//! Provider → commitment → sampled recheck, and the ways a provider can fail it.
mod common;

use assay_gpu::kernels::{hashmix, matmul};
use assay_gpu::{recheck, ChunkFault, ChunkOutputs, CommitError, Commitment, ServedChunk};
use assay_protocol::{leaf_hash, sample_indices, verify_proof};
use common::{gpu, JOB_KEY};

fn hash_job() -> (hashmix::HashMixParams, assay_gpu::JobBundle) {
    let p = hashmix::HashMixParams {
        chunks: 33,
        elements_per_chunk: 128,
        rounds: 4,
        n_seeds: 11,
        seed: 42,
    };
    (p, hashmix::job(&p).unwrap())
}

fn serve(outputs: &ChunkOutputs, commitment: &Commitment, sample: &[u32]) -> Vec<ServedChunk> {
    sample
        .iter()
        .map(|&i| ServedChunk {
            index: i,
            output: outputs.chunk(i).unwrap().to_vec(),
            proof: commitment.proof(i).unwrap(),
        })
        .collect()
}

#[test]
fn honest_provider_commitment_proves_every_chunk_and_passes_sampled_recheck() {
    let (_, job) = hash_job();
    let prepared = gpu().prepare(&job).unwrap();
    let outputs = prepared.run_all().unwrap();
    let commitment = Commitment::build(&JOB_KEY, &job.manifest, &outputs).unwrap();
    assert_eq!(commitment.len(), 33);
    for (i, out) in outputs.iter() {
        let leaf = leaf_hash(&JOB_KEY, i, out);
        assert_eq!(commitment.leaf(i), Some(leaf));
        verify_proof(
            &commitment.root(),
            &leaf,
            i,
            33,
            &commitment.proof(i).unwrap(),
        )
        .unwrap();
    }
    let sample = sample_indices(&[5; 32], 33, 8);
    let report = recheck(
        &prepared,
        &JOB_KEY,
        &job.manifest,
        &commitment.root(),
        &serve(&outputs, &commitment, &sample),
    )
    .unwrap();
    assert!(report.passed(), "{:?}", report.faults());
    assert_eq!(report.chunks.len(), 8);
}

#[test]
fn tampered_chunk_committed_by_provider_fails_recheck_on_output_comparison() {
    let (_, job) = hash_job();
    let prepared = gpu().prepare(&job).unwrap();
    let mut outputs = prepared.run_all().unwrap();
    outputs.chunk_mut(12).unwrap()[3] ^= 0x40; // cheating provider fakes chunk 12, then commits
    let commitment = Commitment::build(&JOB_KEY, &job.manifest, &outputs).unwrap();
    let served = serve(&outputs, &commitment, &[3, 12, 20]);
    let report = recheck(
        &prepared,
        &JOB_KEY,
        &job.manifest,
        &commitment.root(),
        &served,
    )
    .unwrap();
    assert!(!report.passed());
    let faults = report.faults();
    assert_eq!(faults.len(), 1);
    assert!(
        matches!(faults[0], ChunkFault::WrongOutput { index: 12, .. }),
        "{}",
        faults[0]
    );
}

#[test]
fn served_output_that_differs_from_commitment_fails_the_merkle_proof() {
    let (_, job) = hash_job();
    let prepared = gpu().prepare(&job).unwrap();
    let outputs = prepared.run_all().unwrap();
    let commitment = Commitment::build(&JOB_KEY, &job.manifest, &outputs).unwrap();
    let mut served = serve(&outputs, &commitment, &[7]);
    served[0].output[0] ^= 1;
    let report = recheck(
        &prepared,
        &JOB_KEY,
        &job.manifest,
        &commitment.root(),
        &served,
    )
    .unwrap();
    assert!(matches!(
        report.faults()[0],
        ChunkFault::BadProof { index: 7, .. }
    ));
    // A proof for another chunk does not stand in either.
    let mut swapped = serve(&outputs, &commitment, &[7]);
    swapped[0].proof = commitment.proof(8).unwrap();
    let report = recheck(
        &prepared,
        &JOB_KEY,
        &job.manifest,
        &commitment.root(),
        &swapped,
    )
    .unwrap();
    assert!(matches!(
        report.faults()[0],
        ChunkFault::BadProof { index: 7, .. }
    ));
}

#[test]
fn wrong_size_served_output_is_rejected_before_hashing() {
    let (_, job) = hash_job();
    let prepared = gpu().prepare(&job).unwrap();
    let outputs = prepared.run_all().unwrap();
    let commitment = Commitment::build(&JOB_KEY, &job.manifest, &outputs).unwrap();
    let mut served = serve(&outputs, &commitment, &[2]);
    served[0].output.pop();
    let report = recheck(
        &prepared,
        &JOB_KEY,
        &job.manifest,
        &commitment.root(),
        &served,
    )
    .unwrap();
    assert!(matches!(
        report.faults()[0],
        ChunkFault::WrongOutputSize {
            index: 2,
            expected: 512,
            actual: 511
        }
    ));
}

#[test]
fn commitment_requires_every_chunk_in_order_with_the_manifest_size() {
    let (_, job) = hash_job();
    let prepared = gpu().prepare(&job).unwrap();
    let partial = prepared.run_chunks(&[0, 1, 2]).unwrap();
    assert_eq!(
        Commitment::build(&JOB_KEY, &job.manifest, &partial).unwrap_err(),
        CommitError::Incomplete(33)
    );
    let wrong = ChunkOutputs::from_parts((0..33).collect(), 4, vec![0; 33 * 4]).unwrap();
    assert!(matches!(
        Commitment::build(&JOB_KEY, &job.manifest, &wrong).unwrap_err(),
        CommitError::WrongOutputSize {
            expected: 512,
            actual: 4,
            ..
        }
    ));
    assert!(ChunkOutputs::from_parts(vec![0, 1], 4, vec![0; 7]).is_none());
}

#[test]
fn float_job_recheck_tolerates_rounding_but_catches_a_wrong_value() {
    let p = matmul::MatmulParams {
        m: 64,
        k: 32,
        n: 64,
        rows_per_chunk: 32,
        seed: 1,
        variant: matmul::MatmulVariant::RegisterBlocked,
    };
    let job = matmul::job(&p).unwrap();
    let prepared = gpu().prepare(&job).unwrap();
    let mut outputs = prepared.run_all().unwrap();
    // Last-bit noise on one element (what another GPU's FMA might produce) is tolerated …
    let s = outputs.chunk_mut(0).unwrap();
    let v = f32::from_le_bytes(s[40..44].try_into().unwrap());
    s[40..44].copy_from_slice(&f32::from_bits(v.to_bits() ^ 1).to_le_bytes());
    // … a wrong value is not.
    let s = outputs.chunk_mut(1).unwrap();
    s[8..12].copy_from_slice(&0.5f32.to_le_bytes());
    let commitment = Commitment::build(&JOB_KEY, &job.manifest, &outputs).unwrap();
    let served = serve(&outputs, &commitment, &[0, 1]);
    let report = recheck(
        &prepared,
        &JOB_KEY,
        &job.manifest,
        &commitment.root(),
        &served,
    )
    .unwrap();
    assert!(report.chunks[0].1.is_ok(), "{:?}", report.chunks[0].1);
    assert!(matches!(
        report.chunks[1].1,
        Err(ChunkFault::WrongOutput { index: 1, .. })
    ));
}
