//! `assay economics`: the audit-strength calculator, the sybil side (how likely an
//! attacker with a share of the verifier stake audits itself), and the lazy verifier's
//! side (which canary rate and bond make a blind "pass" a losing bet, and their cost).

use anyhow::{ensure, Result};
use assay_client::economics::{
    attacker_stake, bond_bounds, canary_cost, canary_cost_per_real_job, committee_capture,
    detection_probability, share_for_capture, smallest_safe_committee, verifier_capture, Capture,
    Laziness, Terms,
};
use assay_market::constants::MAX_COMMITTEE;
use clap::Args;

#[derive(Args)]
pub struct EconomicsArgs {
    /// Chunks in the job (N).
    #[arg(long, default_value_t = 4096)]
    chunks: u32,
    /// Chunks the verifier re-executes (k).
    #[arg(long, default_value_t = 64)]
    samples: u32,
    /// What the provider is paid on settlement (price less fees), token base units.
    #[arg(long, default_value_t = 100_000_000)]
    price: u64,
    /// Provider collateral, token base units.
    #[arg(long, default_value_t = 200_000_000)]
    collateral: u64,
    /// The provider's honest cost of computing the whole job, token base units.
    #[arg(long, default_value_t = 80_000_000)]
    provider_cost: u64,
    /// Largest share (0–1) of the verifier stake an attacker is assumed to hold, however
    /// split over identities; the committee size is chosen to withstand it.
    #[arg(long, default_value_t = 0.10)]
    attacker_share: f64,
    /// Committee capture probability (0–1) the recommended committee size must stay under.
    #[arg(long, default_value_t = 0.01)]
    capture_target: f64,
    /// Verifier bond (`verifier_bond`) to check against the bond rule, token base units.
    #[arg(long, default_value_t = 1_000_000)]
    bond: u64,
    /// Share of slashed collateral paid to the accuser (`finder_fee_bps`), basis points.
    #[arg(long, default_value_t = 2_000)]
    finder_fee_bps: u16,
    /// The attesting verifier's fee, token base units (forfeited with the bond when a
    /// blind pass is caught).
    #[arg(long, default_value_t = 5_000_000)]
    verifier_fee: u64,
    /// Share (0–1) of all jobs that are canary jobs with planted faults.
    #[arg(long, default_value_t = 0.02)]
    canary_rate: f64,
    /// Chunks planted wrong in each canary job.
    #[arg(long, default_value_t = 64)]
    planted: u32,
}

/// Canary rates in the lazy-verifier table.
const CANARY_RATES: [f64; 6] = [0.005, 0.01, 0.02, 0.05, 0.10, 0.20];

/// The lazy-verifier section: a blind pass's expected gain by canary rate, the break-even
/// rate, the bond that makes `--canary-rate` enough, and what the canaries cost.
struct Lazy {
    laziness: Laziness,
    rows: Vec<(f64, f64, f64)>,
    break_even: Option<f64>,
    bond_needed: f64,
    cost_per_canary: f64,
    cost_per_real_job: f64,
}

fn lazy(a: &EconomicsArgs) -> Lazy {
    let planted = a.planted.min(a.chunks);
    let laziness = Laziness {
        // The verifier re-executes k of N chunks at the provider's cost per chunk.
        recheck_cost: a.provider_cost as f64 * f64::from(a.samples) / f64::from(a.chunks),
        bond: a.bond,
        fee: a.verifier_fee,
        catch: detection_probability(a.chunks, a.samples, planted),
    };
    let cost_per_canary = canary_cost(
        a.provider_cost,
        a.collateral,
        a.finder_fee_bps,
        a.verifier_fee,
        laziness.catch,
    );
    Lazy {
        laziness,
        rows: CANARY_RATES
            .iter()
            .map(|&rate| (rate, rate * laziness.catch, laziness.lazy_gain(rate)))
            .collect(),
        break_even: laziness.break_even_canary_rate(),
        bond_needed: laziness.bond_for_canary_rate(a.canary_rate),
        cost_per_canary,
        cost_per_real_job: canary_cost_per_real_job(cost_per_canary, a.canary_rate),
    }
}

fn print_lazy(a: &EconomicsArgs, l: &Lazy) {
    let z = &l.laziness;
    println!();
    println!(
        "lazy verifiers: signing \"pass\" blind saves the re-execution of k = {} of {} chunks, e = {:.0}; a caught blind pass costs bond {} + fee {} = {:.0}",
        a.samples,
        a.chunks,
        z.recheck_cost,
        z.bond,
        z.fee,
        z.at_stake()
    );
    println!(
        "{} planted chunks per canary: P(one is in the sample) = {:.6}",
        a.planted.min(a.chunks),
        z.catch
    );
    println!(
        "{:>12} {:>22} {:>24}",
        "canary rate", "P(blind pass caught)", "E[lazy gain] (units)"
    );
    for (rate, caught, gain) in &l.rows {
        println!("{:>11.1}% {caught:>22.6} {gain:>24.0}", rate * 100.0);
    }
    match l.break_even {
        Some(rate) => println!(
            "laziness is a losing bet from a canary rate of {} (e / (p·(bond + fee)))",
            pct(rate)
        ),
        None => println!("no canary rate below 100 % makes laziness lose at this bond and fee"),
    }
    println!(
        "bond that makes --canary-rate {} enough: {:.0} (--bond {}: {})",
        pct(a.canary_rate),
        l.bond_needed,
        a.bond,
        if (a.bond as f64) >= l.bond_needed {
            "enough"
        } else {
            "too small"
        }
    );
    println!(
        "canaries cost their funder {:.0} per canary job (compute + finder share or fee), {:.0} per real job at {}",
        l.cost_per_canary,
        l.cost_per_real_job,
        pct(a.canary_rate)
    );
}

/// Attacker shares in the sybil table.
const SHARES: [f64; 6] = [0.01, 0.05, 0.10, 0.20, 0.33, 0.50];
/// Committee sizes in the sybil table.
const SIZES: [u32; 3] = [3, 5, 7];
/// Largest committee size the recommendation considers (beyond the program's limit, to say
/// how far off it is).
const SEARCH_SIZES: u32 = 99;

/// The sybil section: capture probabilities, the share that buys the target, and the
/// recommended committee size and bond range.
struct Sybil {
    rows: Vec<(f64, f64, Vec<f64>)>,
    verifier_share: f64,
    committee_shares: Vec<f64>,
    /// Smallest odd size under the target at `--attacker-share`, if ≤ `SEARCH_SIZES`.
    recommended: Option<u32>,
    /// The size the checks below use: the recommendation capped at `MAX_COMMITTEE`.
    checked_size: u32,
    capture: f64,
    stake_per_honest: f64,
    never_pays: bool,
    finder_reward: f64,
    bond_range: (f64, f64),
}

fn sybil(a: &EconomicsArgs, terms: &Terms) -> Sybil {
    let s = a.attacker_share;
    let rows = SHARES
        .iter()
        .map(|&share| {
            let committees = SIZES.iter().map(|&n| committee_capture(share, n)).collect();
            (share, verifier_capture(share, 1), committees)
        })
        .collect();
    let target = a.capture_target;
    let recommended = smallest_safe_committee(s, target, SEARCH_SIZES);
    let max = MAX_COMMITTEE as u32;
    let checked_size = recommended.map_or(max, |n| n.min(max));
    let capture = committee_capture(s, checked_size);
    let never_pays = terms.cheating_never_pays_with_capture(Capture {
        verifier: verifier_capture(s, 1),
        committee: capture,
        bond_won: a.bond,
    });
    let finder_reward = a.collateral as f64 * f64::from(a.finder_fee_bps) / 10_000.0;
    Sybil {
        rows,
        verifier_share: target,
        committee_shares: SIZES
            .iter()
            .map(|&n| share_for_capture(target, n).unwrap_or(f64::NAN))
            .collect(),
        recommended,
        checked_size,
        capture,
        stake_per_honest: attacker_stake(s, 1.0),
        never_pays,
        finder_reward,
        bond_range: bond_bounds(capture, finder_reward),
    }
}

fn pct(x: f64) -> String {
    format!("{:.2} %", x * 100.0)
}

pub fn run(a: EconomicsArgs, json: bool) -> Result<()> {
    ensure!(a.chunks >= 1, "--chunks must be at least 1");
    ensure!(
        a.samples >= 1 && a.samples <= a.chunks,
        "--samples must be between 1 and --chunks ({})",
        a.chunks
    );
    ensure!(
        (0.0..1.0).contains(&a.attacker_share),
        "--attacker-share must be in [0, 1)"
    );
    ensure!(
        a.capture_target > 0.0 && a.capture_target < 1.0,
        "--capture-target must be in (0, 1)"
    );
    ensure!(
        a.finder_fee_bps <= 10_000,
        "--finder-fee-bps must be at most 10000"
    );
    ensure!(
        (0.0..1.0).contains(&a.canary_rate),
        "--canary-rate must be in [0, 1)"
    );
    ensure!(a.planted >= 1, "--planted must be at least 1");
    let terms = Terms {
        n_chunks: a.chunks,
        samples: a.samples,
        price: a.price,
        collateral: a.collateral,
        provider_cost: a.provider_cost,
    };
    let fractions = [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0];
    let rows: Vec<(f64, u32, f64, f64)> = fractions
        .iter()
        .map(|f| {
            let faked = ((f * f64::from(a.chunks)).ceil() as u32).clamp(1, a.chunks);
            (
                *f,
                faked,
                detection_probability(a.chunks, a.samples, faked),
                terms.cheating_gain(faked),
            )
        })
        .collect();
    let safe = terms.cheating_never_pays();
    let smallest = terms.smallest_safe_samples(64);
    let sy = sybil(&a, &terms);
    let bond_ok = (a.bond as f64) > sy.bond_range.0 && (a.bond as f64) < sy.bond_range.1;
    let lz = lazy(&a);
    if json {
        let lazy_rows: Vec<_> = lz
            .rows
            .iter()
            .map(|(rate, caught, gain)| serde_json::json!({"canary_rate": rate, "blind_pass_caught": caught, "lazy_gain": gain}))
            .collect();
        let lazy = serde_json::json!({
            "recheck_cost": lz.laziness.recheck_cost,
            "verifier_fee": a.verifier_fee,
            "planted": a.planted.min(a.chunks),
            "planted_in_sample": lz.laziness.catch,
            "rows": lazy_rows,
            "break_even_canary_rate": lz.break_even,
            "canary_rate": a.canary_rate,
            "bond_needed": lz.bond_needed,
            "cost_per_canary": lz.cost_per_canary,
            "cost_per_real_job": lz.cost_per_real_job,
        });
        let rows: Vec<_> = rows
            .iter()
            .map(|(f, faked, p, gain)| serde_json::json!({"fraction": f, "faked_chunks": faked, "detection_probability": p, "expected_gain": gain}))
            .collect();
        let sybil_rows: Vec<_> = sy
            .rows
            .iter()
            .map(|(share, v, c)| serde_json::json!({"share": share, "verifier_per_round": v, "committee_3": c[0], "committee_5": c[1], "committee_7": c[2]}))
            .collect();
        let sybil = serde_json::json!({
            "attacker_share": a.attacker_share,
            "capture_target": a.capture_target,
            "rows": sybil_rows,
            "share_for_capture": {"verifier": sy.verifier_share, "committee_3": sy.committee_shares[0], "committee_5": sy.committee_shares[1], "committee_7": sy.committee_shares[2]},
            "recommended_committee_size": sy.recommended,
            "max_committee": MAX_COMMITTEE,
            "checked_committee_size": sy.checked_size,
            "committee_capture": sy.capture,
            "attacker_stake_per_honest_stake": sy.stake_per_honest,
            "cheating_never_pays_with_capture": sy.never_pays,
            "finder_reward": sy.finder_reward,
            "bond": a.bond,
            "bond_min": sy.bond_range.0,
            "bond_max": sy.bond_range.1,
            "bond_ok": bond_ok,
        });
        println!(
            "{}",
            serde_json::json!({"chunks": a.chunks, "samples": a.samples, "cheating_never_pays": safe, "smallest_safe_samples": smallest, "rows": rows, "sybil": sybil, "lazy_verifiers": lazy})
        );
        return Ok(());
    }
    println!(
        "N = {} chunks, k = {} samples, price {}, collateral {}, provider cost {}",
        a.chunks, a.samples, a.price, a.collateral, a.provider_cost
    );
    println!(
        "{:>10} {:>8} {:>12} {:>16}",
        "faked", "chunks", "P(caught)", "E[gain] (units)"
    );
    for (f, faked, p, gain) in rows {
        println!("{:>9.1}% {faked:>8} {p:>12.6} {gain:>16.0}", f * 100.0);
    }
    println!(
        "cheating never pays at k = {}: {}",
        a.samples,
        if safe { "yes" } else { "no" }
    );
    match smallest {
        Some(k) => println!("smallest k (≤ 64) for which cheating never pays: {k}"),
        None => println!("no k ≤ 64 deters every cheat at these terms: raise the collateral"),
    }
    print_sybil(&a, &sy, bond_ok);
    print_lazy(&a, &lz);
    Ok(())
}

fn print_sybil(a: &EconomicsArgs, sy: &Sybil, bond_ok: bool) {
    let s = a.attacker_share;
    let target = a.capture_target;
    println!();
    println!("sybil: P(the attacker audits itself) by its share of verifier stake (large network)");
    println!(
        "{:>8} {:>15} {:>12} {:>12} {:>12}",
        "share", "verifier/round", "committee-3", "committee-5", "committee-7"
    );
    for (share, v, c) in &sy.rows {
        println!(
            "{:>7.0}% {v:>15.8} {:>12.8} {:>12.8} {:>12.8}",
            share * 100.0,
            c[0],
            c[1],
            c[2]
        );
    }
    println!(
        "stake share for a {} capture: verifier {}, committee-3 {}, committee-5 {}, committee-7 {}",
        pct(target),
        pct(sy.verifier_share),
        pct(sy.committee_shares[0]),
        pct(sy.committee_shares[1]),
        pct(sy.committee_shares[2])
    );
    match sy.recommended {
        Some(n) if n <= MAX_COMMITTEE as u32 => println!(
            "recommended committee_size against a {} attacker (capture ≤ {}): {n} (capture {:.6})",
            pct(s),
            pct(target),
            sy.capture
        ),
        Some(n) => println!(
            "a {} attacker needs a committee of {n} for capture ≤ {}, above the program's limit of {MAX_COMMITTEE}: at {MAX_COMMITTEE} capture is {:.6}",
            pct(s),
            pct(target),
            sy.capture
        ),
        None => println!(
            "no committee of at most {SEARCH_SIZES} keeps a {} attacker under {}: at {MAX_COMMITTEE} capture is {:.6}",
            pct(s),
            pct(target),
            sy.capture
        ),
    }
    println!(
        "a {} share costs the attacker {:.3} × the honest verifier stake; its own verifier is drawn in {} of rounds",
        pct(s),
        sy.stake_per_honest,
        pct(verifier_capture(s, 1))
    );
    println!(
        "cheating never pays at these terms with that attacker and committee {}: {}",
        sy.checked_size,
        if sy.never_pays { "yes" } else { "no" }
    );
    if sy.bond_range.0 >= sy.bond_range.1 {
        println!(
            "bond rule (finder reward {:.0}, capture {:.6} at committee {}): no bond works, capture is too likely",
            sy.finder_reward, sy.capture, sy.checked_size
        );
        return;
    }
    println!(
        "bond rule (finder reward {:.0}, capture {:.6} at committee {}): {:.0} < bond < {:.0}; --bond {}: {}",
        sy.finder_reward,
        sy.capture,
        sy.checked_size,
        sy.bond_range.0,
        sy.bond_range.1,
        a.bond,
        if bond_ok { "ok" } else { "outside" }
    );
}
