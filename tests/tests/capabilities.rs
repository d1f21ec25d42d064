//! No job escapes its audit because its verifiers cannot run it.
//!
//! A job carries the capability bits its manifest needs (`needs`); a verifier registers
//! the bits its adapter has. `post_job` refuses a job no registered verifier can run, and
//! every draw for a job (verifier rounds, committees) picks only among verifiers whose
//! bits cover its needs. Capabilities, like stake, reach the draws at the next draw epoch,
//! so a verifier cannot claim a capability after a seed is public to be drawn.

use assay_client::Chain;
use assay_market::errors::MarketError;
use assay_market::instructions::PostJobArgs;
use assay_market::state::JobState;
use assay_protocol::capability::{ALL, SHADER_F16, SUBGROUPS};
use assay_stake::constants::ROLE_VERIFIER;
use assay_stake::errors::StakeError;
use assay_testkit::embedded::{LocalSetup, DEFAULT_EPOCH_SLOTS};
use assay_tests::{World, OPERATOR_STAKE, STARTING_TOKENS};
use solana_sdk::signature::{Keypair, Signer};

fn market_code(e: MarketError) -> Option<u32> {
    Some(e as u32 + anchor_lang::error::ERROR_CODE_OFFSET)
}

fn stake_code(e: StakeError) -> Option<u32> {
    Some(e as u32 + anchor_lang::error::ERROR_CODE_OFFSET)
}

fn needing(job_id: u64, needs: u8) -> PostJobArgs {
    PostJobArgs {
        needs,
        ..World::job_args(job_id)
    }
}

/// A market with one buyer, one provider (staked for the collateral of many passes in
/// their windows) and `plain` verifiers that declare no optional capability, plus one
/// verifier per entry of `capable` declaring those bits (staked for the bonds of many
/// passes in their windows); all staked and in the draws. Returns the capable verifiers'
/// keys.
async fn market(plain: usize, capable: &[u8]) -> (World, Vec<Keypair>) {
    let mut w = World::new(LocalSetup::default(), 1, 1, plain)
        .await
        .unwrap();
    let d = w.chain.deployment;
    let provider = w.providers[0].insecure_clone();
    w.chain
        .send(
            &[d.deposit(&provider.pubkey(), 8 * OPERATOR_STAKE)],
            &[&provider],
        )
        .await
        .unwrap();
    // Every verifier stakes the same 8 × OPERATOR_STAKE: enough for the bonds (50 verifier
    // fees each) of every job a test leaves open, and equal weights, so a portable job is
    // drawn from each verifier alike.
    for v in &w
        .verifiers
        .iter()
        .map(|k| k.insecure_clone())
        .collect::<Vec<_>>()
    {
        w.chain
            .send(&[d.deposit(&v.pubkey(), 7 * OPERATOR_STAKE)], &[v])
            .await
            .unwrap();
    }
    let mut keys = vec![];
    for &caps in capable {
        let k = w
            .registered(ROLE_VERIFIER, 8 * OPERATOR_STAKE)
            .await
            .unwrap();
        w.chain
            .send(&[d.set_capabilities(&k.pubkey(), caps)], &[&k])
            .await
            .unwrap();
        w.verifiers.push(k.insecure_clone());
        keys.push(k);
    }
    w.chain.next_epoch().await.unwrap();
    (w, keys)
}

async fn buyer_tokens(w: &mut World) -> u64 {
    let buyer = w.buyer().pubkey();
    w.chain.balance_of(&buyer).await.unwrap()
}

#[tokio::test]
async fn job_that_needs_subgroups_is_refused_when_no_verifier_can_run_it_and_nothing_moves() {
    let (mut w, _) = market(3, &[SHADER_F16]).await;
    let buyer = w.buyer().insecure_clone();
    let d = w.chain.deployment;
    for (needs, error) in [
        (SUBGROUPS, MarketError::NoCapableVerifier),
        (SUBGROUPS | SHADER_F16, MarketError::NoCapableVerifier),
        (ALL + 1, MarketError::UnknownCapability),
        (0x80, MarketError::UnknownCapability),
    ] {
        let job = assay_client::pda::job(&buyer.pubkey(), u64::from(needs));
        let err = w
            .chain
            .send(
                &[d.post_job(&buyer.pubkey(), needing(u64::from(needs), needs))],
                &[&buyer],
            )
            .await
            .unwrap_err();
        assert_eq!(err.custom_code(), market_code(error), "needs {needs:#010b}");
        assert!(w.chain.job(&job).await.unwrap().is_none());
        assert_eq!(buyer_tokens(&mut w).await, STARTING_TOKENS);
    }
    // What the registered verifiers can run posts as usual.
    w.post(0, needing(1, SHADER_F16)).await.unwrap();
    w.post(0, needing(2, 0)).await.unwrap();
}

#[tokio::test]
async fn with_one_capable_verifier_among_several_it_is_always_the_one_drawn_and_the_job_settles_audited(
) {
    const JOBS: u64 = 12;
    let (mut w, capable) = market(4, &[SUBGROUPS | SHADER_F16]).await;
    let capable = capable[0].pubkey();
    let mut drawn_for_portable = vec![];
    for id in 1..=JOBS {
        let job = w.post(0, needing(id, SUBGROUPS)).await.unwrap();
        w.claim(0, &job).await.unwrap();
        w.commit(0, &job, 7).await.unwrap();
        assert_eq!(w.draw(&job).await.unwrap(), Some(capable), "job {id}");
        // The same market draws a portable job from everyone.
        let portable = w.post(0, needing(100 + id, 0)).await.unwrap();
        w.claim(0, &portable).await.unwrap();
        w.commit(0, &portable, 7).await.unwrap();
        drawn_for_portable.push(w.draw(&portable).await.unwrap().unwrap());
        w.pass(&job).await.unwrap();
        w.pass(&portable).await.unwrap();
    }
    assert!(
        drawn_for_portable.iter().any(|v| *v != capable),
        "portable jobs are drawn from every verifier: {drawn_for_portable:?}"
    );
    // The audited job settles with the capable verifier paid its fee.
    let job = assay_client::pda::job(&w.buyer().pubkey(), JOBS);
    let state = w.job(&job).await;
    assert_eq!(state.state, JobState::Passed);
    w.chain
        .warp(state.params.pass_window_slots + 1)
        .await
        .unwrap();
    let state = w.job(&job).await;
    let close = w.chain.deployment.close_pass(&job, &state).unwrap();
    let events = w.chain.send_with_events(&[close], &[]).await.unwrap();
    assert!(events.iter().any(|e| matches!(e,
        assay_client::events::AssayEvent::JobClosed(c)
            if c.state == JobState::Settled && c.verifier_paid == state.verifier_fee)));
    assert!(!events
        .iter()
        .any(|e| matches!(e, assay_client::events::AssayEvent::SettledUnaudited(_))));
}

/// The attacker's move: a verifier that cannot run the job declares the capability once
/// the job is committed (its draw armed, the seed's epoch weights fixed). The draw still
/// picks among the verifiers that could run it when the epoch began.
#[tokio::test]
async fn verifier_that_claims_a_capability_after_the_draw_is_armed_is_not_drawn() {
    let (mut w, capable) = market(0, &[SUBGROUPS, 0, 0, 0]).await;
    let (honest, latecomers) = (capable[0].pubkey(), &capable[1..]);
    let d = w.chain.deployment;
    for id in 1..=6u64 {
        // At an epoch's start, so posting, the commit, the claims and the draw all fall
        // in one draw epoch.
        w.chain.next_epoch().await.unwrap();
        let epoch = |slot: u64| slot / DEFAULT_EPOCH_SLOTS;
        let job = w.post(0, needing(id, SUBGROUPS)).await.unwrap();
        w.claim(0, &job).await.unwrap();
        w.commit(0, &job, 7).await.unwrap();
        for k in latecomers {
            w.chain
                .send(&[d.set_capabilities(&k.pubkey(), ALL)], &[k])
                .await
                .unwrap();
        }
        let drawn = w.draw(&job).await.unwrap();
        let state = w.job(&job).await;
        let now = w.chain.slot().await.unwrap();
        assert_eq!(
            epoch(state.seed_slot),
            epoch(now),
            "drawn in its seed slot's epoch"
        );
        assert_eq!(drawn, Some(honest), "job {id}");
        w.pass(&job).await.unwrap();
        // In the next epoch the latecomers' claim counts; they take it back.
        for k in latecomers {
            w.chain
                .send(&[d.set_capabilities(&k.pubkey(), 0)], &[k])
                .await
                .unwrap();
        }
    }
}

#[tokio::test]
async fn capability_bits_the_protocol_does_not_define_are_refused() {
    let mut w = World::new(LocalSetup::default(), 1, 0, 1).await.unwrap();
    let d = w.chain.deployment;
    let v = w.verifiers[0].insecure_clone();
    let err = w
        .chain
        .send(&[d.set_capabilities(&v.pubkey(), ALL + 1)], &[&v])
        .await
        .unwrap_err();
    assert_eq!(err.custom_code(), stake_code(StakeError::UnknownCapability));
    let newcomer = w.chain.new_user(STARTING_TOKENS).await.unwrap();
    let err = w
        .chain
        .send(
            &[d.register_operator_with_capabilities(&newcomer.pubkey(), ROLE_VERIFIER, 0x40)],
            &[&newcomer],
        )
        .await
        .unwrap_err();
    assert_eq!(err.custom_code(), stake_code(StakeError::UnknownCapability));
    let op = w.chain.operator(&v.pubkey()).await.unwrap().unwrap();
    assert_eq!(op.capabilities, 0);
}
