//! The provider worker (run by `assay provider run`).
//!
//! Each pass it first finishes its own claimed jobs (so a restart resumes them instead of
//! claiming anew: the claim on chain is the worker's journal), then claims open jobs it
//! can afford to collateralize and whose manifest is in the blob store, runs them on the
//! GPU engine, publishes the outputs and commits the Merkle root. Outputs are
//! deterministic, so work redone after a crash commits the same root. It also closes its
//! own passes once their window has ended (`close_pass`), which unlocks its collateral,
//! and cranks the pending draws of its own jobs (a round's verifier, a contest's
//! committee) as soon as their seed slot passes: a draw nobody makes within its window
//! lapses and slashes the provider's collateral.
//!
//! It defends its jobs: when a verifier reports a fault against one (a chunk it could not
//! read, or one it recomputed differently), the worker recomputes the job; if that gives
//! exactly the committed root, it re-publishes every output (repairing a blob someone
//! corrupted or removed in the shared store) and contests, so the committee re-audits
//! instead of the dispute window slashing an honest provider. When a chunk of a passed job
//! is called unavailable (`challenge_availability`) it re-publishes the same way before
//! the committee looks: serving the output through the pass window is the retention its
//! collateral stands for.

use std::collections::BTreeSet;
use std::sync::Arc;

use anyhow::{anyhow, Context, Result};
use assay_client::{Chain, Job, JobState, Pubkey};
use assay_gpu::{
    publish, BlobStore, ChunkOutputs, Commitment, Gpu, JobBundle, JobManifest, Mirror,
};
use solana_sdk::signature::{Keypair, Signer};
use tracing::{info, warn};

/// What the worker did that its operator is told about (the CLI renders each as text or
/// JSON); everything else it logs with `tracing`.
#[derive(Debug, Clone, PartialEq)]
pub enum ProviderEvent {
    /// About to run `chunks` chunks of `job` on the GPU (a long step).
    Running { job: Pubkey, chunks: u32 },
    /// Committed `job`'s result: its Merkle root, where it is published, GPU seconds.
    Committed {
        job: Pubkey,
        root: [u8; 32],
        output_uri: String,
        seconds: f64,
    },
    /// Contested the fault reported on `chunk` of `job`, its outputs re-published.
    Contested { job: Pubkey, chunk: u32 },
}

/// The provider worker: claims, runs, publishes and commits jobs, defends and closes its
/// own. One `pass` at a time; the caller loops (and stops between passes).
pub struct Worker<'a> {
    chain: &'a mut dyn Chain,
    signer: Keypair,
    gpu: Arc<Gpu>,
    store: BlobStore,
    /// The provider's own copy of what it publishes, named in its commits.
    mirror: Option<Mirror>,
    /// Jobs this worker will never run (invalid manifest, missing blobs); skipped quietly.
    unusable: BTreeSet<Pubkey>,
    /// Disputes and availability challenges already answered (job, instance, contest):
    /// each is defended once.
    defended: BTreeSet<(Pubkey, u64, u32)>,
    committed: u64,
    on_event: Box<dyn FnMut(ProviderEvent) + Send + 'a>,
}

impl<'a> Worker<'a> {
    /// A worker signing as `signer` (a registered provider operator), reading manifests
    /// and inputs from `store` and publishing there and in `mirror`; `on_event` hears
    /// each [`ProviderEvent`].
    pub fn new(
        chain: &'a mut dyn Chain,
        signer: Keypair,
        gpu: Arc<Gpu>,
        store: BlobStore,
        mirror: Option<Mirror>,
        on_event: impl FnMut(ProviderEvent) + Send + 'a,
    ) -> Self {
        Self {
            chain,
            signer,
            gpu,
            store,
            mirror,
            unusable: BTreeSet::new(),
            defended: BTreeSet::new(),
            committed: 0,
            on_event: Box::new(on_event),
        }
    }

    /// Jobs committed since the worker started.
    pub fn committed(&self) -> u64 {
        self.committed
    }

    /// The provider's key.
    pub fn provider(&self) -> Pubkey {
        self.signer.pubkey()
    }

    /// The chain the worker sends to.
    pub fn chain(&mut self) -> &mut dyn Chain {
        &mut *self.chain
    }

    /// One pass; returns how many jobs it committed.
    pub async fn pass(&mut self) -> Result<u64> {
        let me = self.signer.pubkey();
        let slot = self.chain.slot().await?;
        let jobs = self.chain.jobs().await?;
        for (key, job) in jobs.iter().filter(|(_, j)| {
            j.state == JobState::Passed && j.provider == Some(me) && slot > j.step_deadline_slot
        }) {
            let d = self.chain.deployment();
            match self
                .chain
                .send(&[d.close_pass(key, job)?], &[&self.signer])
                .await
            {
                Ok(_) => info!(%key, "closed a pass after its window: collateral unlocked"),
                // Another cranker (the verifier's daemon) may have closed it first.
                Err(e) => {
                    info!(%key, reason = %e.explain(&assay_market::ID), "close_pass not sent")
                }
            }
        }
        for (key, job) in jobs.iter().filter(|(_, j)| j.provider == Some(me)) {
            self.crank_draw(key, job, slot).await;
        }
        for (key, job) in jobs.iter().filter(|(_, j)| {
            j.state == JobState::Disputed && j.provider == Some(me) && slot <= j.step_deadline_slot
        }) {
            self.defend(key, job).await?;
        }
        for (key, job) in jobs.iter().filter(|(_, j)| {
            j.state == JobState::PassChallenged && j.fault_unavailable && j.provider == Some(me)
        }) {
            if self.defended.insert((*key, job.instance, job.contests)) && self.repair(key, job)? {
                info!(%key, chunk = job.fault_index, "a chunk was called unavailable: outputs re-published for the committee");
            }
        }
        let mut done = 0;
        for (key, job) in jobs.iter().filter(|(_, j)| {
            j.state == JobState::Claimed && j.provider == Some(me) && slot <= j.commit_deadline_slot
        }) {
            info!(%key, "resuming a job this provider claimed");
            done += self.execute(key, job).await?;
        }
        let open: Vec<&(Pubkey, Job)> = jobs
            .iter()
            .filter(|(k, j)| {
                j.state == JobState::Open
                    && slot <= j.claim_deadline_slot
                    && !self.unusable.contains(k)
            })
            .collect();
        for (key, job) in open {
            let Some(operator) = self.chain.operator(&me).await? else {
                anyhow::bail!("{me} is not a registered operator: run `assay stake deposit <amount> --roles provider` first");
            };
            if !operator.is_provider() || operator.available() < job.collateral {
                continue;
            }
            let Some(bundle) = self.bundle(key, job) else {
                continue;
            };
            let d = self.chain.deployment();
            match self
                .chain
                .send(&[d.claim_job(&me, key)], &[&self.signer])
                .await
            {
                Ok(_) => info!(%key, "claimed"),
                Err(e) if e.custom_code().is_some() => {
                    info!(%key, reason = %e.explain(&assay_market::ID), "claim refused (taken by another provider?)");
                    continue;
                }
                Err(e) => return Err(e.into()),
            }
            done += self.run_and_commit(key, bundle).await?;
        }
        Ok(done)
    }

    /// Cranks the pending draw of one of this worker's jobs if it is due (the market's own
    /// crank table, `Job::due`). Another cranker (a verifier daemon) may have made it
    /// first; the draw is the same whoever makes it.
    async fn crank_draw(&mut self, key: &Pubkey, job: &Job, slot: u64) {
        use assay_market::state::Crank;
        let d = self.chain.deployment();
        let ix = match job.due(slot) {
            Some(Crank::DrawChallenge) => match self.chain.draw_outcome(key).await {
                Ok(assay_client::DrawOutcome::Drawn(drawn)) => {
                    d.draw_challenge(key, job, drawn.as_ref())
                }
                _ => return,
            },
            Some(Crank::DrawCommittee) => match self.chain.predict_committee(key).await {
                Ok(Some(seats)) => d.draw_committee(key, job, &seats),
                _ => return,
            },
            _ => return,
        };
        match self.chain.send(&[ix], &[&self.signer]).await {
            Ok(_) => info!(%key, "cranked this job's draw"),
            Err(e) => {
                info!(%key, reason = %e.explain(&assay_market::ID), "draw not sent (not ready, or made by another cranker)")
            }
        }
    }

    /// Answers a fault reported against one of this worker's jobs: recompute; if that
    /// rebuilds the committed root, re-publish every output and contest. Otherwise the
    /// fault stands (the committed result is not what this worker computes) and it is
    /// left to the dispute window.
    async fn defend(&mut self, key: &Pubkey, job: &Job) -> Result<()> {
        if !self.defended.insert((*key, job.instance, job.contests)) || !self.repair(key, job)? {
            return Ok(());
        }
        let me = self.signer.pubkey();
        let d = self.chain.deployment();
        match self
            .chain
            .send(&[d.contest_fault(&me, key, job)], &[&self.signer])
            .await
        {
            Ok(_) => {
                info!(%key, chunk = job.fault_index, "fault contested: outputs re-published, the committee will re-audit");
                (self.on_event)(ProviderEvent::Contested {
                    job: *key,
                    chunk: job.fault_index,
                });
            }
            Err(e) => warn!(%key, reason = %e.explain(&assay_market::ID), "could not contest"),
        }
        Ok(())
    }

    /// Recomputes a job of this worker's and, if that rebuilds the committed root,
    /// re-publishes every output (repairing a blob someone corrupted or removed in the
    /// shared store). Returns whether it did.
    fn repair(&mut self, key: &Pubkey, job: &Job) -> Result<bool> {
        let Some(bundle) = self.bundle(key, job) else {
            warn!(%key, "a job of this provider's is challenged but its files are gone: cannot defend it");
            return Ok(false);
        };
        let outputs = self.gpu.prepare(&bundle)?.run_all()?;
        let commitment = Commitment::build(&key.to_bytes(), &bundle.manifest, &outputs)?;
        if commitment.root() != job.result_root {
            warn!(%key, chunk = job.fault_index, "fault stands: recomputing does not give the committed root");
            return Ok(false);
        }
        let uri = self.publish(key, &outputs, &commitment)?;
        if uri != job.output_uri {
            warn!(%key, %uri, committed = %job.output_uri, "re-published under another location than committed");
        }
        Ok(true)
    }

    /// Loads and checks a job's manifest, kernel and inputs; `None` (and remembered) when
    /// it cannot be run.
    fn bundle(&mut self, key: &Pubkey, job: &Job) -> Option<JobBundle> {
        let loaded = (|| -> Result<JobBundle> {
            let bytes = self
                .store
                .get(&job.manifest_hash)
                .context("manifest not in the blob store")?;
            let manifest = JobManifest::from_canonical_bytes(&bytes)?;
            anyhow::ensure!(
                manifest.n_chunks() == job.n_chunks,
                "chunk count differs from the job's"
            );
            anyhow::ensure!(
                manifest.input_root() == job.input_root,
                "input root differs from the job's"
            );
            let bundle = JobBundle::load(manifest, &self.store)?;
            bundle.validate()?;
            Ok(bundle)
        })();
        match loaded {
            Ok(bundle) => Some(bundle),
            Err(e) => {
                warn!(%key, error = %format!("{e:#}"), "skipping a job this provider cannot run");
                self.unusable.insert(*key);
                None
            }
        }
    }

    /// Publishes `outputs` in the shared store and the worker's mirror; the output_uri.
    fn publish(
        &self,
        key: &Pubkey,
        outputs: &ChunkOutputs,
        commitment: &Commitment,
    ) -> Result<String> {
        Ok(publish(
            &self.store,
            self.mirror.as_ref(),
            &key.to_bytes(),
            outputs,
            commitment,
        )?)
    }

    async fn execute(&mut self, key: &Pubkey, job: &Job) -> Result<u64> {
        match self.bundle(key, job) {
            Some(bundle) => self.run_and_commit(key, bundle).await,
            None => Ok(0),
        }
    }

    async fn run_and_commit(&mut self, key: &Pubkey, bundle: JobBundle) -> Result<u64> {
        let me = self.signer.pubkey();
        (self.on_event)(ProviderEvent::Running {
            job: *key,
            chunks: bundle.manifest.n_chunks(),
        });
        let outputs = self.gpu.prepare(&bundle)?.run_all()?;
        let commitment = Commitment::build(&key.to_bytes(), &bundle.manifest, &outputs)?;
        let uri = self.publish(key, &outputs, &commitment)?;
        let d = self.chain.deployment();
        self.chain
            .send(
                &[d.commit_result(&me, key, commitment.root(), uri.clone())],
                &[&self.signer],
            )
            .await
            .map_err(|e| anyhow!("commit_result of {key}: {}", e.explain(&assay_market::ID)))?;
        self.committed += 1;
        (self.on_event)(ProviderEvent::Committed {
            job: *key,
            root: commitment.root(),
            output_uri: uri,
            seconds: outputs.wall_time.as_secs_f64(),
        });
        Ok(1)
    }
}

/// The provider's jobs still in their audit: while no worker runs, nobody answers a fault
/// report on them (`contest_fault`), and after the dispute window anyone concedes it for
/// the provider, slashing its collateral.
pub fn undefended_jobs(jobs: &[(Pubkey, Job)], provider: &Pubkey) -> Vec<(Pubkey, JobState, u64)> {
    jobs.iter()
        .filter(|(_, job)| job.provider == Some(*provider) && !job.state.is_terminal())
        .map(|(key, job)| (*key, job.state, job.collateral))
        .collect()
}
