//! Auditing one challenged job: fetch, prove, re-execute, compare.

use std::collections::HashMap;
use std::ops::Deref;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anchor_lang::prelude::Pubkey;
use assay_gpu::{BlobStore, Gpu, GpuError, Hash, JobBundle, JobManifest, PreparedJob, ServedChunk};
use assay_market::instructions::FaultEvidence;
use assay_market::state::Job;
use assay_protocol::{hashv, sample_indices, MerkleTree};

use assay_gpu::{ResultIndex, ServeError, Sources};

/// The verifier's conclusion about a job's sample.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// Every sampled chunk is proven under the root and recomputes within the rule.
    Pass,
    /// Chunk `index` is wrong or was not served: report it with `evidence`.
    Fault {
        index: u32,
        evidence: FaultEvidence,
        reason: String,
    },
}

/// A finding with what it cost.
#[derive(Debug, Clone)]
pub struct Audit {
    pub finding: Finding,
    /// The sampled chunk indices, in draw order.
    pub sample: Vec<u32>,
    /// The chunks the GPU re-executed and compared (empty when the audit stopped before
    /// re-executing, on a chunk the provider did not serve). A `Pass` holds every sampled
    /// chunk here: see [`Audit::require_reexecuted`].
    pub reexecuted: Vec<u32>,
    /// Wall time of the re-execution (GPU work and readback).
    pub recheck_time: Duration,
    /// GPU timestamp time of the re-execution, where the adapter has timestamps.
    pub recheck_gpu_time: Option<Duration>,
    /// Wall time of the whole audit (fetch, prepare, recheck, compare).
    pub total_time: Duration,
}

/// Problems that are the verifier's own (retry later), never the provider's fault.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("job manifest or inputs unavailable: {0}")]
    Job(#[from] assay_gpu::Error),
    #[error("manifest {0}")]
    Manifest(#[from] assay_gpu::ManifestError),
    #[error("GPU: {0}")]
    Gpu(#[from] assay_gpu::GpuError),
    #[error("job has no challenge seed yet")]
    NotChallenged,
    /// This verifier's own blob store failed in transport: retried, never reported.
    #[error("{0}")]
    StoreDown(String),
    #[error("the audit found no fault but did not re-execute sampled chunks {0:?}: a pass is never signed for a chunk not re-executed")]
    NotReexecuted(Vec<u32>),
}

impl Audit {
    /// A `Pass` only stands when every chunk of `job`'s drawn sample (recomputed here from
    /// the job's seed, not taken from the audit) was re-executed and compared; otherwise
    /// `NotReexecuted` with the chunks missing. A fault needs no such check: it names its
    /// chunk and carries the evidence the chain verifies.
    pub fn require_reexecuted(self, job: &Job) -> Result<Self, AuditError> {
        if self.finding != Finding::Pass {
            return Ok(self);
        }
        let missing: Vec<u32> = sample_indices(&job.seed, job.n_chunks, u32::from(job.samples))
            .into_iter()
            .filter(|i| !self.reexecuted.contains(i))
            .collect();
        if missing.is_empty() {
            Ok(self)
        } else {
            Err(AuditError::NotReexecuted(missing))
        }
    }
}

fn unavailable(index: u32, reason: String) -> Finding {
    Finding::Fault {
        index,
        evidence: FaultEvidence::Unavailable,
        reason,
    }
}

/// Audits the drawn sample of `job`. The buyer's manifest, kernel and inputs must be in
/// `store` (else [`AuditError`]: the verifier cannot judge); anything the provider failed
/// to serve, or served inconsistently with its root, is a fault.
pub fn audit(
    gpu: &Gpu,
    store: &BlobStore,
    job_key: &Pubkey,
    job: &Job,
) -> Result<Audit, AuditError> {
    audit_with(
        store,
        job_key,
        job,
        |hash| load_bundle(store, hash).map(Arc::new),
        |bundle| gpu.prepare(bundle).map(Box::new),
    )
}

/// Loads and checks the buyer's manifest, kernel and inputs named by `manifest_hash`.
pub fn load_bundle(store: &BlobStore, manifest_hash: &Hash) -> Result<JobBundle, AuditError> {
    let manifest_bytes = store.get(manifest_hash).map_err(assay_gpu::Error::from)?;
    let manifest = JobManifest::from_canonical_bytes(&manifest_bytes)?;
    Ok(JobBundle::load(manifest, store)?)
}

/// [`audit`] with the job bundle and the prepared pipelines supplied by the caller (a
/// cache keyed by manifest hash: see [`CachedGpu`]). The bundle is loaded first (a
/// missing one is the verifier's problem); pipelines are prepared only once the
/// provider's publication has been checked, so a provider that serves nothing is
/// reported whatever this adapter can run.
pub fn audit_with<'g, P: Deref<Target = PreparedJob<'g>>>(
    store: &BlobStore,
    job_key: &Pubkey,
    job: &Job,
    bundle: impl FnOnce(&Hash) -> Result<Arc<JobBundle>, AuditError>,
    prepare: impl FnOnce(&JobBundle) -> Result<P, GpuError>,
) -> Result<Audit, AuditError> {
    let started = Instant::now();
    if job.seed == [0; 32] {
        return Err(AuditError::NotChallenged);
    }
    let sample = sample_indices(&job.seed, job.n_chunks, u32::from(job.samples));
    let finish = |finding: Finding,
                  reexecuted: &[u32],
                  recheck_time: Duration,
                  recheck_gpu_time: Option<Duration>| Audit {
        finding,
        sample: sample.clone(),
        reexecuted: reexecuted.to_vec(),
        recheck_time,
        recheck_gpu_time,
        total_time: started.elapsed(),
    };
    let bundle = bundle(&job.manifest_hash)?;

    // The provider's publication: every leaf must rebuild the committed root.
    let first = sample.first().copied().unwrap_or(0);
    let sources = Sources::for_output(store, &job.output_uri);
    let (index, tree) = match published(&sources, job_key, job)? {
        Ok(published) => published,
        Err(reason) => {
            return Ok(finish(
                unavailable(first, reason),
                &[],
                Duration::ZERO,
                None,
            ))
        }
    };
    // Fetch (and hash-check) the sampled chunks on all cores; judge them in draw order.
    let fetched = assay_gpu::par_map(&sample, |&i| sources.get(&index.chunks[i as usize]));
    let mut served = Vec::with_capacity(sample.len());
    for (&i, fetched) in sample.iter().zip(fetched) {
        let output = match fetched {
            Ok(bytes) => bytes,
            Err(e @ ServeError::OwnStoreDown { .. }) => {
                return Err(AuditError::StoreDown(e.to_string()))
            }
            Err(e) => {
                return Ok(finish(
                    unavailable(i, format!("chunk {i} not served: {e}")),
                    &[],
                    Duration::ZERO,
                    None,
                ))
            }
        };
        served.push(ServedChunk {
            index: i,
            output,
            proof: tree.proof(i).expect("sampled index is in range"),
        });
    }

    let prepared = prepare(&bundle)?;
    let report = assay_gpu::recheck(
        &prepared,
        &job_key.to_bytes(),
        &bundle.manifest,
        &job.result_root,
        &served,
    )?;
    let (recheck_time, gpu_time) = (report.recomputed.wall_time, report.recomputed.gpu_time);
    let fault = report
        .chunks
        .iter()
        .enumerate()
        .find_map(|(pos, (i, verdict))| {
            verdict.as_ref().err().map(|fault| {
                let evidence = FaultEvidence::Mismatch {
                    provider_leaf: index.leaves[*i as usize],
                    proof: served[pos].proof.clone(),
                    recomputed_output_hash: hashv(&[report.recomputed.slot(pos)]),
                };
                Finding::Fault {
                    index: *i,
                    evidence,
                    reason: fault.to_string(),
                }
            })
        });
    Ok(finish(
        fault.unwrap_or(Finding::Pass),
        report.recomputed.indices(),
        recheck_time,
        gpu_time,
    ))
}

/// The provider's published result index for `job`, checked: its leaves rebuild the
/// committed root, for this job. `Ok(Err(reason))` when it is not served or does not;
/// `Err` only when this verifier's own store is down.
fn published(
    sources: &Sources,
    job_key: &Pubkey,
    job: &Job,
) -> Result<Result<(ResultIndex, MerkleTree), String>, AuditError> {
    let index = match ResultIndex::fetch(sources, &job.output_uri) {
        Ok(index) => index,
        Err(e @ ServeError::OwnStoreDown { .. }) => {
            return Err(AuditError::StoreDown(e.to_string()))
        }
        Err(e) => return Ok(Err(format!("result index: {e}"))),
    };
    match MerkleTree::from_leaves(index.leaves.clone()) {
        Some(tree)
            if tree.root() == job.result_root
                && tree.len() == job.n_chunks
                && index.job == job_key.to_bytes() =>
        {
            Ok(Ok((index, tree)))
        }
        _ => Ok(Err(
            "published leaves do not rebuild the committed root".into()
        )),
    }
}

/// The first chunk of `chunks` (indices of `job`'s output) that cannot be obtained now
/// from the store or the provider's mirror, with why: not published, or not matching its
/// committed leaf. `None` when every one is served. This is what an availability
/// challenge claims and what its committee checks; no GPU is involved.
pub fn first_unserved(
    store: &BlobStore,
    job_key: &Pubkey,
    job: &Job,
    chunks: &[u32],
) -> Result<Option<(u32, String)>, AuditError> {
    let sources = Sources::for_output(store, &job.output_uri);
    let first = chunks.first().copied().unwrap_or(0);
    let (index, _) = match published(&sources, job_key, job)? {
        Ok(published) => published,
        Err(reason) => return Ok(Some((first, reason))),
    };
    for &i in chunks {
        let (Some(hash), Some(leaf)) = (index.chunks.get(i as usize), index.leaves.get(i as usize))
        else {
            return Ok(Some((i, format!("chunk {i} is not in the result index"))));
        };
        match sources.get(hash) {
            Ok(bytes) if assay_protocol::leaf_hash(&job_key.to_bytes(), i, &bytes) == *leaf => {}
            Ok(_) => return Ok(Some((i, format!("chunk {i} does not match its leaf")))),
            Err(e @ ServeError::OwnStoreDown { .. }) => {
                return Err(AuditError::StoreDown(e.to_string()))
            }
            Err(e) => return Ok(Some((i, format!("chunk {i} not served: {e}")))),
        }
    }
    Ok(None)
}

/// The GPU engine with the job bundles and prepared pipelines of recently audited
/// manifests kept, so a kernel many jobs share is loaded and compiled once.
type PipelineCache = HashMap<Hash, (Arc<JobBundle>, Arc<PreparedJob<'static>>)>;

pub struct CachedGpu {
    gpu: &'static Gpu,
    cache: Mutex<PipelineCache>,
    capacity: usize,
}

impl CachedGpu {
    /// Keeps up to `capacity` manifests. The engine lives for the rest of the process.
    pub fn new(gpu: Gpu, capacity: usize) -> Self {
        Self {
            gpu: Box::leak(Box::new(gpu)),
            cache: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
        }
    }

    pub fn gpu(&self) -> &Gpu {
        self.gpu
    }

    /// Audits like [`audit`], reusing cached bundles and pipelines.
    pub fn audit(
        &self,
        store: &BlobStore,
        job_key: &Pubkey,
        job: &Job,
    ) -> Result<Audit, AuditError> {
        let hash = job.manifest_hash;
        let cached = self.cache.lock().expect("cache lock").get(&hash).cloned();
        let (bundle, prepared) = match cached {
            Some((bundle, prepared)) => (bundle, Some(prepared)),
            None => (Arc::new(load_bundle(store, &hash)?), None),
        };
        audit_with(
            store,
            job_key,
            job,
            |_| Ok(Arc::clone(&bundle)),
            |b| match prepared {
                Some(p) => Ok(p),
                None => {
                    let p = Arc::new(self.gpu.prepare(b)?);
                    let mut cache = self.cache.lock().expect("cache lock");
                    if cache.len() >= self.capacity {
                        let evict = *cache.keys().next().expect("non-empty");
                        cache.remove(&evict);
                    }
                    cache.insert(hash, (Arc::clone(&bundle), Arc::clone(&p)));
                    Ok(p)
                }
            },
        )
    }
}
