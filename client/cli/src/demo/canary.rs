//! The demo's canary scene: a lazy verifier is caught by a planted fault.
//!
//! Carol runs a canary operation (`assay_node::canary::CanaryOperator`, what
//! `assay canary run` runs) under three keys (buyer, provider, challenger) that nothing on
//! chain links: she posts small hash-mixer jobs, computes them honestly on the GPU, and
//! plants wrong outputs for a secret set of chunks. Larry, a newly
//! staked verifier, signs "pass" without re-executing anything. Whoever is drawn:
//! - an honest verifier re-executes its sample, finds a planted chunk and reports it; the
//!   canary concedes at once and the verifier earns the finder share;
//! - Larry passes; Carol shows the planted chunk within the pass window
//!   (`challenge_pass`), a committee of the honest verifiers re-executes it and upholds,
//!   and Larry loses his bond and his fee.
//!
//! Canary jobs are posted until Larry has been caught (he holds half the verifier stake,
//! so he is drawn about every second job), at most `MAX_CANARY_JOBS`.

use anchor_lang::prelude::Pubkey;
use anyhow::{Context, Result};
use assay_client::events::AssayEvent;
use assay_client::ix::vote_instruction;
use assay_client::{pda, Chain};
use assay_gpu::kernels::{self, hashmix::HashMixParams};
use assay_gpu::{BlobStore, Gpu};
use assay_market::state::{Job, JobState};
use assay_node::canary::{CanaryKeys, CanaryOperator, CanaryOutcome, CanaryRecord};
use assay_node::{audit, Finding};
use assay_stake::constants::{ROLE_PROVIDER, ROLE_VERIFIER};
use assay_testkit::embedded::LocalChain;
use serde::Serialize;
use solana_sdk::signature::{Keypair, Signer};

use super::{tokens, TOKEN};
use crate::common::{post_args, upload_job, Offer};

/// Canary jobs posted at most before the scene gives up on drawing Larry (the chance he
/// is never drawn in this many is below 10⁻⁷).
const MAX_CANARY_JOBS: u64 = 24;
/// Chunks of a canary job and chunks sampled; the canary plants as many chunks as it takes
/// for its sample to hold one with probability `PLANTED_IN_SAMPLE` (3 of 16 here), as
/// the economics assume.
const CHUNKS: u32 = 16;
const SAMPLES: u8 = 8;
const PLANTED_IN_SAMPLE: f64 = 0.9;

#[derive(Serialize)]
pub struct CanaryJobReport {
    pub job_id: u64,
    pub verifier: String,
    pub planted: Vec<u32>,
    pub planted_in_sample: Vec<u32>,
    pub states: Vec<String>,
    pub outcome: String,
}

#[derive(Serialize)]
pub struct CanaryReport {
    pub jobs: Vec<CanaryJobReport>,
    pub lazy_verifier_caught: bool,
    /// Larry's stake lost (his bond), tokens.
    pub lazy_verifier_slashed: f64,
    /// Finder shares honest verifiers earned on canary jobs, tokens.
    pub honest_finder_paid: f64,
    /// What the canary operation cost Carol's three keys together (wallet + stake), tokens.
    pub canary_net_cost: f64,
}

/// The honest verifiers (who audit, report and sit on committees) and the shared pieces.
pub struct Scene<'a> {
    pub chain: &'a mut LocalChain,
    pub gpu: &'a Gpu,
    pub store: &'a BlobStore,
    pub honest: &'a [(&'static str, Keypair)],
    pub seed: u64,
}

struct Cast {
    carol: CanaryKeys,
    larry: Keypair,
}

impl Scene<'_> {
    fn name_of(&self, cast: &Cast, key: &Pubkey) -> String {
        if *key == cast.larry.pubkey() {
            return "larry (lazy verifier)".into();
        }
        self.honest
            .iter()
            .find(|(_, k)| k.pubkey() == *key)
            .map_or("?".into(), |(name, _)| (*name).to_string())
    }

    fn key_of(&self, key: &Pubkey) -> Option<&Keypair> {
        self.honest
            .iter()
            .map(|(_, k)| k)
            .find(|k| k.pubkey() == *key)
    }

    async fn stake(&mut self, roles: u8, amount: u64) -> Result<Keypair> {
        let d = self.chain.deployment;
        let key = self.chain.new_user(amount + 100 * TOKEN).await?;
        let ixs = [
            d.register_operator(&key.pubkey(), roles),
            d.deposit(&key.pubkey(), amount),
        ];
        self.chain.send(&ixs, &[&key]).await?;
        Ok(key)
    }

    /// Deposited stake of `owner`, base units.
    async fn staked(&mut self, owner: &Pubkey) -> Result<u64> {
        Ok(self.chain.operator(owner).await?.map_or(0, |o| o.deposited))
    }

    /// Wallet plus deposited stake of `owner`, base units.
    async fn worth(&mut self, owner: &Pubkey) -> Result<u64> {
        Ok(self.chain.balance_of(owner).await? + self.staked(owner).await?)
    }

    async fn send(
        &mut self,
        ixs: &[solana_sdk::instruction::Instruction],
        signers: &[&Keypair],
        job: &Pubkey,
        states: &mut Vec<String>,
    ) -> Result<()> {
        let events = self.chain.send_with_events(ixs, signers).await?;
        states.extend(states_of(job, &events));
        Ok(())
    }

    pub async fn run(mut self) -> Result<CanaryReport> {
        let cast = Cast {
            carol: CanaryKeys {
                buyer: self.chain.new_user(200 * TOKEN).await?,
                provider: self.stake(ROLE_PROVIDER, 300 * TOKEN).await?,
                challenger: self.stake(ROLE_PROVIDER, 300 * TOKEN).await?,
            },
            // As much stake as the three honest verifiers together.
            larry: self.stake(ROLE_VERIFIER, 3_000 * TOKEN).await?,
        };
        // Larry's stake reaches the draws at the next draw epoch.
        self.chain.next_epoch().await?;
        let carol = [
            cast.carol.buyer.pubkey(),
            cast.carol.provider.pubkey(),
            cast.carol.challenger.pubkey(),
        ];
        let mut carol_before = 0;
        for key in &carol {
            carol_before += self.worth(key).await?;
        }
        // Stake only: the fees Larry earned on canaries he passed before the planted fault
        // are not part of what was slashed.
        let larry_before = self.staked(&cast.larry.pubkey()).await?;

        let mut report = CanaryReport {
            jobs: vec![],
            lazy_verifier_caught: false,
            lazy_verifier_slashed: 0.0,
            honest_finder_paid: 0.0,
            canary_net_cost: 0.0,
        };
        for job_id in 1..=MAX_CANARY_JOBS {
            let (job, finder) = self.canary_job(&cast, job_id).await?;
            report.honest_finder_paid += tokens(finder);
            let caught = job.outcome.starts_with("caught");
            report.jobs.push(job);
            if caught {
                report.lazy_verifier_caught = true;
                break;
            }
        }
        // Every canary pass still open closes after its window.
        close_passes(self.chain).await?;
        report.lazy_verifier_slashed =
            tokens(larry_before.saturating_sub(self.staked(&cast.larry.pubkey()).await?));
        let mut carol_after = 0;
        for key in &carol {
            carol_after += self.worth(key).await?;
        }
        report.canary_net_cost = tokens(carol_before) - tokens(carol_after);
        Ok(report)
    }

    /// Carol's operator over this scene's chain (her log of events starts empty).
    fn carol<'s>(&'s mut self, cast: &'s Cast) -> CanaryOperator<'s, LocalChain> {
        CanaryOperator {
            chain: &mut *self.chain,
            gpu: self.gpu,
            store: self.store,
            keys: &cast.carol,
            secret: assay_protocol::hashv(&[b"assay demo canary", &self.seed.to_le_bytes()]),
            planted: assay_node::canary::Planted::Catch(PLANTED_IN_SAMPLE),
            fresh_buyers: false,
            fresh_providers: false,
            events: vec![],
        }
    }

    /// Carol watches her job once (challenging or conceding as she must); the states her
    /// transactions moved it through are appended to `states`.
    async fn carol_watches(
        &mut self,
        cast: &Cast,
        record: &mut CanaryRecord,
        states: &mut Vec<String>,
    ) -> Result<()> {
        let key: Pubkey = record.job.parse()?;
        let mut carol = self.carol(cast);
        carol.watch(std::slice::from_mut(record)).await?;
        states.extend(states_of(&key, &carol.events));
        Ok(())
    }

    /// One canary job from post to its verdict; returns its report and the finder share
    /// an honest verifier earned on it (base units).
    async fn canary_job(&mut self, cast: &Cast, job_id: u64) -> Result<(CanaryJobReport, u64)> {
        let d = self.chain.deployment;
        let params = HashMixParams {
            chunks: CHUNKS,
            elements_per_chunk: 1024,
            rounds: 16,
            n_seeds: 256,
            seed: self.seed + job_id,
        };
        let bundle = kernels::hashmix::job(&params)?;
        let offer = Offer {
            samples: SAMPLES,
            price: 4 * TOKEN,
            // The floor at the shipped terms: 3.2 × the price.
            collateral: 13 * TOKEN,
            claim_window_slots: 500,
            execution_window_slots: 500,
        };
        let post = post_args(&bundle, job_id, &offer)?;
        upload_job(self.store, &bundle, &post)?;
        let key = pda::job(&cast.carol.buyer.pubkey(), job_id);
        let mut states = vec![];
        let mut record = {
            let mut carol = self.carol(cast);
            let record = carol
                .launch(&bundle, post, std::time::Duration::ZERO)
                .await?;
            states.extend(states_of(&key, &carol.events));
            record
        };
        let draw = self.chain.ready_draw(&key).await?;
        self.send(&[draw], &[], &key, &mut states).await?;
        let job: Job = self.chain.job(&key).await?.context("canary job vanished")?;
        let verifier = job.verifier.context("no verifier drawn for a canary job")?;
        let sample =
            assay_protocol::sample_indices(&job.seed, job.n_chunks, u32::from(job.samples));
        let planted_in_sample: Vec<u32> = record
            .planted
            .iter()
            .copied()
            .filter(|i| sample.contains(i))
            .collect();

        let mut finder = 0;
        let outcome = if verifier == cast.larry.pubkey() {
            // Larry signs without re-executing a single chunk; Carol sees it.
            self.send(
                &[d.attest_pass(&verifier, &key, &job)?],
                &[&cast.larry],
                &key,
                &mut states,
            )
            .await?;
            self.carol_watches(cast, &mut record, &mut states).await?;
            match &record.outcome {
                Some(CanaryOutcome::Challenged { chunk, .. }) => {
                    let committee = self.judge(&key, &mut states).await?;
                    format!(
                        "caught: larry passed it without re-executing; carol challenged planted chunk {chunk}; {committee} upheld; larry's bond was slashed"
                    )
                }
                _ => "larry passed it; the sample held no planted chunk".to_string(),
            }
        } else {
            let signer = self
                .key_of(&verifier)
                .context("verifier key")?
                .insecure_clone();
            let name = self.name_of(cast, &verifier);
            match audit(self.gpu, self.store, &key, &job)?.finding {
                Finding::Pass => {
                    let pass = d.attest_pass(&verifier, &key, &job);
                    self.send(&[pass?], &[&signer], &key, &mut states).await?;
                    format!("{name} re-executed the sample: no planted chunk in it")
                }
                Finding::Fault {
                    index, evidence, ..
                } => {
                    let before = self.chain.balance_of(&verifier).await?;
                    let report = d.report_fault(&verifier, &key, index, evidence);
                    self.send(&[report], &[&signer], &key, &mut states).await?;
                    // Carol concedes her own planted fault at once.
                    self.carol_watches(cast, &mut record, &mut states).await?;
                    finder = self.chain.balance_of(&verifier).await? - before;
                    format!(
                        "{name} re-executed the sample, reported planted chunk {index} and earned the finder share ({:.2} tokens)",
                        tokens(finder)
                    )
                }
            }
        };
        Ok((
            CanaryJobReport {
                job_id,
                verifier: self.name_of(cast, &verifier),
                planted: record.planted.clone(),
                planted_in_sample,
                states,
                outcome,
            },
            finder,
        ))
    }

    /// Draws the committee of a challenged pass; each member re-executes the sample and
    /// signs its vote; a relayer submits them. Returns who sat.
    async fn judge(&mut self, key: &Pubkey, states: &mut Vec<String>) -> Result<String> {
        let d = self.chain.deployment;
        self.chain.crank_committee(key).await?;
        let job: Job = self.chain.job(key).await?.context("challenged job")?;
        let keys: Vec<&Keypair> = self.honest.iter().map(|(_, k)| k).collect();
        let (votes, upheld) = super::committee_votes(self.gpu, self.store, &keys, key, &job)?;
        let resolve = if upheld {
            d.uphold_challenge(key, &job)
        } else {
            d.overturn_challenge(key, &job)
        };
        self.send(&[vote_instruction(&votes), resolve?], &[], key, states)
            .await?;
        let names: Vec<&str> = job
            .committee
            .iter()
            .filter_map(|m| {
                self.honest
                    .iter()
                    .find(|(_, k)| k.pubkey() == *m)
                    .map(|(n, _)| *n)
            })
            .collect();
        Ok(format!(
            "a committee of {} ({})",
            names.len(),
            names.join(", ")
        ))
    }
}

/// The states `job` moved to in `events`, in order.
fn states_of(job: &Pubkey, events: &[AssayEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            AssayEvent::JobStateChanged(c) if c.job == *job => Some(format!("{:?}", c.to)),
            _ => None,
        })
        .collect()
}

/// Waits out every open pass window on `chain` and closes those passes (a crank anyone
/// may send): each verifier is paid its fee and the locks are released.
async fn close_passes(chain: &mut LocalChain) -> Result<()> {
    let passed: Vec<(Pubkey, Job)> = chain
        .jobs()
        .await?
        .into_iter()
        .filter(|(_, j)| j.state == JobState::Passed)
        .collect();
    for (key, _) in passed {
        chain.crank_close_pass(&key).await?;
    }
    Ok(())
}
