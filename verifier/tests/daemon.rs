//! The daemon end to end on the embedded chain, driven tick by tick, with real GPU
//! re-execution of small hash-mixer jobs.

mod common;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use anchor_lang::prelude::Pubkey;
use assay_client::Chain;
use assay_gpu::{BlobStore, GpuError};
use assay_market::state::{Job, JobState, MarketParams};
use assay_node::journal::{Journal, VerdictEntry, VerdictStatus};
use assay_node::votes::{relay_instruction, VoteRecord};
use assay_node::{Audit, AuditError, Auditor, CrashPoint, DaemonError};
use assay_testkit::embedded::{LocalSetup, DEFAULT_EPOCH_SLOTS};
use common::{Market, Provider, ALL_BUT_ONE};
use solana_sdk::signature::{Signature, Signer};

/// The journaled verdict of `job`'s round 0 (of its only life in these tests).
fn round_zero_verdict(journal: &Journal, job: &Pubkey) -> VerdictEntry {
    journal
        .verdicts()
        .unwrap()
        .into_iter()
        .find(|(at, _)| at.job == *job && at.round == 0)
        .expect("a journaled verdict")
        .1
}

async fn slashed_total(m: &Market, authority: &Pubkey) -> u64 {
    m.chain
        .inner
        .lock()
        .await
        .operator(authority)
        .await
        .unwrap()
        .unwrap()
        .slashed_total
}

/// The job's verifier attested a pass: its window is open.
async fn assert_passed(m: &Market, job: &Pubkey) {
    let state = m
        .state(job)
        .await
        .expect("a passed job stays open for its window");
    assert_eq!(state.state, JobState::Passed);
}

/// Waits out `job`'s pass window; the daemon's next pass closes it (its fee, its bond).
async fn close_own_pass(
    m: &mut Market,
    d: &mut assay_node::Daemon<common::SharedChain>,
    job: &Pubkey,
) {
    let window = m.state(job).await.unwrap().params.pass_window_slots;
    m.warp(window + 1).await;
    let r = d.tick().await.unwrap();
    assert_eq!(r.cranks, 1, "close_pass: {r:?}");
    assert!(m.state(job).await.is_none(), "the pass closed with the job");
}

#[tokio::test(flavor = "current_thread")]
async fn honest_provider_passes_and_the_job_settles() {
    let mut m = Market::new(LocalSetup::default(), 1, 1).await;
    let job = m.job(0, 8, Provider::Honest).await;
    // The fee fixed at posting: 5 % of the price plus the 8 sampled chunks' share of it.
    let fee = m.state(&job).await.unwrap().verifier_fee;
    assert_eq!(fee, common::PRICE / 20 + common::PRICE * 8 / 16);
    let mut d = m.daemon(0, "v0");
    let before = m.tokens_of(&m.verifiers[0].pubkey()).await;
    // Nothing due before the seed slot.
    let r = d.tick().await.unwrap();
    assert_eq!(r.cranks, 0);
    m.warp(5).await;
    // The daemon draws the challenge itself, then audits its own assignment.
    let r = d.tick().await.unwrap();
    assert_eq!((r.cranks, r.passes, r.verdicts_sent), (1, 1, 1), "{r:?}");
    assert_passed(&m, &job).await;
    // The fee waits for the pass window; the daemon closes its own pass after it.
    assert_eq!(m.tokens_of(&m.verifiers[0].pubkey()).await, before);
    close_own_pass(&mut m, &mut d, &job).await;
    let after = m.tokens_of(&m.verifiers[0].pubkey()).await;
    assert_eq!(after - before, fee, "the verifier fee");
    let r = d.tick().await.unwrap();
    assert_eq!(r, Default::default());
    let text = d.metrics().render();
    assert!(
        text.contains("assay_verifier_jobs_verified_total{verdict=\"pass\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("assay_verifier_chunk_reexec_seconds_count 8"),
        "{text}"
    );
    let entry = round_zero_verdict(d.journal(), &job);
    assert_eq!(entry.status, VerdictStatus::Done);
    assert!(entry.signature().is_ok());
}

/// At start the daemon declares what its adapter runs; from the next draw epoch the
/// market accepts jobs that need it, and a second start changes nothing.
#[tokio::test(flavor = "current_thread")]
async fn verifier_declares_what_its_adapter_runs_so_jobs_that_need_it_can_be_posted() {
    let m = Market::new(LocalSetup::default(), 1, 1).await;
    let mut d = m.daemon(0, "v0");
    let caps = m.gpu.capabilities();
    assert_ne!(caps, 0, "lavapipe and real GPUs have optional features");
    let needs_all = common::job_args(1, [1; 32], 4);
    let post = |chain: &mut assay_testkit::embedded::LocalChain, needs: u8| {
        let args = assay_market::instructions::PostJobArgs {
            needs,
            ..needs_all.clone()
        };
        chain.deployment.post_job(&m.buyer.pubkey(), args)
    };
    {
        let mut chain = m.chain.inner.lock().await;
        let ix = post(&mut chain, caps);
        let err = chain.send(&[ix], &[&m.buyer]).await.unwrap_err();
        assert_eq!(
            err.custom_code(),
            Some(
                assay_market::errors::MarketError::NoCapableVerifier as u32
                    + anchor_lang::error::ERROR_CODE_OFFSET
            )
        );
    }
    assert!(d.declare_capabilities(caps).await.unwrap());
    assert!(
        !d.declare_capabilities(caps).await.unwrap(),
        "already declared"
    );
    let mut chain = m.chain.inner.lock().await;
    let op = chain
        .operator(&m.verifiers[0].pubkey())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(op.capabilities, caps);
    chain.next_epoch().await.unwrap();
    let ix = post(&mut chain, caps);
    chain.send(&[ix], &[&m.buyer]).await.unwrap();
}

/// A buyer re-posts a closed job's id: the same address, round 0 again. The daemon's
/// journal of the first life (a verdict done for that job and round) must not make it skip
/// the second life's audit — it would miss the window, pay the penalty, and leave the job
/// unaudited.
#[tokio::test(flavor = "current_thread")]
async fn a_reposted_job_is_audited_again_though_its_address_and_round_were_journaled() {
    let mut m = Market::new(LocalSetup::default(), 1, 1).await;
    let job = m.job(0, 4, Provider::Honest).await;
    let mut d = m.daemon(0, "v0");
    m.warp(5).await;
    let r = d.tick().await.unwrap();
    assert_eq!((r.cranks, r.passes), (1, 1), "{r:?}");
    close_own_pass(&mut m, &mut d, &job).await;

    m.next_job = 1;
    let again = m.job(0, 4, Provider::Honest).await;
    assert_eq!(again, job, "the same address");
    m.warp(5).await;
    let r = d.tick().await.unwrap();
    assert_eq!(
        (r.cranks, r.passes),
        (1, 1),
        "the second life is audited: {r:?}"
    );
    assert_passed(&m, &job).await;
    assert_eq!(
        d.journal().verdicts().unwrap().len(),
        2,
        "one entry per life"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn faked_chunk_is_reported_and_slashed_after_the_dispute_window() {
    let mut m = Market::new(LocalSetup::default(), 1, 1).await;
    // Two chunks faked, all but one sampled: a faked chunk is always in the sample.
    let job = m.job(0, ALL_BUT_ONE, Provider::Fake(5)).await;
    let mut d = m.daemon(0, "v0");
    m.warp(5).await;
    let r = d.tick().await.unwrap();
    assert_eq!(r.faults, 1, "{r:?}");
    let j = m.state(&job).await.unwrap();
    assert_eq!(j.state, JobState::Disputed);
    assert!([5, 6].contains(&j.fault_index), "{}", j.fault_index);
    assert_eq!(j.accuser, Some(m.verifiers[0].pubkey()));
    // The provider neither concedes nor contests: after the window the daemon cranks.
    m.warp(LocalSetup::default().market.dispute_window_slots + 1)
        .await;
    let r = d.tick().await.unwrap();
    assert_eq!(r.cranks, 1, "{r:?}");
    assert!(m.state(&job).await.is_none());
    assert_eq!(
        slashed_total(&m, &m.providers[0].pubkey()).await,
        common::COLLATERAL
    );
    assert!(d
        .metrics()
        .render()
        .contains("assay_verifier_cranks_total{instruction=\"concede_fault\"} 1"));
}

#[tokio::test(flavor = "current_thread")]
async fn withheld_outputs_are_reported_unavailable() {
    let mut m = Market::new(LocalSetup::default(), 1, 1).await;
    let job = m.job(0, 4, Provider::Withhold).await;
    let mut d = m.daemon(0, "v0");
    m.warp(5).await;
    let r = d.tick().await.unwrap();
    assert_eq!(r.faults, 1, "{r:?}");
    let j = m.state(&job).await.unwrap();
    assert_eq!(j.state, JobState::Disputed);
    assert_eq!(
        j.fault_evidence,
        assay_protocol::fault_evidence_hash(
            &job.to_bytes(),
            j.instance,
            j.fault_index,
            &[0; 32],
            &[0; 32]
        )
    );
}

/// A new job drawn for verifier 0, whose daemon signs and journals its verdict and is
/// killed before sending it; returns the job and the journaled signature.
async fn verdict_journaled_then_killed(m: &mut Market) -> (Pubkey, Signature) {
    let job = m.job(0, 8, Provider::Honest).await;
    m.draw(&job).await;
    let mut d = m.daemon(0, "v0");
    d.crash_at = Some(CrashPoint::BeforeSend);
    assert!(matches!(
        d.tick().await,
        Err(DaemonError::Crashed(CrashPoint::BeforeSend))
    ));
    let entry = round_zero_verdict(d.journal(), &job);
    assert_eq!(entry.status, VerdictStatus::Pending);
    (job, entry.signature().unwrap())
}

#[tokio::test(flavor = "current_thread")]
async fn restarted_verifier_submits_exactly_one_verdict() {
    let setup = LocalSetup {
        market: MarketParams {
            verdict_window_slots: 400,
            ..LocalSetup::default().market
        },
        ..LocalSetup::default()
    };
    let mut m = Market::new(setup, 1, 1).await;
    let landed_job = m.job(0, 8, Provider::Honest).await;
    m.draw(&landed_job).await;

    // Killed after the verdict landed, before the journal said so.
    let mut d = m.daemon(0, "v0");
    d.crash_at = Some(CrashPoint::AfterSend);
    assert!(matches!(
        d.tick().await,
        Err(DaemonError::Crashed(CrashPoint::AfterSend))
    ));
    drop(d);
    let mut d = m.daemon(0, "v0");
    let r = d.tick().await.unwrap();
    assert_eq!((r.resolved, r.verdicts_sent), (1, 0), "{r:?}");
    assert_eq!(m.chain.verdicts_sent.load(Ordering::SeqCst), 1);
    assert_passed(&m, &landed_job).await;
    assert!(
        d.metrics()
            .render()
            .contains("assay_verifier_jobs_verified_total{verdict=\"pass\"} 1"),
        "the verdict found landed after the restart is counted"
    );
    drop(d);

    // Killed after journaling the signed verdict, before sending it: the restart sends
    // those same bytes at once.
    let (job, journaled) = verdict_journaled_then_killed(&mut m).await;
    let mut d = m.daemon(0, "v0");
    let r = d.tick().await.unwrap();
    assert_eq!((r.verdicts_sent, r.passes), (1, 1), "{r:?}");
    assert_passed(&m, &job).await;
    let entry = round_zero_verdict(d.journal(), &job);
    assert_eq!(
        (entry.status, entry.sends, entry.signature().unwrap()),
        (VerdictStatus::Done, 1, journaled),
        "the journaled transaction is the one that landed"
    );
    assert_eq!(
        m.chain.signature_status(&journaled).await.unwrap(),
        Some(Ok(()))
    );
    let r = d.tick().await.unwrap();
    assert_eq!(r.verdicts_sent, 0);
    drop(d);

    // Killed before sending and restarted only after that transaction's blockhash expired:
    // it can never land, so the restart signs the verdict anew and sends it once.
    let (job, expired) = verdict_journaled_then_killed(&mut m).await;
    for _ in 0..assay_testkit::localnet::BLOCKHASH_VALID_SLOTS + 5 {
        m.warp(1).await;
    }
    let mut d = m.daemon(0, "v0");
    let r = d.tick().await.unwrap();
    assert_eq!(
        (r.verdicts_sent, r.passes),
        (2, 1),
        "expired re-send, then a new one: {r:?}"
    );
    assert_passed(&m, &job).await;
    let entry = round_zero_verdict(d.journal(), &job);
    assert_eq!((entry.status, entry.sends), (VerdictStatus::Done, 2));
    assert_ne!(entry.signature().unwrap(), expired);
    assert_eq!(m.chain.signature_status(&expired).await.unwrap(), None);

    // Three jobs, three verdicts landed; the expired transaction never did.
    assert_eq!(m.chain.verdicts_landed.load(Ordering::SeqCst), 3);
    assert_eq!(d.journal().verdicts().unwrap().len(), 3);
}

/// A pass over many jobs can outlast a draw epoch (a slow RPC node, a loaded machine):
/// a `draw_challenge` sent for a job armed in an earlier epoch only re-arms it, and if the
/// daemon came back to it a pass later, that pass would again end in another epoch, so
/// no job would ever be drawn. The daemon draws a re-armed job in the same pass.
#[tokio::test(flavor = "current_thread")]
async fn draws_re_armed_by_a_pass_longer_than_an_epoch_are_still_made() {
    let mut m = Market::new(LocalSetup::default(), 1, 1).await;
    let mut jobs = vec![];
    for _ in 0..4 {
        jobs.push(m.job(0, 4, Provider::Honest).await);
    }
    // Every draw's epoch is over: the first crank of each job re-arms it.
    m.warp(DEFAULT_EPOCH_SLOTS).await;
    // Each transaction now costs 20 slots, so a pass of four cranks spans 80 slots,
    // more than a 64-slot draw epoch.
    m.chain.slots_per_send.store(20, Ordering::SeqCst);
    let mut d = m.daemon(0, "v0");
    for _ in 0..3 {
        d.tick().await.unwrap();
    }
    for job in &jobs {
        let state = m.state(job).await.map(|j| j.state);
        assert!(
            !matches!(state, Some(JobState::Committed)),
            "job {job} never drawn: {state:?}"
        );
    }
}

#[tokio::test(flavor = "current_thread")]
async fn offline_verifier_is_replaced_after_its_window() {
    let mut m = Market::new(LocalSetup::default(), 1, 2).await;
    let job = m.job(0, 8, Provider::Honest).await;
    let drawn = m.draw(&job).await;
    let online = 1 - m.verifier_index(&drawn);
    let mut d = m.daemon(online, "online");
    let r = d.tick().await.unwrap();
    assert_eq!(r.verdicts_sent, 0, "not this verifier's assignment yet");
    m.warp(LocalSetup::default().market.verdict_window_slots + 1)
        .await;
    // advance_round penalizes the missing verifier and arms round 1 with a seed slot of
    // its own.
    let r = d.tick().await.unwrap();
    assert_eq!((r.cranks, r.passes), (1, 0), "{r:?}");
    assert_eq!(m.state(&job).await.unwrap().state, JobState::Committed);
    // Once that slot's hash exists, draw_challenge names the online verifier for round 1;
    // it audits in the same pass.
    m.warp(3).await;
    m.warp(1).await;
    let r = d.tick().await.unwrap();
    assert_eq!((r.cranks, r.passes), (1, 1), "{r:?}");
    assert_passed(&m, &job).await;
    assert_eq!(
        slashed_total(&m, &drawn).await,
        LocalSetup::default().market.verifier_miss_penalty
    );
}

/// A faked job whose fault the drawn daemon reports and whose provider contests; returns
/// the job (its committee not drawn yet).
async fn contested_fake(
    m: &mut Market,
    daemons: &mut [assay_node::Daemon<common::SharedChain>],
) -> Pubkey {
    let job = m.job(0, ALL_BUT_ONE, Provider::Fake(3)).await;
    m.draw(&job).await;
    for d in daemons.iter_mut() {
        d.tick().await.unwrap();
    }
    let disputed: Job = m.state(&job).await.unwrap();
    assert_eq!(disputed.state, JobState::Disputed);
    let mut chain = m.chain.inner.lock().await;
    let dep = chain.deployment;
    let p = m.providers[0].insecure_clone();
    chain
        .send(&[dep.contest_fault(&p.pubkey(), &job, &disputed)], &[&p])
        .await
        .unwrap();
    job
}

#[tokio::test(flavor = "current_thread")]
async fn contested_fault_is_decided_by_committee_votes_relayed_by_a_daemon() {
    let mut m = Market::new(LocalSetup::default(), 1, 4).await;
    let mut daemons: Vec<_> = (0..4).map(|v| m.daemon(v, &format!("v{v}"))).collect();
    let job = contested_fake(&mut m, &mut daemons).await;
    let contested: Job = m.state(&job).await.unwrap();
    assert!(
        contested.committee.is_empty(),
        "drawn from a slot after the contest"
    );
    // Once the committee's seed slot has a hash, any daemon cranks draw_committee; the
    // members then vote and one relays the majority.
    m.warp(3).await;
    m.warp(1).await;
    let (mut votes, mut relays, mut cranks) = (0, 0, 0);
    'passes: for _ in 0..2 {
        for d in &mut daemons {
            let r = d.tick().await.unwrap();
            votes += r.votes_published;
            relays += r.contests_relayed;
            cranks += r.cranks;
            if m.state(&job).await.is_none() {
                break 'passes;
            }
        }
    }
    assert!(cranks >= 1, "draw_committee was cranked");
    assert!(votes >= 2, "a majority voted");
    assert_eq!(relays, 1);
    assert!(m.state(&job).await.is_none(), "upheld: slashed and closed");
    assert_eq!(
        slashed_total(&m, &m.providers[0].pubkey()).await,
        common::COLLATERAL
    );
}

/// Issue #15: votes travel through the blob store (no shared directory), where anyone
/// who can write the store can overwrite a member's record. It cannot forge one, and the
/// member's daemon writes its own record again on its next tick: with one member
/// offline, a vandalized first vote would otherwise leave the contest without a quorum
/// (before this, the second member's relay found one valid vote and the contest waited
/// for the void).
#[tokio::test(flavor = "current_thread")]
async fn a_vote_overwritten_in_the_store_is_published_again_by_its_member() {
    let mut m = Market::new(LocalSetup::default(), 1, 4).await;
    let mut daemons: Vec<_> = (0..4).map(|v| m.daemon(v, &format!("v{v}"))).collect();
    let job = contested_fake(&mut m, &mut daemons).await;
    let committee = m
        .chain
        .inner
        .lock()
        .await
        .crank_committee(&job)
        .await
        .unwrap();
    assert_eq!(committee.len(), 3);
    let seat = |k: &Pubkey| m.verifiers.iter().position(|v| v.pubkey() == *k).unwrap();
    let (a, b) = (seat(&committee[0]), seat(&committee[1]));
    let state: Job = m.state(&job).await.unwrap();
    let vandalize = |member: &Pubkey| {
        let name = format!("{member}.vote");
        let (job, instance, contest) = (
            job.to_string(),
            state.instance.to_string(),
            state.contests.to_string(),
        );
        m.store
            .put_record(&["votes", &job, &instance, &contest, &name], b"vandalized")
            .unwrap();
    };
    // Member A votes; a vandal overwrites A's record; member B votes: one valid vote.
    assert_eq!(daemons[a].tick().await.unwrap().votes_published, 1);
    vandalize(&committee[0]);
    let r = daemons[b].tick().await.unwrap();
    assert_eq!((r.votes_published, r.contests_relayed), (1, 0));
    assert!(m.state(&job).await.is_some(), "no quorum yet");
    // A's next tick finds its record altered, writes it again, and relays the quorum.
    let r = daemons[a].tick().await.unwrap();
    assert_eq!((r.votes_published, r.contests_relayed), (0, 1));
    assert!(m.state(&job).await.is_none(), "upheld: slashed and closed");
    assert_eq!(
        slashed_total(&m, &m.providers[0].pubkey()).await,
        common::COLLATERAL
    );
}

#[test]
fn relayed_votes_are_the_bytes_the_sdk_signs() {
    let keys: Vec<ed25519_dalek::SigningKey> = (1..=3u8)
        .map(|i| ed25519_dalek::SigningKey::from_bytes(&[i; 32]))
        .collect();
    let job_key = Pubkey::new_unique();
    let mut job: Job = bytemuck_free_default_job();
    job.round = 1;
    job.fault_evidence = [9; 32];
    job.committee = keys
        .iter()
        .map(|k| Pubkey::new_from_array(k.verifying_key().to_bytes()))
        .collect();
    let records: Vec<VoteRecord> = keys
        .iter()
        .map(|k| VoteRecord::sign(k, &job_key, &job, true))
        .collect();
    assert!(records.iter().all(|r| r.counts_for(&job_key, &job)));
    let sdk = assay_client::ix::vote_instruction(
        &keys
            .iter()
            .zip(&records)
            .map(|(k, r)| (k.clone(), r.message()))
            .collect::<Vec<_>>(),
    );
    assert_eq!(relay_instruction(&records), sdk);
    let mut forged = records[0].clone();
    forged.uphold = false;
    assert!(!forged.counts_for(&job_key, &job));
    let (uphold, side) = assay_node::votes::quorum(
        &job_key,
        &job,
        &[records[0].clone(), forged, records[1].clone()],
    )
    .unwrap();
    assert!(uphold);
    assert_eq!(side.len(), 2);
    // Three valid votes: exactly a majority (two) is relayed, the smallest transaction.
    let (_, all_three) = assay_node::votes::quorum(&job_key, &job, &records).unwrap();
    assert_eq!(all_three.len(), 2);
}

fn bytemuck_free_default_job() -> Job {
    use anchor_lang::AccountDeserialize;
    // A zeroed account body (with the discriminator) decodes to an all-default Job.
    let mut data = assay_market::state::Job::DISCRIMINATOR.to_vec();
    data.resize(Job::SIZE, 0);
    Job::try_deserialize(&mut data.as_slice()).unwrap()
}
use anchor_lang::Discriminator;

/// A GPU that fails the first `failures` audits, as a kernel this adapter cannot run.
struct FlakyGpu {
    gpu: Arc<assay_gpu::Gpu>,
    failures: std::sync::atomic::AtomicU32,
}

impl Auditor for FlakyGpu {
    fn audit(&self, store: &BlobStore, job_key: &Pubkey, job: &Job) -> Result<Audit, AuditError> {
        if self
            .failures
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err(AuditError::Gpu(GpuError::Wgpu {
                stage: "compute pipeline",
                message: "injected: kernel unsupported on this adapter".into(),
            }));
        }
        assay_node::audit(&self.gpu, store, job_key, job)
    }
}

#[tokio::test(flavor = "current_thread")]
async fn gpu_failures_are_retried_with_backoff_and_never_reported_as_faults() {
    let mut m = Market::new(LocalSetup::default(), 1, 1).await;
    let job = m.job(0, 8, Provider::Honest).await;
    m.draw(&job).await;
    let flaky = FlakyGpu {
        gpu: Arc::clone(&m.gpu),
        failures: 2.into(),
    };
    let mut d = m.daemon_with(0, "v0", Box::new(flaky), m.options());
    let r = d.tick().await.unwrap();
    assert_eq!((r.audit_errors, r.verdicts_sent), (1, 0));
    // Backing off: no retry within 200 ms.
    let r = d.tick().await.unwrap();
    assert_eq!(r.audit_errors, 0);
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(d.tick().await.unwrap().audit_errors, 1);
    tokio::time::sleep(Duration::from_millis(450)).await;
    let r = d.tick().await.unwrap();
    assert_eq!((r.audit_errors, r.passes), (0, 1), "{r:?}");
    assert_passed(&m, &job).await;
    let text = d.metrics().render();
    assert!(
        text.contains("assay_verifier_audit_errors_total{kind=\"gpu\"} 2"),
        "{text}"
    );
    assert!(
        text.contains("assay_verifier_faults_found_total 0"),
        "{text}"
    );
    assert_eq!(m.chain.verdicts_sent.load(Ordering::SeqCst), 1);
}

/// An engine that skips chunks: it re-executes the sample but for `skipped` of its chunks,
/// and still reports the job as passing, as a lazy or broken implementation would.
struct SkippingGpu {
    gpu: Arc<assay_gpu::Gpu>,
    skipped: usize,
}

impl Auditor for SkippingGpu {
    fn audit(&self, store: &BlobStore, job_key: &Pubkey, job: &Job) -> Result<Audit, AuditError> {
        let mut audit = assay_node::audit(&self.gpu, store, job_key, job)?;
        let keep = audit.reexecuted.len().saturating_sub(self.skipped);
        audit.reexecuted.truncate(keep);
        Ok(audit)
    }
}

/// The daemon never signs "pass" for a chunk it did not re-execute: an engine that skips
/// one sampled chunk gets no verdict sent (an audit error of its own, retried), and the
/// real engine re-executes every sampled chunk.
#[tokio::test(flavor = "current_thread")]
async fn the_daemon_never_signs_a_pass_for_a_chunk_it_did_not_reexecute() {
    let mut m = Market::new(LocalSetup::default(), 1, 1).await;
    let job = m.job(0, 8, Provider::Honest).await;
    m.draw(&job).await;
    let state = m.state(&job).await.unwrap();
    let sample = assay_protocol::sample_indices(&state.seed, state.n_chunks, 8);
    let honest = assay_node::audit(&m.gpu, &m.store, &job, &state).unwrap();
    assert_eq!(honest.finding, assay_node::Finding::Pass);
    let mut reexecuted = honest.reexecuted.clone();
    reexecuted.sort_unstable();
    let mut sampled = sample.clone();
    sampled.sort_unstable();
    assert_eq!(
        reexecuted, sampled,
        "the engine re-executes exactly the sample"
    );

    let skipping = SkippingGpu {
        gpu: Arc::clone(&m.gpu),
        skipped: 1,
    };
    let mut d = m.daemon_with(0, "v0", Box::new(skipping), m.options());
    let r = d.tick().await.unwrap();
    assert_eq!(
        (r.audit_errors, r.passes, r.verdicts_sent),
        (1, 0, 0),
        "{r:?}"
    );
    assert_eq!(m.chain.verdicts_sent.load(Ordering::SeqCst), 0);
    assert_eq!(m.state(&job).await.unwrap().state, JobState::Challenged);
    let text = d.metrics().render();
    assert!(
        text.contains("assay_verifier_audit_errors_total{kind=\"not_reexecuted\"} 1"),
        "{text}"
    );
}

/// A fisherman daemon re-checks a lazy verifier's pass of a faked chunk within the
/// window, challenges it, and the committee daemons uphold: the lazy verifier's bond and
/// the provider's collateral are slashed, the fisherman earns the finder share.
#[tokio::test(flavor = "current_thread")]
async fn a_fisherman_daemon_challenges_a_lazy_pass_and_the_committee_upholds() {
    let mut m = Market::new(LocalSetup::default(), 1, 6).await;
    let job = m.job(0, ALL_BUT_ONE, Provider::Fake(3)).await;
    let bond = m.state(&job).await.unwrap().verifier_bond;
    let lazy = m.draw(&job).await;
    let lazy_index = m.verifier_index(&lazy);
    let mut lazy_daemon = m.daemon_with(
        lazy_index,
        "lazy",
        Box::new(common::LazyAuditor),
        m.options(),
    );
    let r = lazy_daemon.tick().await.unwrap();
    assert_eq!(r.passes, 1, "the lazy verifier passes a faked job: {r:?}");
    assert_passed(&m, &job).await;

    let fisher_index = (0..6).find(|&i| i != lazy_index).unwrap();
    let fisher = m.verifiers[fisher_index].pubkey();
    let fisher_before = m.tokens_of(&fisher).await;
    let mut options = m.options();
    options.fisherman_rate = 1.0;
    let mut fisherman = m.daemon_with(
        fisher_index,
        "fisher",
        Box::new(Arc::clone(&m.gpu)),
        options,
    );
    let r = fisherman.tick().await.unwrap();
    assert_eq!((r.rechecked, r.challenges), (1, 1), "{r:?}");
    assert_eq!(m.state(&job).await.unwrap().state, JobState::PassChallenged);
    // Re-checked once: the next pass does not look at it again.
    assert_eq!(fisherman.tick().await.unwrap().rechecked, 0);

    // Everyone else runs the ordinary daemon: the committee is drawn, votes, one relays.
    m.warp(3).await;
    m.warp(1).await;
    let mut others: Vec<_> = (0..6)
        .filter(|&i| i != lazy_index && i != fisher_index)
        .map(|i| m.daemon(i, &format!("v{i}")))
        .collect();
    common::tick_until_closed(&m, &mut others, &job, 2).await;
    assert!(m.state(&job).await.is_none(), "upheld: slashed and closed");
    assert_eq!(slashed_total(&m, &lazy).await, bond);
    assert_eq!(
        slashed_total(&m, &m.providers[0].pubkey()).await,
        common::COLLATERAL
    );
    let finder = (common::COLLATERAL + bond) / 5;
    assert_eq!(m.tokens_of(&fisher).await, fisher_before + finder);
    assert!(fisherman
        .metrics()
        .render()
        .contains("assay_verifier_passes_rechecked_total{outcome=\"challenged\"} 1"));
}

/// After an honest pass, a chunk the verifier did not sample disappears from the store
/// (the provider stopped serving it). A fisherman daemon checks every chunk of the
/// passed output, calls that one unavailable (`challenge_availability`), and the
/// committee daemons — looking in the second half of their vote window, when the
/// provider has had time to serve it again — find it still missing and uphold: the
/// provider's collateral is slashed, the honest verifier keeps its bond.
#[tokio::test(flavor = "current_thread")]
async fn a_fisherman_daemon_calls_a_chunk_lost_after_the_pass_unavailable_and_the_provider_pays() {
    let mut m = Market::new(LocalSetup::default(), 1, 6).await;
    let job = m.job(0, 4, Provider::Honest).await;
    let verifier = m.draw(&job).await;
    let verifier_index = m.verifier_index(&verifier);
    let mut honest = m.daemon(verifier_index, "honest");
    assert_eq!(honest.tick().await.unwrap().passes, 1);
    assert_passed(&m, &job).await;

    // An unsampled chunk's blob vanishes from the store.
    let state = m.state(&job).await.unwrap();
    let sample = assay_protocol::sample_indices(&state.seed, state.n_chunks, 4);
    let lost = (0..state.n_chunks).find(|i| !sample.contains(i)).unwrap();
    let index =
        assay_gpu::ResultIndex::fetch(&assay_gpu::Sources::own(&m.store), &state.output_uri)
            .unwrap();
    let blob = m
        .dir
        .path()
        .join("store/blobs")
        .join(hex::encode(index.chunks[lost as usize]));
    std::fs::remove_file(&blob).unwrap();

    let fisher_index = (0..6).find(|&i| i != verifier_index).unwrap();
    let mut options = m.options();
    options.fisherman_rate = 1.0;
    let mut fisherman = m.daemon_with(
        fisher_index,
        "fisher",
        Box::new(Arc::clone(&m.gpu)),
        options,
    );
    let r = fisherman.tick().await.unwrap();
    assert_eq!((r.rechecked, r.challenges), (1, 1), "{r:?}");
    let challenged = m.state(&job).await.unwrap();
    assert_eq!(challenged.state, JobState::PassChallenged);
    assert!(challenged.fault_unavailable && challenged.fault_index == lost);

    // The committee is drawn; before the second half of the vote window nobody votes.
    m.warp(3).await;
    m.warp(1).await;
    let mut others: Vec<_> = (0..6)
        .filter(|&i| i != verifier_index && i != fisher_index)
        .map(|i| m.daemon(i, &format!("v{i}")))
        .collect();
    for d in &mut others {
        assert_eq!(d.tick().await.unwrap().votes_published, 0);
    }
    let drawn = m.state(&job).await.unwrap();
    assert!(!drawn.committee.is_empty(), "the committee was drawn");
    let from = drawn.availability_looked_at_from().unwrap();
    let slot = m.chain.slot().await.unwrap();
    m.warp(from.saturating_sub(slot).max(1)).await;
    common::tick_until_closed(&m, &mut others, &job, 2).await;
    assert!(m.state(&job).await.is_none(), "upheld: slashed and closed");
    assert_eq!(
        slashed_total(&m, &m.providers[0].pubkey()).await,
        common::COLLATERAL
    );
    assert_eq!(
        slashed_total(&m, &verifier).await,
        0,
        "the verifier read its sample"
    );
}
