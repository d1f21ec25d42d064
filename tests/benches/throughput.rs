//! Market throughput on the embedded chain: jobs taken from posted to settled per second,
//! with 1, 4 and 16 jobs in flight at once (every step of every in-flight job is sent
//! before the chain advances). Chain work only: providers commit precomputed roots, the
//! verifier attests at once and anyone closes the pass once its window ends, so this
//! measures the programs and the bank (the job's whole life: post, claim, commit, draw,
//! pass, close), not the GPU.
//!
//! `cargo bench -p assay-tests --bench throughput` prints a table, then
//! `jobs_per_second_N: X` lines (`ASSAY_BENCH_SMOKE`: one batch per level).

use assay_client::Chain;
use std::time::Instant;

use anchor_lang::prelude::Pubkey;
use assay_client::pda;
use assay_testkit::embedded::LocalSetup;
use assay_tests::{fake_outputs, World, STARTING_TOKENS};
use solana_sdk::signature::Signer;

/// Batches per in-flight level (1 with `ASSAY_BENCH_SMOKE`: CI's check that it runs).
fn rounds() -> usize {
    if std::env::var_os("ASSAY_BENCH_SMOKE").is_some() {
        1
    } else {
        10
    }
}

async fn settle_batch(w: &mut World, next_id: &mut u64, in_flight: usize) -> usize {
    let d = w.chain.deployment;
    let mut jobs: Vec<Pubkey> = vec![];
    for i in 0..in_flight {
        let buyer = w.buyers[i % w.buyers.len()].insecure_clone();
        let args = World::job_args(*next_id);
        *next_id += 1;
        jobs.push(pda::job(&buyer.pubkey(), args.job_id));
        w.chain
            .send(&[d.post_job(&buyer.pubkey(), args)], &[&buyer])
            .await
            .unwrap();
    }
    for (i, job) in jobs.iter().enumerate() {
        let p = w.providers[i % w.providers.len()].insecure_clone();
        let (tree, _) = fake_outputs(job, 8, 1);
        w.chain
            .send(
                &[
                    d.claim_job(&p.pubkey(), job),
                    d.commit_result(&p.pubkey(), job, tree.root(), "sha256:00".into()),
                ],
                &[&p],
            )
            .await
            .unwrap();
    }
    for job in &jobs {
        w.chain.crank_draw(job).await.unwrap();
    }
    for job in &jobs {
        let state = w.job(job).await;
        let v = state.verifier.expect("verifiers are staked");
        let key = w.key(&v).insecure_clone();
        w.chain
            .send(&[d.attest_pass(&v, job, &state).unwrap()], &[&key])
            .await
            .unwrap();
    }
    // Every pass opens its window; the job settles when anyone closes it after.
    let window = w
        .chain
        .market_config()
        .await
        .unwrap()
        .params
        .pass_window_slots;
    w.chain.warp(window + 1).await.unwrap();
    let mut settled = 0;
    for job in &jobs {
        let state = w.job(job).await;
        w.chain
            .send(&[d.close_pass(job, &state).unwrap()], &[])
            .await
            .unwrap();
        settled += usize::from(w.chain.job(job).await.unwrap().is_none());
    }
    settled
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    // Four verifiers staked for 47 bonds each (a bond is 50 verifier fees): 16 jobs in
    // flight never leave a drawn verifier short of stake.
    let mut w = World::new(LocalSetup::default(), 4, 4, 0).await.unwrap();
    w.add_verifiers(4, STARTING_TOKENS).await.unwrap();
    w.chain.next_epoch().await.unwrap();
    let mut next_id = 1;
    settle_batch(&mut w, &mut next_id, 2).await; // warm-up
    println!(
        "{:>10} {:>8} {:>10} {:>12}",
        "in flight", "jobs", "seconds", "jobs/s"
    );
    let mut lines = vec![];
    for in_flight in [1usize, 4, 16] {
        let started = Instant::now();
        let mut settled = 0;
        for _ in 0..rounds() {
            settled += settle_batch(&mut w, &mut next_id, in_flight).await;
        }
        let secs = started.elapsed().as_secs_f64();
        assert_eq!(settled, in_flight * rounds(), "every job settles");
        let rate = settled as f64 / secs;
        println!("{in_flight:>10} {settled:>8} {secs:>10.3} {rate:>12.1}");
        lines.push(format!("jobs_per_second_{in_flight}: {rate:.1}"));
    }
    for line in lines {
        println!("{line}");
    }
}
