//! A passed job's output stays obtainable for the pass window (the retention period), the
//! provider's collateral at stake: any staked operator but the two parties — the buyer
//! with a stake of its own, or a fisherman — may call any chunk unavailable
//! (`challenge_availability`), and a committee checks it.
//!
//! - Upheld (nobody could obtain the chunk): the provider's collateral pays the buyer, the
//!   finder and the treasury; the verifier, which read its sample when it attested, keeps
//!   its fee and its bond.
//! - Overturned (the chunk was served by then, perhaps only because it was called out):
//!   the challenger forfeits `min(bond, miss penalty)`, all to the treasury, so nobody —
//!   least the provider — gains from a withheld chunk being called out.
//!
//! Amounts follow the shipped terms (`LocalSetup::default()`) and `World::job_args`
//! (see `assay_tests::terms`).

use anchor_lang::prelude::Pubkey;
use assay_client::Chain;
use assay_market::errors::MarketError;
use assay_market::state::JobState;
use assay_protocol::Verdict;
use assay_stake::constants::ROLE_PROVIDER;
use assay_testkit::embedded::{ChainError, LocalSetup};
use assay_tests::terms::{
    finder_share, treasury_share, victim_share, BOND, CHALLENGER_BOND, COLLATERAL, MISS_PENALTY,
    VERIFIER_FEE,
};
use assay_tests::{books, committee_decides, World};
use solana_sdk::signature::Signer;

/// A market with one buyer, one provider and five verifiers (so a committee of three can
/// always be drawn without the parties).
async fn market() -> World {
    World::new(LocalSetup::default(), 1, 1, 5).await.unwrap()
}

/// `challenger` calls chunk `index` of `job` unavailable.
async fn call_unavailable(
    w: &mut World,
    challenger: &Pubkey,
    job: &Pubkey,
    index: u32,
) -> Result<(), ChainError> {
    let state = w.job(job).await;
    let ix = w
        .chain
        .deployment
        .challenge_availability(challenger, job, &state, index);
    let c = w.key(challenger).insecure_clone();
    w.chain.send(&[ix], &[&c]).await.map(drop)
}

/// A chunk the verifier did not sample: what nobody re-reads before the job settles.
async fn unsampled_chunk(w: &mut World, job: &Pubkey) -> u32 {
    let state = w.job(job).await;
    let sample = assay_protocol::sample_indices(&state.seed, state.n_chunks, 3);
    (0..state.n_chunks)
        .find(|i| !sample.contains(i))
        .expect("3 of 8 sampled")
}

#[tokio::test]
async fn provider_who_loses_an_unsampled_chunk_after_the_pass_compensates_the_buyer() {
    let mut w = market().await;
    let fisherman = w.operator(ROLE_PROVIDER).await.unwrap().pubkey();
    let (job, _tree, verifier) = w.passed_job(1).await.unwrap();
    let lost = unsampled_chunk(&mut w, &job).await;
    let before = books(&mut w, &verifier, &fisherman).await;

    call_unavailable(&mut w, &fisherman, &job, lost)
        .await
        .unwrap();
    let state = w.job(&job).await;
    assert_eq!(state.state, JobState::PassChallenged);
    assert!(state.fault_unavailable && state.fault_index == lost);
    // The committee cannot obtain the chunk from the store or any mirror.
    committee_decides(&mut w, &job, Verdict::UpholdFault).await;

    let after = books(&mut w, &verifier, &fisherman).await;
    assert_eq!(after.provider_deposit, before.provider_deposit - COLLATERAL);
    assert_eq!(after.buyer, before.buyer + victim_share(COLLATERAL));
    assert_eq!(
        after.challenger,
        before.challenger + finder_share(COLLATERAL)
    );
    assert_eq!(after.treasury, before.treasury + treasury_share(COLLATERAL));
    assert_eq!(
        (after.verifier, after.verifier_deposit),
        (before.verifier + VERIFIER_FEE, before.verifier_deposit),
        "the verifier read its sample when it attested: it keeps its fee and bond"
    );
    assert_eq!(after.locked, [0, 0, 0]);
    assert_eq!(w.total_tokens(&[]).await.unwrap(), w.minted);
}

#[tokio::test]
async fn a_chunk_served_once_called_unavailable_costs_the_challenger_only_the_miss_penalty() {
    let mut w = market().await;
    let buyer_as_fisherman = w.operator(ROLE_PROVIDER).await.unwrap().pubkey();
    let (job, _tree, verifier) = w.passed_job(1).await.unwrap();
    let window_end = w.job(&job).await.step_deadline_slot;
    let chunk = unsampled_chunk(&mut w, &job).await;
    let before = books(&mut w, &verifier, &buyer_as_fisherman).await;

    call_unavailable(&mut w, &buyer_as_fisherman, &job, chunk)
        .await
        .unwrap();
    // The provider re-publishes; the committee finds the chunk matching its leaf. Whether
    // it was withheld until called out cannot be told: the challenger pays what silence
    // costs, and nobody it accused is paid for it.
    committee_decides(&mut w, &job, Verdict::OverturnFault).await;

    let forfeit = CHALLENGER_BOND.min(MISS_PENALTY);
    let after = books(&mut w, &verifier, &buyer_as_fisherman).await;
    assert_eq!(
        after.challenger_deposit,
        before.challenger_deposit - forfeit
    );
    assert_eq!(after.treasury, before.treasury + forfeit);
    assert_eq!(
        (after.provider, after.verifier),
        (before.provider, before.verifier),
        "a provider gains nothing from a withheld chunk being called out"
    );
    assert_eq!(
        after.locked,
        [COLLATERAL, BOND, 0],
        "the pass holds its locks again"
    );
    let reopened = w.job(&job).await;
    assert_eq!(reopened.state, JobState::Passed);
    assert!(reopened.step_deadline_slot >= window_end);
    assert_eq!(w.total_tokens(&[job]).await.unwrap(), w.minted);
}

/// Each rule of `challenge_availability`, and the named error that enforces it.
#[tokio::test]
async fn availability_challenges_outside_the_rules_fail_with_their_named_error() {
    let mut w = market().await;
    let fisherman = w.operator(ROLE_PROVIDER).await.unwrap().pubkey();
    let provider = w.providers[0].pubkey();
    let (job, _tree, verifier) = w.passed_job(1).await.unwrap();
    let n = w.job(&job).await.n_chunks;
    let cases: [(&str, Pubkey, u32, MarketError); 3] = [
        (
            "a chunk the job does not have",
            fisherman,
            n,
            MarketError::ChunkOutOfRange,
        ),
        (
            "the provider itself",
            provider,
            0,
            MarketError::ChallengerIsAParty,
        ),
        (
            "the attesting verifier",
            verifier,
            0,
            MarketError::ChallengerIsAParty,
        ),
    ];
    for (what, who, index, expected) in cases {
        let err = call_unavailable(&mut w, &who, &job, index)
            .await
            .unwrap_err();
        assert_eq!(
            err.custom_code(),
            Some(expected as u32 + anchor_lang::error::ERROR_CODE_OFFSET),
            "{what}"
        );
    }
    // After the window the job is the provider's to close: no challenge opens.
    let left = w.job(&job).await.step_deadline_slot - w.chain.slot().await.unwrap();
    w.chain.warp(left + 1).await.unwrap();
    let err = call_unavailable(&mut w, &fisherman, &job, 0)
        .await
        .unwrap_err();
    assert_eq!(
        err.custom_code(),
        Some(MarketError::DeadlinePassed as u32 + anchor_lang::error::ERROR_CODE_OFFSET)
    );
    // Before a pass there is nothing to retain yet.
    let (open_job, _, _) = w.challenged_job(2).await.unwrap();
    let err = call_unavailable(&mut w, &fisherman, &open_job, 0)
        .await
        .unwrap_err();
    assert_eq!(
        err.custom_code(),
        Some(MarketError::WrongJobState as u32 + anchor_lang::error::ERROR_CODE_OFFSET)
    );
}

/// Nothing stops one key from holding two roles of a job: a buyer may stake and call its
/// own job's chunk unavailable, run its own job, or be drawn to verify it. Each exit that
/// pays two of those roles must still land — a payment to the same wallet twice, not an
/// account rejected as a duplicate (Anchor's `ConstraintDuplicateMutableAccount`, which
/// each of these three failed with before), leaving the job and its locks stuck.
#[tokio::test]
async fn a_buyer_who_calls_its_own_jobs_chunk_unavailable_is_paid_when_upheld() {
    let mut w = market().await;
    let buyer = w.buyers[0].pubkey();
    let d = w.chain.deployment;
    let b = w.buyers[0].insecure_clone();
    let stake = [
        d.register_operator(&buyer, ROLE_PROVIDER),
        d.deposit(&buyer, CHALLENGER_BOND),
    ];
    w.chain.send(&stake, &[&b]).await.unwrap();
    let (job, _, _) = w.passed_job(1).await.unwrap();
    let lost = unsampled_chunk(&mut w, &job).await;
    call_unavailable(&mut w, &buyer, &job, lost).await.unwrap();
    committee_decides(&mut w, &job, Verdict::UpholdFault).await;
    assert!(
        w.chain.job(&job).await.unwrap().is_none(),
        "upheld and closed"
    );
}

/// See above: the buyer is its job's only possible verifier; the pass still closes.
#[tokio::test]
async fn a_buyer_drawn_to_verify_its_own_job_does_not_block_its_close() {
    let mut w = World::new(LocalSetup::default(), 1, 1, 1).await.unwrap();
    w.buyers[0] = w.verifiers[0].insecure_clone();
    let (job, _, verifier) = w.passed_job(2).await.unwrap();
    assert_eq!(verifier, w.buyers[0].pubkey());
    let left = w.job(&job).await.step_deadline_slot - w.chain.slot().await.unwrap();
    w.chain.warp(left + 1).await.unwrap();
    w.chain.crank_close_pass(&job).await.unwrap();
    assert!(w.chain.job(&job).await.unwrap().is_none(), "closed");
}

/// See above: the buyer runs its own job; a reported fault is contested and overturned.
#[tokio::test]
async fn a_buyer_who_runs_its_own_job_does_not_block_its_contest() {
    let mut w = World::new(LocalSetup::default(), 1, 1, 4).await.unwrap();
    w.buyers[0] = w.providers[0].insecure_clone();
    let (job, _, _) = w.challenged_job(3).await.unwrap();
    w.report_unavailable(&job).await.unwrap();
    let committee = w.contest(&job).await.unwrap();
    let ixs = w
        .resolve_instructions(&job, &committee, Verdict::OverturnFault)
        .await;
    w.chain.send(&ixs, &[]).await.unwrap();
    assert!(
        w.chain.job(&job).await.unwrap().is_none(),
        "overturned and closed"
    );
}
