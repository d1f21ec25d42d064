//! A long-run simulation of the market's economics at the terms the code ships
//! (`LocalSetup::default()`): a population of honest, lazy and cheating agents over many
//! jobs, each job's terms from the market's own `JobTerms`, each sample drawn by the
//! protocol's own `sample_indices` from a random seed, each payout as the programs pay it.
//! It prints each strategy's mean profit per job and fails if a dishonest strategy earns
//! as much as the honest one in its role.
//!
//! `cargo bench -p assay-client --bench economics_sim` (`SIM_JOBS`, default 20,000;
//! `ASSAY_BENCH_SMOKE` runs 2,000). Assumptions as `assay economics` states them: compute
//! is 80 % of what the provider is paid, 2 % of jobs are canaries planting enough chunks to
//! be sampled 9 times in 10, fishermen re-check a quarter of the passes.

use assay_client::deploy::LocalSetup;
use assay_client::economics::{planted_for_catch, Assumptions};
use assay_market::state::JobTerms;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const TOKEN: f64 = 1_000_000.0;

/// Running mean profit (tokens) of one strategy.
#[derive(Default)]
struct Mean {
    total: f64,
    jobs: u64,
}

impl Mean {
    fn add(&mut self, profit: f64) {
        self.total += profit / TOKEN;
        self.jobs += 1;
    }
    fn get(&self) -> f64 {
        if self.jobs == 0 {
            0.0
        } else {
            self.total / self.jobs as f64
        }
    }
}

fn main() {
    let smoke = std::env::var_os("ASSAY_BENCH_SMOKE").is_some();
    let jobs: u64 = std::env::var("SIM_JOBS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if smoke { 2_000 } else { 20_000 });
    let params = LocalSetup::default().market;
    let a = Assumptions::default();
    let mut rng = StdRng::seed_from_u64(27);
    let (mut honest_provider, mut cheating_provider) = (Mean::default(), Mean::default());
    let mut cheating_provider_lazy = Mean::default();
    let (mut honest_verifier, mut lazy_verifier) = (Mean::default(), Mean::default());
    let mut skipped = 0u64;
    let finder = |c: f64| c * f64::from(params.finder_fee_bps) / 10_000.0;
    for _ in 0..jobs {
        // A job like the market's: 64 to 4,096 chunks, the sample the CLI defaults to
        // (here 8, 16, 32 or 64), 10 to 100 tokens, collateral at the floor.
        let n: u32 = [64, 256, 1_024, 4_096][rng.gen_range(0..4)];
        // Sampling all 64 of 64 chunks is unaffordable: refused below, and counted.
        let k: u8 = [8u8, 16, 32, 64][rng.gen_range(0..4)];
        let price = rng.gen_range(10..=100) as u64 * 1_000_000;
        let Ok(terms) = JobTerms::of(&params, price, n, k) else {
            skipped += 1;
            continue;
        };
        let collateral = terms.min_collateral as f64;
        let payout = (price - terms.verifier_fee - terms.protocol_fee) as f64;
        let compute = a.compute_share * payout;
        let recheck = compute * f64::from(k) / f64::from(n);
        let fee = terms.verifier_fee as f64;
        let bond = terms.verifier_bond as f64;
        let seed: [u8; 32] = rng.gen();
        let sample = assay_protocol::sample_indices(&seed, n, u32::from(k));
        let fished = rng.gen_bool(a.fisherman_rate);
        let canary = rng.gen_bool(a.canary_rate);

        // The verifier's side, on this job, for each strategy.
        let (honest_v, lazy_v) = if canary {
            let planted = planted_for_catch(n, u32::from(k), a.canary_catch);
            let planted: std::collections::BTreeSet<u32> =
                rand::seq::index::sample(&mut rng, n as usize, planted as usize)
                    .into_iter()
                    .map(|i| i as u32)
                    .collect();
            if sample.iter().any(|i| planted.contains(i)) {
                // Honest: reports, earns the finder share of the canary's collateral.
                // Lazy: passes, the canary operator challenges, the bond is slashed.
                (finder(collateral) - recheck, -bond)
            } else {
                (fee - recheck, fee)
            }
        } else {
            // A real job: its provider is honest here (the cheating provider's side below
            // draws its own verifier).
            (fee - recheck, fee)
        };
        honest_verifier.add(honest_v);
        lazy_verifier.add(lazy_v);

        // The provider's side: honest, or faking a random fraction, facing a diligent
        // verifier (90 % of the verifier stake) or a lazy or bribed one (10 %).
        honest_provider.add(payout - compute);
        let faked_share = [1.0 / f64::from(n), 0.1, 0.5, 1.0][rng.gen_range(0..4)];
        let faked = ((f64::from(n) * faked_share).ceil() as u32).clamp(1, n);
        let fakes: std::collections::BTreeSet<u32> =
            rand::seq::index::sample(&mut rng, n as usize, faked as usize)
                .into_iter()
                .map(|i| i as u32)
                .collect();
        let hit = sample.iter().any(|i| fakes.contains(i));
        let saved = compute * f64::from(faked) / f64::from(n);
        let profit = |diligent: bool| match (hit, diligent) {
            // Caught by the verifier: unpaid, collateral slashed.
            (true, true) => -(compute - saved) - collateral,
            // A lazy or bribed verifier passes it: paid now; a fisherman who re-checks
            // the pass catches it and the collateral is slashed.
            (true, false) if fished => payout - (compute - saved) - collateral,
            _ => payout - (compute - saved),
        };
        cheating_provider.add(profit(rng.gen_bool(0.9)));
        cheating_provider_lazy.add(profit(false));
    }
    let rows = [
        ("honest provider", honest_provider.get()),
        (
            "cheating provider (90 % of verifiers diligent)",
            cheating_provider.get(),
        ),
        (
            "cheating provider, every verifier lazy or bribed",
            cheating_provider_lazy.get(),
        ),
        ("honest verifier", honest_verifier.get()),
        ("lazy verifier", lazy_verifier.get()),
    ];
    println!(
        "{} jobs at the shipped terms ({} of the drawn shapes refused as unaffordable); mean profit per job, tokens:",
        jobs - skipped,
        skipped
    );
    println!("| strategy | mean profit per job |");
    println!("|---|---:|");
    for (name, mean) in rows {
        println!("| {name} | {mean:.4} |");
    }
    println!("sim_jobs: {}", jobs - skipped);
    println!("mean_profit_honest_provider: {:.4}", rows[0].1);
    println!("mean_profit_cheating_provider: {:.4}", rows[1].1);
    println!(
        "mean_profit_cheating_provider_lazy_verifiers: {:.4}",
        rows[2].1
    );
    println!("mean_profit_honest_verifier: {:.4}", rows[3].1);
    println!("mean_profit_lazy_verifier: {:.4}", rows[4].1);
    assert!(
        rows[1].1 < rows[0].1 && rows[2].1 < rows[0].1,
        "cheating earns at least honest work at the shipped terms"
    );
    assert!(
        rows[4].1 < rows[3].1,
        "laziness earns at least honest auditing at the shipped terms"
    );
    assert!(
        rows[3].1 > 0.0,
        "honest auditing loses money at the shipped terms"
    );
}
