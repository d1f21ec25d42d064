//! Assay GPU engine.
//!
//! A job is a WGSL kernel split into chunks: chunk `i` is one dispatch that reads its
//! index from a uniform and writes only output slice `i`, so any chunk can be recomputed
//! alone. The job's output is the concatenation of the chunk slices in index order.
//!
//! Flow:
//! - buyer: build a [`JobBundle`] (e.g. [`kernels::matmul::job`]), [`JobBundle::store`] it
//!   in a [`BlobStore`], put [`JobManifest::manifest_hash`] on chain;
//! - provider: [`Gpu::prepare`] → [`PreparedJob::run_all`] → [`Commitment::build`] →
//!   commit [`Commitment::root`], serve outputs and [`Commitment::proof`]s;
//! - verifier: `assay_protocol::sample_indices` → [`PreparedJob::run_chunks`] (and
//!   [`Pass::Scale`] for float rules) → [`check_chunk`] per sampled chunk.
//!
//! Nothing here panics on bad input: manifests, kernels, blobs and outputs are checked
//! and rejected with a typed error.

pub mod blob;
pub mod commit;
pub mod compare;
pub mod executor;
pub mod kernels;
pub mod manifest;
pub mod publication;

pub use assay_protocol::Hash;
pub use blob::{BlobError, BlobStore};
pub use commit::{check_chunk, leaf_hashes, par_map, ChunkFault, CommitError, Commitment};
pub use compare::{bound_usage, compare_chunk, plant_fault, Mismatch};
pub use executor::{ChunkOutputs, Gpu, GpuError, GpuOptions, Pass, PreparedJob};
pub use kernels::ParamError;
pub use manifest::{
    ChunkGrid, CompareRule, Digest, ElementType, Feature, InputBinding, JobBundle, JobManifest,
    KernelSpec, LimitNeed, LimitRequirements, ManifestError, OutputSpec, Requirements,
    ScratchBinding, StageSpec, EXTENDED_LIMITS, MANIFEST_VERSION, STAGED_MANIFEST_VERSION,
};
pub use publication::{
    fetch_checked_outputs, publish, Mirror, ResultIndex, ServeError, Sources, MAX_MIRROR_URL_LEN,
    OUTPUT_URI_PREFIX,
};

/// Any engine error.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error(transparent)]
    Blob(#[from] BlobError),
    #[error(transparent)]
    Gpu(#[from] GpuError),
    #[error(transparent)]
    Commit(#[from] CommitError),
    #[error(transparent)]
    Params(#[from] ParamError),
}

/// Result of the verifier's recheck of a sample.
#[derive(Debug, Clone)]
pub struct RecheckReport {
    /// `(index, verdict)` per sampled chunk, in sample order.
    pub chunks: Vec<(u32, Result<(), ChunkFault>)>,
    /// What the verifier recomputed, in the same order (evidence for a fault, timings).
    pub recomputed: ChunkOutputs,
}

impl RecheckReport {
    /// True when every sampled chunk passed.
    pub fn passed(&self) -> bool {
        self.chunks.iter().all(|(_, r)| r.is_ok())
    }
    /// The failing chunks.
    pub fn faults(&self) -> Vec<&ChunkFault> {
        self.chunks
            .iter()
            .filter_map(|(_, r)| r.as_ref().err())
            .collect()
    }
}

/// What a provider serves for one sampled chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServedChunk {
    pub index: u32,
    pub output: Vec<u8>,
    pub proof: Vec<Hash>,
}

/// The verifier's whole recheck: recompute the `served` chunks on `job` (one batch; and
/// the scale pass when the rule has one), then [`check_chunk`] each against `root`.
pub fn recheck(
    job: &PreparedJob<'_>,
    job_key: &[u8; 32],
    manifest: &JobManifest,
    root: &Hash,
    served: &[ServedChunk],
) -> Result<RecheckReport, GpuError> {
    let indices: Vec<u32> = served.iter().map(|s| s.index).collect();
    let recomputed = job.run_chunks(&indices)?;
    let scale = match &manifest.compare {
        CompareRule::Float {
            scale_entry_point: Some(_),
            ..
        } => Some(job.run(Pass::Scale, &indices)?),
        _ => None,
    };
    let positions: Vec<usize> = (0..served.len()).collect();
    let chunks = par_map(&positions, |&pos| {
        let s = &served[pos];
        let verdict = check_chunk(
            job_key,
            manifest,
            root,
            s.index,
            &s.output,
            &s.proof,
            recomputed.slot(pos),
            scale.as_ref().map(|sc| sc.slot(pos)),
        );
        if let Err(e) = &verdict {
            tracing::warn!(index = s.index, error = %e, "sampled chunk failed");
        }
        (s.index, verdict)
    });
    Ok(RecheckReport { chunks, recomputed })
}
