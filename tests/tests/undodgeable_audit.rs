//! The audit cannot be dodged by timing (issue #26). Invariant: **a draw's outcome is
//! fixed once its seed exists, whoever cranks and whenever**; where a draw is no longer
//! made (nobody cranked it in its window) every party of the draw gets its worst outcome
//! of it, so declining to crank never pays.
//!
//! - A property test: random jobs, contested faults and challenged passes; each draw is
//!   cranked at once, later within its window, one slot past it, past SlotHashes' 512
//!   slots or epochs later, with random stake moves between (the drawn verifier unstaking
//!   everything among them): the late outcome equals the timely one, or the draw lapsed
//!   and each party lost what it would have lost at worst.
//! - The attacks of the issue as named scenes: re-rolling a verifier draw for a 1 %
//!   sybil, waiting for a sample that misses faked chunks, re-rolling a committee,
//!   forfeiting by unstaking, and challenge spam.
//! - The parameter rules, one row per rule, each refused with its named error.

use anchor_lang::prelude::Pubkey;
use anchor_lang::AccountSerialize;
use assay_client::events::AssayEvent;
use assay_client::{Chain, DrawOutcome};
use assay_market::constants::{
    MAX_COLLATERAL_BPS, MIN_BOND_FEE_MULTIPLE, MIN_COLLATERAL_FLOOR_BPS, MIN_SAMPLE_FEE_BPS,
};
use assay_market::errors::MarketError;
use assay_market::state::{DrawSeed, Job, JobState, MarketParams};
use assay_protocol::Verdict;
use assay_stake::constants::{ROLE_PROVIDER, ROLE_VERIFIER};
use assay_stake::errors::StakeError;
use assay_stake::instructions::UpdateConfigArgs;
use assay_testkit::embedded::{ChainError, LocalSetup};
use assay_tests::terms::COLLATERAL;
use assay_tests::{fake_outputs, World, STARTING_TOKENS};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use solana_sdk::signature::Signer;

fn market_code(e: MarketError) -> Option<u32> {
    Some(e as u32 + anchor_lang::error::ERROR_CODE_OFFSET)
}

fn stake_code(e: StakeError) -> Option<u32> {
    Some(e as u32 + anchor_lang::error::ERROR_CODE_OFFSET)
}

/// Advances to one slot past `seed_slot` (a block at the seed slot exists): the seed is
/// public from now on.
async fn reveal(w: &mut World, seed_slot: u64) {
    let slot = w.chain.slot().await.unwrap();
    if slot < seed_slot {
        w.chain.warp(seed_slot - slot).await.unwrap();
    }
    w.chain.warp(1).await.unwrap();
}

/// Advances to `slot` (no-op if already there).
async fn warp_to(w: &mut World, slot: u64) {
    let now = w.chain.slot().await.unwrap();
    if slot > now {
        w.chain.warp(slot - now).await.unwrap();
    }
}

/// What a pending draw makes, as a crank sees it.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    /// A verifier round: its seed and the verifier drawn (bonded or forfeiting).
    Verifier([u8; 32], Option<Pubkey>),
    Committee(Vec<Pubkey>),
}

/// The outcome the pending draw of `job` makes if cranked now (`None`: it waits or
/// lapsed).
async fn outcome_now(w: &mut World, job: &Pubkey) -> Option<Outcome> {
    let state = w.job(job).await;
    if state.state == JobState::Committed {
        let DrawOutcome::Drawn(drawn) = w.chain.draw_outcome(job).await.unwrap() else {
            return None;
        };
        let pending = w.chain.pending_draw(job).await.unwrap();
        let DrawSeed::Ready(hash) = pending.seed else {
            return None;
        };
        let seed = assay_protocol::challenge_seed(&job.to_bytes(), &hash, &state.result_root);
        Some(Outcome::Verifier(seed, drawn))
    } else {
        w.chain
            .predict_committee(job)
            .await
            .unwrap()
            .map(Outcome::Committee)
    }
}

/// The outcome the draw of `job` made (read after the crank landed).
fn outcome_made(before: &Job, after: &Job) -> Outcome {
    if before.state == JobState::Committed {
        let drawn = after
            .verifier
            .filter(|_| after.round == before.round)
            .or(after
                .past_verifiers
                .last()
                .copied()
                .filter(|v| !before.past_verifiers.contains(v)));
        Outcome::Verifier(after.seed, drawn)
    } else {
        Outcome::Committee(after.committee.clone())
    }
}

/// Sends the crank of `job`'s pending draw (naming the predicted verifier).
async fn crank(w: &mut World, job: &Pubkey) -> Result<(), ChainError> {
    let state = w.job(job).await;
    let d = w.chain.deployment;
    let ix = if state.state == JobState::Committed {
        let drawn = w.chain.predict_draw(job).await?;
        d.draw_challenge(job, &state, drawn.as_ref())
    } else {
        let seats = w.chain.predict_committee(job).await?.unwrap_or_default();
        d.draw_committee(job, &state, &seats)
    };
    w.chain.send(&[ix], &[]).await.map(drop)
}

/// Tokens each operator has deposited now.
async fn deposits(w: &mut World, who: &[Pubkey]) -> Vec<u64> {
    let mut out = vec![];
    for k in who {
        out.push(
            w.chain
                .operator(k)
                .await
                .unwrap()
                .map_or(0, |o| o.deposited),
        );
    }
    out
}

// ---------------------------------------------------------------------------------------
// The property.

/// Which draw a case arms.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Round,
    Contest,
    Challenge,
}

/// When the draw is cranked, in slots after its seed slot.
#[derive(Debug, Clone, Copy)]
enum Delay {
    /// At a random slot of the window (1 ..= draw window).
    Within(u64),
    /// Just past the window.
    JustPast,
    /// Past SlotHashes' 512 slots.
    PastSlotHashes,
    /// One or more draw epochs later.
    Epochs(u64),
}

fn delay() -> impl Strategy<Value = Delay> {
    let window = LocalSetup::default().market.draw_window_slots;
    prop_oneof![
        3 => (1..=window).prop_map(Delay::Within),
        1 => Just(Delay::JustPast),
        1 => Just(Delay::PastSlotHashes),
        1 => (1u64..=3).prop_map(Delay::Epochs),
    ]
}

impl Delay {
    fn slots(self, window: u64, epoch: u64) -> u64 {
        match self {
            Delay::Within(d) => d,
            Delay::JustPast => window + 1,
            Delay::PastSlotHashes => 513,
            Delay::Epochs(n) => n * epoch + 1,
        }
    }
}

/// A world with a buyer, a provider, five verifiers and a challenger (a provider-only
/// operator), and job 1 with its `kind` of draw armed; returns the job.
async fn armed(kind: Kind) -> (World, Pubkey, Pubkey) {
    let mut w = World::new(LocalSetup::default(), 1, 1, 5).await.unwrap();
    let challenger = w.operator(ROLE_PROVIDER).await.unwrap().pubkey();
    w.chain.next_epoch().await.unwrap();
    let job = w.post(0, World::job_args(1)).await.unwrap();
    w.claim(0, &job).await.unwrap();
    let tree = w.commit(0, &job, 7).await.unwrap();
    match kind {
        Kind::Round => {}
        Kind::Contest => {
            w.chain.crank_draw(&job).await.unwrap();
            w.report_unavailable(&job).await.unwrap();
            w.contest_only(&job).await.unwrap();
        }
        Kind::Challenge => {
            w.chain.crank_draw(&job).await.unwrap();
            w.pass(&job).await.unwrap();
            let passed = w.job(&job).await;
            let index = assay_protocol::sample_indices(&passed.seed, passed.n_chunks, 1)[0];
            w.challenge_pass(&challenger, &job, &tree, index, [9; 32])
                .await
                .unwrap();
        }
    }
    (w, job, challenger)
}

/// One case: the draw of `kind`, the party the timely draw names unstaking everything
/// (`unstake_drawn`), cranked `delay` after its seed slot.
async fn late_crank_case(kind: Kind, delay: Delay, unstake_drawn: bool) -> Result<(), String> {
    let (mut w, job, _) = armed(kind).await;
    let armed_job = w.job(&job).await;
    reveal(&mut w, armed_job.seed_slot).await;
    let timely = outcome_now(&mut w, &job)
        .await
        .ok_or("no timely outcome at the first slot the seed is public")?;
    // The drawn verifier tries to dodge: it asks to unstake everything.
    if let (true, Outcome::Verifier(_, Some(v))) = (unstake_drawn, &timely) {
        let available = w.chain.operator(v).await.unwrap().unwrap().available();
        let k = w.key(v).insecure_clone();
        let ix = w.chain.deployment.request_unstake(v, available);
        w.chain
            .send(&[ix], &[&k])
            .await
            .map_err(|e| e.to_string())?;
    }
    let window = armed_job.params.draw_window_slots;
    let late = delay.slots(window, armed_job.epoch_slots);
    warp_to(&mut w, armed_job.seed_slot + late).await;
    let parties: Vec<Pubkey> = armed_job
        .provider
        .into_iter()
        .chain(armed_job.accuser)
        .chain(
            armed_job
                .verifier
                .filter(|_| matches!(kind, Kind::Challenge)),
        )
        .collect();
    let before = deposits(&mut w, &parties).await;
    let sent = crank(&mut w, &job).await;
    if late <= window {
        sent.map_err(|e| format!("crank {late} slots late: {e}"))?;
        let made = outcome_made(&armed_job, &w.job(&job).await);
        if made != timely {
            return Err(format!(
                "{late} slots late drew {made:?}, timely {timely:?}"
            ));
        }
        if let (true, Outcome::Verifier(_, Some(v))) = (unstake_drawn, &timely) {
            // Bonded from its pending unstake: it cannot dodge by unstaking.
            let op = w.chain.operator(v).await.unwrap().unwrap();
            if op.locked < armed_job.verifier_bond {
                return Err(format!(
                    "the unstaking verifier escaped its bond: locked {}",
                    op.locked
                ));
            }
        }
        return Ok(());
    }
    if sent.as_ref().err().and_then(|e| e.custom_code()) != market_code(MarketError::DrawLapsed) {
        return Err(format!(
            "a crank {late} slots late was not refused as lapsed: {sent:?}"
        ));
    }
    let state = w.job(&job).await;
    w.chain
        .send(&[w.chain.deployment.lapse_draw(&job, &state).unwrap()], &[])
        .await
        .map_err(|e| format!("lapse_draw: {e}"))?;
    let after = deposits(&mut w, &parties).await;
    // The provider loses its collateral, the accuser and a challenged pass's verifier
    // their bonds.
    let bonds = [armed_job.accuser_bond(), armed_job.verifier_bond];
    let worst: Vec<u64> = std::iter::once(armed_job.collateral)
        .chain(bonds.into_iter().take(parties.len() - 1))
        .collect();
    let lost: Vec<u64> = before.iter().zip(&after).map(|(b, a)| b - a).collect();
    if lost != worst {
        return Err(format!(
            "lapsed: parties lost {lost:?}, their worst outcome is {worst:?}"
        ));
    }
    if w.chain.job(&job).await.unwrap().is_some() {
        return Err("a lapsed job is still open".into());
    }
    Ok(())
}

#[test]
fn a_draw_cranked_late_is_the_timely_draw_or_lapses_to_every_partys_worst_outcome() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let cases = std::env::var("ASSAY_DRAW_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(24);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let kind = prop_oneof![
        Just(Kind::Round),
        Just(Kind::Contest),
        Just(Kind::Challenge)
    ];
    let ran = std::cell::Cell::new(0u32);
    let result = runner.run(&(kind, delay(), any::<bool>()), |(kind, delay, unstake)| {
        ran.set(ran.get() + 1);
        rt.block_on(late_crank_case(kind, delay, unstake))
            .map_err(|e| TestCaseError::fail(format!("{kind:?} {delay:?} unstake {unstake}: {e}")))
    });
    println!("late cranks: property cases: {}", ran.get());
    result.unwrap();
}

// ---------------------------------------------------------------------------------------
// The attacks, as named scenes.

/// Jobs `ids` posted by buyer 0, claimed and committed by provider 0 (committing
/// `fake_outputs(job, n, 7)`), one job to a transaction (the instruction trace limit).
async fn committed_jobs(w: &mut World, ids: std::ops::Range<u64>) -> Vec<Pubkey> {
    let d = w.chain.deployment;
    let (buyer, provider) = (
        w.buyers[0].insecure_clone(),
        w.providers[0].insecure_clone(),
    );
    let mut jobs = vec![];
    let ids: Vec<u64> = ids.collect();
    for batch in ids.chunks(1) {
        let mut ixs = vec![];
        for &id in batch {
            let args = World::job_args(id);
            let job = assay_client::pda::job(&buyer.pubkey(), id);
            let (tree, _) = fake_outputs(&job, args.n_chunks, 7);
            ixs.push(d.post_job(&buyer.pubkey(), args));
            ixs.push(d.claim_job(&provider.pubkey(), &job));
            ixs.push(d.commit_result(&provider.pubkey(), &job, tree.root(), "file:///x".into()));
            jobs.push(job);
        }
        w.chain.send(&ixs, &[&buyer, &provider]).await.unwrap();
    }
    jobs
}

/// The provider also runs a verifier identity holding 1 % of the verifier stake. Before,
/// it declined every draw that did not name its sybil until the draw re-armed (about
/// 250 looks got it drawn for its own job). Now a declined draw lapses and costs the
/// provider its collateral: over 1,000 declines the sybil is drawn no more often than
/// its weight share, and every decline was paid for.
#[tokio::test]
async fn provider_declining_draws_gets_its_one_percent_sybil_drawn_no_more_often_than_its_share() {
    const DECLINES: u64 = 1_000;
    // Every verifier, the sybil included, stakes enough for 47 bonds: the sybil is never
    // short of stake for its bond, so it stays in the draw at its full weight.
    let stake = STARTING_TOKENS;
    let mut w = World::new(LocalSetup::default(), 1, 1, 0).await.unwrap();
    w.add_verifiers(99, stake).await.unwrap();
    let sybil = w.registered(ROLE_VERIFIER, stake).await.unwrap().pubkey();
    let provider = w.providers[0].pubkey();
    // Enough stake for a thousand collaterals, and a thousand jobs' rent for the buyer.
    fund_provider(&mut w, (DECLINES + 100) * COLLATERAL).await;
    let buyer = w.buyers[0].pubkey();
    w.chain.airdrop(&buyer, 20_000_000_000).await.unwrap();
    w.chain.mint_to(&buyer, 1_000_000_000).await.unwrap();
    w.chain.next_epoch().await.unwrap();
    let stake_before = deposits(&mut w, &[provider]).await[0];
    let (mut drawn, mut declined) = (0u64, 0u64);
    let mut next_id = 1;
    while declined < DECLINES {
        let jobs = committed_jobs(&mut w, next_id..next_id + 40).await;
        next_id += 40;
        let seed_slot = jobs_last_seed(&mut w, &jobs).await;
        // Read before any draw is made: a drawn job has no pending draw (deadline 0).
        let mut deadline = 0;
        for job in &jobs {
            deadline = deadline.max(w.job(job).await.draw_deadline_slot);
        }
        reveal(&mut w, seed_slot).await;
        for job in &jobs {
            match outcome_now(&mut w, job).await {
                Some(Outcome::Verifier(_, Some(v))) if v == sybil => {
                    crank(&mut w, job)
                        .await
                        .unwrap_or_else(|e| panic!("cranking the sybil's draw: {e}"));
                    drawn += 1;
                }
                // Declined: it waits, hoping for another draw. There is none.
                _ => declined += 1,
            }
        }
        warp_to(&mut w, deadline + 1).await;
        for job in &jobs {
            let state = w.job(job).await;
            if state.state != JobState::Committed {
                continue;
            }
            let refused = crank(&mut w, job).await;
            assert_eq!(
                refused.as_ref().err().and_then(|e| e.custom_code()),
                market_code(MarketError::DrawLapsed),
                "a declined draw is never made later: {refused:?} (deadline {}, window closed \
                 after {deadline})",
                state.draw_deadline_slot,
            );
            w.chain
                .send(&[w.chain.deployment.lapse_draw(job, &state).unwrap()], &[])
                .await
                .unwrap_or_else(|e| panic!("lapse_draw after {declined} declines: {e}"));
        }
    }
    let looks = drawn + declined;
    // Binomial(looks, 1 %): mean about 10, standard deviation about 3.2.
    let bound = looks as f64 * 0.01 + 5.0 * (looks as f64 * 0.01 * 0.99).sqrt();
    println!("sybil drawn {drawn} times in {looks} draws (1 % of the weight; bound {bound:.1})");
    assert!((drawn as f64) <= bound, "sybil drawn {drawn} of {looks}");
    let lost = stake_before - deposits(&mut w, &[provider]).await[0];
    assert_eq!(
        lost,
        declined * COLLATERAL,
        "every decline cost the collateral"
    );
}

/// Provider 0 stakes `amount` more (freshly minted), for many jobs' collateral at once.
async fn fund_provider(w: &mut World, amount: u64) {
    let p = w.providers[0].insecure_clone();
    w.chain.mint_to(&p.pubkey(), amount).await.unwrap();
    w.minted += amount;
    let ix = w.chain.deployment.deposit(&p.pubkey(), amount);
    w.chain.send(&[ix], &[&p]).await.unwrap();
}

/// The latest seed slot among `jobs`.
async fn jobs_last_seed(w: &mut World, jobs: &[Pubkey]) -> u64 {
    let mut last = 0;
    for job in jobs {
        last = last.max(w.job(job).await.seed_slot);
    }
    last
}

/// A provider that faked half of its eight chunks waits before cranking, hoping for a
/// sample that misses them (before: 6–13 re-rolls got it paid). The sample it gets at any
/// slot of the window is the one it would have got at once, and after the window the job
/// lapses with its collateral slashed: it is caught exactly as often as an honest-timed
/// crank, job by job.
#[tokio::test]
async fn provider_that_fakes_half_its_chunks_and_waits_is_caught_as_often_as_one_that_cranks_at_once(
) {
    let mut w = World::new(LocalSetup::default(), 1, 1, 4).await.unwrap();
    fund_provider(&mut w, 40 * COLLATERAL).await;
    let faked = |i: u32| i % 2 == 1;
    let (mut caught_timely, mut caught_late, mut lapsed) = (0, 0, 0);
    let window = LocalSetup::default().market.draw_window_slots;
    for n in 0..32u64 {
        let job = &committed_jobs(&mut w, n + 1..n + 2).await[0];
        let state = w.job(job).await;
        reveal(&mut w, state.seed_slot).await;
        let Some(Outcome::Verifier(seed, _)) = outcome_now(&mut w, job).await else {
            panic!("the seed of {job} is public");
        };
        let timely_catches = assay_protocol::sample_indices(&seed, 8, 3)
            .into_iter()
            .any(faked);
        // Wait: a different number of slots for each job, sometimes past the window.
        let late = 1 + (n * 37) % (window + 20);
        warp_to(&mut w, state.seed_slot + late).await;
        if late <= window {
            crank(&mut w, job).await.unwrap();
            let after = w.job(job).await;
            assert_eq!(after.seed, seed, "job {n}: the sample of the seed slot");
            let late_catches = assay_protocol::sample_indices(&after.seed, 8, 3)
                .into_iter()
                .any(faked);
            assert_eq!(late_catches, timely_catches, "job {n}");
            caught_timely += usize::from(timely_catches);
            caught_late += usize::from(late_catches);
        } else {
            let refused = crank(&mut w, job).await;
            assert_eq!(
                refused.err().and_then(|e| e.custom_code()),
                market_code(MarketError::DrawLapsed)
            );
            let provider = state.provider.unwrap();
            let before = deposits(&mut w, &[provider]).await[0];
            w.chain
                .send(&[w.chain.deployment.lapse_draw(job, &state).unwrap()], &[])
                .await
                .unwrap();
            // Lapsed: slashed, as if caught, whatever the sample would have been.
            assert_eq!(
                before - deposits(&mut w, &[provider]).await[0],
                state.collateral
            );
            lapsed += 1;
        }
    }
    println!(
        "cranked in the window: caught {caught_late}, at once {caught_timely}; {lapsed} waited past it and were slashed"
    );
    assert_eq!(caught_late, caught_timely);
    assert!(lapsed > 0 && caught_timely > 0, "both paths exercised");
}

/// A party to a contest re-rolls its committee by not cranking (before: 1–7 looks packed
/// it with its sybils). The committee a late crank draws is the one of the first slot the
/// seed was public; past the window the contest lapses and both the contesting provider
/// and the accuser lose their stakes.
#[tokio::test]
async fn party_rerolling_a_committee_cannot_raise_its_sybils_seat_share() {
    let window = LocalSetup::default().market.draw_window_slots;
    let mut seats_timely = 0usize;
    let mut seats_late = 0usize;
    for (n, late) in [1, 20, 60, window, 200, 700].into_iter().enumerate() {
        let (mut w, job, _) = armed(if n % 2 == 0 {
            Kind::Contest
        } else {
            Kind::Challenge
        })
        .await;
        // The provider's sybils: the first two verifiers.
        let sybils: Vec<Pubkey> = w.verifiers[..2].iter().map(|k| k.pubkey()).collect();
        let state = w.job(&job).await;
        reveal(&mut w, state.seed_slot).await;
        let Some(Outcome::Committee(timely)) = outcome_now(&mut w, &job).await else {
            panic!("a committee is due");
        };
        seats_timely += timely.iter().filter(|m| sybils.contains(m)).count();
        warp_to(&mut w, state.seed_slot + late).await;
        let sent = crank(&mut w, &job).await;
        if late <= window {
            sent.unwrap();
            let drawn = w.job(&job).await.committee;
            assert_eq!(drawn, timely, "{late} slots late");
            seats_late += drawn.iter().filter(|m| sybils.contains(m)).count();
        } else {
            assert_eq!(
                sent.err().and_then(|e| e.custom_code()),
                market_code(MarketError::DrawLapsed)
            );
            let state = w.job(&job).await;
            let events = w
                .chain
                .send_with_events(&[w.chain.deployment.lapse_draw(&job, &state).unwrap()], &[])
                .await
                .unwrap();
            let lapse = events
                .iter()
                .find_map(|e| match e {
                    AssayEvent::DrawLapsed(l) => Some(l.clone()),
                    _ => None,
                })
                .expect("DrawLapsed");
            assert_eq!(lapse.provider_slashed, state.collateral);
            assert_eq!(lapse.accuser_slashed, state.accuser_bond());
        }
    }
    assert!(
        seats_late <= seats_timely,
        "late {seats_late} > timely {seats_timely}"
    );
}

/// A sybil sees the seed name it for a job it would rather not audit, and asks to unstake
/// everything before the draw lands (before: it forfeited for free, and two such sybils
/// turned a garbage job into a full payment). Its bond is taken from its pending unstake:
/// it is assigned; it misses its window and pays the miss penalty; the next round's
/// verifier audits the job. A sybil that locked its stake elsewhere instead forfeits and
/// pays the penalty out of what it has left.
#[tokio::test]
async fn sybil_that_unstakes_after_its_draw_is_armed_pays_the_penalty_and_the_job_is_still_audited()
{
    let mut w = World::new(LocalSetup::default(), 1, 1, 4).await.unwrap();
    let d = w.chain.deployment;
    let mut id = 1;
    let (job, sybil) = loop {
        let job = committed_jobs(&mut w, id..id + 1).await[0];
        id += 1;
        let state = w.job(&job).await;
        reveal(&mut w, state.seed_slot).await;
        if let Some(Outcome::Verifier(_, Some(v))) = outcome_now(&mut w, &job).await {
            break (job, v);
        }
    };
    let k = w.key(&sybil).insecure_clone();
    let available = w.chain.operator(&sybil).await.unwrap().unwrap().available();
    w.chain
        .send(&[d.request_unstake(&sybil, available)], &[&k])
        .await
        .unwrap();
    crank(&mut w, &job).await.unwrap();
    let state = w.job(&job).await;
    assert_eq!(state.verifier, Some(sybil), "assigned despite unstaking");
    let op = w.chain.operator(&sybil).await.unwrap().unwrap();
    let bond = state.verifier_bond;
    assert_eq!((op.locked, op.unstaking), (bond, available - bond));
    // It stays silent; anyone advances the round; it pays the penalty.
    warp_to(&mut w, state.step_deadline_slot + 1).await;
    let events = w
        .chain
        .send_with_events(&[d.advance_round(&job, &state).unwrap()], &[])
        .await
        .unwrap();
    assert!(events.iter().any(|e| matches!(e,
        AssayEvent::VerifierMissedWindow(m) if m.verifier == sybil && m.penalty == state.params.verifier_miss_penalty)));
    // The next round is drawn and audits the job.
    let next = w
        .chain
        .crank_draw(&job)
        .await
        .unwrap()
        .expect("another verifier");
    assert_ne!(next, sybil);
    w.pass(&job).await.unwrap();
    assert_eq!(w.job(&job).await.state, JobState::Passed);

    // A sybil with its stake locked elsewhere when drawn forfeits, paying the penalty.
    let (job2, sybil2) = loop {
        let job = committed_jobs(&mut w, id..id + 1).await[0];
        id += 1;
        let state = w.job(&job).await;
        reveal(&mut w, state.seed_slot).await;
        if let Some(Outcome::Verifier(_, Some(v))) = outcome_now(&mut w, &job).await {
            if v != next && v != sybil {
                break (job, v);
            }
        }
        warp_to(&mut w, state.draw_deadline_slot + 1).await;
        w.chain.crank_lapse(&job).await.unwrap();
    };
    let op = w.chain.operator(&sybil2).await.unwrap().unwrap();
    // Leave it less than the bond but more than the penalty unlocked, as if it had locked
    // the rest in other jobs (claims as a provider, challenges) after the draw was armed.
    let keep = state.params.verifier_miss_penalty + 1;
    let mut raw = op.clone();
    raw.locked = op.deposited - keep;
    let mut data = vec![];
    raw.try_serialize(&mut data).unwrap();
    w.chain
        .set_account_data(&assay_client::pda::operator(&sybil2), data)
        .await
        .unwrap();
    let treasury = w.treasury_balance().await;
    let state2 = w.job(&job2).await;
    let drawn = w.chain.predict_draw(&job2).await.unwrap();
    let events = w
        .chain
        .send_with_events(&[d.draw_challenge(&job2, &state2, drawn.as_ref())], &[])
        .await
        .unwrap();
    assert!(events.iter().any(|e| matches!(e,
        AssayEvent::VerifierForfeited(f) if f.verifier == sybil2 && f.penalty == state2.params.verifier_miss_penalty)));
    assert_eq!(
        w.treasury_balance().await - treasury,
        state2.params.verifier_miss_penalty
    );
    assert_eq!(
        w.job(&job2).await.state,
        JobState::Committed,
        "the next round is armed"
    );
}

/// The lazy verifier's accomplice files false challenges (before: after 255 of them every
/// real challenge failed with Overflow, a canary's included, and the lazy pass was paid).
/// Each voided challenge costs the accomplice the miss penalty; contests are numbered
/// with a wrapping 32-bit counter; the 257th challenge, an honest one, gets in and is
/// upheld. At the counter's limit the next challenge still gets in.
#[tokio::test]
async fn two_hundred_fifty_six_false_challenges_do_not_stop_the_honest_two_hundred_fifty_seventh() {
    let mut w = World::new(LocalSetup::default(), 1, 1, 6).await.unwrap();
    let accomplice = w.operator(ROLE_PROVIDER).await.unwrap().pubkey();
    let honest = w.operator(ROLE_PROVIDER).await.unwrap().pubkey();
    let (job, tree, lazy) = w.passed_job(1).await.unwrap();
    let index = assay_protocol::sample_indices(&w.job(&job).await.seed, 8, 3)[0];
    let penalty = LocalSetup::default().market.verifier_miss_penalty;
    let before = deposits(&mut w, &[accomplice]).await[0];
    for n in 0..256u32 {
        w.challenge_pass(&accomplice, &job, &tree, index, [n as u8; 32])
            .await
            .unwrap_or_else(|e| panic!("false challenge {n}: {e}"));
        w.chain.crank_committee(&job).await.unwrap();
        let state = w.job(&job).await;
        warp_to(&mut w, state.step_deadline_slot + 1).await;
        w.chain
            .send(
                &[w.chain.deployment.void_challenge(&job, &state).unwrap()],
                &[],
            )
            .await
            .unwrap();
    }
    let spent = before - deposits(&mut w, &[accomplice]).await[0];
    assert_eq!(
        spent,
        256 * penalty,
        "every voided challenge cost the penalty"
    );
    assert_eq!(w.job(&job).await.contests, 256);
    // The honest challenger shows the chunk is not what the provider committed (the
    // outputs are fake) and the committee upholds: the lazy pass is slashed.
    w.challenge_pass(&honest, &job, &tree, index, [0xEE; 32])
        .await
        .unwrap();
    let committee = w.chain.crank_committee(&job).await.unwrap();
    let ixs = w
        .resolve_instructions(&job, &committee, Verdict::UpholdFault)
        .await;
    let lazy_before = deposits(&mut w, &[lazy]).await[0];
    w.chain.send(&ixs, &[]).await.unwrap();
    assert!(w.chain.job(&job).await.unwrap().is_none());
    assert_eq!(
        lazy_before - deposits(&mut w, &[lazy]).await[0],
        assay_tests::terms::BOND
    );

    // At the counter's limit: a job whose contests counter is u32::MAX still takes a
    // challenge (it wraps to 0), and votes signed for contest u32::MAX do not count.
    let (job, tree, _) = w.passed_job(2).await.unwrap();
    let index = assay_protocol::sample_indices(&w.job(&job).await.seed, 8, 3)[0];
    let mut state = w.job(&job).await;
    state.contests = u32::MAX;
    let mut data = vec![];
    state.try_serialize(&mut data).unwrap();
    data.resize(Job::SIZE, 0);
    w.chain.set_account_data(&job, data).await.unwrap();
    let stale = w.job(&job).await;
    w.challenge_pass(&honest, &job, &tree, index, [0xEE; 32])
        .await
        .unwrap();
    let committee = w.chain.crank_committee(&job).await.unwrap();
    let now = w.job(&job).await;
    assert_eq!(now.contests, 0);
    let votes: Vec<_> = committee
        .iter()
        .map(|m| {
            let message = assay_client::ix::vote_message(&job, &stale, Verdict::UpholdFault);
            let message = assay_protocol::AttestationMessage {
                evidence_hash: now.fault_evidence,
                ..message
            };
            (
                ed25519_dalek::SigningKey::from_bytes(w.key(m).secret_bytes()),
                message,
            )
        })
        .collect();
    let replay = [
        assay_client::ix::vote_instruction(&votes),
        w.chain.deployment.uphold_challenge(&job, &now).unwrap(),
    ];
    assert_eq!(
        w.chain
            .send(&replay, &[])
            .await
            .err()
            .and_then(|e| e.custom_code()),
        market_code(MarketError::AttestationMismatch)
    );
    let ixs = w
        .resolve_instructions(&job, &committee, Verdict::UpholdFault)
        .await;
    w.chain.send(&ixs, &[]).await.unwrap();
    assert!(w.chain.job(&job).await.unwrap().is_none());
}

// ---------------------------------------------------------------------------------------
// The parameter rules.

/// Every parameter set under which a draw or a vote could never complete, a missed step
/// would cost nothing, or (issue #27) auditing, diligence or honesty would stop paying, is
/// refused by both `initialize_config` and `update_config` with its own named error; the
/// stake program refuses a cooldown shorter than an epoch.
#[tokio::test]
async fn every_parameter_set_that_could_strand_a_job_is_refused_with_its_named_error() {
    let base = LocalSetup::default();
    let epoch = base.stake.epoch_slots;
    type Rule = (&'static str, fn(&mut MarketParams, u64), MarketError);
    let rules: [Rule; 18] = [
        (
            "draw window longer than SlotHashes keeps",
            |p, _| p.draw_window_slots = 513,
            MarketError::DrawWindowOutOfRange,
        ),
        (
            "zero draw window",
            |p, _| p.draw_window_slots = 0,
            MarketError::DrawWindowOutOfRange,
        ),
        (
            "draw window as long as an epoch",
            |p, e| p.draw_window_slots = e,
            MarketError::DrawWindowNotShorterThanEpoch,
        ),
        (
            "zero challenge delay",
            |p, _| p.challenge_delay_slots = 0,
            MarketError::StepWindowOutOfRange,
        ),
        (
            "zero verdict window",
            |p, _| p.verdict_window_slots = 0,
            MarketError::StepWindowOutOfRange,
        ),
        (
            "zero dispute window",
            |p, _| p.dispute_window_slots = 0,
            MarketError::StepWindowOutOfRange,
        ),
        (
            "zero vote window",
            |p, _| p.vote_window_slots = 0,
            MarketError::StepWindowOutOfRange,
        ),
        (
            "vote window beyond the step limit",
            |p, _| p.vote_window_slots = u64::MAX,
            MarketError::StepWindowOutOfRange,
        ),
        (
            "zero pass window",
            |p, _| p.pass_window_slots = 0,
            MarketError::PassWindowOutOfRange,
        ),
        (
            "zero bond",
            |p, _| {
                p.verifier_bond = 0;
                p.verifier_miss_penalty = 0
            },
            MarketError::ZeroBond,
        ),
        (
            "zero miss penalty",
            |p, _| p.verifier_miss_penalty = 0,
            MarketError::ZeroPenalty,
        ),
        (
            "zero rounds",
            |p, _| p.max_verifier_rounds = 0,
            MarketError::InvalidRoundCount,
        ),
        (
            "empty committee",
            |p, _| p.committee_size = 0,
            MarketError::InvalidCommitteeSize,
        ),
        (
            "zero minimum samples",
            |p, _| p.min_samples = 0,
            MarketError::InvalidMinSamples,
        ),
        (
            "sampled chunk paid below its price share",
            |p, _| p.sample_fee_bps = MIN_SAMPLE_FEE_BPS - 1,
            MarketError::SampleFeeBelowFloor,
        ),
        (
            "bond below 50 fees",
            |p, _| p.bond_fee_multiple = MIN_BOND_FEE_MULTIPLE - 1,
            MarketError::BondMultipleBelowFloor,
        ),
        (
            "collateral floor below 3.2 prices",
            |p, _| p.min_collateral_bps = MIN_COLLATERAL_FLOOR_BPS - 1,
            MarketError::CollateralFloorBelowMinimum,
        ),
        (
            "collateral floor above the collateral cap",
            |p, _| p.min_collateral_bps = MAX_COLLATERAL_BPS + 1,
            MarketError::InvalidCollateralFloor,
        ),
    ];
    let mut w = World::new(base.clone(), 0, 0, 0).await.unwrap();
    let admin = w.chain.admin.insecure_clone();
    let mut wrong = vec![];
    for (name, breaks, error) in rules {
        let mut params = base.market.clone();
        breaks(&mut params, epoch);
        let update = w
            .chain
            .deployment
            .update_config(&admin.pubkey(), params.clone());
        let got = w
            .chain
            .send(&[update], &[&admin])
            .await
            .err()
            .and_then(|e| e.custom_code());
        // initialize_config on a fresh deployment whose stake program is initialized.
        let mut chain = assay_testkit::embedded::LocalChain::boot(&base)
            .await
            .unwrap();
        let dev = chain.admin.insecure_clone();
        let stake_init = chain
            .deployment
            .stake_initialize(&dev.pubkey(), base.stake.clone());
        chain.send(&[stake_init], &[&dev]).await.unwrap();
        let init = chain.deployment.initialize_config(&dev.pubkey(), params);
        let got_init = chain
            .send(&[init], &[&dev])
            .await
            .err()
            .and_then(|e| e.custom_code());
        if got != market_code(error) || got_init != market_code(error) {
            wrong.push(format!(
                "{name}: update {got:?}, initialize {got_init:?}, want {error:?}"
            ));
        }
    }
    // The stake program: a cooldown shorter than an epoch, at initialize and update.
    let short = UpdateConfigArgs {
        unstake_cooldown_slots: epoch - 1,
        ..base.stake.tunables()
    };
    let got = w
        .chain
        .send(
            &[w.chain
                .deployment
                .stake_update_config(&admin.pubkey(), short)],
            &[&admin],
        )
        .await
        .err()
        .and_then(|e| e.custom_code());
    if got != stake_code(StakeError::CooldownShorterThanEpoch) {
        wrong.push(format!(
            "stake update_config, cooldown under an epoch: {got:?}"
        ));
    }
    let mut chain = assay_testkit::embedded::LocalChain::boot(&base)
        .await
        .unwrap();
    let dev = chain.admin.insecure_clone();
    let mut init = base.stake.clone();
    init.unstake_cooldown_slots = init.epoch_slots - 1;
    let got = chain
        .send(
            &[chain.deployment.stake_initialize(&dev.pubkey(), init)],
            &[&dev],
        )
        .await
        .err()
        .and_then(|e| e.custom_code());
    if got != stake_code(StakeError::CooldownShorterThanEpoch) {
        wrong.push(format!(
            "stake initialize, cooldown under an epoch: {got:?}"
        ));
    }
    println!("parameter rules checked: {}", rules.len() + 2);
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
