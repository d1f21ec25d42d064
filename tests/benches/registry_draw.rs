//! The weighted draws against registries of 64, 1,024 and 10,000 staked verifiers, run as
//! SBF in the embedded bank (`scripts/sbf/build.sh` builds the `.so` files;
//! `ASSAY_SBF_DIR` names another folder): compute units and wall time per
//! `draw_challenge` and per `draw_committee` (committee of 3). The registry keeps its
//! weights in sum trees, so a draw reads O(log n) nodes whatever the number of verifiers.
//!
//! `cargo bench -p assay-tests --bench registry_draw` prints a markdown table and
//! `draw_challenge_cu_<n>`, `draw_challenge_us_<n>`, `draw_committee_cu_<n>`,
//! `draw_committee_us_<n>` lines (means over the draws made at each size), then
//! `draw_challenge_cu_ratio_10000_to_64`.

use std::time::Instant;

use assay_testkit::embedded::{LocalSetup, ProgramMode};
use assay_tests::{World, OPERATOR_STAKE};

/// Registry sizes measured (two small ones with `ASSAY_BENCH_SMOKE`: CI's check that the
/// bench runs).
fn sizes() -> &'static [usize] {
    if std::env::var_os("ASSAY_BENCH_SMOKE").is_some() {
        &[16, 64]
    } else {
        &[64, 1_024, 10_000]
    }
}
/// Verifier draws measured at each size (one job each; the provider stakes collateral for
/// five).
const DRAWS: u64 = 4;

struct Row {
    verifiers: usize,
    populate_s: f64,
    challenge_cu: f64,
    challenge_us: f64,
    committee_cu: f64,
    committee_us: f64,
}

type Outcome<T> = Result<T, String>;

async fn measure(programs: &ProgramMode, verifiers: usize) -> Outcome<Row> {
    let setup = LocalSetup {
        programs: Some(programs.clone()),
        ..LocalSetup::default()
    };
    let err = |e: assay_testkit::embedded::ChainError| e.to_string();
    let mut w = World::new(setup, 1, 1, 0).await.map_err(err)?;
    let started = Instant::now();
    w.add_verifiers(verifiers, OPERATOR_STAKE)
        .await
        .map_err(err)?;
    let populate_s = started.elapsed().as_secs_f64();
    w.chain.next_epoch().await.map_err(err)?;
    let market = assay_market::ID;
    let (mut cu, mut us) = (0u64, 0u128);
    let mut last = None;
    for id in 1..=DRAWS {
        let job = w.post(0, World::job_args(id)).await.map_err(err)?;
        w.claim(0, &job).await.map_err(err)?;
        w.commit(0, &job, 7).await.map_err(err)?;
        let ix = w.chain.ready_draw(&job).await.map_err(err)?;
        let t = Instant::now();
        let units = w.chain.send_metered(&[ix], &[]).await.map_err(err)?;
        us += t.elapsed().as_micros();
        cu += units
            .iter()
            .find(|(p, _)| *p == market)
            .map_or(0, |&(_, u)| u);
        last = Some(job);
    }
    let job = last.ok_or("no job")?;
    w.report_unavailable(&job).await.map_err(err)?;
    w.contest_only(&job).await.map_err(err)?;
    let ix = w.chain.ready_committee(&job).await.map_err(err)?;
    let t = Instant::now();
    let units = w.chain.send_metered(&[ix], &[]).await.map_err(err)?;
    let committee_us = t.elapsed().as_micros() as f64;
    let committee_cu = units
        .iter()
        .find(|(p, _)| *p == market)
        .map_or(0, |&(_, u)| u);
    if w.job(&job).await.committee.len() != 3 {
        return Err("the committee was not drawn".into());
    }
    Ok(Row {
        verifiers,
        populate_s,
        challenge_cu: cu as f64 / DRAWS as f64,
        challenge_us: us as f64 / DRAWS as f64,
        committee_cu: committee_cu as f64,
        committee_us,
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let programs = assay_tests::sbf_programs();
    let mut rows = vec![];
    for &n in sizes() {
        match measure(&programs, n).await {
            Ok(row) => rows.push(row),
            Err(e) => {
                eprintln!("registry_draw: {n} verifiers: {e}");
                std::process::exit(1);
            }
        }
    }
    println!("| verifiers | draw_challenge CU | draw_challenge µs | draw_committee CU | draw_committee µs | registering them (s) |");
    println!("|---:|---:|---:|---:|---:|---:|");
    for r in &rows {
        println!(
            "| {} | {:.0} | {:.0} | {:.0} | {:.0} | {:.1} |",
            r.verifiers,
            r.challenge_cu,
            r.challenge_us,
            r.committee_cu,
            r.committee_us,
            r.populate_s
        );
    }
    println!();
    for r in &rows {
        let n = r.verifiers;
        println!("draw_challenge_cu_{n}: {:.0}", r.challenge_cu);
        println!("draw_challenge_us_{n}: {:.0}", r.challenge_us);
        println!("draw_committee_cu_{n}: {:.0}", r.committee_cu);
        println!("draw_committee_us_{n}: {:.0}", r.committee_us);
    }
    let (small, large) = (&rows[0], &rows[rows.len() - 1]);
    println!(
        "draw_challenge_cu_ratio_{}_to_{}: {:.3}",
        large.verifiers,
        small.verifiers,
        large.challenge_cu / small.challenge_cu
    );
}
