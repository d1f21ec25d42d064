//! `assay economics`: the audit-strength calculator.

use anyhow::{ensure, Result};
use assay_client::economics::{detection_probability, Terms};
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
}

pub fn run(a: EconomicsArgs, json: bool) -> Result<()> {
    ensure!(a.chunks >= 1, "--chunks must be at least 1");
    ensure!(
        a.samples >= 1 && a.samples <= a.chunks,
        "--samples must be between 1 and --chunks ({})",
        a.chunks
    );
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
    if json {
        let rows: Vec<_> = rows
            .iter()
            .map(|(f, faked, p, gain)| serde_json::json!({"fraction": f, "faked_chunks": faked, "detection_probability": p, "expected_gain": gain}))
            .collect();
        println!(
            "{}",
            serde_json::json!({"chunks": a.chunks, "samples": a.samples, "cheating_never_pays": safe, "smallest_safe_samples": smallest, "rows": rows})
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
    Ok(())
}
