//! Lazy verifiers lose money: every pass stays challengeable for a window, and canary jobs
//! plant faults that only a verifier who re-executes its sample finds.
//!
//! - A canary operator (buyer, provider and challenger under separate keys) plants wrong
//!   outputs; a lazy verifier that passes one is challenged and loses its bond, an honest
//!   one reports the fault and earns the finder share.
//! - A challenge of a correct pass is overturned and costs the challenger its bond; it
//!   never shortens the window, so a lazy verifier's accomplice cannot use a false
//!   challenge to run out the clock on a real one.
//! - The window's locks are released by a crank anyone may send.
//!
//! Amounts follow the shipped terms (`LocalSetup::default()`) and `World::job_args`: price
//! 10 tokens, 3 of 8 chunks sampled, collateral 32 (the floor), verifier fee 5 % + 3/8 of
//! the price, protocol fee 1 %, the verifier's bond 50 fees, a challenger's bond 1 token,
//! finder 20 % and treasury 10 % of what is slashed.

use anchor_lang::prelude::Pubkey;
use assay_client::canary::CanaryPlan;
use assay_client::Chain;
use assay_market::errors::MarketError;
use assay_market::instructions::FaultEvidence;
use assay_market::state::JobState;
use assay_protocol::{hashv, leaf_hash, MerkleTree, Verdict};
use assay_stake::constants::ROLE_PROVIDER;
use assay_testkit::embedded::{ChainError, LocalSetup};
use assay_tests::terms::{BOND, CHALLENGER_BOND, COLLATERAL, PRICE, PROVIDER_PAY, VERIFIER_FEE};
use assay_tests::{books, committee_decides, fake_outputs, World};
use solana_sdk::signature::Signer;

/// The job's error code as the program returns it.
fn code(e: MarketError) -> u32 {
    e as u32 + anchor_lang::error::ERROR_CODE_OFFSET
}

fn failed_with<T: std::fmt::Debug>(outcome: Result<T, ChainError>, e: MarketError) {
    assert_eq!(
        outcome.unwrap_err().custom_code(),
        Some(code(e)),
        "expected {e:?}"
    );
}

/// A market with one buyer, one provider and five verifiers (so a committee of three
/// can always be drawn without the parties).
async fn market() -> World {
    World::new(LocalSetup::default(), 1, 1, 5).await.unwrap()
}

/// One canary job: posted by the canary's buyer key, run by its provider key, with the
/// outputs of `planted` chunks committed wrong.
struct CanaryJob {
    key: Pubkey,
    plan: CanaryPlan,
    honest: Vec<Vec<u8>>,
    committed: MerkleTree,
}

impl CanaryJob {
    /// Posts, claims and commits a canary job of 8 chunks (3 sampled) with `planted`
    /// faults; 6 or more planted means every sample holds one.
    async fn run(w: &mut World, job_id: u64, planted: u32) -> Self {
        let key = w.post(0, World::job_args(job_id)).await.unwrap();
        w.claim(0, &key).await.unwrap();
        let (_, honest) = fake_outputs(&key, 8, 7);
        let plan = CanaryPlan::new(&[42; 32], &key, 8, planted);
        let leaves = honest
            .iter()
            .enumerate()
            .map(|(i, out)| {
                leaf_hash(
                    &key.to_bytes(),
                    i as u32,
                    &plan.committed_output(i as u32, out),
                )
            })
            .collect();
        let committed = MerkleTree::from_leaves(leaves).unwrap();
        let provider = w.providers[0].insecure_clone();
        let ix = w.chain.deployment.commit_result(
            &provider.pubkey(),
            &key,
            committed.root(),
            format!("file:///blobs/{key}"),
        );
        w.chain.send(&[ix], &[&provider]).await.unwrap();
        Self {
            key,
            plan,
            honest,
            committed,
        }
    }
}

/// What an honest committee member votes on the challenged chunk after re-executing it:
/// uphold when the committed leaf is not the leaf of the correct output.
async fn honest_vote(
    w: &mut World,
    job: &Pubkey,
    honest: &[Vec<u8>],
    tree: &MerkleTree,
) -> Verdict {
    let index = w.job(job).await.fault_index;
    let correct = leaf_hash(&job.to_bytes(), index, &honest[index as usize]);
    if tree.leaf(index) == Some(correct) {
        Verdict::OverturnFault
    } else {
        Verdict::UpholdFault
    }
}

/// A test-only lazy verifier: signs "pass" for whatever it was drawn for, re-executing
/// nothing. Returns its key.
async fn lazy_pass(w: &mut World, job: &Pubkey) -> Pubkey {
    let verifier = w.draw(job).await.unwrap().expect("a verifier is drawn");
    w.pass(job).await.unwrap();
    verifier
}

#[tokio::test]
async fn lazy_verifier_who_passes_a_canary_job_is_caught_and_loses_its_bond() {
    let mut w = market().await;
    let challenger = w.operator(ROLE_PROVIDER).await.unwrap().pubkey();
    let canary = CanaryJob::run(&mut w, 1, 6).await;

    // Scene 1: the lazy verifier passes; the provider is paid at once, the rest waits.
    let provider = w.providers[0].pubkey();
    let provider_before = w.chain.balance_of(&provider).await.unwrap();
    let verifier = lazy_pass(&mut w, &canary.key).await;
    let job = w.job(&canary.key).await;
    assert_eq!(job.state, JobState::Passed);
    let passed = books(&mut w, &verifier, &challenger).await;
    assert_eq!(passed.provider, provider_before + PROVIDER_PAY);
    assert_eq!(
        passed.locked,
        [COLLATERAL, BOND, 0],
        "collateral and bond stay locked"
    );

    // Scene 2: the canary finds a planted chunk in the sample and challenges in time.
    let args = canary
        .plan
        .challenge(&job, &canary.committed, |i| {
            Some(hashv(&[&canary.honest[i as usize]]))
        })
        .expect("6 of 8 planted: every 3-chunk sample holds one");
    assert!(canary.plan.planted().contains(&args.chunk_index));
    let c = w.key(&challenger).insecure_clone();
    let ix = w
        .chain
        .deployment
        .challenge_pass(&challenger, &canary.key, &job, args);
    w.chain.send(&[ix], &[&c]).await.unwrap();
    assert_eq!(w.job(&canary.key).await.state, JobState::PassChallenged);

    // Scene 3: the committee re-executes the chunk and upholds.
    let verdict = honest_vote(&mut w, &canary.key, &canary.honest, &canary.committed).await;
    assert_eq!(verdict, Verdict::UpholdFault);
    committee_decides(&mut w, &canary.key, verdict).await;
    assert!(
        w.chain.job(&canary.key).await.unwrap().is_none(),
        "job closed"
    );

    // Scene 4: exact balances. Slashed: collateral + bond = 21 tokens; finder 20 %,
    // treasury 10 %, buyer the rest plus the fee nobody earned.
    let after = books(&mut w, &verifier, &challenger).await;
    let slashed = COLLATERAL + BOND;
    assert_eq!(after.verifier_deposit, passed.verifier_deposit - BOND);
    assert_eq!(after.provider_deposit, passed.provider_deposit - COLLATERAL);
    assert_eq!(after.challenger_deposit, passed.challenger_deposit);
    assert_eq!(after.challenger, passed.challenger + slashed / 5);
    assert_eq!(after.treasury, passed.treasury + slashed / 10);
    assert_eq!(after.buyer, passed.buyer + slashed * 7 / 10 + VERIFIER_FEE);
    assert_eq!(after.verifier, passed.verifier, "no fee for a lazy pass");
    assert_eq!(after.locked, [0, 0, 0], "every lock released");
    assert_eq!(w.total_tokens(&[]).await.unwrap(), w.minted);
}

#[tokio::test]
async fn honest_verifier_on_a_canary_job_reports_the_planted_fault_and_earns_the_finder_share() {
    let mut w = market().await;
    let canary = CanaryJob::run(&mut w, 1, 6).await;
    let verifier = w.draw(&canary.key).await.unwrap().expect("drawn");
    let job = w.job(&canary.key).await;
    let before = books(&mut w, &verifier, &verifier).await;

    // The verifier re-executes its sample and reports the first chunk that differs.
    let sample = assay_protocol::sample_indices(&job.seed, job.n_chunks, u32::from(job.samples));
    let index = sample
        .into_iter()
        .find(|&i| {
            canary.committed.leaf(i)
                != Some(leaf_hash(
                    &canary.key.to_bytes(),
                    i,
                    &canary.honest[i as usize],
                ))
        })
        .expect("a planted chunk is sampled");
    let evidence = FaultEvidence::Mismatch {
        provider_leaf: canary.committed.leaf(index).unwrap(),
        proof: canary.committed.proof(index).unwrap(),
        recomputed_output_hash: hashv(&[&canary.honest[index as usize]]),
    };
    let v = w.key(&verifier).insecure_clone();
    let report = w
        .chain
        .deployment
        .report_fault(&verifier, &canary.key, index, evidence);
    w.chain.send(&[report], &[&v]).await.unwrap();

    // The canary's provider concedes: its own planted fault.
    let p = w.providers[0].insecure_clone();
    let state = w.job(&canary.key).await;
    let concede = w
        .chain
        .deployment
        .concede_fault(&p.pubkey(), &canary.key, &state)
        .unwrap();
    w.chain.send(&[concede], &[&p]).await.unwrap();

    let after = books(&mut w, &verifier, &verifier).await;
    assert_eq!(
        after.verifier,
        before.verifier + COLLATERAL / 5,
        "finder share"
    );
    assert_eq!(after.buyer, before.buyer + PRICE + COLLATERAL * 7 / 10);
    assert_eq!(after.treasury, before.treasury + COLLATERAL / 10);
    assert_eq!(after.locked, [0, 0, 0]);
}

#[tokio::test]
async fn a_challenge_of_a_correct_pass_is_overturned_and_the_challenger_loses_its_bond() {
    let mut w = market().await;
    let challenger = w.operator(ROLE_PROVIDER).await.unwrap().pubkey();
    let (job_key, tree, verifier) = w.passed_job(1).await.unwrap();
    let (_, honest) = fake_outputs(&job_key, 8, 7);
    let job = w.job(&job_key).await;
    let window_end = job.step_deadline_slot;
    let index = assay_protocol::sample_indices(&job.seed, job.n_chunks, 3)[0];
    let before = books(&mut w, &verifier, &challenger).await;

    w.challenge_pass(&challenger, &job_key, &tree, index, [9; 32])
        .await
        .unwrap();
    let challenged_at = w.chain.slot().await.unwrap();
    let verdict = honest_vote(&mut w, &job_key, &honest, &tree).await;
    assert_eq!(verdict, Verdict::OverturnFault);
    committee_decides(&mut w, &job_key, verdict).await;

    // The challenger's bond: 10 % to the treasury, the rest to the verifier it accused.
    let after = books(&mut w, &verifier, &challenger).await;
    assert_eq!(
        after.challenger_deposit,
        before.challenger_deposit - CHALLENGER_BOND
    );
    assert_eq!(after.treasury, before.treasury + CHALLENGER_BOND / 10);
    assert_eq!(after.verifier, before.verifier + CHALLENGER_BOND * 9 / 10);
    assert_eq!(
        after.locked,
        [COLLATERAL, BOND, 0],
        "the pass still holds its locks"
    );

    // The window runs again for the slots it had left: never shorter than before.
    let reopened = w.job(&job_key).await;
    assert_eq!(reopened.state, JobState::Passed);
    let resolved_at = w.chain.slot().await.unwrap();
    assert_eq!(
        reopened.step_deadline_slot,
        resolved_at + (window_end - challenged_at)
    );
    assert!(reopened.step_deadline_slot >= window_end);

    w.chain.crank_close_pass(&job_key).await.unwrap();
    let closed = books(&mut w, &verifier, &challenger).await;
    assert_eq!(closed.verifier, after.verifier + VERIFIER_FEE);
    assert_eq!(closed.locked, [0, 0, 0]);
    assert_eq!(w.total_tokens(&[]).await.unwrap(), w.minted);
}

/// The accomplice's attack: right after a lazy pass, a friend of the verifier files a
/// false challenge so the committee sits until the window would have ended, hoping the
/// canary's real challenge comes too late. The failed challenge gives the window its
/// slots back, and the canary still catches the pass.
#[tokio::test]
async fn a_false_challenge_by_the_verifiers_accomplice_does_not_run_out_the_window() {
    let mut w = market().await;
    let accomplice = w.operator(ROLE_PROVIDER).await.unwrap().pubkey();
    let canary_challenger = w.operator(ROLE_PROVIDER).await.unwrap().pubkey();
    let canary = CanaryJob::run(&mut w, 1, 6).await;
    let verifier = lazy_pass(&mut w, &canary.key).await;
    let job = w.job(&canary.key).await;
    let window_end = job.step_deadline_slot;

    // The accomplice challenges a sampled chunk with a made-up recomputation.
    let index = assay_protocol::sample_indices(&job.seed, job.n_chunks, 3)[0];
    w.challenge_pass(&accomplice, &canary.key, &canary.committed, index, [9; 32])
        .await
        .unwrap();
    // The committee sits past the original window's end and reaches no majority (an
    // overturn reopens the window the same way: see the test above).
    let committee = w.chain.crank_committee(&canary.key).await.unwrap();
    assert!(!committee.is_empty());
    let slot = w.chain.slot().await.unwrap();
    let deadline = w.job(&canary.key).await.step_deadline_slot;
    w.chain.warp(deadline + 1 - slot).await.unwrap();
    assert!(
        w.chain.slot().await.unwrap() > window_end,
        "past the first window's end"
    );
    let state = w.job(&canary.key).await;
    let void = w
        .chain
        .deployment
        .void_challenge(&canary.key, &state)
        .unwrap();
    w.chain.send(&[void], &[]).await.unwrap();

    let reopened = w.job(&canary.key).await;
    assert_eq!(reopened.state, JobState::Passed);
    assert!(reopened.step_deadline_slot > w.chain.slot().await.unwrap());

    // The canary still challenges in time and the committee upholds.
    let args = canary
        .plan
        .challenge(&reopened, &canary.committed, |i| {
            Some(hashv(&[&canary.honest[i as usize]]))
        })
        .unwrap();
    let c = w.key(&canary_challenger).insecure_clone();
    let ix = w
        .chain
        .deployment
        .challenge_pass(&canary_challenger, &canary.key, &reopened, args);
    w.chain.send(&[ix], &[&c]).await.unwrap();
    let verdict = honest_vote(&mut w, &canary.key, &canary.honest, &canary.committed).await;
    committee_decides(&mut w, &canary.key, verdict).await;
    let op = w.chain.operator(&verifier).await.unwrap().unwrap();
    assert_eq!(
        op.slashed_total, BOND,
        "the lazy verifier lost its bond after all"
    );
}

#[tokio::test]
async fn the_pass_window_is_closed_by_anyone_after_it_ends_and_releases_every_lock() {
    let mut w = market().await;
    let (job_key, _, verifier) = w.passed_job(1).await.unwrap();
    let provider = w.providers[0].pubkey();
    let before = books(&mut w, &verifier, &provider).await;
    assert_eq!(before.locked[..2], [COLLATERAL, BOND]);

    // Before the window ends nobody can close it.
    let job = w.job(&job_key).await;
    let early = w.chain.deployment.close_pass(&job_key, &job).unwrap();
    failed_with(
        w.chain.send(&[early], &[]).await,
        MarketError::DeadlineNotReached,
    );

    // After it, a stranger's crank (no signer but the fee payer) closes it.
    w.chain.crank_close_pass(&job_key).await.unwrap();
    let after = books(&mut w, &verifier, &provider).await;
    assert_eq!(after.verifier, before.verifier + VERIFIER_FEE);
    assert_eq!(after.locked[..2], [0, 0]);
    assert!(w.chain.job(&job_key).await.unwrap().is_none());

    // And no challenge lands after the window.
    let (late, tree, _) = w.passed_job(2).await.unwrap();
    let state = w.job(&late).await;
    let slot = w.chain.slot().await.unwrap();
    w.chain
        .warp(state.step_deadline_slot + 1 - slot)
        .await
        .unwrap();
    let challenger = w.operator(ROLE_PROVIDER).await.unwrap().pubkey();
    let index = assay_protocol::sample_indices(&state.seed, state.n_chunks, 3)[0];
    failed_with(
        w.challenge_pass(&challenger, &late, &tree, index, [9; 32])
            .await,
        MarketError::DeadlinePassed,
    );
}

/// A challenge whose committee never reaches a majority is voided: the pass stands, the
/// window reopens, and the challenger, who asked for the committee, pays the miss penalty
/// (a voided challenge is never free) and gets the rest of its bond back. Before its
/// committee is drawn it cannot be voided at all (it would lapse instead).
#[tokio::test]
async fn a_challenge_nobody_votes_on_is_voided_and_costs_the_challenger_the_miss_penalty() {
    const PENALTY: u64 = 250_000;
    let mut w = market().await;
    let challenger = w.operator(ROLE_PROVIDER).await.unwrap().pubkey();
    let (job_key, tree, verifier) = w.passed_job(1).await.unwrap();
    let job = w.job(&job_key).await;
    let index = assay_protocol::sample_indices(&job.seed, job.n_chunks, 3)[1];
    w.challenge_pass(&challenger, &job_key, &tree, index, [9; 32])
        .await
        .unwrap();
    let challenged = books(&mut w, &verifier, &challenger).await;
    assert_eq!(challenged.locked, [COLLATERAL, BOND, CHALLENGER_BOND]);

    let state = w.job(&job_key).await;
    let void = w.chain.deployment.void_challenge(&job_key, &state).unwrap();
    failed_with(w.chain.send(&[void], &[]).await, MarketError::DrawPending);
    w.chain.crank_committee(&job_key).await.unwrap();
    let state = w.job(&job_key).await;
    let void = w.chain.deployment.void_challenge(&job_key, &state).unwrap();
    failed_with(
        w.chain.send(std::slice::from_ref(&void), &[]).await,
        MarketError::DeadlineNotReached,
    );
    let slot = w.chain.slot().await.unwrap();
    w.chain
        .warp(state.step_deadline_slot + 1 - slot)
        .await
        .unwrap();
    let treasury = w.treasury_balance().await;
    w.chain.send(&[void], &[]).await.unwrap();

    let after = books(&mut w, &verifier, &challenger).await;
    assert_eq!(after.locked, [COLLATERAL, BOND, 0]);
    assert_eq!(
        challenged.challenger_deposit - after.challenger_deposit,
        PENALTY,
        "the challenger pays the miss penalty"
    );
    assert_eq!(w.treasury_balance().await - treasury, PENALTY);
    assert_eq!(w.job(&job_key).await.state, JobState::Passed);
    w.chain.crank_close_pass(&job_key).await.unwrap();
}

#[tokio::test]
async fn neither_the_provider_nor_the_verifier_may_challenge_the_pass() {
    let mut w = market().await;
    let (job_key, tree, verifier) = w.passed_job(1).await.unwrap();
    let job = w.job(&job_key).await;
    let index = assay_protocol::sample_indices(&job.seed, job.n_chunks, 3)[0];
    let provider = w.providers[0].pubkey();
    for party in [provider, verifier] {
        failed_with(
            w.challenge_pass(&party, &job_key, &tree, index, [9; 32])
                .await,
            MarketError::ChallengerIsAParty,
        );
    }
}
