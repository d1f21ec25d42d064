//! Every exit of the job state machine, in the native bank, with balances checked to the
//! base unit.

use assay_client::embedded::LocalSetup;
use assay_client::events::AssayEvent;
use assay_market::state::JobState;
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
        20_000_000
    );
    assert_eq!(
        w.chain.operator(&verifier).await.unwrap().unwrap().locked,
        1_000_000
    );

    let v = w.key(&verifier).insecure_clone();
    let ix = w.chain.deployment.attest_pass(&verifier, &job, &state);
    let events = w.chain.send_with_events(&[ix], &[&v]).await.unwrap();

    // Price 10.000000: verifier fee 5 % = 0.5, protocol fee 1 % = 0.1, provider 9.4.
    let buyer = w.buyer().pubkey();
    assert_eq!(
        w.chain.balance_of(&buyer).await.unwrap(),
        STARTING_TOKENS - 10_000_000
    );
    assert_eq!(
        w.chain.balance_of(&provider).await.unwrap(),
        STARTING_TOKENS - OPERATOR_STAKE + 9_400_000
    );
    assert_eq!(
        w.chain.balance_of(&verifier).await.unwrap(),
        STARTING_TOKENS - OPERATOR_STAKE + 500_000
    );
    let admin = w.chain.admin.pubkey();
    assert_eq!(w.chain.balance_of(&admin).await.unwrap(), 100_000);
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
    assert!(events.iter().any(|e| matches!(e, AssayEvent::JobClosed(c) if c.provider_paid == 9_400_000 && c.verifier_paid == 500_000)));
    assert_eq!(w.total_tokens(&[job]).await.unwrap(), w.minted);
}
