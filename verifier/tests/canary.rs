//! The canary operator (`assay_node::canary`) against verifier daemons on the embedded
//! chain: a lazy verifier's pass of a canary is challenged and upheld; an honest verifier
//! reports the planted fault and the canary concedes.

mod common;

use anchor_lang::prelude::Pubkey;
use assay_client::Chain;
use assay_market::state::JobState;
use assay_node::canary::{CanaryKeys, CanaryOperator, CanaryOutcome, CanaryRecord};
use assay_testkit::embedded::LocalSetup;
use common::{hashmix_bundle, Market, SharedChain};
use solana_sdk::signature::Signer;

/// 16 chunks, 8 sampled: planting 9 puts one in every sample.
const PLANTED_IN_EVERY_SAMPLE: u32 = 9;

async fn slashed_total(m: &Market, who: &Pubkey) -> u64 {
    let mut chain = m.chain.inner.lock().await;
    chain.operator(who).await.unwrap().unwrap().slashed_total
}

/// The canary operator's keys: the market's buyer, and its two providers as provider and
/// challenger.
fn canary_keys(m: &Market) -> CanaryKeys {
    CanaryKeys {
        buyer: m.buyer.insecure_clone(),
        provider: m.providers[0].insecure_clone(),
        challenger: m.providers[1].insecure_clone(),
    }
}

/// Launches one canary job (id `job_id`) through the operator; returns its record.
async fn launch(m: &Market, keys: &CanaryKeys, job_id: u64) -> CanaryRecord {
    launch_planting(m, keys, job_id, PLANTED_IN_EVERY_SAMPLE).await
}

/// [`launch`], planting `planted` chunks.
async fn launch_planting(m: &Market, keys: &CanaryKeys, job_id: u64, planted: u32) -> CanaryRecord {
    let bundle = hashmix_bundle(16, 1_000 + job_id);
    bundle.store(&m.store).unwrap();
    let manifest_hash = m
        .store
        .put(&bundle.manifest.canonical_bytes().unwrap())
        .unwrap();
    let args = common::job_args(job_id, manifest_hash, 8);
    let mut chain = m.chain.clone();
    let mut canary = operator(m, &mut chain, keys);
    canary.planted = assay_node::canary::Planted::Fixed(planted);
    canary
        .launch(&bundle, args, std::time::Duration::ZERO)
        .await
        .unwrap()
}

/// The canary operator over `chain`, planting `PLANTED_IN_EVERY_SAMPLE` chunks.
fn operator<'a>(
    m: &'a Market,
    chain: &'a mut SharedChain,
    keys: &'a CanaryKeys,
) -> CanaryOperator<'a, SharedChain> {
    CanaryOperator {
        chain,
        gpu: &m.gpu,
        store: &m.store,
        keys,
        secret: [7; 32],
        planted: assay_node::canary::Planted::Fixed(PLANTED_IN_EVERY_SAMPLE),
        fresh_buyers: true,
        fresh_providers: true,
        events: vec![],
    }
}

async fn watch(
    m: &Market,
    keys: &CanaryKeys,
    records: &mut [CanaryRecord],
) -> assay_node::canary::WatchReport {
    let mut chain = m.chain.clone();
    operator(m, &mut chain, keys).watch(records).await.unwrap()
}

#[tokio::test(flavor = "current_thread")]
async fn a_canary_catches_a_lazy_verifier_and_an_honest_one_earns_the_finder_share() {
    let m = Market::new(LocalSetup::default(), 2, 5).await;
    let keys = canary_keys(&m);

    // A lazy verifier is drawn for the first canary and passes it blind.
    let mut records = vec![launch(&m, &keys, 1).await];
    let key = records[0].job.parse().unwrap();
    let bond = m.state(&key).await.unwrap().verifier_bond;
    assert_eq!(records[0].planted.len(), 9);
    let lazy = m.draw(&key).await;
    let lazy_index = m.verifier_index(&lazy);
    let mut lazy_daemon = m.daemon_with(
        lazy_index,
        "lazy",
        Box::new(common::LazyAuditor),
        m.options(),
    );
    assert_eq!(lazy_daemon.tick().await.unwrap().passes, 1);

    // The canary sees the pass of a planted chunk and challenges it.
    let r = watch(&m, &keys, &mut records).await;
    assert_eq!((r.challenged, r.open), (1, 1), "{r:?}");
    assert!(matches!(
        &records[0].outcome,
        Some(CanaryOutcome::Challenged { verifier, chunk })
            if *verifier == lazy.to_string() && records[0].planted.contains(chunk)
    ));
    assert_eq!(m.state(&key).await.unwrap().state, JobState::PassChallenged);

    // The other verifiers' daemons draw the committee, vote and relay: upheld.
    m.warp(3).await;
    m.warp(1).await;
    let mut others: Vec<_> = (0..5)
        .filter(|&i| i != lazy_index)
        .map(|i| m.daemon(i, &format!("v{i}")))
        .collect();
    common::tick_until_closed(&m, &mut others, &key, 2).await;
    assert!(m.state(&key).await.is_none(), "upheld and closed");
    assert_eq!(slashed_total(&m, &lazy).await, bond);
    // Nothing more to do for it.
    assert_eq!(watch(&m, &keys, &mut records).await, Default::default());

    // An honest verifier is drawn for the second canary: it reports a planted chunk, the
    // canary concedes at once, and the verifier earns the finder share.
    let mut second = vec![launch(&m, &keys, 2).await];
    let key = second[0].job.parse().unwrap();
    let honest = m.draw(&key).await;
    let before = m.tokens_of(&honest).await;
    let mut daemon = m.daemon(m.verifier_index(&honest), "honest");
    let r = daemon.tick().await.unwrap();
    assert_eq!(r.faults, 1, "{r:?}");
    let r = watch(&m, &keys, &mut second).await;
    assert_eq!(r.conceded, 1, "{r:?}");
    assert!(
        matches!(&second[0].outcome, Some(CanaryOutcome::Reported { verifier, .. }) if *verifier == honest.to_string())
    );
    assert!(m.state(&key).await.is_none(), "conceded and closed");
    assert_eq!(m.tokens_of(&honest).await, before + common::COLLATERAL / 5);
}

/// A canary of a float kernel (matmul, f32 outputs under the float rule) end to end: its
/// planted chunks are outside the rule's bound, so the honest verifier drawn reports the
/// fault and the canary concedes. (That the old planted fault, a flipped low mantissa
/// byte, passes the float rule on most chunks is shown chunk by chunk in
/// gpu/tests/planted_faults.rs.)
#[tokio::test(flavor = "current_thread")]
async fn an_honest_verifier_reports_the_planted_fault_of_a_float_canary() {
    use assay_gpu::kernels::matmul;
    let m = Market::new(LocalSetup::default(), 2, 5).await;
    let keys = canary_keys(&m);
    let bundle = matmul::job(&matmul::MatmulParams {
        m: 512,
        k: 16,
        n: 64,
        rows_per_chunk: 32,
        seed: 9,
        variant: matmul::MatmulVariant::for_shape(&m.gpu, 64, 32),
    })
    .unwrap();
    assert_eq!(bundle.manifest.n_chunks(), 16);
    bundle.store(&m.store).unwrap();
    let manifest_hash = m
        .store
        .put(&bundle.manifest.canonical_bytes().unwrap())
        .unwrap();
    let args = assay_market::instructions::PostJobArgs {
        comparison_rule: assay_market::state::COMPARISON_FLOAT,
        ..common::job_args(3, manifest_hash, 8)
    };
    let mut chain = m.chain.clone();
    let mut records = vec![operator(&m, &mut chain, &keys)
        .launch(&bundle, args, std::time::Duration::ZERO)
        .await
        .unwrap()];
    let key = records[0].job.parse().unwrap();
    let honest = m.draw(&key).await;
    let mut daemon = m.daemon(m.verifier_index(&honest), "honest");
    let r = daemon.tick().await.unwrap();
    assert_eq!((r.faults, r.passes), (1, 0), "{r:?}");
    let r = watch(&m, &keys, &mut records).await;
    assert_eq!(r.conceded, 1, "{r:?}");
    assert!(m.state(&key).await.is_none(), "conceded and closed");
}

/// Issue #27: every canary is claimed by a provider key of its own, registered and staked
/// in the claim's transaction (before, one provider key claimed every canary, a tell on
/// chain). Once a canary has closed its key's stake is unstaked and, after the cooldown,
/// withdrawn and swept back to the provider key: no collateral is left behind.
#[tokio::test(flavor = "current_thread")]
async fn each_canary_has_a_fresh_provider_whose_stake_comes_home_after_the_cooldown() {
    let m = Market::new(LocalSetup::default(), 2, 3).await;
    let keys = canary_keys(&m);
    let home = keys.provider.pubkey();
    let home_before = m.tokens_of(&home).await;
    // Two canaries planting nothing: their passes are right, and close.
    let mut records = vec![
        launch_planting(&m, &keys, 1, 0).await,
        launch_planting(&m, &keys, 2, 0).await,
    ];
    let mut providers = vec![];
    let mut drawn = vec![];
    // What the fresh providers are paid at their passes: it comes home with the stake.
    let mut earned = 0;
    for record in &records {
        let job: Pubkey = record.job.parse().unwrap();
        let state = m.state(&job).await.unwrap();
        providers.push(state.provider.unwrap());
        earned += state.price - state.verifier_fee - state.protocol_fee;
        drawn.push(m.draw(&job).await);
    }
    let mut passes = 0;
    for verifier in drawn.iter().collect::<std::collections::BTreeSet<_>>() {
        let mut daemon = m.daemon(m.verifier_index(verifier), &verifier.to_string());
        passes += daemon.tick().await.unwrap().passes;
    }
    assert_eq!(passes, 2, "both canaries passed by their verifiers");
    assert!(
        providers[0] != providers[1] && !providers.contains(&home),
        "a fresh provider per canary: {providers:?}"
    );
    assert!(
        m.tokens_of(&home).await < home_before,
        "the collaterals left home"
    );

    let pass_window = LocalSetup::default().market.pass_window_slots;
    m.warp(pass_window + 1).await;
    let mut retiring = 0;
    for _ in 0..3 {
        let r = watch(&m, &keys, &mut records).await;
        retiring = r.retiring;
        if r.open == 0 && r.retiring == 2 {
            break;
        }
    }
    assert_eq!(retiring, 2, "both closed; their stake is unstaking");
    assert_eq!(
        m.tokens_of(&home).await,
        home_before - 2 * common::COLLATERAL
    );
    let cooldown = LocalSetup::default().stake.unstake_cooldown_slots;
    m.warp(cooldown + 1).await;
    let r = watch(&m, &keys, &mut records).await;
    assert_eq!((r.open, r.retiring), (0, 0), "{r:?}");
    assert!(records.iter().all(|r| r.fresh_provider.is_none()));
    assert_eq!(
        m.tokens_of(&home).await,
        home_before + earned,
        "every collateral came home, with the canaries' pay"
    );
}
