//! The verifier daemon: polls the chain, audits its assignments, submits verdicts exactly
//! once (journal), votes in committees, relays decided contests, cranks time-outs, and
//! (as a fisherman) re-checks other verifiers' passes within their window.
//!
//! [`Daemon::tick`] is one deterministic pass (tests drive it directly); [`Daemon::run`]
//! loops it with a poll interval until shutdown is requested.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anchor_lang::prelude::Pubkey;
use assay_client::chain::DrawSnapshot;
use assay_client::{Chain, ChainError, DrawOutcome};
use assay_gpu::{BlobStore, Gpu};
use assay_market::instructions::{ChallengePassArgs, FaultEvidence};
use assay_market::state::{Crank, Job, JobState};
use solana_sdk::instruction::Instruction;
use solana_sdk::signature::{Keypair, Signer};
use tracing::{debug, error, info, warn};

use crate::journal::{
    ContestKey, Journal, JournalError, RoundKey, VerdictEntry, VerdictKind, VerdictStatus,
    VoteEntry,
};
use crate::metrics::Metrics;
use crate::votes::{quorum, relay_instruction, VoteBoard, VoteRecord};
use crate::{Audit, AuditError, Finding};

/// Whatever re-executes a job's sample: the GPU engine in production, a stand-in in tests.
pub trait Auditor: Send {
    fn audit(&self, store: &BlobStore, job_key: &Pubkey, job: &Job) -> Result<Audit, AuditError>;
}

impl Auditor for Gpu {
    fn audit(&self, store: &BlobStore, job_key: &Pubkey, job: &Job) -> Result<Audit, AuditError> {
        crate::audit(self, store, job_key, job)
    }
}

impl Auditor for crate::audit::CachedGpu {
    fn audit(&self, store: &BlobStore, job_key: &Pubkey, job: &Job) -> Result<Audit, AuditError> {
        crate::audit::CachedGpu::audit(self, store, job_key, job)
    }
}

impl<A: Auditor + Sync + ?Sized> Auditor for Arc<A> {
    fn audit(&self, store: &BlobStore, job_key: &Pubkey, job: &Job) -> Result<Audit, AuditError> {
        (**self).audit(store, job_key, job)
    }
}

/// Test hook: stop the tick at a point of the verdict path, as a kill would.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrashPoint {
    /// After the verdict is journaled as pending, before it is sent.
    BeforeSend,
    /// After the verdict landed, before the journal records it done.
    AfterSend,
}

#[derive(Debug, Clone)]
pub struct DaemonOptions {
    /// Crank `draw_challenge`, `advance_round`, `finalize`, `expire_job`,
    /// `concede_fault` (after the dispute window) and `void_contest` when due.
    pub crank: bool,
    /// First retry delay after an audit failed for the verifier's own reasons; doubles
    /// per failure up to `max_retry_backoff`.
    pub retry_backoff: Duration,
    pub max_retry_backoff: Duration,
    /// Sit on committees: vote on contests this verifier is seated for and relay the
    /// quorum of any contest, through the blob store's vote board
    /// ([`crate::votes::VoteBoard`]). Off, the daemon neither votes nor relays.
    pub committee: bool,
    /// Re-check this share (0–1) of other verifiers' passes within their window (at
    /// most [`RECHECKS_PER_TICK`] a pass; which ones, a private draw from this operator's
    /// key, so no provider knows in advance) and challenge a wrong sampled leaf, bonding
    /// `verifier_bond` of this operator's stake. 0: not a fisherman.
    pub fisherman_rate: f64,
}

/// The share of other verifiers' passes a daemon re-checks unless told otherwise: with a
/// handful of daemons, most passes are re-checked by someone (1 − 0.9^M for M daemons;
/// docs/economics.md assumes a quarter, met from three daemons on).
pub const DEFAULT_FISHERMAN_RATE: f64 = 0.1;

/// Passes a fisherman re-checks per tick, so its own assignments and seats come first.
pub const RECHECKS_PER_TICK: usize = 2;

impl Default for DaemonOptions {
    fn default() -> Self {
        Self {
            crank: true,
            retry_backoff: Duration::from_secs(2),
            max_retry_backoff: Duration::from_secs(120),
            committee: true,
            fisherman_rate: DEFAULT_FISHERMAN_RATE,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("chain: {0}")]
    Chain(#[from] ChainError),
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error("simulated crash at {0:?}")]
    Crashed(CrashPoint),
}

/// What one pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TickReport {
    /// Verdict transactions sent (landed or not).
    pub verdicts_sent: u32,
    pub passes: u32,
    pub faults: u32,
    pub votes_published: u32,
    pub contests_relayed: u32,
    pub cranks: u32,
    pub audit_errors: u32,
    /// Pending verdicts found resolved on chain.
    pub resolved: u32,
    /// Assignments and committee seats seen.
    pub queue: u32,
    /// Other verifiers' passes re-checked (`fisherman`), and challenges filed.
    pub rechecked: u32,
    pub challenges: u32,
}

struct Backoff {
    failures: u32,
    not_before: Instant,
}

/// What the daemon did that a caller composing it is told about (`assay demo` reports the
/// audits); everything else the daemon logs with `tracing`.
#[derive(Debug, Clone)]
pub enum DaemonEvent {
    /// Re-executed the sample of `job`: for its own assignment (`vote: false`), or for a
    /// committee seat or a fisherman's re-check of another verifier's pass (`vote: true`).
    Audited {
        job: Pubkey,
        vote: bool,
        audit: Audit,
    },
}

pub struct Daemon<C: Chain> {
    chain: C,
    auditor: Box<dyn Auditor>,
    store: Arc<BlobStore>,
    key: Keypair,
    journal: Journal,
    metrics: Metrics,
    options: DaemonOptions,
    /// The vote board in `store` (`None` when `options.committee` is off).
    board: Option<VoteBoard>,
    /// Keyed by (job, step, vote): the verifier round for an audit of its own assignment,
    /// the contest number for a vote or a re-check.
    backoff: HashMap<(Pubkey, u32, bool), Backoff>,
    /// Passes re-checked as a fisherman, by job and instance (each once).
    rechecked: HashSet<(Pubkey, u64)>,
    shutdown: Arc<AtomicBool>,
    wake: Arc<tokio::sync::Notify>,
    /// Test hook (see [`CrashPoint`]).
    pub crash_at: Option<CrashPoint>,
    on_event: Option<Box<dyn FnMut(DaemonEvent) + Send>>,
}

/// What became of one send of a journaled verdict transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Delivery {
    Landed,
    /// Its fate is unknown or it failed; the journal keeps it pending.
    Pending,
    /// Its blockhash expired before the chain saw it: it can never land.
    Expired,
}

/// A contest whose committee is still to be drawn.
/// A committee sits on the job: a contested fault, or a challenged pass.
fn is_contest(job: &Job) -> bool {
    matches!(job.state, JobState::Contested | JobState::PassChallenged)
}

/// Which step of `job` an audit's backoff belongs to: the verifier round for the audit of
/// an assignment, the contest number for a committee vote or a fisherman's re-check.
fn backoff_step(job: &Job, vote: bool) -> u32 {
    if vote {
        job.contests
    } else {
        u32::from(job.round)
    }
}

fn is_assigned(job: &Job, me: &Pubkey, round: u8) -> bool {
    job.state == JobState::Challenged && job.round == round && job.verifier == Some(*me)
}

impl<C: Chain> Daemon<C> {
    pub fn new(
        chain: C,
        auditor: Box<dyn Auditor>,
        store: Arc<BlobStore>,
        key: Keypair,
        journal: Journal,
        metrics: Metrics,
        options: DaemonOptions,
    ) -> Self {
        let board = options.committee.then(|| VoteBoard::new(store.clone()));
        Self {
            chain,
            auditor,
            store,
            key,
            journal,
            metrics,
            options,
            board,
            backoff: HashMap::new(),
            rechecked: HashSet::new(),
            shutdown: Arc::new(AtomicBool::new(false)),
            wake: Arc::new(tokio::sync::Notify::new()),
            crash_at: None,
            on_event: None,
        }
    }

    /// The daemon, telling `on_event` each [`DaemonEvent`].
    pub fn with_events(mut self, on_event: impl FnMut(DaemonEvent) + Send + 'static) -> Self {
        self.on_event = Some(Box::new(on_event));
        self
    }

    pub fn me(&self) -> Pubkey {
        self.key.pubkey()
    }

    /// Declares `capabilities` on chain as this verifier's (from the next draw epoch on)
    /// when its operator account says otherwise; returns whether it sent the change. An
    /// unregistered key declares nothing (it is never drawn).
    pub async fn declare_capabilities(&mut self, capabilities: u8) -> Result<bool, DaemonError> {
        let me = self.me();
        let Some(operator) = self.chain.operator(&me).await? else {
            tracing::warn!(verifier = %me, "not a registered operator: nothing to declare");
            return Ok(false);
        };
        if operator.capabilities == capabilities {
            return Ok(false);
        }
        let ix = self.chain.deployment().set_capabilities(&me, capabilities);
        let key = self.key.insecure_clone();
        self.chain.send(&[ix], &[&key]).await?;
        tracing::info!(
            verifier = %me,
            was = operator.capabilities,
            now = capabilities,
            "declared capabilities: the draws count them from the next draw epoch"
        );
        Ok(true)
    }

    pub fn chain_mut(&mut self) -> &mut C {
        &mut self.chain
    }

    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Consumes the daemon, returning its chain (the journal file closes).
    pub fn into_chain(self) -> C {
        self.chain
    }

    /// Requests a graceful stop: the item in flight finishes (and is journaled), then
    /// [`run`](Self::run) returns.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle {
            flag: Arc::clone(&self.shutdown),
            wake: Arc::clone(&self.wake),
        }
    }

    /// Wakes a sleeping [`run`](Self::run) for an early tick (e.g. when a watched account
    /// changed; see [`crate::follow`]).
    pub fn waker(&self) -> Arc<tokio::sync::Notify> {
        Arc::clone(&self.wake)
    }

    /// Makes `handle` (created before the daemon, e.g. by a signal handler installed at
    /// start-up) the one that stops it.
    pub fn use_shutdown(&mut self, handle: ShutdownHandle) {
        self.shutdown = handle.flag;
        self.wake = handle.wake;
    }

    fn stopping(&self) -> bool {
        self.shutdown.load(Ordering::SeqCst)
    }

    /// Polls until shutdown: one [`tick`](Self::tick) per `poll`, backing off (doubling up
    /// to `max_backoff`) while the chain cannot be read.
    pub async fn run(&mut self, poll: Duration, max_backoff: Duration) {
        let mut delay = poll;
        while !self.stopping() {
            match self.tick().await {
                Ok(report) => {
                    debug!(?report, "tick");
                    delay = poll;
                }
                Err(e) => {
                    warn!(error = %e, retry_in = ?delay * 2, "tick failed; backing off");
                    delay = (delay * 2).min(max_backoff);
                }
            }
            if self.stopping() {
                break;
            }
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = self.wake.notified() => {}
            }
        }
        info!("verifier daemon stopped");
    }

    fn chain_error(&self, call: &str, e: &ChainError) {
        if e.is_transient() {
            self.metrics.rpc_errors.with_label_values(&[call]).inc();
        }
    }

    async fn read<T>(
        &mut self,
        call: &str,
        r: impl AsyncFnOnce(&mut C) -> Result<T, ChainError>,
    ) -> Result<T, DaemonError> {
        match r(&mut self.chain).await {
            Ok(v) => Ok(v),
            Err(e) => {
                self.chain_error(call, &e);
                Err(e.into())
            }
        }
    }

    /// One pass over the chain's live jobs.
    pub async fn tick(&mut self) -> Result<TickReport, DaemonError> {
        let mut report = TickReport::default();
        let me = self.me();
        let mut slot = self.read("getSlot", async |c| c.slot().await).await?;
        let mut jobs = self
            .read("getProgramAccounts", async |c| c.jobs().await)
            .await?;

        if self
            .crank(slot, &jobs, self.options.crank, &mut report)
            .await
        {
            slot = self.read("getSlot", async |c| c.slot().await).await?;
            jobs = self
                .read("getProgramAccounts", async |c| c.jobs().await)
                .await?;
        }

        // Pending verdicts: done once the job has left that round.
        let live: HashMap<Pubkey, &Job> = jobs.iter().map(|(k, j)| (*k, j)).collect();
        for (at, mut entry) in self.journal.pending()? {
            let (key, round) = (at.job, at.round);
            if live
                .get(&key)
                .is_some_and(|j| j.instance == at.instance && is_assigned(j, &me, round))
            {
                continue;
            }
            let signature = entry.signature()?;
            let status = match self.chain.signature_status(&signature).await {
                Ok(status) => status,
                Err(e) => {
                    // Decide on a later pass; the entry stays pending meanwhile.
                    self.chain_error("getSignatureStatuses", &e);
                    continue;
                }
            };
            if let Some(Ok(())) = status {
                self.count_verdict(entry.verdict, &mut report);
                info!(job = %key, round, verdict = ?entry.verdict, %signature, "pending verdict found landed");
            } else {
                info!(job = %key, round, verdict = ?entry.verdict, %signature, "round ended without this pending verdict");
            }
            entry.status = VerdictStatus::Done;
            self.journal.put_verdict(&at, &entry)?;
            report.resolved += 1;
        }

        let assignments: Vec<(Pubkey, Job)> = jobs
            .iter()
            .filter(|(_, j)| is_assigned(j, &me, j.round) && slot <= j.step_deadline_slot)
            .cloned()
            .collect();
        let seats: Vec<(Pubkey, Job)> = jobs
            .iter()
            .filter(|(_, j)| {
                is_contest(j) && slot <= j.step_deadline_slot && j.committee.contains(&me)
            })
            .cloned()
            .collect();
        report.queue = (assignments.len() + seats.len()) as u32;
        self.metrics.queue_depth.set(i64::from(report.queue));

        for (key, job) in &assignments {
            if self.stopping() {
                break;
            }
            self.assignment(key, job, &mut report).await?;
        }
        if self.board.is_some() {
            for (key, job) in &seats {
                if self.stopping() {
                    break;
                }
                if job
                    .availability_looked_at_from()
                    .is_some_and(|from| slot < from)
                {
                    continue; // the provider's time to serve the chunk again
                }
                self.vote(key, job, &mut report)?;
            }
            let contested: Vec<&(Pubkey, Job)> = jobs
                .iter()
                .filter(|(_, j)| is_contest(j) && slot <= j.step_deadline_slot)
                .collect();
            for (key, job) in contested {
                if self.stopping() {
                    break;
                }
                self.relay(key, job, &mut report).await;
            }
        }
        if self.options.fisherman_rate > 0.0 {
            self.fish(slot, &jobs, &mut report).await;
        }
        self.metrics.ticks.inc();
        Ok(report)
    }

    /// Whether this daemon re-checks the pass of `job`'s life `instance`: a draw at
    /// `fisherman_rate` from a hash of its own secret key, the job and the instance, the
    /// same on every tick and restart, and unknown to the provider and the verifier.
    fn fishes(&self, job: &Pubkey, instance: u64) -> bool {
        let digest = assay_protocol::hashv(&[
            b"assay.fisherman.v1",
            self.key.secret_bytes(),
            job.as_ref(),
            &instance.to_le_bytes(),
        ]);
        let draw = u64::from_le_bytes(digest[..8].try_into().expect("8 bytes"));
        (draw as f64) < self.options.fisherman_rate * u64::MAX as f64
    }

    /// Re-checks up to [`RECHECKS_PER_TICK`] other verifiers' passes still in their window
    /// and challenges one whose sample holds a wrong leaf (`challenge_pass`), or whose
    /// output has a chunk nobody can obtain (`challenge_availability`: every chunk is
    /// checked against its leaf, sampled or not). A pass found right is not looked at
    /// again; one whose audit failed for this verifier's own reasons is retried with
    /// backoff.
    async fn fish(&mut self, slot: u64, jobs: &[(Pubkey, Job)], report: &mut TickReport) {
        let me = self.me();
        let candidates: Vec<(Pubkey, Job)> = jobs
            .iter()
            .filter(|(key, j)| {
                j.state == JobState::Passed
                    && slot <= j.step_deadline_slot
                    && j.verifier != Some(me)
                    && j.provider != Some(me)
                    && !self.rechecked.contains(&(*key, j.instance))
                    && self.fishes(key, j.instance)
                    && !self.backed_off(key, j, true)
            })
            .take(RECHECKS_PER_TICK)
            .cloned()
            .collect();
        for (key, job) in candidates {
            if self.stopping() {
                break;
            }
            let Some(audit) = self.run_audit(&key, &job, true, report) else {
                continue;
            };
            self.rechecked.insert((key, job.instance));
            report.rechecked += 1;
            let Finding::Fault {
                index,
                evidence:
                    FaultEvidence::Mismatch {
                        provider_leaf,
                        proof,
                        recomputed_output_hash,
                    },
                reason,
            } = audit.finding
            else {
                // The sample holds: is the rest of the output still obtainable? The buyer
                // paid for every chunk, and the pass window is when the provider must serve.
                let all: Vec<u32> = (0..job.n_chunks).collect();
                let Some(unserved) = self.unserved(&key, &job, &all) else {
                    continue;
                };
                let Some((index, reason)) = unserved else {
                    self.metrics
                        .passes_rechecked
                        .with_label_values(&["held"])
                        .inc();
                    continue;
                };
                warn!(job = %key, chunk = index, %reason, "a passed job's chunk cannot be obtained: calling it unavailable");
                let ix = self
                    .chain
                    .deployment()
                    .challenge_availability(&me, &key, &job, index);
                self.send_challenge(&key, index, ix, report).await;
                continue;
            };
            warn!(job = %key, chunk = index, verifier = ?job.verifier, %reason, "a pass is wrong: challenging it");
            let args = ChallengePassArgs {
                chunk_index: index,
                provider_leaf,
                proof,
                recomputed_output_hash,
            };
            let d = self.chain.deployment();
            let ix = d.challenge_pass(&me, &key, &job, args);
            self.send_challenge(&key, index, ix, report).await;
        }
    }

    /// Sends a challenge of a pass signed by this daemon, counting it.
    async fn send_challenge(
        &mut self,
        key: &Pubkey,
        index: u32,
        ix: solana_sdk::instruction::Instruction,
        report: &mut TickReport,
    ) {
        let signer = self.key.insecure_clone();
        match self.chain.send(&[ix], &[&signer]).await {
            Ok(signature) => {
                report.challenges += 1;
                self.metrics
                    .passes_rechecked
                    .with_label_values(&["challenged"])
                    .inc();
                info!(job = %key, chunk = index, %signature, "pass challenged");
            }
            Err(e) => {
                self.chain_error("sendTransaction", &e);
                error!(job = %key, error = %e.explain(&assay_market::ID), "could not challenge the pass");
            }
        }
    }

    /// The first of `chunks` of `job`'s output not obtainable now, with why (see
    /// [`crate::audit::first_unserved`]); `None` when this verifier's own store is down
    /// (logged; retried on a later tick).
    fn unserved(&self, key: &Pubkey, job: &Job, chunks: &[u32]) -> Option<Option<(u32, String)>> {
        match crate::audit::first_unserved(&self.store, key, job, chunks) {
            Ok(unserved) => Some(unserved),
            Err(e) => {
                self.metrics
                    .audit_errors
                    .with_label_values(&["store_down"])
                    .inc();
                error!(job = %key, error = %e, "cannot check the output's availability; will retry");
                None
            }
        }
    }

    fn backed_off(&self, key: &Pubkey, job: &Job, vote: bool) -> bool {
        self.backoff
            .get(&(*key, backoff_step(job, vote), vote))
            .is_some_and(|b| Instant::now() < b.not_before)
    }

    /// Audits, recording metrics; `None` when the audit failed (retry later).
    fn run_audit(
        &mut self,
        key: &Pubkey,
        job: &Job,
        vote: bool,
        report: &mut TickReport,
    ) -> Option<Audit> {
        let result = if tokio::runtime::Handle::try_current()
            .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread)
        {
            tokio::task::block_in_place(|| self.auditor.audit(&self.store, key, job))
        } else {
            self.auditor.audit(&self.store, key, job)
        };
        match result.and_then(|audit| audit.require_reexecuted(job)) {
            Ok(audit) => {
                self.backoff.remove(&(*key, backoff_step(job, vote), vote));
                if !audit.sample.is_empty() && audit.recheck_time > Duration::ZERO {
                    let per_chunk = audit
                        .recheck_gpu_time
                        .unwrap_or(audit.recheck_time)
                        .as_secs_f64()
                        / audit.sample.len() as f64;
                    for _ in &audit.sample {
                        self.metrics.chunk_reexec_seconds.observe(per_chunk);
                    }
                }
                if matches!(audit.finding, Finding::Fault { .. }) {
                    self.metrics.faults_found.inc();
                }
                if let Some(on_event) = &mut self.on_event {
                    on_event(DaemonEvent::Audited {
                        job: *key,
                        vote,
                        audit: audit.clone(),
                    });
                }
                Some(audit)
            }
            Err(e) => {
                let kind = match &e {
                    AuditError::Job(_) | AuditError::Manifest(_) => "job_data",
                    AuditError::Gpu(_) => "gpu",
                    AuditError::NotChallenged => "not_challenged",
                    AuditError::NotReexecuted(_) => "not_reexecuted",
                    AuditError::StoreDown(_) => "store_down",
                };
                self.metrics.audit_errors.with_label_values(&[kind]).inc();
                report.audit_errors += 1;
                let b = self
                    .backoff
                    .entry((*key, backoff_step(job, vote), vote))
                    .or_insert(Backoff {
                        failures: 0,
                        not_before: Instant::now(),
                    });
                b.failures += 1;
                let delay = (self.options.retry_backoff * 2u32.saturating_pow(b.failures - 1))
                    .min(self.options.max_retry_backoff);
                b.not_before = Instant::now() + delay;
                error!(job = %key, round = job.round, error = %e, failures = b.failures, retry_in = ?delay,
                    "audit failed for the verifier's own reasons (not the provider's); will retry");
                None
            }
        }
    }

    async fn assignment(
        &mut self,
        key: &Pubkey,
        job: &Job,
        report: &mut TickReport,
    ) -> Result<(), DaemonError> {
        let round = job.round;
        let at = RoundKey::of(key, job);
        let mut sends = 1;
        if let Some(entry) = self.journal.verdict(&at)? {
            if entry.status == VerdictStatus::Done {
                return Ok(());
            }
            // A restart, or a send whose fate was unknown: the same bytes again.
            info!(job = %key, round, signature = %entry.signature()?, "re-sending the pending verdict");
            sends = entry.sends + 1;
            if self.deliver(&at, entry, report).await? != Delivery::Expired {
                return Ok(());
            }
            warn!(job = %key, round, "pending verdict expired unseen; signing it anew");
        }
        if self.backed_off(key, job, false) {
            return Ok(());
        }
        let Some(audit) = self.run_audit(key, job, false, report) else {
            return Ok(());
        };
        let me = self.me();
        let d = self.chain.deployment();
        let (verdict, ix) = match &audit.finding {
            Finding::Pass => match d.attest_pass(&me, key, job) {
                Ok(ix) => (VerdictKind::Pass, ix),
                Err(e) => {
                    warn!(job = %key, error = %e, "pass not attestable");
                    return Ok(());
                }
            },
            Finding::Fault {
                index,
                evidence,
                reason,
            } => {
                warn!(job = %key, round, chunk = index, %reason, "fault found");
                (
                    VerdictKind::Fault { index: *index },
                    d.report_fault(&me, key, *index, evidence.clone()),
                )
            }
        };
        let key_pair = self.key.insecure_clone();
        let tx = match self.chain.sign(&[ix], &[&key_pair]).await {
            Ok(tx) => tx,
            Err(e) => {
                self.chain_error("getLatestBlockhash", &e);
                return Ok(());
            }
        };
        let entry = VerdictEntry::new(verdict, sends, &tx)?;
        self.journal.put_verdict(&at, &entry)?;
        if self.crash_at == Some(CrashPoint::BeforeSend) {
            return Err(DaemonError::Crashed(CrashPoint::BeforeSend));
        }
        if self.deliver(&at, entry, report).await? == Delivery::Expired {
            // Expired unseen right away (the chain moved on while it was in flight): the
            // next pass signs it anew.
            warn!(job = %key, round, "verdict expired unseen; will sign it anew");
        }
        Ok(())
    }

    /// Sends the journaled verdict transaction of `entry` (always the same bytes) and
    /// records the outcome.
    async fn deliver(
        &mut self,
        at: &RoundKey,
        mut entry: VerdictEntry,
        report: &mut TickReport,
    ) -> Result<Delivery, DaemonError> {
        let (key, round) = (&at.job, at.round);
        let tx = entry.transaction()?;
        report.verdicts_sent += 1;
        match self.chain.send_signed(&tx).await {
            Ok(Some(signature)) => {
                if self.crash_at == Some(CrashPoint::AfterSend) {
                    return Err(DaemonError::Crashed(CrashPoint::AfterSend));
                }
                entry.status = VerdictStatus::Done;
                self.journal.put_verdict(at, &entry)?;
                let label = self.count_verdict(entry.verdict, report);
                info!(job = %key, round, verdict = label, %signature, "verdict landed");
                Ok(Delivery::Landed)
            }
            Ok(None) => Ok(Delivery::Expired),
            Err(e) => {
                self.chain_error("sendTransaction", &e);
                // Kept pending: the next pass re-reads the job and sends the same bytes.
                warn!(job = %key, round, error = %e.explain(&assay_market::ID), "verdict send failed; kept pending");
                Ok(Delivery::Pending)
            }
        }
    }

    /// Counts a landed verdict in the report and the metrics; returns its metric label.
    fn count_verdict(&self, verdict: VerdictKind, report: &mut TickReport) -> &'static str {
        let label = match verdict {
            VerdictKind::Pass => {
                report.passes += 1;
                "pass"
            }
            VerdictKind::Fault { .. } => {
                report.faults += 1;
                "fault"
            }
        };
        self.metrics.jobs_verified.with_label_values(&[label]).inc();
        label
    }

    fn vote(
        &mut self,
        key: &Pubkey,
        job: &Job,
        report: &mut TickReport,
    ) -> Result<(), DaemonError> {
        let at = ContestKey::of(key, job);
        if let Some(voted) = self.journal.vote(&at)? {
            self.keep_vote_published(key, job, voted.uphold);
            return Ok(());
        }
        if self.backed_off(key, job, true) {
            return Ok(());
        }
        let uphold = if job.fault_unavailable {
            // A chunk called unavailable: can it be obtained now? No GPU needed.
            let Some(unserved) = self.unserved(key, job, &[job.fault_index]) else {
                return Ok(());
            };
            unserved.is_some()
        } else {
            let Some(audit) = self.run_audit(key, job, true, report) else {
                return Ok(());
            };
            matches!(audit.finding, Finding::Fault { .. })
        };
        let signing = ed25519_dalek::SigningKey::from_bytes(self.key.secret_bytes());
        let record = VoteRecord::sign(&signing, key, job, uphold);
        let bytes = borsh::to_vec(&record).expect("vote serializes");
        let published = self
            .store
            .put(&bytes)
            .map_err(|e| e.to_string())
            .and_then(|hash| {
                self.board
                    .as_ref()
                    .expect("votes need a board")
                    .publish(&record)
                    .map(|()| hash)
                    .map_err(|e| e.to_string())
            });
        match published {
            Ok(hash) => {
                self.journal.put_vote(
                    &at,
                    &VoteEntry {
                        uphold,
                        record: hash,
                    },
                )?;
                self.metrics.votes_published.inc();
                report.votes_published += 1;
                info!(job = %key, contest = job.contests, uphold, "committee vote signed and published");
            }
            Err(e) => {
                self.metrics
                    .audit_errors
                    .with_label_values(&["vote_publish"])
                    .inc();
                error!(job = %key, error = %e, "could not publish the committee vote; will retry");
            }
        }
        Ok(())
    }

    /// A vote this daemon already cast must stay readable until the contest ends: anyone
    /// who can write the shared store can overwrite or delete the record, so each tick
    /// it is checked and, if not this member's record, written again (signing is
    /// deterministic, so it is the same record).
    fn keep_vote_published(&mut self, key: &Pubkey, job: &Job, uphold: bool) {
        let board = self.board.as_ref().expect("votes need a board");
        let signing = ed25519_dalek::SigningKey::from_bytes(self.key.secret_bytes());
        let record = VoteRecord::sign(&signing, key, job, uphold);
        let intact = board
            .records(key, job.instance, job.contests)
            .map(|records| records.contains(&record));
        match intact {
            Ok(true) => {}
            Ok(false) => match board.publish(&record) {
                Ok(()) => {
                    warn!(job = %key, contest = job.contests, "this member's vote was missing from the vote board: published again")
                }
                Err(e) => {
                    error!(job = %key, error = %e, "could not re-publish this member's vote; will retry")
                }
            },
            Err(e) => debug!(job = %key, error = %e, "vote board unreadable; will check again"),
        }
    }

    async fn relay(&mut self, key: &Pubkey, job: &Job, report: &mut TickReport) {
        let board = self.board.as_ref().expect("relays need a board");
        let records = match board.records(key, job.instance, job.contests) {
            Ok(records) => records,
            Err(e) => {
                self.metrics
                    .audit_errors
                    .with_label_values(&["vote_board"])
                    .inc();
                warn!(job = %key, error = %e, "vote board unreadable; will retry");
                return;
            }
        };
        let Some((upheld, votes)) = quorum(key, job, &records) else {
            return;
        };
        let d = self.chain.deployment();
        let resolve = match (job.state, upheld) {
            (JobState::PassChallenged, true) => d.uphold_challenge(key, job),
            (JobState::PassChallenged, false) => d.overturn_challenge(key, job),
            _ => d.resolve_contest(key, job),
        };
        let resolve = match resolve {
            Ok(ix) => ix,
            Err(e) => {
                warn!(job = %key, error = %e, "committee decision not relayable");
                return;
            }
        };
        let ixs = [relay_instruction(&votes), resolve];
        match self.chain.send(&ixs, &[]).await {
            Ok(signature) => {
                self.metrics.contests_relayed.inc();
                report.contests_relayed += 1;
                info!(job = %key, upheld, votes = votes.len(), %signature, "contest resolved by relayed committee votes");
            }
            Err(e) => {
                self.chain_error("sendTransaction", &e);
                debug!(job = %key, error = %e.explain(&assay_market::ID), "relaying resolve_contest failed (another relayer may have won)");
            }
        }
    }

    /// Sends every crank that is due (with `everyone`; otherwise only the `close_pass` of
    /// this verifier's own passes, which pays its fee and unlocks its bond); true when one
    /// landed.
    async fn crank(
        &mut self,
        slot: u64,
        jobs: &[(Pubkey, Job)],
        everyone: bool,
        report: &mut TickReport,
    ) -> bool {
        let me = self.me();
        let d = self.chain.deployment();
        let mut landed = false;
        let mut snapshot: Option<DrawSnapshot> = None;
        for (key, job) in jobs {
            if self.stopping() {
                break;
            }
            let my_pass = job.state == JobState::Passed && job.verifier == Some(me);
            if !everyone && !my_pass {
                continue;
            }
            let Some(crank) = job.due(slot) else {
                continue;
            };
            let ix: Instruction = match crank {
                Crank::DrawChallenge | Crank::DrawCommittee => {
                    // One read of the registry and SlotHashes serves every draw of the pass.
                    if snapshot.is_none() {
                        match self.chain.draw_snapshot().await {
                            Ok(s) => snapshot = Some(s),
                            Err(e) => {
                                self.chain_error("draw_snapshot", &e);
                                continue;
                            }
                        }
                    }
                    let snapshot = snapshot.as_ref().expect("read above");
                    landed |= self.crank_draw(key, job, snapshot, report).await;
                    continue;
                }
                other => match d.crank(other, &me, key, job, &[]) {
                    Ok(ix) => ix,
                    Err(e) => {
                        warn!(job = %key, crank = other.name(), error = %e, "crank not built");
                        continue;
                    }
                },
            };
            let name = crank.name();
            let signer = self.key.insecure_clone();
            match self.chain.send(&[ix], &[&signer]).await {
                Ok(signature) => {
                    landed = true;
                    report.cranks += 1;
                    self.metrics.cranks.with_label_values(&[name]).inc();
                    info!(job = %key, crank = name, %signature, "crank landed");
                }
                Err(e) => {
                    self.chain_error("sendTransaction", &e);
                    debug!(job = %key, crank = name, error = %e.explain(&assay_market::ID), "crank failed (retried next pass)");
                }
            }
        }
        landed
    }

    /// Cranks the pending draw of `key` (`job` as this pass read it): a round's verifier,
    /// or a contest's committee, sent once its seed slot has a hash (a draw is the same
    /// whenever it is made within its window, so a draw that must wait waits for the next
    /// pass). True when it landed.
    async fn crank_draw(
        &mut self,
        key: &Pubkey,
        job: &Job,
        snapshot: &DrawSnapshot,
        report: &mut TickReport,
    ) -> bool {
        let d = self.chain.deployment();
        let drawn = if is_contest(job) {
            self.chain
                .committee_in(key, job, snapshot)
                .await
                .map(|seats| {
                    seats.map(|seats| ("draw_committee", d.draw_committee(key, job, &seats)))
                })
        } else {
            self.chain
                .draw_outcome_in(key, job.clone(), snapshot)
                .await
                .map(|outcome| match outcome {
                    DrawOutcome::Wait | DrawOutcome::Lapsed => None,
                    DrawOutcome::Drawn(drawn) => {
                        Some(("draw_challenge", d.draw_challenge(key, job, drawn.as_ref())))
                    }
                })
        };
        let (name, ix) = match drawn {
            Ok(Some(crank)) => crank,
            Ok(None) => return false,
            Err(e) => {
                self.chain_error("predict_draw", &e);
                debug!(job = %key, error = %e, "cannot predict the draw yet");
                return false;
            }
        };
        let signer = self.key.insecure_clone();
        match self.chain.send(&[ix], &[&signer]).await {
            Ok(signature) => {
                report.cranks += 1;
                self.metrics.cranks.with_label_values(&[name]).inc();
                info!(job = %key, crank = name, %signature, "crank landed");
                true
            }
            Err(e) => {
                self.chain_error("sendTransaction", &e);
                debug!(job = %key, crank = name, error = %e.explain(&assay_market::ID), "crank failed (retried next pass)");
                false
            }
        }
    }
}

/// Asks a running [`Daemon::run`] to stop after its in-flight item.
#[derive(Clone)]
pub struct ShutdownHandle {
    flag: Arc<AtomicBool>,
    wake: Arc<tokio::sync::Notify>,
}

impl Default for ShutdownHandle {
    fn default() -> Self {
        Self {
            flag: Arc::new(AtomicBool::new(false)),
            wake: Arc::new(tokio::sync::Notify::new()),
        }
    }
}

impl ShutdownHandle {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn requested(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }

    pub fn request(&self) {
        self.flag.store(true, Ordering::SeqCst);
        self.wake.notify_one();
    }
}
