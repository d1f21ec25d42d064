//! Every exit of the job state machine, in the native bank, with balances checked to the
//! base unit.

use assay_client::events::AssayEvent;
use assay_client::Chain;
use assay_market::state::JobState;
use assay_testkit::embedded::LocalSetup;
use assay_tests::terms::{
    finder_share, treasury_share, victim_share, BOND, COLLATERAL, MISS_PENALTY, PRICE,
    PROTOCOL_FEE, PROVIDER_PAY, VERIFIER_FEE,
};
use assay_tests::{World, OPERATOR_STAKE, STARTING_TOKENS};
use solana_sdk::signature::Signer;

#[tokio::test]
async fn honest_job_is_posted_claimed_committed_drawn_attested_and_settled() {
    let mut w = World::new(LocalSetup::default(), 1, 1, 2).await.unwrap();
    let (job, _tree, verifier) = w.challenged_job(1).await.unwrap();
    let verifier = verifier.expect("a verifier is staked");
    let state = w.job(&job).await;
    assert_eq!(state.state, JobState::Challenged);
    assert_eq!(state.verifier, Some(verifier));
    // Collateral and bond are locked while the job runs.
    let provider = w.providers[0].pubkey();
    assert_eq!(
        w.chain.operator(&provider).await.unwrap().unwrap().locked,
        COLLATERAL
    );
    assert_eq!(
        w.chain.operator(&verifier).await.unwrap().unwrap().locked,
        BOND
    );

    let v = w.key(&verifier).insecure_clone();
    let ix = w.chain.deployment.attest_pass(&verifier, &job, &state);
    let events = w
        .chain
        .send_with_events(&[ix.unwrap()], &[&v])
        .await
        .unwrap();

    // Price 10: verifier fee 5 % + 3/8 = 4.25, protocol fee 1 % = 0.1, provider 5.65. The
    // provider and the treasury are paid at the pass; the verifier's fee and both locks
    // wait for the pass window.
    let buyer = w.buyer().pubkey();
    assert_eq!(
        w.chain.balance_of(&buyer).await.unwrap(),
        STARTING_TOKENS - PRICE
    );
    assert_eq!(
        w.chain.balance_of(&provider).await.unwrap(),
        STARTING_TOKENS - OPERATOR_STAKE + PROVIDER_PAY
    );
    assert_eq!(w.treasury_balance().await, PROTOCOL_FEE);
    assert!(events.iter().any(|e| matches!(e, AssayEvent::PassRecorded(p) if p.provider_paid == PROVIDER_PAY && p.treasury_paid == PROTOCOL_FEE)));
    let passed = w.job(&job).await;
    assert_eq!(passed.state, JobState::Passed);
    assert_eq!(
        w.chain
            .token_balance(&assay_client::pda::job_vault(&job))
            .await
            .unwrap(),
        VERIFIER_FEE
    );
    assert_eq!(w.total_tokens(&[job]).await.unwrap(), w.minted);

    // Anyone closes the pass once its window ends.
    let slot = w.chain.slot().await.unwrap();
    w.chain
        .warp(passed.step_deadline_slot + 1 - slot)
        .await
        .unwrap();
    let close = w.chain.deployment.close_pass(&job, &passed).unwrap();
    let events = w.chain.send_with_events(&[close], &[]).await.unwrap();
    assert_eq!(
        w.chain.balance_of(&verifier).await.unwrap(),
        STARTING_TOKENS - OPERATOR_STAKE + VERIFIER_FEE
    );
    assert_eq!(
        w.chain.operator(&provider).await.unwrap().unwrap().locked,
        0
    );
    assert_eq!(
        w.chain.operator(&verifier).await.unwrap().unwrap().locked,
        0
    );
    // The job and its vault are closed, their rent returned.
    assert!(w.chain.job(&job).await.unwrap().is_none());
    assert!(w
        .chain
        .account(&assay_client::pda::job_vault(&job))
        .await
        .unwrap()
        .is_none());
    assert!(events
        .iter()
        .any(|e| matches!(e, AssayEvent::JobStateChanged(c) if c.to == JobState::Settled)));
    assert!(events.iter().any(|e| matches!(e, AssayEvent::JobClosed(c) if c.provider_paid == PROVIDER_PAY && c.verifier_paid == VERIFIER_FEE)));
    assert_eq!(w.total_tokens(&[job]).await.unwrap(), w.minted);
}

use anchor_lang::prelude::Pubkey;

use assay_market::instructions::FaultEvidence;
use assay_protocol::{MerkleTree, Verdict};

/// Reports a mismatch on the first sampled chunk, with the provider's real leaf and proof.
async fn report_first_sampled_chunk(
    w: &mut World,
    job: &Pubkey,
    tree: &MerkleTree,
    verifier: &Pubkey,
) {
    let state = w.job(job).await;
    let index =
        assay_protocol::sample_indices(&state.seed, state.n_chunks, u32::from(state.samples))[0];
    let evidence = FaultEvidence::Mismatch {
        provider_leaf: tree.leaf(index).unwrap(),
        proof: tree.proof(index).unwrap(),
        recomputed_output_hash: [9; 32],
    };
    let v = w.key(verifier).insecure_clone();
    let ix = w
        .chain
        .deployment
        .report_fault(verifier, job, index, evidence);
    w.chain.send(&[ix], &[&v]).await.unwrap();
    assert_eq!(w.job(job).await.state, JobState::Disputed);
}

async fn balance(w: &mut World, owner: &Pubkey) -> u64 {
    w.chain.balance_of(owner).await.unwrap()
}

#[tokio::test]
async fn buyer_cancels_an_open_job_and_gets_everything_back() {
    let mut w = World::new(LocalSetup::default(), 1, 1, 1).await.unwrap();
    let buyer = w.buyer().insecure_clone();
    let lamports_before = w
        .chain
        .account(&buyer.pubkey())
        .await
        .unwrap()
        .unwrap()
        .lamports;
    let job = w.post(0, World::job_args(7)).await.unwrap();
    assert_eq!(
        balance(&mut w, &buyer.pubkey()).await,
        STARTING_TOKENS - PRICE
    );
    let ix = w.chain.deployment.cancel_job(&buyer.pubkey(), 7);
    w.chain.send(&[ix], &[&buyer]).await.unwrap();
    assert_eq!(balance(&mut w, &buyer.pubkey()).await, STARTING_TOKENS);
    assert!(w.chain.job(&job).await.unwrap().is_none());
    // Rent of the job and the vault came back (the bank's payer paid the fees).
    let lamports_after = w
        .chain
        .account(&buyer.pubkey())
        .await
        .unwrap()
        .unwrap()
        .lamports;
    assert_eq!(lamports_after, lamports_before);
}

#[tokio::test]
async fn someone_else_cannot_cancel_and_a_claimed_job_cannot_be_cancelled() {
    let mut w = World::new(LocalSetup::default(), 2, 1, 1).await.unwrap();
    let job = w.post(0, World::job_args(1)).await.unwrap();
    let intruder = w.buyers[1].insecure_clone();
    let mut ix = w.chain.deployment.cancel_job(&w.buyers[0].pubkey(), 1);
    ix.accounts[0].pubkey = intruder.pubkey();
    assert!(w.chain.send(&[ix], &[&intruder]).await.is_err());
    w.claim(0, &job).await.unwrap();
    let buyer = w.buyer().insecure_clone();
    let ix = w.chain.deployment.cancel_job(&buyer.pubkey(), 1);
    let err = w.chain.send(&[ix], &[&buyer]).await.unwrap_err();
    assert_eq!(
        err.custom_code(),
        Some(6000 + assay_market::errors::MarketError::WrongJobState as u32)
    );
}

#[tokio::test]
async fn unclaimed_job_expires_with_a_full_refund() {
    let mut w = World::new(LocalSetup::default(), 1, 1, 1).await.unwrap();
    let job = w.post(0, World::job_args(1)).await.unwrap();
    let state = w.job(&job).await;
    let early = w.chain.deployment.expire_job(&job, &state);
    assert!(
        w.chain.send(&[early], &[]).await.is_err(),
        "not before the claim deadline"
    );
    w.chain.warp(101).await.unwrap();
    let ix = w.chain.deployment.expire_job(&job, &state);
    w.chain.send(&[ix], &[]).await.unwrap();
    let buyer = w.buyer().pubkey();
    assert_eq!(balance(&mut w, &buyer).await, STARTING_TOKENS);
    assert!(w.chain.job(&job).await.unwrap().is_none());
    assert_eq!(w.total_tokens(&[job]).await.unwrap(), w.minted);
}

#[tokio::test]
async fn provider_who_claims_and_never_commits_is_slashed_for_no_show() {
    let mut w = World::new(LocalSetup::default(), 1, 1, 1).await.unwrap();
    let job = w.post(0, World::job_args(1)).await.unwrap();
    w.claim(0, &job).await.unwrap();
    w.chain.warp(101).await.unwrap();
    let state = w.job(&job).await;
    let ix = w.chain.deployment.expire_job(&job, &state);
    w.chain.send(&[ix], &[]).await.unwrap();
    // Collateral 32: treasury 10 % = 3.2, buyer 28.8 plus its price back.
    let (buyer, provider) = (w.buyer().pubkey(), w.providers[0].pubkey());
    assert_eq!(
        balance(&mut w, &buyer).await,
        STARTING_TOKENS + COLLATERAL - treasury_share(COLLATERAL)
    );
    assert_eq!(w.treasury_balance().await, treasury_share(COLLATERAL));
    let operator = w.chain.operator(&provider).await.unwrap().unwrap();
    assert_eq!(
        (operator.deposited, operator.locked, operator.slashed_total),
        (OPERATOR_STAKE - COLLATERAL, 0, COLLATERAL)
    );
    assert_eq!(w.total_tokens(&[job]).await.unwrap(), w.minted);
}

#[tokio::test]
async fn provider_who_fakes_a_sampled_chunk_and_concedes_is_slashed() {
    let mut w = World::new(LocalSetup::default(), 1, 1, 1).await.unwrap();
    let (job, tree, verifier) = w.challenged_job(1).await.unwrap();
    let verifier = verifier.unwrap();
    report_first_sampled_chunk(&mut w, &job, &tree, &verifier).await;
    let provider = w.providers[0].insecure_clone();
    let state = w.job(&job).await;
    let ix = w
        .chain
        .deployment
        .concede_fault(&provider.pubkey(), &job, &state);
    let events = w
        .chain
        .send_with_events(&[ix.unwrap()], &[&provider])
        .await
        .unwrap();
    // Collateral 32: finder 20 % = 6.4, treasury 10 % = 3.2, buyer 22.4 plus its price
    // back.
    let buyer = w.buyer().pubkey();
    assert_eq!(
        balance(&mut w, &buyer).await,
        STARTING_TOKENS + victim_share(COLLATERAL)
    );
    assert_eq!(
        balance(&mut w, &verifier).await,
        STARTING_TOKENS - OPERATOR_STAKE + finder_share(COLLATERAL)
    );
    assert_eq!(w.treasury_balance().await, treasury_share(COLLATERAL));
    assert_eq!(
        balance(&mut w, &provider.pubkey()).await,
        STARTING_TOKENS - OPERATOR_STAKE
    );
    assert_eq!(
        w.chain.operator(&verifier).await.unwrap().unwrap().locked,
        0
    );
    assert!(events.iter().any(|e| matches!(e, AssayEvent::JobClosed(c) if c.state == JobState::Slashed && c.provider_slashed == COLLATERAL)));
    assert_eq!(w.total_tokens(&[job]).await.unwrap(), w.minted);
}

#[tokio::test]
async fn unanswered_fault_slashes_the_provider_once_the_dispute_window_ends() {
    let mut w = World::new(LocalSetup::default(), 2, 1, 1).await.unwrap();
    let (job, tree, verifier) = w.challenged_job(1).await.unwrap();
    report_first_sampled_chunk(&mut w, &job, &tree, &verifier.unwrap()).await;
    let stranger = w.buyers[1].insecure_clone();
    let state = w.job(&job).await;
    let early = w
        .chain
        .deployment
        .concede_fault(&stranger.pubkey(), &job, &state);
    let err = w
        .chain
        .send(&[early.unwrap()], &[&stranger])
        .await
        .unwrap_err();
    assert_eq!(
        err.custom_code(),
        Some(6000 + assay_market::errors::MarketError::DeadlineNotReached as u32)
    );
    w.chain.warp(51).await.unwrap();
    let ix = w
        .chain
        .deployment
        .concede_fault(&stranger.pubkey(), &job, &state);
    w.chain.send(&[ix.unwrap()], &[&stranger]).await.unwrap();
    let buyer = w.buyer().pubkey();
    assert_eq!(
        balance(&mut w, &buyer).await,
        STARTING_TOKENS + victim_share(COLLATERAL)
    );
}

#[tokio::test]
async fn provider_withholding_outputs_is_reported_unavailable_and_slashed() {
    let mut w = World::new(LocalSetup::default(), 1, 1, 1).await.unwrap();
    let (job, _tree, verifier) = w.challenged_job(1).await.unwrap();
    let verifier = verifier.unwrap();
    let state = w.job(&job).await;
    let index = assay_protocol::sample_indices(&state.seed, state.n_chunks, 3)[1];
    let v = w.key(&verifier).insecure_clone();
    let ix = w
        .chain
        .deployment
        .report_fault(&verifier, &job, index, FaultEvidence::Unavailable);
    let events = w.chain.send_with_events(&[ix], &[&v]).await.unwrap();
    assert!(events.iter().any(|e| matches!(e, AssayEvent::FaultReported(f) if f.data_unavailable && f.chunk_index == index)));
    let provider = w.providers[0].insecure_clone();
    let state = w.job(&job).await;
    let ix = w
        .chain
        .deployment
        .concede_fault(&provider.pubkey(), &job, &state);
    w.chain.send(&[ix.unwrap()], &[&provider]).await.unwrap();
    let buyer = w.buyer().pubkey();
    assert_eq!(
        balance(&mut w, &buyer).await,
        STARTING_TOKENS + victim_share(COLLATERAL)
    );
}

/// Contest with 4 verifiers: the accuser plus a committee of the other 3.
async fn contested_job(w: &mut World) -> (Pubkey, Pubkey, Vec<Pubkey>) {
    let (job, tree, verifier) = w.challenged_job(1).await.unwrap();
    let verifier = verifier.unwrap();
    report_first_sampled_chunk(w, &job, &tree, &verifier).await;
    w.contest_only(&job).await.unwrap();
    let state = w.job(&job).await;
    assert_eq!(state.state, JobState::Contested);
    assert!(
        state.committee.is_empty(),
        "drawn only after its own seed slot"
    );
    let committee = w.chain.crank_committee(&job).await.unwrap();
    let state = w.job(&job).await;
    assert_eq!(state.committee, committee);
    assert_eq!(state.committee.len(), 3);
    assert!(!state.committee.contains(&verifier));
    (job, verifier, state.committee.clone())
}

async fn resolve(
    w: &mut World,
    job: &Pubkey,
    voters: &[Pubkey],
    verdict: Verdict,
) -> Result<Vec<AssayEvent>, assay_testkit::embedded::ChainError> {
    let ixs = w.resolve_instructions(job, voters, verdict).await;
    w.chain.send_with_events(&ixs, &[]).await
}

#[tokio::test]
async fn contested_fault_upheld_by_the_committee_slashes_the_provider() {
    let mut w = World::new(LocalSetup::default(), 1, 1, 4).await.unwrap();
    let (job, accuser, committee) = contested_job(&mut w).await;
    let events = resolve(&mut w, &job, &committee[..2], Verdict::UpholdFault)
        .await
        .unwrap();
    assert!(events
        .iter()
        .any(|e| matches!(e, AssayEvent::ContestResolved(r) if r.upheld && r.votes_uphold == 2)));
    let buyer = w.buyer().pubkey();
    assert_eq!(
        balance(&mut w, &buyer).await,
        STARTING_TOKENS + victim_share(COLLATERAL)
    );
    assert_eq!(
        balance(&mut w, &accuser).await,
        STARTING_TOKENS - OPERATOR_STAKE + finder_share(COLLATERAL)
    );
    assert_eq!(w.total_tokens(&[job]).await.unwrap(), w.minted);
}

#[tokio::test]
async fn contested_fault_overturned_slashes_the_accusing_verifier_and_pays_the_provider() {
    let mut w = World::new(LocalSetup::default(), 1, 1, 4).await.unwrap();
    let (job, accuser, committee) = contested_job(&mut w).await;
    resolve(&mut w, &job, &committee, Verdict::OverturnFault)
        .await
        .unwrap();
    // Provider: 10 − 4.25 − 0.1 = 5.65, plus 90 % of the accuser's 212.5 bond; the buyer
    // gets the fee nobody earned back.
    let (buyer, provider) = (w.buyer().pubkey(), w.providers[0].pubkey());
    assert_eq!(
        balance(&mut w, &provider).await,
        STARTING_TOKENS - OPERATOR_STAKE + PROVIDER_PAY + BOND - treasury_share(BOND)
    );
    assert_eq!(
        balance(&mut w, &buyer).await,
        STARTING_TOKENS - PRICE + VERIFIER_FEE
    );
    assert_eq!(
        w.treasury_balance().await,
        PROTOCOL_FEE + treasury_share(BOND)
    );
    let accuser_op = w.chain.operator(&accuser).await.unwrap().unwrap();
    assert_eq!(
        (accuser_op.deposited, accuser_op.locked),
        (OPERATOR_STAKE - BOND, 0)
    );
    assert_eq!(
        w.chain.operator(&provider).await.unwrap().unwrap().locked,
        0
    );
    assert_eq!(w.total_tokens(&[job]).await.unwrap(), w.minted);
}

/// The fisherman's dilemma of data availability: "unavailable" cannot be proven after the
/// fact, so an unavailability report the committee overturns (the chunk is served by the
/// time it looks) costs the accuser what silence would have cost — the miss penalty —
/// never its bond. Whoever can write the shared store cannot make honest verifiers pay a
/// bond by corrupting a sampled chunk.
#[tokio::test]
async fn verifier_who_truthfully_reports_a_chunk_unavailable_pays_only_what_silence_costs() {
    let mut w = World::new(LocalSetup::default(), 1, 1, 4).await.unwrap();
    let (job, _tree, accuser) = w.challenged_job(1).await.unwrap();
    let accuser = accuser.unwrap();
    let state = w.job(&job).await;
    let index =
        assay_protocol::sample_indices(&state.seed, state.n_chunks, u32::from(state.samples))[0];
    let report = w
        .chain
        .deployment
        .report_fault(&accuser, &job, index, FaultEvidence::Unavailable);
    let v = w.key(&accuser).insecure_clone();
    w.chain.send(&[report], &[&v]).await.unwrap();
    // The provider re-publishes and contests; the committee finds the chunk served and right.
    w.contest_only(&job).await.unwrap();
    let committee = w.chain.crank_committee(&job).await.unwrap();
    let events = resolve(&mut w, &job, &committee, Verdict::OverturnFault)
        .await
        .unwrap();
    assert!(events
        .iter()
        .any(|e| matches!(e, AssayEvent::JobClosed(c) if c.verifier_slashed == MISS_PENALTY)));
    let accuser_op = w.chain.operator(&accuser).await.unwrap().unwrap();
    assert_eq!(
        (accuser_op.deposited, accuser_op.locked),
        (OPERATOR_STAKE - MISS_PENALTY, 0),
        "the accuser pays the miss penalty, not its {BOND} bond"
    );
    // The provider is paid for its work and nothing more: had it gained from the penalty,
    // withholding a sampled chunk until reported would pay. The penalty is the treasury's;
    // the buyer gets back the fee nobody earned.
    let (buyer, provider) = (w.buyer().pubkey(), w.providers[0].pubkey());
    assert_eq!(
        balance(&mut w, &provider).await,
        STARTING_TOKENS - OPERATOR_STAKE + PROVIDER_PAY
    );
    assert_eq!(w.treasury_balance().await, PROTOCOL_FEE + MISS_PENALTY);
    assert_eq!(
        balance(&mut w, &buyer).await,
        STARTING_TOKENS - PRICE + VERIFIER_FEE
    );
    assert_eq!(w.total_tokens(&[job]).await.unwrap(), w.minted);
}

#[tokio::test]
async fn contest_without_a_majority_in_time_is_voided_and_nobody_is_slashed() {
    let mut w = World::new(LocalSetup::default(), 1, 1, 4).await.unwrap();
    let (job, accuser, committee) = contested_job(&mut w).await;
    let err = resolve(&mut w, &job, &committee[..1], Verdict::UpholdFault)
        .await
        .unwrap_err();
    assert_eq!(
        err.custom_code(),
        Some(6000 + assay_market::errors::MarketError::NoQuorum as u32)
    );
    w.chain.warp(51).await.unwrap();
    let state = w.job(&job).await;
    let ix = w.chain.deployment.void_contest(&job, &state);
    w.chain.send(&[ix.unwrap()], &[]).await.unwrap();
    let (buyer, provider) = (w.buyer().pubkey(), w.providers[0].pubkey());
    assert_eq!(balance(&mut w, &buyer).await, STARTING_TOKENS);
    assert_eq!(
        w.chain.operator(&provider).await.unwrap().unwrap().locked,
        0
    );
    assert_eq!(w.chain.operator(&accuser).await.unwrap().unwrap().locked, 0);
    assert_eq!(w.total_tokens(&[job]).await.unwrap(), w.minted);
}

#[tokio::test]
async fn verifier_who_misses_its_window_is_penalized_and_the_next_verifier_takes_over() {
    let mut w = World::new(LocalSetup::default(), 1, 1, 3).await.unwrap();
    let (job, _tree, first) = w.challenged_job(1).await.unwrap();
    let first = first.unwrap();
    w.chain.warp(51).await.unwrap();
    let state = w.job(&job).await;
    // The missing verifier can no longer attest.
    let late = w
        .chain
        .deployment
        .attest_pass(&first, &job, &state)
        .unwrap();
    let first_key = w.key(&first).insecure_clone();
    let err = w.chain.send(&[late], &[&first_key]).await.unwrap_err();
    assert_eq!(
        err.custom_code(),
        Some(6000 + assay_market::errors::MarketError::DeadlinePassed as u32)
    );

    let ix = w.chain.deployment.advance_round(&job, &state);
    let events = w.chain.send_with_events(&[ix.unwrap()], &[]).await.unwrap();
    assert!(events.iter().any(|e| matches!(e, AssayEvent::VerifierMissedWindow(m) if m.verifier == first && m.penalty == MISS_PENALTY)));
    // The next round is drawn from a seed slot of its own, after the miss.
    let state = w.job(&job).await;
    assert_eq!(
        (state.state, state.round, state.verifier),
        (JobState::Committed, 1, None)
    );
    let next = w
        .chain
        .crank_draw(&job)
        .await
        .unwrap()
        .expect("two more verifiers");
    assert_ne!(next, first);
    let state = w.job(&job).await;
    assert_eq!((state.round, state.verifier), (1, Some(next)));
    let missed = w.chain.operator(&first).await.unwrap().unwrap();
    assert_eq!(
        (missed.deposited, missed.locked),
        (OPERATOR_STAKE - MISS_PENALTY, 0)
    );

    let v = w.key(&next).insecure_clone();
    let ix = w.chain.deployment.attest_pass(&next, &job, &state);
    w.chain.send(&[ix.unwrap()], &[&v]).await.unwrap();
    w.chain.crank_close_pass(&job).await.unwrap();
    let provider = w.providers[0].pubkey();
    assert_eq!(
        balance(&mut w, &provider).await,
        STARTING_TOKENS - OPERATOR_STAKE + PROVIDER_PAY
    );
    assert_eq!(
        balance(&mut w, &next).await,
        STARTING_TOKENS - OPERATOR_STAKE + VERIFIER_FEE
    );
    assert_eq!(w.total_tokens(&[job]).await.unwrap(), w.minted);
}

/// Every round's verifier misses its window: `finalize` pays the provider but opens a pass
/// window with no verifier (anyone could still challenge, the collateral at stake), and
/// only its close settles the job unaudited, the verifier fee back to the buyer.
#[tokio::test]
async fn job_whose_verifiers_all_miss_their_windows_settles_unaudited_after_a_pass_window() {
    let mut w = World::new(LocalSetup::default(), 1, 1, 2).await.unwrap();
    let (job, _tree, first) = w.challenged_job(1).await.unwrap();
    w.chain.warp(51).await.unwrap();
    let state = w.job(&job).await;
    let early_finalize = w.chain.deployment.finalize(&job, &state).unwrap();
    let err = w.chain.send(&[early_finalize], &[]).await.unwrap_err();
    assert_eq!(
        err.custom_code(),
        Some(6000 + assay_market::errors::MarketError::RoundsRemain as u32)
    );
    let ix = w.chain.deployment.advance_round(&job, &state);
    w.chain.send(&[ix.unwrap()], &[]).await.unwrap();
    let next = w.chain.crank_draw(&job).await.unwrap();
    w.chain.warp(51).await.unwrap();
    let state = w.job(&job).await;
    let ix = w.chain.deployment.finalize(&job, &state);
    let events = w.chain.send_with_events(&[ix.unwrap()], &[]).await.unwrap();
    assert!(events.iter().any(|e| matches!(e,
        AssayEvent::PassRecorded(p) if p.verifier.is_none() && p.provider_paid == PROVIDER_PAY)));
    let (buyer, provider) = (w.buyer().pubkey(), w.providers[0].pubkey());
    let passed = w.job(&job).await;
    assert_eq!((passed.state, passed.verifier), (JobState::Passed, None));
    let provider_op = w.chain.operator(&provider).await.unwrap().unwrap();
    assert_eq!(
        provider_op.locked, passed.collateral,
        "collateral at stake in the window"
    );
    let events = {
        let slot = w.chain.slot().await.unwrap();
        w.chain
            .warp(passed.step_deadline_slot + 1 - slot)
            .await
            .unwrap();
        let ix = w.chain.deployment.close_pass(&job, &passed);
        w.chain.send_with_events(&[ix.unwrap()], &[]).await.unwrap()
    };
    assert!(events.iter().any(|e| matches!(e,
        AssayEvent::SettledUnaudited(u) if u.reason == assay_market::events::UnauditedReason::EveryRoundMissed
            && u.verifier_fee_refunded == VERIFIER_FEE)));
    // Provider paid 5.65; the unearned verifier fee 4.25 returns to the buyer; both
    // verifiers lost 0.25 to the treasury.
    assert_eq!(
        balance(&mut w, &provider).await,
        STARTING_TOKENS - OPERATOR_STAKE + PROVIDER_PAY
    );
    assert_eq!(
        balance(&mut w, &buyer).await,
        STARTING_TOKENS - PRICE + VERIFIER_FEE
    );
    assert_eq!(w.treasury_balance().await, PROTOCOL_FEE + 2 * MISS_PENALTY);
    for v in [first.unwrap(), next.unwrap()] {
        let op = w.chain.operator(&v).await.unwrap().unwrap();
        assert_eq!(
            (op.deposited, op.locked),
            (OPERATOR_STAKE - MISS_PENALTY, 0)
        );
    }
    assert_eq!(
        w.chain.operator(&provider).await.unwrap().unwrap().locked,
        0
    );
    assert_eq!(w.total_tokens(&[job]).await.unwrap(), w.minted);
}

/// The only verifier able to run the job leaves between posting and the draw: the job is
/// drawn with nobody and finalized into an unaudited pass window; when it closes the job
/// settles, called what it is: unaudited, the verifier fee back to the buyer.
#[tokio::test]
async fn job_whose_verifiers_leave_before_the_draw_settles_unaudited_with_the_fee_refunded() {
    use assay_market::events::UnauditedReason;
    let mut w = World::new(LocalSetup::default(), 1, 1, 1).await.unwrap();
    let args = assay_market::instructions::PostJobArgs {
        claim_window_slots: 1_000,
        ..World::job_args(1)
    };
    let job = w.post(0, args).await.unwrap();
    let v = w.verifiers[0].insecure_clone();
    let leave = w
        .chain
        .deployment
        .request_unstake(&v.pubkey(), OPERATOR_STAKE);
    w.chain.send(&[leave], &[&v]).await.unwrap();
    w.chain.next_epoch().await.unwrap();
    w.claim(0, &job).await.unwrap();
    w.commit(0, &job, 7).await.unwrap();
    assert_eq!(w.draw(&job).await.unwrap(), None);
    w.chain.warp(1).await.unwrap();
    let state = w.job(&job).await;
    let ix = w.chain.deployment.finalize(&job, &state);
    w.chain.send(&[ix.unwrap()], &[]).await.unwrap();
    let passed = w.job(&job).await;
    let slot = w.chain.slot().await.unwrap();
    w.chain
        .warp(passed.step_deadline_slot + 1 - slot)
        .await
        .unwrap();
    let ix = w.chain.deployment.close_pass(&job, &passed);
    let events = w.chain.send_with_events(&[ix.unwrap()], &[]).await.unwrap();
    assert!(events.iter().any(|e| matches!(e,
        AssayEvent::SettledUnaudited(u) if u.job == job
            && u.reason == UnauditedReason::NoEligibleVerifier
            && u.verifier_fee_refunded == VERIFIER_FEE)));
    let (buyer, provider) = (w.buyer().pubkey(), w.providers[0].pubkey());
    assert_eq!(
        balance(&mut w, &provider).await,
        STARTING_TOKENS - OPERATOR_STAKE + PROVIDER_PAY
    );
    assert_eq!(
        balance(&mut w, &buyer).await,
        STARTING_TOKENS - PRICE + VERIFIER_FEE
    );
    assert!(w.chain.job(&job).await.unwrap().is_none());
}

#[tokio::test]
async fn locked_stake_cannot_be_withdrawn_and_free_stake_can_after_cooldown() {
    let mut w = World::new(LocalSetup::default(), 1, 1, 1).await.unwrap();
    let job = w.post(0, World::job_args(1)).await.unwrap();
    w.claim(0, &job).await.unwrap();
    let p = w.providers[0].insecure_clone();
    let d = w.chain.deployment;
    let too_much = d.request_unstake(&p.pubkey(), OPERATOR_STAKE - COLLATERAL + 1);
    let err = w.chain.send(&[too_much], &[&p]).await.unwrap_err();
    assert_eq!(
        err.custom_code(),
        Some(6000 + assay_stake::errors::StakeError::InsufficientAvailableStake as u32)
    );
    let ok = d.request_unstake(&p.pubkey(), OPERATOR_STAKE - COLLATERAL);
    w.chain.send(&[ok], &[&p]).await.unwrap();
    let err = w
        .chain
        .send(&[d.withdraw(&p.pubkey())], &[&p])
        .await
        .unwrap_err();
    assert_eq!(
        err.custom_code(),
        Some(6000 + assay_stake::errors::StakeError::CooldownNotOver as u32)
    );
    let cooldown = LocalSetup::default().stake.unstake_cooldown_slots;
    w.chain.warp(cooldown + 1).await.unwrap();
    w.chain
        .send(&[d.withdraw(&p.pubkey())], &[&p])
        .await
        .unwrap();
    assert_eq!(
        balance(&mut w, &p.pubkey()).await,
        STARTING_TOKENS - COLLATERAL
    );
    let op = w.chain.operator(&p.pubkey()).await.unwrap().unwrap();
    assert_eq!(
        (op.deposited, op.locked, op.unstaking),
        (COLLATERAL, COLLATERAL, 0)
    );
}

#[test]
fn stake_program_names_the_real_market_program_as_its_only_slasher() {
    assert_eq!(assay_stake::constants::MARKET_PROGRAM_ID, assay_market::ID);
}

#[tokio::test]
async fn token_2022_mint_works_end_to_end() {
    let setup = LocalSetup {
        flavor: assay_testkit::embedded::TokenFlavor::Token2022,
        ..LocalSetup::default()
    };
    let mut w = World::new(setup, 1, 1, 1).await.unwrap();
    assert_eq!(w.chain.deployment.token_program, anchor_spl::token_2022::ID);
    let (job, _tree, verifier) = w.challenged_job(1).await.unwrap();
    let verifier = verifier.unwrap();
    let state = w.job(&job).await;
    let v = w.key(&verifier).insecure_clone();
    let ix = w.chain.deployment.attest_pass(&verifier, &job, &state);
    w.chain.send(&[ix.unwrap()], &[&v]).await.unwrap();
    let provider = w.providers[0].pubkey();
    assert_eq!(
        balance(&mut w, &provider).await,
        STARTING_TOKENS - OPERATOR_STAKE + PROVIDER_PAY
    );
    assert_eq!(w.total_tokens(&[job]).await.unwrap(), w.minted);
}

/// `ASSAY_PROGRAMS=sbf` really runs the `.so` files: the program accounts belong to the
/// upgradeable BPF loader, as deployed on a cluster, and the runtime meters our instructions;
/// natively they are builtins.
#[tokio::test]
async fn programs_run_in_the_mode_the_environment_asks_for() {
    let mode = assay_testkit::embedded::ProgramMode::from_env().unwrap();
    let mut w = World::new(LocalSetup::default(), 1, 0, 1).await.unwrap();
    let buyer = w.buyer().insecure_clone();
    let post = w
        .chain
        .deployment
        .post_job(&buyer.pubkey(), World::job_args(1));
    let metered = w.chain.send_metered(&[post], &[&buyer]).await.unwrap();
    for program in [assay_market::ID, assay_stake::ID] {
        let owner = w.chain.account(&program).await.unwrap().unwrap().owner;
        let expected = if mode.is_sbf() {
            solana_sdk_ids::bpf_loader_upgradeable::id()
        } else {
            solana_sdk::native_loader::id()
        };
        assert_eq!(owner, expected, "{program} in {mode:?}");
    }
    if mode.is_sbf() {
        let units = metered
            .iter()
            .find(|(p, _)| *p == assay_market::ID)
            .map(|&(_, u)| u);
        assert!(units.is_some_and(|u| u > 1_000), "{metered:?}");
    }
}
