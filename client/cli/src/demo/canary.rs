//! The demo's canary scene: a lazy verifier is caught by a planted fault.
//!
//! Carol runs a canary operation (`assay_node::canary::CanaryOperator`, what
//! `assay canary run` runs) under three keys (buyer, provider, challenger) that nothing on
//! chain links: she posts small hash-mixer jobs, computes them honestly on the GPU, and
//! plants wrong outputs for a secret set of chunks. Larry, a newly staked verifier
//! (scripted: no shipped role is lazy), signs "pass" without re-executing anything. The
//! honest verifiers are the demo's verifier daemons, which crank the draws. Whoever is
//! drawn:
//! - an honest verifier's daemon re-executes its sample, finds a planted chunk and reports
//!   it; the canary concedes at once and the verifier earns the finder share;
//! - Larry passes; Carol shows the planted chunk within the pass window
//!   (`challenge_pass`), a committee of the honest verifiers' daemons re-executes it and
//!   upholds, and Larry loses his bond and his fee.
//!
//! Canary jobs are posted until Larry has been caught (he holds half the verifier stake,
//! so he is drawn about every second job), at most `MAX_CANARY_JOBS`.

use anchor_lang::prelude::Pubkey;
use anyhow::{bail, Result};
use assay_client::events::AssayEvent;
use assay_client::{pda, Chain};
use assay_gpu::kernels::{self, hashmix::HashMixParams};
use assay_gpu::{BlobStore, Gpu};
use assay_market::state::{Job, JobState};
use assay_node::canary::{CanaryKeys, CanaryOperator, CanaryOutcome, CanaryRecord};
use assay_node::Daemon;
use assay_stake::constants::{ROLE_PROVIDER, ROLE_VERIFIER};
use assay_testkit::embedded::LocalChain;
use assay_testkit::shared::SharedChain;
use serde::Serialize;
use solana_sdk::signature::{Keypair, Signer};

use super::{tokens, STEP_SLOTS, TOKEN};
use crate::common::{post_args, upload_job, Offer};

/// Canary jobs posted at most before the scene gives up on drawing Larry (the chance he
/// is never drawn in this many is below 10⁻⁷).
const MAX_CANARY_JOBS: u64 = 24;
/// Turns (of [`STEP_SLOTS`] each) after which a canary job without a verdict is a failure
/// of the demo.
const MAX_TURNS: u32 = 100;
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

/// The honest verifiers' daemons (who audit, report and sit on committees) and the shared
/// pieces.
pub struct Scene<'a> {
    pub chain: SharedChain,
    pub daemons: &'a mut [Daemon<SharedChain>],
    pub gpu: &'a Gpu,
    pub store: &'a BlobStore,
    /// The honest verifiers' names and keys (their daemons run under them).
    pub honest: &'a [(&'static str, Pubkey)],
    pub seed: u64,
}

struct Cast {
    carol: CanaryKeys,
    larry: Keypair,
}

/// What the chain said about one canary job while it ran.
#[derive(Default)]
struct Seen {
    states: Vec<String>,
    verifier: Option<Pubkey>,
    /// The seed its verifier's sample was drawn from.
    seed: Option<[u8; 32]>,
    committee: Vec<Pubkey>,
    upheld: Option<bool>,
}

impl Seen {
    fn take_in(&mut self, job: &Pubkey, events: &[AssayEvent]) {
        for event in events {
            match event {
                AssayEvent::JobStateChanged(c) if c.job == *job => {
                    self.states.push(format!("{:?}", c.to))
                }
                AssayEvent::ChallengeDrawn(c) if c.job == *job => {
                    self.verifier = c.verifier;
                    self.seed = Some(c.seed);
                }
                AssayEvent::CommitteeDrawn(c) if c.job == *job => {
                    self.committee = c.committee.clone()
                }
                AssayEvent::ContestResolved(r) if r.job == *job => self.upheld = Some(r.upheld),
                _ => {}
            }
        }
    }
}

impl Scene<'_> {
    fn name_of(&self, cast: &Cast, key: &Pubkey) -> String {
        if *key == cast.larry.pubkey() {
            return "larry (lazy verifier)".into();
        }
        self.honest
            .iter()
            .find(|(_, k)| k == key)
            .map_or("?".into(), |(name, _)| (*name).to_string())
    }

    async fn stake(&mut self, roles: u8, amount: u64) -> Result<Keypair> {
        let d = self.chain.deployment();
        let key = self
            .chain
            .lock()
            .await
            .new_user(amount + 100 * TOKEN)
            .await?;
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

    pub async fn run(mut self) -> Result<CanaryReport> {
        let buyer = self.chain.lock().await.new_user(200 * TOKEN).await?;
        let cast = Cast {
            carol: CanaryKeys {
                buyer,
                provider: self.stake(ROLE_PROVIDER, 300 * TOKEN).await?,
                challenger: self.stake(ROLE_PROVIDER, 300 * TOKEN).await?,
            },
            // As much stake as the three honest verifiers together.
            larry: self.stake(ROLE_VERIFIER, 3_000 * TOKEN).await?,
        };
        // Larry's stake reaches the draws at the next draw epoch.
        self.chain.lock().await.next_epoch().await?;
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
        close_passes(&mut *self.chain.lock().await).await?;
        report.lazy_verifier_slashed =
            tokens(larry_before.saturating_sub(self.staked(&cast.larry.pubkey()).await?));
        let mut carol_after = 0;
        for key in &carol {
            carol_after += self.worth(key).await?;
        }
        report.canary_net_cost = tokens(carol_before) - tokens(carol_after);
        Ok(report)
    }

    /// Carol's operator over this scene's chain.
    fn carol<'s>(&'s mut self, cast: &'s Cast) -> CanaryOperator<'s, SharedChain> {
        CanaryOperator {
            chain: &mut self.chain,
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

    /// One canary job from post to its verdict; returns its report and the finder share
    /// an honest verifier earned on it (base units).
    async fn canary_job(&mut self, cast: &Cast, job_id: u64) -> Result<(CanaryJobReport, u64)> {
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
        let mut record = self
            .carol(cast)
            .launch(&bundle, post, std::time::Duration::ZERO)
            .await?;
        let honest_before: Vec<u64> = {
            let mut balances = vec![];
            for (_, verifier) in self.honest {
                balances.push(self.chain.balance_of(verifier).await?);
            }
            balances
        };
        let seen = self.until_verdict(cast, &key, &mut record).await?;
        let verifier = seen.verifier.unwrap_or_default();
        let name = self.name_of(cast, &verifier);
        let sample = seen.seed.map_or(vec![], |seed| {
            assay_protocol::sample_indices(&seed, CHUNKS, u32::from(SAMPLES))
        });
        let planted_in_sample: Vec<u32> = record
            .planted
            .iter()
            .copied()
            .filter(|i| sample.contains(i))
            .collect();
        let mut finder = 0;
        let outcome = match &record.outcome {
            Some(CanaryOutcome::Challenged { chunk, .. }) => {
                let committee: Vec<String> = seen
                    .committee
                    .iter()
                    .map(|m| self.name_of(cast, m))
                    .collect();
                format!(
                    "caught: larry passed it without re-executing; carol challenged planted chunk {chunk}; a committee of {} ({}) {}; larry's bond was slashed",
                    committee.len(),
                    committee.join(", "),
                    if seen.upheld == Some(true) { "upheld" } else { "did not uphold" }
                )
            }
            Some(CanaryOutcome::Reported { chunk, .. }) => {
                if let Some(i) = self.honest.iter().position(|(_, k)| *k == verifier) {
                    finder = self.chain.balance_of(&verifier).await? - honest_before[i];
                }
                format!(
                    "{name} re-executed the sample, reported planted chunk {chunk} and earned the finder share ({:.2} tokens)",
                    tokens(finder)
                )
            }
            _ if verifier == cast.larry.pubkey() => {
                "larry passed it; the sample held no planted chunk".to_string()
            }
            _ => format!("{name} re-executed the sample: no planted chunk in it"),
        };
        Ok((
            CanaryJobReport {
                job_id,
                verifier: name,
                planted: record.planted.clone(),
                planted_in_sample,
                states: seen.states,
                outcome,
            },
            finder,
        ))
    }

    /// Runs turns until the canary job has its verdict: the honest verifiers' daemons
    /// take theirs (drawing, auditing, voting, relaying), Larry passes blind when drawn,
    /// Carol watches right after him (challenging or conceding as she must). Done when
    /// the job has closed or Carol leaves a right pass to close.
    async fn until_verdict(
        &mut self,
        cast: &Cast,
        key: &Pubkey,
        record: &mut CanaryRecord,
    ) -> Result<Seen> {
        let d = self.chain.deployment();
        let mut seen = Seen::default();
        seen.take_in(key, &self.chain.take_events());
        for _ in 0..MAX_TURNS {
            for daemon in self.daemons.iter_mut() {
                daemon.tick().await?;
            }
            let job: Option<Job> = self.chain.job(key).await?;
            if let Some(job) = job.filter(|j| {
                j.state == JobState::Challenged && j.verifier == Some(cast.larry.pubkey())
            }) {
                // Larry signs without re-executing a single chunk.
                let pass = d.attest_pass(&cast.larry.pubkey(), key, &job)?;
                self.chain.send(&[pass], &[&cast.larry]).await?;
            }
            self.carol(cast).watch(std::slice::from_mut(record)).await?;
            seen.take_in(key, &self.chain.take_events());
            let closed = self.chain.job(key).await?.is_none();
            if closed || matches!(record.outcome, Some(CanaryOutcome::Missed { .. })) {
                return Ok(seen);
            }
            self.chain.lock().await.warp(STEP_SLOTS).await?;
        }
        bail!("canary job {key} had no verdict after {MAX_TURNS} turns")
    }
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
