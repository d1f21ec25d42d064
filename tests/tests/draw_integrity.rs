//! Draw integrity: nobody chooses who audits a job, which chunks are checked, or who
//! judges a contest.
//!
//! - Weights are fixed per draw epoch before any seed of that epoch exists, so stake moves
//!   by anyone after a commit (or a contest) never change its draw (property tests over
//!   random moves, and the provider's stake-tuning attacks as named scenes).
//! - Every draw has its own seed slot: the committee's is armed by `contest_fault`, each
//!   new verifier round's by `advance_round`.
//! - A seed never drifts: late cranks give the same sample or lapse.
//! - Votes and fault evidence bind the job instance, so an earlier life's votes never
//!   count after the same id is re-posted.

use std::collections::BTreeMap;

use anchor_lang::prelude::Pubkey;
use assay_client::events::AssayEvent;
use assay_client::ix::vote_instruction;
use assay_client::{Chain, DrawOutcome};
use assay_market::instructions::{FaultEvidence, PostJobArgs};
use assay_market::state::{Job, JobState};
use assay_protocol::{SeedHash, Verdict};
use assay_stake::constants::ROLE_VERIFIER;
use assay_stake::instructions::UpdateConfigArgs;
use assay_stake::state::VerifierRegistry;
use assay_testkit::embedded::LocalSetup;
use assay_tests::{World, OPERATOR_STAKE};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use solana_sdk::instruction::Instruction;
use solana_sdk::signature::{Keypair, Signer};

/// A draw epoch long enough that a whole scene fits in one.
const LONG_EPOCH: u64 = 100_000;

fn long_epoch_setup() -> LocalSetup {
    setup_with_epoch(LONG_EPOCH)
}

fn setup_with_epoch(epoch_slots: u64) -> LocalSetup {
    LocalSetup::default().with_epoch_slots(epoch_slots)
}

/// A stake move anyone may make between a job's commit (or a contest) and its draw.
#[derive(Debug, Clone)]
enum StakeMove {
    /// Verifier `who` (modulo the verifiers) deposits more.
    Deposit { who: usize, amount: u64 },
    /// Verifier `who` asks to unstake (it fails harmlessly beyond its available stake).
    Unstake { who: usize, amount: u64 },
    /// A fresh identity registers as a verifier with this stake.
    NewVerifier { stake: u64 },
    /// Anyone re-syncs verifier `who`.
    Sync { who: usize },
    /// The stake admin moves the verifier minimum.
    Minimum { min: u64 },
}

fn stake_move() -> impl Strategy<Value = StakeMove> {
    let amount = 1u64..=3 * OPERATOR_STAKE;
    prop_oneof![
        (any::<usize>(), amount.clone())
            .prop_map(|(who, amount)| StakeMove::Deposit { who, amount }),
        (any::<usize>(), amount.clone())
            .prop_map(|(who, amount)| StakeMove::Unstake { who, amount }),
        amount.prop_map(|stake| StakeMove::NewVerifier { stake }),
        any::<usize>().prop_map(|who| StakeMove::Sync { who }),
        prop_oneof![
            Just(0u64),
            Just(1_000_000),
            Just(50_000_000),
            Just(u64::MAX)
        ]
        .prop_map(|min| StakeMove::Minimum { min }),
    ]
}

/// Makes `m` as its party would (a move the programs refuse is simply not made); returns
/// whether it landed.
async fn make(w: &mut World, m: &StakeMove) -> bool {
    let d = w.chain.deployment;
    let verifier = |w: &World, who: usize| w.verifiers[who % w.verifiers.len()].insecure_clone();
    let (ix, signer): (Instruction, Keypair) = match *m {
        StakeMove::Deposit { who, amount } => {
            let k = verifier(w, who);
            (d.deposit(&k.pubkey(), amount), k)
        }
        StakeMove::Unstake { who, amount } => {
            let k = verifier(w, who);
            (d.request_unstake(&k.pubkey(), amount), k)
        }
        StakeMove::NewVerifier { stake } => {
            return match w.registered(ROLE_VERIFIER, stake).await {
                Ok(k) => {
                    w.verifiers.push(k);
                    true
                }
                Err(_) => false,
            };
        }
        StakeMove::Sync { who } => {
            let k = verifier(w, who);
            (d.sync_verifier(&k.pubkey()), w.chain.admin.insecure_clone())
        }
        StakeMove::Minimum { min } => {
            let args = UpdateConfigArgs {
                min_verifier_stake: min,
                ..LocalSetup::default().stake.tunables()
            };
            let admin = w.chain.admin.insecure_clone();
            (d.stake_update_config(&admin.pubkey(), args), admin)
        }
    };
    w.chain.send(&[ix], &[&signer]).await.is_ok()
}

/// The hash that seeds `job`'s pending draw, once it is known.
async fn seed_hash(w: &mut World, job: &Job) -> [u8; 32] {
    let data = w.chain.slot_hashes().await.unwrap();
    match assay_protocol::seed_slot_hash(&data, job.seed_slot) {
        SeedHash::Known(hash) => hash,
        other => panic!("the seed slot's hash is not known: {other:?}"),
    }
}

/// The verifier `job_key`'s pending draw picks by the registry as it was at `snapshot`.
async fn expected_verifier(
    w: &mut World,
    job_key: &Pubkey,
    snapshot: &VerifierRegistry,
) -> Option<Pubkey> {
    let mut job = w.job(job_key).await;
    let hash = seed_hash(w, &job).await;
    job.seed = assay_protocol::challenge_seed(&job_key.to_bytes(), &hash, &job.result_root);
    let epoch = snapshot.epoch_of(w.chain.slot().await.unwrap());
    let excluded = w
        .chain
        .excluded_slots(snapshot, &job.verifier_draw_excludes())
        .await
        .unwrap();
    let holders = w.chain.slot_holders(snapshot).await.unwrap();
    job.draw_verifier(snapshot, epoch, &excluded)
        .map(|(slot, _)| holders[&slot])
}

/// The committee `job_key`'s pending draw picks by the registry as it was at `snapshot`.
async fn expected_committee(
    w: &mut World,
    job_key: &Pubkey,
    snapshot: &VerifierRegistry,
) -> Vec<Pubkey> {
    let job = w.job(job_key).await;
    let hash = seed_hash(w, &job).await;
    let seed = assay_protocol::committee_seed(&job_key.to_bytes(), &hash, &job.fault_evidence);
    let epoch = snapshot.epoch_of(w.chain.slot().await.unwrap());
    let excluded = w
        .chain
        .excluded_slots(snapshot, &job.committee_draw_excludes())
        .await
        .unwrap();
    let holders = w.chain.slot_holders(snapshot).await.unwrap();
    job.draw_committee(snapshot, epoch, &seed, &excluded)
        .into_iter()
        .map(|slot| holders[&slot])
        .collect()
}

/// The identity a `draw_challenge`'s events name: the verifier assigned, or the one
/// drawn that forfeited (its own unstaking left it short of the bond).
fn drawn_identity(events: &[AssayEvent]) -> Option<Pubkey> {
    events.iter().find_map(|e| match e {
        AssayEvent::ChallengeDrawn(c) => Some(c.verifier),
        AssayEvent::VerifierForfeited(f) => Some(Some(f.verifier)),
        _ => None,
    })?
}

/// A world at the start of a long draw epoch with a committed job (id 1).
async fn committed_world(verifiers: usize) -> (World, Pubkey) {
    let mut w = World::new(long_epoch_setup(), 1, 1, verifiers)
        .await
        .unwrap();
    let job = w.post(0, World::job_args(1)).await.unwrap();
    w.claim(0, &job).await.unwrap();
    w.commit(0, &job, 7).await.unwrap();
    (w, job)
}

/// Commit, then `before` moves, the seed becomes public, then `after` moves and the draw:
/// the identity drawn is the one the registry at commit time gives.
async fn verifier_case(before: Vec<StakeMove>, after: Vec<StakeMove>) -> Result<(), String> {
    let (mut w, job) = committed_world(4).await;
    let snapshot = w.chain.registry().await.unwrap();
    for m in &before {
        make(&mut w, m).await;
    }
    w.chain.ready_draw(&job).await.map_err(|e| e.to_string())?;
    for m in &after {
        make(&mut w, m).await;
    }
    let expected = expected_verifier(&mut w, &job, &snapshot).await;
    let predicted = w.chain.predict_draw(&job).await.unwrap();
    if predicted != expected {
        return Err(format!(
            "the SDK predicts {predicted:?}, the commit-time weights give {expected:?}"
        ));
    }
    let state = w.job(&job).await;
    let ix = w
        .chain
        .deployment
        .draw_challenge(&job, &state, expected.as_ref());
    let events = w
        .chain
        .send_with_events(&[ix], &[])
        .await
        .map_err(|e| e.to_string())?;
    let drawn = drawn_identity(&events);
    if drawn != expected {
        return Err(format!(
            "drew {drawn:?}, the commit-time weights give {expected:?}"
        ));
    }
    Ok(())
}

/// Contest, then `before` moves, the committee seed becomes public, then `after` moves and
/// the committee draw: the committee is the one the registry at contest time gives.
async fn committee_case(before: Vec<StakeMove>, after: Vec<StakeMove>) -> Result<(), String> {
    let (mut w, job) = committed_world(5).await;
    w.chain.crank_draw(&job).await.unwrap();
    w.report_unavailable(&job).await.unwrap();
    w.contest_only(&job).await.unwrap();
    let snapshot = w.chain.registry().await.unwrap();
    for m in &before {
        make(&mut w, m).await;
    }
    let seed_slot = w.job(&job).await.seed_slot;
    reveal(&mut w, seed_slot).await;
    for m in &after {
        make(&mut w, m).await;
    }
    let expected = expected_committee(&mut w, &job, &snapshot).await;
    let predicted = w.chain.predict_committee(&job).await.unwrap();
    if predicted.as_ref() != Some(&expected) {
        return Err(format!(
            "the SDK predicts {predicted:?}, the contest-time weights give {expected:?}"
        ));
    }
    let state = w.job(&job).await;
    let ix = w
        .chain
        .deployment
        .draw_committee(&job, &state, &predicted.unwrap_or_default());
    w.chain.send(&[ix], &[]).await.map_err(|e| e.to_string())?;
    let drawn = w.job(&job).await.committee;
    if drawn != expected {
        return Err(format!(
            "drew {drawn:?}, the contest-time weights give {expected:?}"
        ));
    }
    Ok(())
}

fn run_property<F, Fut>(name: &str, cases: u32, case: F)
where
    F: Fn(Vec<StakeMove>, Vec<StakeMove>) -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let moves = || proptest::collection::vec(stake_move(), 0..6);
    let ran = std::cell::Cell::new(0u32);
    let result = runner.run(&(moves(), moves()), |(before, after)| {
        ran.set(ran.get() + 1);
        rt.block_on(case(before, after))
            .map_err(TestCaseError::fail)
    });
    println!("{name}: property cases: {}", ran.get());
    result.unwrap();
}

#[test]
fn stake_moves_after_a_commit_never_change_the_drawn_verifier() {
    run_property("verifier draw", 24, verifier_case);
}

#[test]
fn stake_moves_after_a_contest_never_change_the_committee() {
    run_property("committee draw", 16, committee_case);
}

/// Within an epoch, any sequence of stake syncs and capability changes leaves that epoch's
/// weights alone in every need tree; a reader that finds the registry not yet rolled sees
/// exactly what the roll writes; a verifier's next weight counts in exactly the need
/// trees its capabilities cover; and a slot is never handed to a second verifier while it
/// holds weight.
#[test]
fn registry_weights_of_an_epoch_are_fixed_whatever_syncs_happen() {
    use assay_stake::state::Operator;
    /// Slots the 12 operators can occupy (the lowest free slot is always taken).
    const USED: usize = 16;
    let mut runner = TestRunner::new(Config {
        cases: 1_000,
        failure_persistence: None,
        ..Config::default()
    });
    let step = (0usize..12, 0u64..5, 0u64..3, 0u64..3, 0u8..8);
    let ran = std::cell::Cell::new(0u32);
    runner
        .run(&proptest::collection::vec(step, 1..40), |steps| {
            ran.set(ran.get() + 1);
            let mut registry = VerifierRegistry::empty(10);
            let mut operators: Vec<Operator> = (0..12)
                .map(|_| Operator {
                    authority: Pubkey::new_unique(),
                    roles: ROLE_VERIFIER,
                    deposited: 0,
                    locked: 0,
                    unstaking: 0,
                    unstake_ready_slot: 0,
                    slashed_total: 0,
                    bump: 0,
                    vault_bump: 0,
                    registry_slot: u32::MAX,
                    registry_tag: 0,
                    capabilities: 0,
                })
                .collect();
            // A slot's identity is its binding tag (a new holder bumps it).
            let drawable = |r: &VerifierRegistry, epoch: u64| -> Vec<(u8, u32, u64)> {
                (0..8u8)
                    .flat_map(|need| {
                        let tree = r.weights_at(epoch, need).expect("never behind");
                        (0..USED).map(move |slot| {
                            (
                                need,
                                r.tags[slot],
                                assay_protocol::sumtree::Weights::value(&tree, slot),
                            )
                        })
                    })
                    .filter(|&(_, _, w)| w > 0)
                    .collect()
            };
            let mut slot = 0u64;
            for (who, stake, min, advance, caps) in steps {
                // Whether or not this sync is the first of a new epoch (and rolls), the
                // epoch's weights read before it are the weights after it.
                let epoch = registry.epoch_of(slot);
                let before = drawable(&registry, epoch);
                operators[who].deposited = stake * 1_000;
                operators[who].capabilities = caps;
                registry.sync(&mut operators[who], min * 1_000, slot);
                prop_assert_eq!(
                    drawable(&registry, epoch),
                    before,
                    "a sync changed its epoch's weights"
                );
                // The synced operator's slot holds its stake for the next epoch, and no two
                // operators hold one slot.
                let next_of = |op: &Operator, need: usize| {
                    registry.slot_of(op).map_or(0, |s| {
                        let next = registry.next.for_need(need as u8).expect("a defined need");
                        assay_protocol::sumtree::Weights::value(&next, s)
                    })
                };
                let weight = VerifierRegistry::weight_of(&operators[who], min * 1_000);
                for need in 0..8u8 {
                    let covered = assay_protocol::capability::covers(caps, need);
                    prop_assert_eq!(
                        next_of(&operators[who], usize::from(need)),
                        if covered { weight } else { 0 },
                        "need {:03b}, capabilities {:03b}",
                        need,
                        caps
                    );
                }
                let mut held: Vec<usize> = operators
                    .iter()
                    .filter_map(|op| registry.slot_of(op))
                    .collect();
                let bound = held.len();
                held.sort_unstable();
                held.dedup();
                prop_assert_eq!(held.len(), bound);
                slot += advance * 6;
            }
            Ok(())
        })
        .unwrap();
    println!("registry epochs: property cases: {}", ran.get());
}

/// Searches for a deposit that, made by each of the attacker's identities, captures the
/// draw (`captures` judges the weights) if the draw read the stake of the moment: each
/// entry's next weight, plus the deposit for the attacker's.
fn deposit_that_captures(
    registry: &VerifierRegistry,
    holders: &BTreeMap<usize, Pubkey>,
    excluded: &[Pubkey],
    attackers: &[Pubkey],
    captures: impl Fn(&[u64]) -> bool,
) -> Option<u64> {
    (1..400u64).map(|k| k * 5_000_000).find(|&extra| {
        let weights: Vec<u64> = registry
            .entries()
            .iter()
            .map(|e| match holders[&e.slot] {
                a if excluded.contains(&a) => 0,
                a if attackers.contains(&a) => e.next_weight + extra,
                _ => e.next_weight,
            })
            .collect();
        captures(&weights)
    })
}

/// Advances until the hash of `seed_slot` (a bank at that very slot) is in SlotHashes.
async fn reveal(w: &mut World, seed_slot: u64) {
    let slot = w.chain.slot().await.unwrap();
    if slot < seed_slot {
        w.chain.warp(seed_slot - slot).await.unwrap();
    }
    w.chain.warp(1).await.unwrap();
}

/// The attack of the issue: the seed is public once its slot passes, so a provider that
/// also runs a verifier identity computes offline which deposit gets that identity drawn,
/// and sends the deposit and `draw_challenge` in one transaction. The deposit exists (the
/// search finds one against the stake of the moment), but draws read the weights fixed
/// when the epoch began: the identity is not drawn.
#[tokio::test]
async fn provider_who_tunes_its_second_identitys_stake_after_the_seed_is_public_is_not_drawn() {
    let (mut w, job) = committed_world(3).await;
    // The second identity joins now: its stake counts from the next epoch only.
    let sybil = w.registered(ROLE_VERIFIER, 1_000_000).await.unwrap();
    w.chain.ready_draw(&job).await.unwrap();
    let state = w.job(&job).await;
    let mut seeded = state.clone();
    seeded.seed = assay_protocol::challenge_seed(
        &job.to_bytes(),
        &seed_hash(&mut w, &state).await,
        &state.result_root,
    );
    let registry = w.chain.registry().await.unwrap();
    let entries = registry.entries();
    let holders = w.chain.slot_holders(&registry).await.unwrap();
    let extra = deposit_that_captures(
        &registry,
        &holders,
        &[state.provider.unwrap()],
        &[sybil.pubkey()],
        |weights| {
            assay_protocol::verifier_for_round(&seeded.seed, seeded.round, weights)
                .is_some_and(|i| holders[&entries[i].slot] == sybil.pubkey())
        },
    )
    .expect("against the stake of the moment, some deposit captures the draw");

    let honest = w
        .chain
        .predict_draw(&job)
        .await
        .unwrap()
        .expect("honest verifiers");
    let d = w.chain.deployment;
    let ixs = [
        d.deposit(&sybil.pubkey(), extra),
        d.draw_challenge(&job, &state, Some(&honest)),
    ];
    let events = w.chain.send_with_events(&ixs, &[&sybil]).await.unwrap();
    assert_eq!(drawn_identity(&events), Some(honest));
    assert_ne!(honest, sybil.pubkey());
}

/// The committee attack of the issue: only the provider can contest, and it used to know
/// the committee seed (the challenge seed) and the weights when contesting. Now the
/// committee comes from a slot after the contest and from the epoch's fixed weights, so
/// stake the provider packs into its identities after contesting — even in the same
/// transaction as `draw_committee`, once the seed is public — seats none of them.
#[tokio::test]
async fn provider_who_packs_stake_after_contesting_does_not_choose_its_committee() {
    let (mut w, job) = committed_world(5).await;
    w.chain.crank_draw(&job).await.unwrap();
    w.report_unavailable(&job).await.unwrap();
    let sybils = [
        w.registered(ROLE_VERIFIER, 1_000_000).await.unwrap(),
        w.registered(ROLE_VERIFIER, 1_000_000).await.unwrap(),
    ];
    w.contest_only(&job).await.unwrap();
    let contested = w.job(&job).await;
    assert!(contested.committee.is_empty());
    let contest_slot = w.chain.slot().await.unwrap();
    assert!(
        contested.seed_slot > contest_slot,
        "its own seed slot, after the contest"
    );

    reveal(&mut w, contested.seed_slot).await;
    let hash = seed_hash(&mut w, &contested).await;
    let seed = assay_protocol::committee_seed(&job.to_bytes(), &hash, &contested.fault_evidence);
    let registry = w.chain.registry().await.unwrap();
    let excluded: Vec<Pubkey> = contested
        .provider
        .into_iter()
        .chain(contested.accuser)
        .collect();
    let ours: Vec<Pubkey> = sybils.iter().map(|k| k.pubkey()).collect();
    let size = usize::from(contested.params.committee_size);
    let majority = size / 2 + 1;
    let entries = registry.entries();
    let holders = w.chain.slot_holders(&registry).await.unwrap();
    let extra = deposit_that_captures(&registry, &holders, &excluded, &ours, |weights| {
        let seats = assay_protocol::draw_committee(&seed, size, weights);
        seats
            .iter()
            .filter(|&&i| ours.contains(&holders[&entries[i].slot]))
            .count()
            >= majority
    })
    .expect("against the stake of the moment, some deposit captures a majority");

    // The crank names the seats the fixed weights give (what any cranker predicts).
    let predicted_seats = w.chain.predict_committee(&job).await.unwrap().unwrap();
    let d = w.chain.deployment;
    let ixs = [
        d.deposit(&ours[0], extra),
        d.deposit(&ours[1], extra),
        d.draw_committee(&job, &contested, &predicted_seats),
    ];
    w.chain.send(&ixs, &[&sybils[0], &sybils[1]]).await.unwrap();
    let committee = w.job(&job).await.committee;
    assert_eq!(committee.len(), size);
    assert!(committee.iter().all(|m| !ours.contains(m)), "{committee:?}");
}

/// Each new verifier round is armed by `advance_round` with a seed slot after the miss, so
/// the next verifier (and its sample) come from randomness nobody had when the missed
/// round began — not from the seed already public.
#[tokio::test]
async fn each_verifier_round_draws_from_a_seed_slot_of_its_own() {
    let (mut w, job) = committed_world(3).await;
    let first = w.chain.crank_draw(&job).await.unwrap().expect("verifiers");
    let round0 = w.job(&job).await;
    w.chain
        .warp(round0.params.verdict_window_slots + 1)
        .await
        .unwrap();
    let ix = w.chain.deployment.advance_round(&job, &round0);
    w.chain.send(&[ix.unwrap()], &[]).await.unwrap();
    let armed = w.job(&job).await;
    let miss_slot = w.chain.slot().await.unwrap();
    assert_eq!(
        (armed.state, armed.round, armed.verifier),
        (JobState::Committed, 1, None)
    );
    assert!(armed.seed_slot > miss_slot);
    assert_eq!(armed.past_verifiers, vec![first]);
    let next = w.chain.crank_draw(&job).await.unwrap();
    let round1 = w.job(&job).await;
    assert_ne!(round1.seed, round0.seed, "a fresh seed");
    let hash = seed_hash(&mut w, &armed).await;
    assert_eq!(
        round1.seed,
        assay_protocol::challenge_seed(&job.to_bytes(), &hash, &round1.result_root)
    );
    assert_ne!(next, Some(first));
}

/// How a late crank is made: in one warp, or one slot (one SlotHashes entry) at a time.
#[derive(Debug, Clone, Copy)]
enum Lateness {
    Jump,
    SlotBySlot,
}

/// What the late crank must do.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Late {
    SameSample,
    Lapsed,
}

/// Cranking 1, 50 and `draw_window_slots` slots after the seed slot gives the sample of
/// the seed slot's hash; one slot later, 513 slots later (the hash left SlotHashes) or
/// 5,000 (epochs later), the draw is refused (`DrawLapsed`) and the job can only lapse,
/// the provider slashed — never a sample that depends on the cranking slot, and never a
/// fresh draw. With short epochs the arming moves the seed slot so the window fits one.
#[tokio::test]
async fn a_late_crank_gives_the_same_sample_or_lapses() {
    use Late::*;
    use Lateness::*;
    let window = LocalSetup::default().market.draw_window_slots;
    let cases: [(u64, Lateness, u64, Late); 9] = [
        (1, SlotBySlot, LONG_EPOCH, SameSample),
        (50, SlotBySlot, LONG_EPOCH, SameSample),
        (window, SlotBySlot, LONG_EPOCH, SameSample),
        (window + 1, SlotBySlot, LONG_EPOCH, Lapsed),
        (513, SlotBySlot, LONG_EPOCH, Lapsed),
        (5_000, Jump, LONG_EPOCH, Lapsed),
        (1, Jump, 128, SameSample),
        (window, Jump, 128, SameSample),
        (5_000, Jump, 128, Lapsed),
    ];
    for (late, lateness, epoch_slots, expect) in cases {
        let case = format!("{late} slots late ({lateness:?}, {epoch_slots}-slot epochs)");
        let mut w = World::new(setup_with_epoch(epoch_slots), 1, 1, 3)
            .await
            .unwrap();
        let job = w.post(0, World::job_args(1)).await.unwrap();
        w.claim(0, &job).await.unwrap();
        w.commit(0, &job, 7).await.unwrap();
        let committed = w.job(&job).await;
        let epoch = |slot: u64| slot / epoch_slots;
        assert_eq!(
            epoch(committed.seed_slot),
            epoch(committed.draw_deadline_slot),
            "{case}: the draw window lies in one epoch"
        );
        reveal(&mut w, committed.seed_slot).await;
        let hash = seed_hash(&mut w, &committed).await;
        let sample_of_seed_slot = assay_protocol::sample_indices(
            &assay_protocol::challenge_seed(&job.to_bytes(), &hash, &committed.result_root),
            committed.n_chunks,
            u32::from(committed.samples),
        );
        // `reveal` left the chain one slot past the seed slot.
        let target = committed.seed_slot + late;
        match lateness {
            Jump => {
                let slot = w.chain.slot().await.unwrap();
                if target > slot {
                    w.chain.warp(target - slot).await.unwrap();
                }
            }
            SlotBySlot => {
                while w.chain.slot().await.unwrap() < target {
                    w.chain.warp(1).await.unwrap();
                }
            }
        }
        let predicted = w.chain.draw_outcome(&job).await.unwrap();
        let drawn = predicted.verifier();
        let ix = w
            .chain
            .deployment
            .draw_challenge(&job, &committed, drawn.as_ref());
        let sent = w.chain.send_with_events(&[ix], &[]).await;
        match expect {
            SameSample => {
                assert!(
                    matches!(predicted, DrawOutcome::Drawn(_)),
                    "{case}: {predicted:?}"
                );
                sent.unwrap();
                let after = w.job(&job).await;
                let sample = assay_protocol::sample_indices(
                    &after.seed,
                    after.n_chunks,
                    u32::from(after.samples),
                );
                assert_eq!(sample, sample_of_seed_slot, "{case}");
            }
            Lapsed => {
                assert_eq!(predicted, DrawOutcome::Lapsed, "{case}");
                assert_eq!(
                    sent.err().and_then(|e| e.custom_code()),
                    Some(6000 + assay_market::errors::MarketError::DrawLapsed as u32),
                    "{case}"
                );
                let provider = committed.provider.unwrap();
                let before = w.chain.operator(&provider).await.unwrap().unwrap();
                let events = w
                    .chain
                    .send_with_events(
                        &[w.chain.deployment.lapse_draw(&job, &committed).unwrap()],
                        &[],
                    )
                    .await
                    .unwrap();
                assert!(
                    events
                        .iter()
                        .any(|e| matches!(e, AssayEvent::DrawLapsed(_))),
                    "{case}"
                );
                let after = w.chain.operator(&provider).await.unwrap().unwrap();
                assert_eq!(
                    before.deposited - after.deposited,
                    committed.collateral,
                    "{case}: the provider lost its collateral"
                );
                assert!(w.chain.job(&job).await.unwrap().is_none(), "{case}");
            }
        }
    }
}

/// A job closed and re-posted with the same id lives at the same address. In both lives
/// the verifier reports the same chunk unavailable (7 of 8 chunks are sampled; a life
/// whose sample misses the first life's chunk is voided and the id posted again), so
/// without the instance the fault evidence and the committee's uphold votes of the first
/// life would be byte-for-byte those of the second. Votes and evidence bind the instance — the slot the
/// job was posted in — so the first life's votes, replayed on the second, are rejected.
#[tokio::test]
async fn committee_votes_of_a_closed_job_are_rejected_on_the_same_id_reposted() {
    // Four verifiers: whoever accuses, the other three are the committee, so the two
    // lives' committees share a majority.
    let mut w = World::new(long_epoch_setup(), 1, 1, 4).await.unwrap();
    let job = contested_life(&mut w, None).await;
    let first = w.job(&job).await;
    // The first life ends without those votes: the vote window passes and it is voided.
    void_life(&mut w, &job).await;

    // Lives until one reports the first life's chunk (each does with probability 7/8).
    let mut lives = 1;
    let second = loop {
        let again = contested_life(&mut w, Some(first.fault_index)).await;
        assert_eq!(again, job, "the same address");
        let life = w.job(&job).await;
        if life.fault_index == first.fault_index {
            break life;
        }
        lives += 1;
        assert!(lives < 40, "no life sampled chunk {}", first.fault_index);
        void_life(&mut w, &job).await;
    };
    assert!(second.instance > first.instance);
    assert_eq!(
        (second.fault_index, second.round),
        (first.fault_index, first.round)
    );
    let members: Vec<Pubkey> = first
        .committee
        .iter()
        .filter(|m| second.committee.contains(m))
        .copied()
        .collect();
    assert!(members.len() >= 2, "a majority of the second committee");
    let keys: Vec<Keypair> = members.iter().map(|m| w.key(m).insecure_clone()).collect();
    let votes_of_life = |life: &Job| -> Vec<_> {
        keys.iter()
            .map(|k| {
                let message = assay_client::ix::vote_message(&job, life, Verdict::UpholdFault);
                (
                    ed25519_dalek::SigningKey::from_bytes(k.secret_bytes()),
                    message,
                )
            })
            .collect()
    };
    // The first life's signed votes, with the second life's resolve.
    let replayed = votes_of_life(&first);
    let resolve = w.chain.deployment.resolve_contest(&job, &second).unwrap();
    let ixs = [vote_instruction(&replayed), resolve.clone()];
    let replay = w.chain.send(&ixs, &[]).await;
    assert_eq!(
        replay.err().and_then(|e| e.custom_code()),
        Some(6000 + assay_market::errors::MarketError::AttestationMismatch as u32),
        "the first life's votes must not decide the second"
    );
    assert_ne!(second.fault_evidence, first.fault_evidence);
    // The same members' votes on this life count.
    let fresh = votes_of_life(&second);
    w.chain
        .send(&[vote_instruction(&fresh), resolve], &[])
        .await
        .unwrap();
    assert!(w.chain.job(&job).await.unwrap().is_none());
}

/// Job id 1 (7 of its 8 chunks sampled) posted, claimed, committed and drawn; its verifier
/// reports `chunk` unavailable if it was sampled, else the first chunk of its sample; the
/// provider contests and the committee is drawn.
async fn contested_life(w: &mut World, chunk: Option<u32>) -> Pubkey {
    let args = PostJobArgs {
        samples: 7,
        ..World::job_args(1)
    };
    let job = w.post(0, args).await.unwrap();
    w.claim(0, &job).await.unwrap();
    w.commit(0, &job, 7).await.unwrap();
    let verifier = w.chain.crank_draw(&job).await.unwrap().expect("verifiers");
    let drawn = w.job(&job).await;
    let sample =
        assay_protocol::sample_indices(&drawn.seed, drawn.n_chunks, u32::from(drawn.samples));
    let index = chunk.filter(|c| sample.contains(c)).unwrap_or(sample[0]);
    let ix = w
        .chain
        .deployment
        .report_fault(&verifier, &job, index, FaultEvidence::Unavailable);
    let v = w.key(&verifier).insecure_clone();
    w.chain.send(&[ix], &[&v]).await.unwrap();
    w.contest(&job).await.unwrap();
    job
}

/// Lets the contest of `job` run out its vote window and voids it: the job closes.
async fn void_life(w: &mut World, job: &Pubkey) {
    let life = w.job(job).await;
    let slot = w.chain.slot().await.unwrap();
    w.chain
        .warp(life.step_deadline_slot + 1 - slot)
        .await
        .unwrap();
    let ix = w.chain.deployment.void_contest(job, &life);
    w.chain.send(&[ix.unwrap()], &[]).await.unwrap();
    assert!(w.chain.job(job).await.unwrap().is_none());
}

/// `leaver` unstakes everything and two epochs pass: no weight next epoch, and the epoch
/// after, its slot is free for another verifier (its Operator still names it). Returns
/// the slot.
async fn leave_slot(w: &mut World, leaver: &Keypair) -> usize {
    let operator = w.chain.operator(&leaver.pubkey()).await.unwrap().unwrap();
    let registry = w.chain.registry().await.unwrap();
    let slot = registry.slot_of(&operator).unwrap();
    let unstake = w
        .chain
        .deployment
        .request_unstake(&leaver.pubkey(), OPERATOR_STAKE);
    w.chain.send(&[unstake], &[leaver]).await.unwrap();
    w.chain.next_epoch().await.unwrap();
    w.chain.next_epoch().await.unwrap();
    slot
}

/// The registry keeps a binding tag per slot, not a key: a draw names a slot, and whoever
/// cranks it passes the Operator holding the slot. The attack: a verifier that left its
/// slot (it unstaked; its Operator still names the slot) has a colluding cranker name it
/// for the draw that picked the slot's new holder, so the drawn verifier is the cranker's
/// choice. Refused: the slot's tag moved on when the newcomer took it (`WrongOperator`).
#[tokio::test]
async fn a_verifier_that_left_its_slot_cannot_be_named_for_the_draw_of_its_new_holder() {
    let mut w = World::new(LocalSetup::default(), 1, 1, 1).await.unwrap();
    let d = w.chain.deployment;
    let leaver = w.verifiers[0].insecure_clone();
    let slot = leave_slot(&mut w, &leaver).await;
    let newcomer = w.registered(ROLE_VERIFIER, OPERATOR_STAKE).await.unwrap();
    let registry = w.chain.registry().await.unwrap();
    let taken = w.chain.operator(&newcomer.pubkey()).await.unwrap().unwrap();
    assert_eq!(
        registry.slot_of(&taken),
        Some(slot),
        "the newcomer takes the freed slot"
    );
    let stale = w.chain.operator(&leaver.pubkey()).await.unwrap().unwrap();
    assert_eq!(
        stale.registry_slot as usize, slot,
        "the leaver's Operator still names it"
    );
    assert!(stale.unlocked() >= LocalSetup::default().market.verifier_bond);
    w.chain.next_epoch().await.unwrap();

    let job = w.post(0, World::job_args(1)).await.unwrap();
    w.claim(0, &job).await.unwrap();
    w.commit(0, &job, 7).await.unwrap();
    let honest = w.chain.ready_draw(&job).await.unwrap();
    assert_eq!(
        w.chain.predict_draw(&job).await.unwrap(),
        Some(newcomer.pubkey())
    );
    let state = w.job(&job).await;
    let forged = d.draw_challenge(&job, &state, Some(&leaver.pubkey()));
    let refused = w.chain.send(&[forged], &[]).await.unwrap_err();
    assert_eq!(
        refused.custom_code(),
        Some(6000 + assay_market::errors::MarketError::WrongOperator as u32),
        "{refused}"
    );
    w.chain.send(&[honest], &[]).await.unwrap();
    assert_eq!(w.job(&job).await.verifier, Some(newcomer.pubkey()));
}

/// The same attack on a committee seat: the registry names the seats' slots and the
/// cranker passes the Operators holding them, so a verifier that left its slot has a
/// colluding cranker seat it where the slot's new holder was drawn. Refused: no Operator
/// given holds the seat's tag (`MissingOperator`). The newcomer is the only judge, so its
/// seat is certain: the verifier drawn before it joined accuses, and its weight counts
/// from the epoch the contest is drawn in.
#[tokio::test]
async fn a_verifier_that_left_its_slot_cannot_take_the_committee_seat_of_its_new_holder() {
    let mut setup = LocalSetup::default();
    // The drawn verifier reports after an epoch boundary (epochs are 256 slots).
    setup.market.verdict_window_slots = 600;
    let mut w = World::new(setup, 1, 1, 2).await.unwrap();
    let d = w.chain.deployment;
    let leaver = w.verifiers[0].insecure_clone();
    let accuser = w.verifiers[1].pubkey();
    let slot = leave_slot(&mut w, &leaver).await;

    let job = w.post(0, World::job_args(1)).await.unwrap();
    w.claim(0, &job).await.unwrap();
    w.commit(0, &job, 7).await.unwrap();
    assert_eq!(w.chain.crank_draw(&job).await.unwrap(), Some(accuser));
    let newcomer = w.registered(ROLE_VERIFIER, OPERATOR_STAKE).await.unwrap();
    let taken = w.chain.operator(&newcomer.pubkey()).await.unwrap().unwrap();
    let registry = w.chain.registry().await.unwrap();
    assert_eq!(
        registry.slot_of(&taken),
        Some(slot),
        "the newcomer takes the freed slot"
    );
    w.chain.next_epoch().await.unwrap();
    w.report_unavailable(&job).await.unwrap();
    w.contest_only(&job).await.unwrap();
    let contested = w.job(&job).await;
    reveal(&mut w, contested.seed_slot).await;
    let seats = w.chain.predict_committee(&job).await.unwrap().unwrap();
    assert_eq!(seats, vec![newcomer.pubkey()]);

    let forged = d.draw_committee(&job, &contested, &[leaver.pubkey()]);
    let refused = w.chain.send(&[forged], &[]).await.unwrap_err();
    assert_eq!(
        refused.custom_code(),
        Some(6000 + assay_market::errors::MarketError::MissingOperator as u32),
        "{refused}"
    );
    let honest = d.draw_committee(&job, &contested, &seats);
    w.chain.send(&[honest], &[]).await.unwrap();
    assert_eq!(w.job(&job).await.committee, vec![newcomer.pubkey()]);
}
