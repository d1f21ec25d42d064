//! `assay economics`: the audit-strength calculator, the sybil side (how likely an
//! attacker with a share of the verifier stake audits itself), and the lazy verifier's
//! side (which canary rate and bond make a blind "pass" a losing bet, and their cost).

use std::fmt;

use anyhow::{ensure, Context, Result};
use assay_client::economics::{
    attacker_stake, bond_bounds, canary_cost, canary_cost_per_real_job, committee_capture,
    detection_probability, share_for_capture, smallest_audit_margin, smallest_safe_committee,
    verifier_capture, Assumptions, Capture, DeploymentEconomics, JobShape, Laziness, Terms,
};
use assay_client::Chain;
use assay_market::constants::MAX_COMMITTEE;
use assay_market::state::MarketParams;
use clap::Args;
use serde::Serialize;

use crate::report::{report, Outcome};

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
    /// With the global `--url`: the economics of one posted job of that deployment (its
    /// chunks, samples, price, collateral and fees), by its id; the buyer is `--buyer`.
    #[arg(long, value_name = "ID")]
    job: Option<u64>,
    /// The buyer of `--job` (base58). Default: the signer's key.
    #[arg(long, value_name = "PUBKEY")]
    buyer: Option<String>,
    /// Set by `main` when the global `--url` was given (not a flag of its own).
    #[arg(skip)]
    pub url_given: bool,
    /// The fisherman rate assumed: probability (0–1) that some fisherman re-checks a given
    /// pass within its window (the verifier daemons' `--fisherman-rate`, market-wide).
    #[arg(long, default_value_t = 0.25)]
    fisherman_rate: f64,
    /// Probability (0–1) that a canary's sample holds one of its planted chunks (the
    /// canary operator plants as many chunks as that takes).
    #[arg(long, default_value_t = 0.9)]
    canary_catch: f64,
    /// The provider's compute as a share (0–1) of what it is paid.
    #[arg(long, default_value_t = 0.8)]
    compute_share: f64,
}

/// The reference job of the deployment report when no `--job` is named: 4,096 chunks,
/// 64 sampled, 100 tokens (at 6 decimals), collateral at the market's floor.
const REFERENCE_JOB: JobShape = JobShape {
    n_chunks: 4096,
    samples: 64,
    price: 100_000_000,
    collateral: None,
};

/// The signs every deployment must have, with the figures behind them: what `assay
/// economics` prints first, for the deployment at `--url` or for the terms the code ships
/// (`LocalSetup::default()`).
pub struct DeploymentReport {
    pub source: String,
    pub shape: JobShape,
    pub economics: DeploymentEconomics,
    pub smallest: Option<(f64, JobShape)>,
    pub sybil_share_verifier: f64,
    pub sybil_share_committee: Option<f64>,
    pub committee_size: u8,
}

impl DeploymentReport {
    pub fn of(
        source: String,
        params: &MarketParams,
        shape: JobShape,
        a: &Assumptions,
    ) -> Result<Self> {
        let economics = DeploymentEconomics::of(params, shape, a)
            .map_err(|e| anyhow::anyhow!("the market would not accept this job ({e:?}): {}", e))?;
        Ok(Self {
            source,
            shape,
            economics,
            smallest: smallest_audit_margin(params, a),
            sybil_share_verifier: share_for_capture(0.01, 1).unwrap_or(0.01),
            sybil_share_committee: share_for_capture(0.01, u32::from(params.committee_size)),
            committee_size: params.committee_size,
        })
    }

    /// The `name: value` lines, each with its verdict.
    pub fn lines(&self) -> Vec<(String, f64, &'static str)> {
        let e = &self.economics;
        let sign = |v: f64, good_negative: bool| match (v < 0.0, good_negative) {
            (true, true) | (false, false) => "ok",
            _ => "WRONG SIGN",
        };
        vec![
            (
                "lazy_gain_per_job".into(),
                e.lazy_gain_per_job,
                sign(e.lazy_gain_per_job, true),
            ),
            (
                "cheat_gain_max_lazy_verifiers".into(),
                e.cheat_gain_max_lazy_verifiers,
                sign(e.cheat_gain_max_lazy_verifiers, true),
            ),
            (
                "cheat_gain_max_diligent_verifiers".into(),
                e.cheat_gain_max_diligent_verifiers,
                sign(e.cheat_gain_max_diligent_verifiers, true),
            ),
            (
                "audit_margin_smallest_job".into(),
                self.smallest.map_or(f64::NAN, |(m, _)| m),
                match self.smallest {
                    Some((m, _)) if m > 0.0 => "ok",
                    Some(_) => "WRONG SIGN",
                    None => "no job accepted",
                },
            ),
            (
                "audit_margin_this_job".into(),
                e.audit_margin,
                sign(e.audit_margin, false),
            ),
            ("buyer_overhead_pct".into(), e.buyer_overhead_pct, "info"),
            (
                "sybil_share_for_1pct_verifier_capture".into(),
                self.sybil_share_verifier,
                "info",
            ),
            (
                format!(
                    "sybil_share_for_1pct_committee_{}_capture",
                    self.committee_size
                ),
                self.sybil_share_committee.unwrap_or(f64::NAN),
                "info",
            ),
        ]
    }

    /// True when every sign the economics require holds.
    pub fn signs_hold(&self) -> bool {
        self.lines()
            .iter()
            .all(|(_, _, v)| *v != "WRONG SIGN" && *v != "no job accepted")
    }
}

/// The market parameters to report on: the deployment at the global `--url`, or the
/// terms the code ships; and the job shape (`--job` of that deployment, or the reference).
async fn deployment_terms(
    a: &EconomicsArgs,
    net: &crate::common::Net,
) -> Result<(String, MarketParams, JobShape)> {
    if !a.url_given {
        let shipped = assay_client::deploy::LocalSetup::default().market;
        return Ok((
            "the terms the code ships (LocalSetup::default(), assay localnet, assay demo)".into(),
            shipped,
            REFERENCE_JOB,
        ));
    }
    let endpoint = net.endpoint()?;
    let mut chain = net
        .connect_paying(&solana_sdk::signature::Keypair::new())
        .await?;
    let params = chain.market_config().await?.params;
    let shape = match a.job {
        None => REFERENCE_JOB,
        Some(id) => {
            let buyer = match &a.buyer {
                Some(b) => b.parse().context("--buyer is not a base58 public key")?,
                None => solana_sdk::signature::Signer::pubkey(&net.signer()?),
            };
            let key = assay_client::pda::job(&buyer, id);
            let job = chain
                .job(&key)
                .await?
                .with_context(|| format!("no job {id} of buyer {buyer} at {}", endpoint.url))?;
            // The job's own snapshot of the parameters is what it pays under.
            return Ok((
                format!("job {id} of {buyer} at {}", endpoint.url),
                job.params.clone(),
                JobShape {
                    n_chunks: job.n_chunks,
                    samples: job.samples,
                    price: job.price,
                    collateral: Some(job.collateral),
                },
            ));
        }
    };
    Ok((format!("the deployment at {}", endpoint.url), params, shape))
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
        finder_reward: (a.collateral as f64 * f64::from(a.finder_fee_bps) / 10_000.0) as u64,
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

fn print_lazy(f: &mut fmt::Formatter, a: &EconomicsArgs, l: &Lazy) -> fmt::Result {
    let z = &l.laziness;
    writeln!(f)?;
    writeln!(f,
        "lazy verifiers: signing \"pass\" blind saves the re-execution of k = {} of {} chunks, e = {:.0}; a caught blind pass costs bond {} + the finder share it forgoes {:.0} = {:.0}",
        a.samples,
        a.chunks,
        z.recheck_cost,
        z.bond,
        z.finder_reward,
        z.at_stake()
    )?;
    writeln!(
        f,
        "{} planted chunks per canary: P(one is in the sample) = {:.6}",
        a.planted.min(a.chunks),
        z.catch
    )?;
    writeln!(
        f,
        "{:>12} {:>22} {:>24}",
        "canary rate", "P(blind pass caught)", "E[lazy gain] (units)"
    )?;
    for (rate, caught, gain) in &l.rows {
        writeln!(f, "{:>11.1}% {caught:>22.6} {gain:>24.0}", rate * 100.0)?;
    }
    match l.break_even {
        Some(rate) => writeln!(
            f,
            "laziness is a losing bet from a canary rate of {} (e / (q·(bond + φ·C)))",
            pct(rate)
        )?,
        None => writeln!(
            f,
            "no canary rate below 100 % makes laziness lose at this bond and finder share"
        )?,
    }
    writeln!(
        f,
        "bond that makes --canary-rate {} enough: {:.0} (--bond {}: {})",
        pct(a.canary_rate),
        l.bond_needed,
        a.bond,
        if (a.bond as f64) >= l.bond_needed {
            "enough"
        } else {
            "too small"
        }
    )?;
    writeln!(f,
        "canaries cost their funder {:.0} per canary job (compute + finder share or fee), {:.0} per real job at {}",
        l.cost_per_canary,
        l.cost_per_real_job,
        pct(a.canary_rate)
    )?;
    Ok(())
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

pub async fn run(a: EconomicsArgs, net: &crate::common::Net) -> Outcome {
    a.check()?;
    let (source, params, shape) = deployment_terms(&a, net).await?;
    let assumptions = Assumptions {
        compute_share: a.compute_share,
        canary_rate: a.canary_rate,
        canary_catch: a.canary_catch,
        fisherman_rate: a.fisherman_rate,
    };
    let deployment = DeploymentReport::of(source, &params, shape, &assumptions)?;
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
    let lazy = lazy(&a);
    report(Economics {
        deployment,
        assumptions,
        rows,
        safe,
        smallest,
        sybil: sy,
        bond_ok,
        lazy,
        args: a,
    })
}

/// Everything `assay economics` computed: the deployment's signs, the calculator's rows at
/// the flags' terms, the sybil side and the lazy verifier's side.
struct Economics {
    args: EconomicsArgs,
    deployment: DeploymentReport,
    assumptions: Assumptions,
    /// Per fraction faked: (fraction, chunks faked, P(caught), E[gain] in base units).
    rows: Vec<(f64, u32, f64, f64)>,
    safe: bool,
    smallest: Option<u32>,
    sybil: Sybil,
    bond_ok: bool,
    lazy: Lazy,
}

impl Serialize for Economics {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_value().serialize(serializer)
    }
}

impl fmt::Display for Economics {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let a = &self.args;
        print_deployment(f, &self.deployment, &self.assumptions)?;
        writeln!(f)?;
        writeln!(f, "the calculator, at the terms given by the flags below:")?;
        writeln!(
            f,
            "N = {} chunks, k = {} samples, price {}, collateral {}, provider cost {}",
            a.chunks, a.samples, a.price, a.collateral, a.provider_cost
        )?;
        writeln!(
            f,
            "{:>10} {:>8} {:>12} {:>16}",
            "faked", "chunks", "P(caught)", "E[gain] (units)"
        )?;
        for (fraction, faked, p, gain) in &self.rows {
            writeln!(
                f,
                "{:>9.1}% {faked:>8} {p:>12.6} {gain:>16.0}",
                fraction * 100.0
            )?;
        }
        writeln!(
            f,
            "cheating never pays at k = {}: {}",
            a.samples,
            if self.safe { "yes" } else { "no" }
        )?;
        match self.smallest {
            Some(k) => writeln!(f, "smallest k (≤ 64) for which cheating never pays: {k}")?,
            None => writeln!(
                f,
                "no k ≤ 64 deters every cheat at these terms: raise the collateral"
            )?,
        }
        print_sybil(f, a, &self.sybil, self.bond_ok)?;
        print_lazy(f, a, &self.lazy)
    }
}

impl EconomicsArgs {
    /// Every flag in its range, with a message naming it.
    fn check(&self) -> Result<()> {
        let a = self;
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
        for (name, v) in [
            ("--fisherman-rate", a.fisherman_rate),
            ("--canary-catch", a.canary_catch),
            ("--compute-share", a.compute_share),
        ] {
            ensure!(
                (0.0..=1.0).contains(&v) && v > 0.0,
                "{name} must be in (0, 1]"
            );
        }
        ensure!(
            a.job.is_none() || a.url_given,
            "--job reads a posted job: name the deployment with --url"
        );
        Ok(())
    }
}

impl Economics {
    /// The `--json` form of the whole report.
    fn to_value(&self) -> serde_json::Value {
        let (a, report, rows, safe, smallest) = (
            &self.args,
            &self.deployment,
            &self.rows,
            self.safe,
            self.smallest,
        );
        let (sy, bond_ok, lz) = (&self.sybil, self.bond_ok, &self.lazy);
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
        let deployment: serde_json::Map<String, serde_json::Value> = report
            .lines()
            .into_iter()
            .map(|(name, value, verdict)| {
                (
                    name,
                    serde_json::json!({"value": value, "verdict": verdict}),
                )
            })
            .collect();
        serde_json::json!({"deployment": {"source": report.source, "lines": deployment, "signs_hold": report.signs_hold()}, "chunks": a.chunks, "samples": a.samples, "cheating_never_pays": safe, "smallest_safe_samples": smallest, "rows": rows, "sybil": sybil, "lazy_verifiers": lazy})
    }
}

fn print_deployment(f: &mut fmt::Formatter, r: &DeploymentReport, a: &Assumptions) -> fmt::Result {
    let e = &r.economics;
    writeln!(f, "at {}:", r.source)?;
    writeln!(f,
        "  job: {} chunks, {} sampled, price {}, collateral {}; verifier fee {}, protocol fee {}, verifier bond {}",
        r.shape.n_chunks, r.shape.samples, r.shape.price, e.collateral, e.verifier_fee, e.protocol_fee, e.verifier_bond
    )?;
    writeln!(f,
        "  assumed: compute {:.0} % of the provider's pay, canaries {:.1} % of jobs planting {} chunks (in the sample with p = {:.3}), fishermen re-check {:.0} % of passes",
        a.compute_share * 100.0,
        a.canary_rate * 100.0,
        e.planted,
        e.canary_catch,
        a.fisherman_rate * 100.0
    )?;
    if let Some((_, s)) = r.smallest {
        writeln!(f,
            "  smallest job by audit margin: {} chunks, {} sampled, at its lowest accepted price {}",
            s.n_chunks, s.samples, s.price
        )?;
    }
    for (name, value, verdict) in r.lines() {
        writeln!(f, "{name}: {value:.4}  ({verdict})")?;
    }
    writeln!(
        f,
        "signs: {}",
        if r.signs_hold() {
            "every strategy but honest work loses, and honest auditing pays, at these terms"
        } else {
            "WRONG: at these terms some dishonest strategy pays or honest auditing does not"
        }
    )?;
    Ok(())
}

fn print_sybil(
    f: &mut fmt::Formatter,
    a: &EconomicsArgs,
    sy: &Sybil,
    bond_ok: bool,
) -> fmt::Result {
    let s = a.attacker_share;
    let target = a.capture_target;
    writeln!(f)?;
    writeln!(
        f,
        "sybil: P(the attacker audits itself) by its share of verifier stake (large network)"
    )?;
    writeln!(
        f,
        "{:>8} {:>15} {:>12} {:>12} {:>12}",
        "share", "verifier/round", "committee-3", "committee-5", "committee-7"
    )?;
    for (share, v, c) in &sy.rows {
        writeln!(
            f,
            "{:>7.0}% {v:>15.8} {:>12.8} {:>12.8} {:>12.8}",
            share * 100.0,
            c[0],
            c[1],
            c[2]
        )?;
    }
    writeln!(
        f,
        "stake share for a {} capture: verifier {}, committee-3 {}, committee-5 {}, committee-7 {}",
        pct(target),
        pct(sy.verifier_share),
        pct(sy.committee_shares[0]),
        pct(sy.committee_shares[1]),
        pct(sy.committee_shares[2])
    )?;
    match sy.recommended {
        Some(n) if n <= MAX_COMMITTEE as u32 => writeln!(f,
            "recommended committee_size against a {} attacker (capture ≤ {}): {n} (capture {:.6})",
            pct(s),
            pct(target),
            sy.capture
        )?,
        Some(n) => writeln!(f,
            "a {} attacker needs a committee of {n} for capture ≤ {}, above the program's limit of {MAX_COMMITTEE}: at {MAX_COMMITTEE} capture is {:.6}",
            pct(s),
            pct(target),
            sy.capture
        )?,
        None => writeln!(f,
            "no committee of at most {SEARCH_SIZES} keeps a {} attacker under {}: at {MAX_COMMITTEE} capture is {:.6}",
            pct(s),
            pct(target),
            sy.capture
        )?,
    }
    writeln!(f,
        "a {} share costs the attacker {:.3} × the honest verifier stake; its own verifier is drawn in {} of rounds",
        pct(s),
        sy.stake_per_honest,
        pct(verifier_capture(s, 1))
    )?;
    writeln!(
        f,
        "cheating never pays at these terms with that attacker and committee {}: {}",
        sy.checked_size,
        if sy.never_pays { "yes" } else { "no" }
    )?;
    if sy.bond_range.0 >= sy.bond_range.1 {
        writeln!(f,
            "bond rule (finder reward {:.0}, capture {:.6} at committee {}): no bond works, capture is too likely",
            sy.finder_reward, sy.capture, sy.checked_size
        )?;
        return Ok(());
    }
    writeln!(f,
        "bond rule (finder reward {:.0}, capture {:.6} at committee {}): {:.0} < bond < {:.0}; --bond {}: {}",
        sy.finder_reward,
        sy.capture,
        sy.checked_size,
        sy.bond_range.0,
        sy.bond_range.1,
        a.bond,
        if bond_ok { "ok" } else { "outside" }
    )?;
    Ok(())
}
