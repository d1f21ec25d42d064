//! A canary operation: planted faults that make a lazy verifier's pass a losing bet.
//!
//! The operator holds three keys: a buyer, a provider and a challenger (docs/economics.md,
//! "Lazy verifiers"). With `fresh_buyers`, each canary job is posted by a key of its own,
//! created for it and funded from the buyer key (its price and rent), and swept back
//! once the job has closed; otherwise by the buyer key. With `fresh_providers`, each is
//! claimed by a provider key of its own, funded from the provider key with the job's
//! collateral, registered and staked in the claim's transaction, and its stake unstaked
//! after the job closes and swept back once the cooldown has passed; otherwise the
//! provider key claims it. It computes every chunk honestly on the GPU, and commits and
//! serves wrong outputs for a secret set of chunks ([`CanaryPlan`]). Then it watches:
//! - a pass whose sample holds a planted chunk is challenged within its window from the
//!   challenger key (the committee, drawn and relayed by the verifier daemons, upholds it
//!   and the lazy verifier's bond is slashed);
//! - a fault an honest verifier reported is conceded at once (the verifier earns its
//!   finder share);
//! - a pass whose sample missed every planted chunk is left to close.
//!
//! What a canary needs to challenge after a restart (its planted chunks, committed leaves
//! and the hashes of its honest outputs) is kept in [`CanaryRecord`]s the caller persists.

use std::collections::BTreeSet;

use anchor_lang::prelude::Pubkey;
use assay_client::canary::CanaryPlan;
use assay_client::events::AssayEvent;
use assay_client::{Chain, ChainError, JobState};
use assay_gpu::{BlobStore, Commitment, Gpu, JobBundle};
use assay_market::instructions::PostJobArgs;
use assay_protocol::{hashv, Hash, MerkleTree};
use assay_stake::constants::ROLE_PROVIDER;
use serde::{Deserialize, Serialize};
use solana_sdk::signature::{Keypair, Signer};
use tracing::{info, warn};

use assay_gpu::publish;

/// The operator's three identities.
pub struct CanaryKeys {
    pub buyer: Keypair,
    pub provider: Keypair,
    pub challenger: Keypair,
}

/// How many chunks a canary plants wrong.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Planted {
    /// This many (at most the job's chunks).
    Fixed(u32),
    /// The fewest that put one in the job's sample with at least this probability
    /// (`assay_client::economics::planted_for_catch`): what the economics of lazy
    /// verifiers assume (docs/economics.md), whatever the job's size and sample.
    Catch(f64),
}

impl Planted {
    /// Chunks to plant in a job of `n` chunks sampling `k`.
    pub fn count(self, n: u32, k: u32) -> u32 {
        match self {
            Self::Fixed(m) => m.min(n),
            Self::Catch(p) => assay_client::economics::planted_for_catch(n, k, p),
        }
    }
}

/// One canary job, as much as the operator must remember to act on it later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CanaryRecord {
    /// The job account (base58).
    pub job: String,
    pub job_id: u64,
    /// The job's posting slot (its instance): a re-post of the id is another job.
    pub instance: u64,
    pub planted: Vec<u32>,
    /// Leaves of the committed (planted) outputs, in chunk order.
    pub committed_leaves: Vec<Hash>,
    /// sha256 of each chunk's honest output, in chunk order.
    pub honest_hashes: Vec<Hash>,
    /// What became of it, once something did.
    pub outcome: Option<CanaryOutcome>,
    /// The secret of the fresh key that posted it (base58 of 64 bytes), until what it got
    /// back is swept to the buyer key; none when the buyer key posted it.
    #[serde(default)]
    pub fresh_buyer: Option<String>,
    /// The secret of the fresh key that claimed it (base58 of 64 bytes), until its stake
    /// is back with the provider key; none when the provider key claimed it.
    #[serde(default)]
    pub fresh_provider: Option<String>,
    /// Once the fresh provider's unstake was requested: the slot from which it can be
    /// withdrawn.
    #[serde(default)]
    pub provider_unstake_ready_slot: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CanaryOutcome {
    /// A verifier passed it although its sample held planted chunk `chunk`: challenged.
    Challenged { verifier: String, chunk: u32 },
    /// An honest verifier reported planted chunk `chunk`; the canary conceded.
    Reported { verifier: String, chunk: u32 },
    /// The sample held no planted chunk; the pass was right and is left to close.
    Missed { verifier: String },
}

/// What one [`CanaryOperator::watch`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct WatchReport {
    pub challenged: u32,
    pub conceded: u32,
    pub missed: u32,
    /// Canary jobs still open on chain.
    pub open: u32,
    /// Closed canaries whose fresh provider's stake is not back yet (its unstake
    /// cooldown runs; a later watch finishes it).
    pub retiring: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum CanaryError {
    #[error(transparent)]
    Chain(#[from] ChainError),
    #[error("GPU: {0}")]
    Gpu(#[from] assay_gpu::GpuError),
    #[error("commitment: {0}")]
    Commit(#[from] assay_gpu::CommitError),
    #[error("publishing the outputs: {0}")]
    Publish(#[from] assay_gpu::ServeError),
    #[error("{0}")]
    Invalid(String),
}

pub struct CanaryOperator<'a, C: Chain> {
    pub chain: &'a mut C,
    pub gpu: &'a Gpu,
    pub store: &'a BlobStore,
    pub keys: &'a CanaryKeys,
    /// The secret the planted chunks are drawn from (never published).
    pub secret: Hash,
    /// How many chunks each canary job plants wrong.
    pub planted: Planted,
    /// Post each canary from a key of its own (funded from `keys.buyer`), so no two
    /// canaries share a buyer on chain.
    pub fresh_buyers: bool,
    /// Claim each canary from a provider key of its own (funded and staked from
    /// `keys.provider`), so no two canaries share a provider on chain.
    pub fresh_providers: bool,
    /// Every event the operator's own transactions emitted, oldest first (its log).
    pub events: Vec<AssayEvent>,
}

impl<C: Chain> CanaryOperator<'_, C> {
    async fn send(
        &mut self,
        ixs: &[solana_sdk::instruction::Instruction],
        signer: &Keypair,
    ) -> Result<(), ChainError> {
        let events = self.chain.send_with_events(ixs, &[signer]).await?;
        self.events.extend(events);
        Ok(())
    }

    /// Posts, claims (`claim_after` later, as a provider polling the market would),
    /// computes, plants, publishes and commits one canary job for `bundle` (already in the
    /// store) with `args` (as a buyer would post it). Returns its record.
    pub async fn launch(
        &mut self,
        bundle: &JobBundle,
        args: PostJobArgs,
        claim_after: std::time::Duration,
    ) -> Result<CanaryRecord, CanaryError> {
        let d = self.chain.deployment();
        let fresh = self.fresh_buyers.then(Keypair::new);
        if let Some(fresh) = &fresh {
            let funder = self.keys.buyer.insecure_clone();
            self.fund(&funder, fresh, args.price).await?;
        }
        let buyer = fresh.as_ref().unwrap_or(&self.keys.buyer).insecure_clone();
        let buyer = &buyer;
        let fresh_provider = self.fresh_providers.then(Keypair::new);
        if let Some(fresh) = &fresh_provider {
            let funder = self.keys.provider.insecure_clone();
            self.fund(&funder, fresh, args.collateral).await?;
        }
        let provider = fresh_provider
            .as_ref()
            .unwrap_or(&self.keys.provider)
            .insecure_clone();
        let provider = &provider;
        let job = assay_client::pda::job(&buyer.pubkey(), args.job_id);
        let job_id = args.job_id;
        let args_samples = args.samples;
        let collateral = args.collateral;
        self.send(&[d.post_job(&buyer.pubkey(), args)], buyer)
            .await?;
        if !claim_after.is_zero() {
            tokio::time::sleep(claim_after).await;
        }
        let mut claim = vec![];
        if fresh_provider.is_some() {
            // Registered and staked in the claim's own transaction: the key has no history.
            claim.push(d.register_operator(&provider.pubkey(), ROLE_PROVIDER));
            claim.push(d.deposit(&provider.pubkey(), collateral));
        }
        claim.push(d.claim_job(&provider.pubkey(), &job));
        self.send(&claim, provider).await?;
        let prepared = self.gpu.prepare(bundle)?;
        let honest = prepared.run_all()?;
        let n = bundle.manifest.n_chunks();
        let plant = self.planted.count(n, u32::from(args_samples));
        let plan = CanaryPlan::new(&self.secret, &job, n, plant);
        let planted_indices: Vec<u32> = plan.planted().iter().copied().collect();
        // A float rule's bound depends on the verifier's scale pass: computed here the
        // same way, so the planted value is outside the bound the verifier will apply.
        let rule = &bundle.manifest.compare;
        let scale = match rule {
            assay_gpu::CompareRule::Float {
                scale_entry_point: Some(_),
                ..
            } => Some(prepared.run(assay_gpu::Pass::Scale, &planted_indices)?),
            _ => None,
        };
        drop(prepared);
        let mut served = honest.clone();
        for (pos, &index) in planted_indices.iter().enumerate() {
            let chunk = served
                .chunk_mut(index)
                .ok_or_else(|| CanaryError::Invalid(format!("no chunk {index}")))?;
            let element = bundle.manifest.output.element;
            let planted =
                assay_gpu::plant_fault(rule, element, chunk, scale.as_ref().map(|s| s.slot(pos)));
            chunk.copy_from_slice(&planted);
        }
        let commitment = Commitment::build(&job.to_bytes(), &bundle.manifest, &served)?;
        let uri = publish(self.store, None, &job.to_bytes(), &served, &commitment)?;
        self.send(
            &[d.commit_result(&provider.pubkey(), &job, commitment.root(), uri)],
            provider,
        )
        .await?;
        let instance = self
            .chain
            .job(&job)
            .await?
            .ok_or(ChainError::MissingAccount(job))?
            .instance;
        info!(%job, planted = plan.planted().len(), "canary job committed");
        Ok(CanaryRecord {
            job: job.to_string(),
            job_id,
            instance,
            planted: plan.planted().iter().copied().collect(),
            committed_leaves: (0..n)
                .map(|i| commitment.leaf(i).expect("chunk in the tree"))
                .collect(),
            honest_hashes: honest.iter().map(|(_, out)| hashv(&[out])).collect(),
            outcome: None,
            fresh_buyer: fresh.map(|k| k.to_base58_string()),
            fresh_provider: fresh_provider.map(|k| k.to_base58_string()),
            provider_unstake_ready_slot: None,
        })
    }

    /// Lamports a fresh key receives: rent for the accounts it opens (a job and its
    /// vault, or an operator and its stake vault), and fees.
    const FRESH_KEY_LAMPORTS: u64 = 20_000_000;

    /// Funds `fresh` from `funder`: lamports for rent and fees, a token account and
    /// `tokens`.
    async fn fund(
        &mut self,
        funder: &Keypair,
        fresh: &Keypair,
        tokens: u64,
    ) -> Result<(), CanaryError> {
        let d = self.chain.deployment();
        let decimals = self.chain.mint_decimals().await?;
        let ixs = [
            anchor_lang::solana_program::system_instruction::transfer(
                &funder.pubkey(),
                &fresh.pubkey(),
                Self::FRESH_KEY_LAMPORTS,
            ),
            d.create_token_account(&funder.pubkey(), &fresh.pubkey()),
            d.transfer_tokens(&funder.pubkey(), &fresh.pubkey(), tokens, decimals),
        ];
        Ok(self.send(&ixs, funder).await?)
    }

    /// A closed canary's fresh provider, one step per call: first every unlocked token of
    /// its stake is unstaked; once the cooldown has passed (`slot`), withdrawn and sent to
    /// the provider key. Returns whether the fresh provider is done with.
    async fn retire_provider(
        &mut self,
        record: &mut CanaryRecord,
        slot: u64,
    ) -> Result<(), CanaryError> {
        let Some(secret) = record.fresh_provider.clone() else {
            return Ok(());
        };
        let fresh = Keypair::from_base58_string(&secret);
        let d = self.chain.deployment();
        let operator = self
            .chain
            .operator(&fresh.pubkey())
            .await?
            .ok_or(ChainError::MissingAccount(fresh.pubkey()))?;
        match record.provider_unstake_ready_slot {
            None if operator.available() > 0 => {
                let ix = d.request_unstake(&fresh.pubkey(), operator.available());
                self.send(&[ix], &fresh).await?;
                let operator = self
                    .chain
                    .operator(&fresh.pubkey())
                    .await?
                    .ok_or(ChainError::MissingAccount(fresh.pubkey()))?;
                record.provider_unstake_ready_slot = Some(operator.unstake_ready_slot);
            }
            // Slashed to nothing: there is nothing to bring back.
            None if operator.unstaking == 0 => record.fresh_provider = None,
            None => record.provider_unstake_ready_slot = Some(operator.unstake_ready_slot),
            Some(ready) if slot >= ready => {
                self.send(&[d.withdraw(&fresh.pubkey())], &fresh).await?;
                self.sweep(&fresh, &self.keys.provider.pubkey()).await?;
                info!(provider = %fresh.pubkey(), "a fresh canary provider's stake swept back");
                record.fresh_provider = None;
                record.provider_unstake_ready_slot = None;
            }
            Some(_) => {}
        }
        Ok(())
    }

    /// Sends every token a fresh key holds (a buyer's refund and compensation, a
    /// provider's withdrawn stake) to `to`.
    async fn sweep(&mut self, fresh: &Keypair, to: &Pubkey) -> Result<(), CanaryError> {
        let d = self.chain.deployment();
        let tokens = self.chain.balance_of(&fresh.pubkey()).await?;
        if tokens > 0 {
            let decimals = self.chain.mint_decimals().await?;
            let ix = d.transfer_tokens(&fresh.pubkey(), to, tokens, decimals);
            self.send(&[ix], fresh).await?;
        }
        Ok(())
    }

    /// One pass over `records`: challenges passes whose sample holds a planted chunk,
    /// concedes reported faults, and notes passes that missed. Records get their outcome.
    pub async fn watch(
        &mut self,
        records: &mut [CanaryRecord],
    ) -> Result<WatchReport, CanaryError> {
        let d = self.chain.deployment();
        let mut report = WatchReport::default();
        let slot = self.chain.slot().await?;
        for record in records.iter_mut() {
            let key: Pubkey = record
                .job
                .parse()
                .map_err(|_| CanaryError::Invalid(format!("bad job address {}", record.job)))?;
            let Some(job) = self.chain.job(&key).await? else {
                // Closed: sweep what its fresh buyer got back to the buyer key, and bring
                // its fresh provider's stake home.
                if let Some(secret) = record.fresh_buyer.clone() {
                    let buyer = self.keys.buyer.pubkey();
                    self.sweep(&Keypair::from_base58_string(&secret), &buyer)
                        .await?;
                    record.fresh_buyer = None;
                }
                self.retire_provider(record, slot).await?;
                if record.fresh_provider.is_some() {
                    report.retiring += 1;
                }
                continue;
            };
            if job.instance != record.instance {
                continue;
            }
            report.open += 1;
            let verifier = job.verifier.map(|v| v.to_string()).unwrap_or_default();
            match job.state {
                JobState::Passed if record.outcome.is_none() && slot <= job.step_deadline_slot => {
                    let planted: BTreeSet<u32> = record.planted.iter().copied().collect();
                    let plan = CanaryPlan::from_planted(planted);
                    let tree = MerkleTree::from_leaves(record.committed_leaves.clone())
                        .ok_or_else(|| CanaryError::Invalid("no leaves".into()))?;
                    let hashes = &record.honest_hashes;
                    match plan.challenge(&job, &tree, |i| hashes.get(i as usize).copied()) {
                        Some(args) => {
                            let chunk = args.chunk_index;
                            let challenger = &self.keys.challenger;
                            let ix = d.challenge_pass(&challenger.pubkey(), &key, &job, args);
                            self.send(&[ix], challenger).await?;
                            warn!(job = %key, %verifier, chunk, "a verifier passed a planted fault: challenged");
                            record.outcome = Some(CanaryOutcome::Challenged { verifier, chunk });
                            report.challenged += 1;
                        }
                        None => {
                            info!(job = %key, %verifier, "the sample held no planted chunk");
                            record.outcome = Some(CanaryOutcome::Missed { verifier });
                            report.missed += 1;
                        }
                    }
                }
                JobState::Disputed => {
                    let provider = match &record.fresh_provider {
                        Some(secret) => Keypair::from_base58_string(secret),
                        None => self.keys.provider.insecure_clone(),
                    };
                    let concede = d
                        .concede_fault(&provider.pubkey(), &key, &job)
                        .map_err(ChainError::from)?;
                    self.send(&[concede], &provider).await?;
                    info!(job = %key, %verifier, chunk = job.fault_index, "an honest verifier found a planted chunk: conceded");
                    record.outcome = Some(CanaryOutcome::Reported {
                        verifier,
                        chunk: job.fault_index,
                    });
                    report.conceded += 1;
                }
                JobState::Passed if slot > job.step_deadline_slot => {
                    let provider = &self.keys.provider;
                    // Closing unlocks the canary provider's collateral; a daemon may win.
                    if self
                        .send(
                            &[d.close_pass(&key, &job).map_err(ChainError::from)?],
                            provider,
                        )
                        .await
                        .is_ok()
                    {
                        report.open -= 1;
                    }
                }
                _ => {}
            }
        }
        Ok(report)
    }
}
