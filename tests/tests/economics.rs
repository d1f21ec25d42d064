//! The terms the code ships (`LocalSetup::default()`: `assay localnet`, `assay demo`) in
//! the bank (issue #27): the verifier is paid for every chunk it samples, its bond grows
//! with its fee, the collateral has a floor, and every new payment path moves exactly what
//! `docs/economics.md` says; and no parameter set below the economic floors is accepted.

use anchor_lang::prelude::Pubkey;
use assay_client::Chain;
use assay_market::errors::MarketError;
use assay_market::instructions::PostJobArgs;
use assay_market::state::{JobState, JobTerms};
use assay_protocol::Verdict;
use assay_stake::constants::{ROLE_PROVIDER, ROLE_VERIFIER};
use assay_testkit::embedded::LocalSetup;
use assay_tests::World;
use solana_sdk::signature::Signer;

const TOKEN: u64 = 1_000_000;
/// Each verifier stakes enough to bond the jobs below (bond = 50 verifier fees).
const VERIFIER_STAKE: u64 = 400 * TOKEN;
/// The provider stakes enough for a collateral at the floor.
const PROVIDER_STAKE: u64 = 200 * TOKEN;

/// A market at the shipped terms with one buyer, one provider, four verifiers and a
/// challenger, staked for jobs of 10 tokens.
async fn shipped() -> (World, Pubkey) {
    let mut w = World::new(LocalSetup::default(), 1, 0, 0).await.unwrap();
    let p = w.registered(ROLE_PROVIDER, PROVIDER_STAKE).await.unwrap();
    w.providers.push(p);
    for _ in 0..4 {
        let v = w.registered(ROLE_VERIFIER, VERIFIER_STAKE).await.unwrap();
        w.verifiers.push(v);
    }
    let challenger = w.operator(ROLE_PROVIDER).await.unwrap().pubkey();
    w.chain.next_epoch().await.unwrap();
    (w, challenger)
}

/// A job of 64 chunks sampling 8 for 10 tokens, collateral at the floor (32 tokens).
fn job(job_id: u64) -> PostJobArgs {
    PostJobArgs {
        n_chunks: 64,
        samples: 8,
        price: 10 * TOKEN,
        collateral: 32 * TOKEN,
        ..World::job_args(job_id)
    }
}

async fn deposited(w: &mut World, who: &Pubkey) -> u64 {
    w.chain.operator(who).await.unwrap().unwrap().deposited
}

/// The terms of the job above: fee 5 % + 8/64 of the price = 0.5 + 1.25 = 1.75 tokens,
/// protocol fee 0.1, bond 50 × 1.75 = 87.5 tokens, collateral floor 3.2 × 10 = 32.
#[test]
fn the_shipped_terms_pay_the_verifier_per_sampled_chunk_and_bond_it_by_its_fee() {
    let params = LocalSetup::default().market;
    let terms = JobTerms::of(&params, 10 * TOKEN, 64, 8).unwrap();
    assert_eq!(
        terms,
        JobTerms {
            verifier_fee: 1_750_000,
            protocol_fee: 100_000,
            verifier_bond: 87_500_000,
            min_collateral: 32_000_000,
        }
    );
    // Sampling every chunk would cost the buyer the whole price again: refused.
    assert!(matches!(
        JobTerms::of(&params, 10 * TOKEN, 16, 16),
        Err(MarketError::AuditUnaffordable)
    ));
    // The floor: a 0.1-token job of 1,024 chunks sampling 1 still pays 0.01 token.
    let tiny = JobTerms::of(&params, 100_000, 1_024, 1).unwrap();
    assert_eq!(tiny.verifier_fee, params.min_verifier_fee);
    assert_eq!(
        tiny.verifier_bond, params.verifier_bond,
        "never below the base bond"
    );
}

/// The amounts every other program test asserts (`assay_tests::terms`) are the terms the
/// program computes for `World::job_args` at the shipped parameters, not numbers copied by
/// hand.
#[test]
fn the_test_worlds_terms_are_what_the_program_computes_for_its_jobs() {
    use assay_tests::terms;
    let params = LocalSetup::default().market;
    let args = World::job_args(1);
    assert_eq!(
        (args.price, args.collateral),
        (terms::PRICE, terms::COLLATERAL)
    );
    let computed = JobTerms::of(&params, args.price, args.n_chunks, args.samples).unwrap();
    assert_eq!(
        computed,
        JobTerms {
            verifier_fee: terms::VERIFIER_FEE,
            protocol_fee: terms::PROTOCOL_FEE,
            verifier_bond: terms::BOND,
            min_collateral: terms::COLLATERAL,
        }
    );
    assert_eq!(params.verifier_bond, terms::CHALLENGER_BOND);
    assert_eq!(params.verifier_miss_penalty, terms::MISS_PENALTY);
    assert_eq!(
        (params.finder_fee_bps, params.treasury_slash_bps),
        (2_000, 1_000),
        "finder_share and treasury_share take 20 % and 10 %"
    );
}

/// An honest job at the shipped terms, with exact balances: the provider is paid the
/// price less the scaled fee and the protocol fee at the pass; the verifier's 87.5-token
/// bond is locked from its draw to the window's close, and the 1.75-token fee is paid then.
#[tokio::test]
async fn an_honest_job_at_the_shipped_terms_pays_exactly_its_terms() {
    let (mut w, _) = shipped().await;
    let key = w.post(0, job(1)).await.unwrap();
    let state = w.job(&key).await;
    assert_eq!(
        (state.verifier_fee, state.protocol_fee, state.verifier_bond),
        (1_750_000, 100_000, 87_500_000)
    );
    let provider = w.providers[0].pubkey();
    let provider_tokens = w.chain.balance_of(&provider).await.unwrap();
    w.claim(0, &key).await.unwrap();
    w.commit(0, &key, 7).await.unwrap();
    let verifier = w.draw(&key).await.unwrap().expect("a verifier is drawn");
    let op = w.chain.operator(&verifier).await.unwrap().unwrap();
    assert_eq!(op.locked, 87_500_000, "the job's bond");
    let verifier_tokens = w.chain.balance_of(&verifier).await.unwrap();
    w.pass(&key).await.unwrap();
    assert_eq!(
        w.chain.balance_of(&provider).await.unwrap() - provider_tokens,
        10 * TOKEN - 1_750_000 - 100_000
    );
    w.chain.crank_close_pass(&key).await.unwrap();
    assert_eq!(
        w.chain.balance_of(&verifier).await.unwrap() - verifier_tokens,
        1_750_000
    );
    assert_eq!(
        w.chain.operator(&verifier).await.unwrap().unwrap().locked,
        0
    );
    assert_eq!(
        w.chain.operator(&provider).await.unwrap().unwrap().locked,
        0
    );
    assert_eq!(w.total_tokens(&[key]).await.unwrap(), w.minted);
}

/// A lazy pass of a wrong job upheld at the shipped terms: the verifier loses its whole
/// per-job bond (87.5 tokens, not the 1-token base), the provider its 32-token
/// collateral; the challenger earns the finder share (20 %) of both, the treasury 10 %,
/// the buyer the rest and the unearned fee.
#[tokio::test]
async fn a_lazy_pass_upheld_at_the_shipped_terms_costs_the_verifier_its_per_job_bond() {
    let (mut w, challenger) = shipped().await;
    let key = w.post(0, job(2)).await.unwrap();
    w.claim(0, &key).await.unwrap();
    let tree = w.commit(0, &key, 7).await.unwrap();
    let lazy = w.draw(&key).await.unwrap().expect("a verifier is drawn");
    w.pass(&key).await.unwrap();
    let state = w.job(&key).await;
    let index = assay_protocol::sample_indices(&state.seed, 64, 8)[0];
    let provider = w.providers[0].pubkey();
    let buyer = w.buyer().pubkey();
    let before = (
        deposited(&mut w, &lazy).await,
        deposited(&mut w, &provider).await,
        w.chain.balance_of(&challenger).await.unwrap(),
        w.chain.balance_of(&buyer).await.unwrap(),
        w.treasury_balance().await,
    );
    w.challenge_pass(&challenger, &key, &tree, index, [0xEE; 32])
        .await
        .unwrap();
    let committee = w.chain.crank_committee(&key).await.unwrap();
    let ixs = w
        .resolve_instructions(&key, &committee, Verdict::UpholdFault)
        .await;
    w.chain.send(&ixs, &[]).await.unwrap();
    assert!(w.chain.job(&key).await.unwrap().is_none());
    let slashed = 32 * TOKEN + 87_500_000;
    assert_eq!(before.0 - deposited(&mut w, &lazy).await, 87_500_000);
    assert_eq!(before.1 - deposited(&mut w, &provider).await, 32 * TOKEN);
    assert_eq!(
        w.chain.balance_of(&challenger).await.unwrap() - before.2,
        slashed / 5
    );
    assert_eq!(w.treasury_balance().await - before.4, slashed / 10);
    assert_eq!(
        w.chain.balance_of(&buyer).await.unwrap() - before.3,
        slashed - slashed / 5 - slashed / 10 + 1_750_000
    );
    assert_eq!(w.total_tokens(&[key]).await.unwrap(), w.minted);
}

/// Jobs whose terms leave the audit unpaid, or the provider too little at stake, are
/// refused at posting, moving nothing.
#[tokio::test]
async fn jobs_the_shipped_terms_cannot_audit_or_secure_are_refused() {
    let (mut w, _) = shipped().await;
    let buyer = w.buyer().pubkey();
    let before = w.chain.balance_of(&buyer).await.unwrap();
    let code = |e: MarketError| Some(e as u32 + anchor_lang::error::ERROR_CODE_OFFSET);
    for (name, args, error) in [
        (
            "every chunk sampled",
            PostJobArgs {
                n_chunks: 8,
                samples: 8,
                ..job(3)
            },
            MarketError::AuditUnaffordable,
        ),
        (
            "collateral below 3.2 × the price",
            PostJobArgs {
                collateral: 31 * TOKEN,
                ..job(4)
            },
            MarketError::CollateralTooLow,
        ),
    ] {
        let got = w.post(0, args).await.err().and_then(|e| e.custom_code());
        assert_eq!(got, code(error), "{name}");
    }
    assert_eq!(w.chain.balance_of(&buyer).await.unwrap(), before);
    assert!(w
        .chain
        .jobs()
        .await
        .unwrap()
        .iter()
        .all(|(_, j)| j.state != JobState::Open));
}
