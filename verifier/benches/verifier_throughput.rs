//! Verifier throughput: 100 hash-mixer jobs of 4096 chunks with k = 64 on the embedded
//! chain, verified by the daemon (draw crank, audit with GPU re-execution, attest_pass),
//! with the job's whole current life: the verifier's stake reaches the draws at the next
//! draw epoch, each job's draw is cranked from its own seed slot, and every pass opens its
//! window.
//!
//! Providers' time is measured by actually running every chunk: each distinct job (4
//! input seeds) is prepared and run once in full, and every one of the 100 jobs pays
//! that run plus its own commitment (leaf hashes bound to its job account + Merkle
//! root). The verifier's time is the wall time of its audits (fetch, proofs, prepare,
//! GPU re-execution, compare; on lavapipe the "GPU" is the CPU, so this is CPU+GPU).
//!
//! Two fractions of the providers' time: `verifier_fraction` is the verifier's own work,
//! its audits (fetch and hash-check the sampled chunks, check every leaf against the
//! committed root, prepare, re-execute, compare; the verdict is then one signed
//! transaction), comparable with the figure recorded before the daemon existed;
//! `verifier_fraction_end_to_end` is the daemon's whole wall time over every tick, which
//! here also includes the embedded validator executing its draw and verdict transactions
//! in-process (on a cluster that work is the validator's, and the daemon waits on RPC).
//!
//! `cargo bench -p assay-verifier --bench verifier_throughput`
//! (env: `BENCH_JOBS`, `BENCH_CHUNKS`, `BENCH_SAMPLES`, `BENCH_ROUNDS`, `BENCH_ELEMENTS`
//! to change the shape; `ASSAY_BENCH_SMOKE` makes every size small, CI's check that the
//! bench runs).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anchor_lang::prelude::Pubkey;
use assay_client::{pda, Chain};
use assay_gpu::kernels::hashmix::{self, HashMixParams};
use assay_gpu::ResultIndex;
use assay_gpu::{BlobStore, Commitment, Gpu};
use assay_market::instructions::PostJobArgs;
use assay_market::state::{Job, MarketParams, COMPARISON_EXACT};
use assay_node::journal::Journal;
use assay_node::metrics::Metrics;
use assay_node::{Audit, AuditError, Auditor, CachedGpu, Daemon, DaemonOptions};
use assay_stake::constants::{ROLE_PROVIDER, ROLE_VERIFIER};
use assay_testkit::embedded::{LocalChain, LocalSetup};
use solana_sdk::signature::{Keypair, Signer};

const TOKEN: u64 = 1_000_000;
const DISTINCT: usize = 4;

/// `name` from the environment, else `full` (or `small` with `ASSAY_BENCH_SMOKE` set).
fn env(name: &str, full: u64, small: u64) -> u64 {
    let default = if std::env::var_os("ASSAY_BENCH_SMOKE").is_some() {
        small
    } else {
        full
    };
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The GPU engine, recording each audit's wall time.
struct Timed {
    gpu: CachedGpu,
    audits: Mutex<Vec<(Duration, Duration, usize)>>,
}

impl Auditor for Timed {
    fn audit(&self, store: &BlobStore, job_key: &Pubkey, job: &Job) -> Result<Audit, AuditError> {
        let audit = self.gpu.audit(store, job_key, job)?;
        self.audits.lock().unwrap().push((
            audit.total_time,
            audit.recheck_time,
            audit.sample.len(),
        ));
        Ok(audit)
    }
}

async fn stake(chain: &mut LocalChain, roles: u8) -> Keypair {
    let d = chain.deployment;
    let k = chain.new_user(10_000 * TOKEN).await.unwrap();
    chain
        .send(
            &[
                d.register_operator(&k.pubkey(), roles),
                d.deposit(&k.pubkey(), 5_000 * TOKEN),
            ],
            &[&k],
        )
        .await
        .unwrap();
    k
}

fn main() {
    std::env::set_var("NODEVICE_SELECT", "1");
    if std::env::var_os("RUST_LOG").is_none() {
        std::env::set_var("RUST_LOG", "error");
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(bench());
}

async fn bench() {
    let jobs = env("BENCH_JOBS", 100, 4);
    let chunks = env("BENCH_CHUNKS", 4096, 64) as u32;
    let samples = env("BENCH_SAMPLES", 64, 8) as u8;
    let rounds = env("BENCH_ROUNDS", 48, 4) as u32;
    let elements = env("BENCH_ELEMENTS", 16_384, 1_024) as u32;
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(BlobStore::local(dir.path().join("store")).unwrap());
    let gpu = Gpu::new().expect("a wgpu adapter");
    let adapter = gpu.adapter_info().name.clone();
    let mut chain = LocalChain::start(LocalSetup {
        market: MarketParams {
            verdict_window_slots: 10_000,
            ..LocalSetup::default().market
        },
        ..LocalSetup::default()
    })
    .await
    .unwrap();
    let d = chain.deployment;
    let buyer = chain.new_user(100_000 * TOKEN).await.unwrap();
    // Rent for 100 job accounts and vaults (≈ 0.01 SOL each).
    chain
        .airdrop(&buyer.pubkey(), 20_000_000_000)
        .await
        .unwrap();
    let provider = stake(&mut chain, ROLE_PROVIDER).await;
    let verifier = stake(&mut chain, ROLE_VERIFIER).await;
    // Stake reaches the draws at the next draw epoch: before it, every draw finds nobody
    // and the jobs settle unaudited.
    chain.next_epoch().await.unwrap();

    // Providers: run each distinct job once, in full.
    let mut distinct = vec![];
    for seed in 0..DISTINCT as u64 {
        let bundle = hashmix::job(&HashMixParams {
            chunks,
            elements_per_chunk: elements,
            rounds,
            n_seeds: 4096,
            seed: seed + 1,
        })
        .unwrap();
        bundle.store(&store).unwrap();
        let manifest_hash = store
            .put(&bundle.manifest.canonical_bytes().unwrap())
            .unwrap();
        let t = Instant::now();
        let outputs = gpu.prepare(&bundle).unwrap().run_all().unwrap();
        let run = t.elapsed();
        let chunk_blobs: Vec<[u8; 32]> = outputs
            .iter()
            .map(|(_, bytes)| store.put(bytes).unwrap())
            .collect();
        eprintln!(
            "distinct job {seed}: prepare + run all {chunks} chunks {:.1} ms",
            run.as_secs_f64() * 1e3
        );
        distinct.push((bundle, manifest_hash, outputs, chunk_blobs, run));
    }

    // 100 jobs: post, claim, commit (each its own leaves, bound to its account).
    let mut provider_total = Duration::ZERO;
    let mut commit_total = Duration::ZERO;
    for id in 1..=jobs {
        let (bundle, manifest_hash, outputs, chunk_blobs, run) =
            &distinct[(id as usize - 1) % DISTINCT];
        let job = pda::job(&buyer.pubkey(), id);
        let args = PostJobArgs {
            job_id: id,
            manifest_hash: *manifest_hash,
            input_root: [0; 32],
            n_chunks: chunks,
            samples,
            comparison_rule: COMPARISON_EXACT,
            price: 10 * TOKEN,
            // The shipped floor: 3.2 × the price.
            collateral: 32 * TOKEN,
            claim_window_slots: 1_000_000,
            execution_window_slots: 1_000_000,
            needs: 0,
        };
        chain
            .send(
                &[
                    d.post_job(&buyer.pubkey(), args),
                    d.claim_job(&provider.pubkey(), &job),
                ],
                &[&buyer, &provider],
            )
            .await
            .unwrap();
        let t = Instant::now();
        let commitment = Commitment::build(&job.to_bytes(), &bundle.manifest, outputs).unwrap();
        let commit = t.elapsed();
        commit_total += commit;
        provider_total += *run + commit;
        let index = ResultIndex {
            version: ResultIndex::VERSION,
            job: job.to_bytes(),
            chunks: chunk_blobs.clone(),
            leaves: (0..chunks).map(|i| commitment.leaf(i).unwrap()).collect(),
        };
        let uri = format!(
            "sha256:{}",
            hex::encode(store.put(&borsh::to_vec(&index).unwrap()).unwrap())
        );
        chain
            .send(
                &[d.commit_result(&provider.pubkey(), &job, commitment.root(), uri)],
                &[&provider],
            )
            .await
            .unwrap();
    }
    drop(distinct);
    chain.warp(5).await.unwrap();

    // The verifier daemon: draws every challenge, audits, attests.
    let cached = std::env::var("BENCH_NO_CACHE").is_err();
    let timed = Arc::new(Timed {
        gpu: CachedGpu::new(gpu, if cached { 32 } else { 1 }),
        audits: Mutex::new(vec![]),
    });
    let mut daemon = Daemon::new(
        chain,
        Box::new(Arc::clone(&timed)),
        Arc::clone(&store),
        verifier.insecure_clone(),
        Journal::open(&dir.path().join("journal.redb")).unwrap(),
        Metrics::new(),
        DaemonOptions::default(),
    );
    // Ticks until every job is passed: the daemon's whole work, end to end.
    let mut daemon_wall = Duration::ZERO;
    let mut passes = 0;
    for _ in 0..10 {
        let t = Instant::now();
        let r = daemon.tick().await.unwrap();
        daemon_wall += t.elapsed();
        passes += r.passes;
        if passes as u64 == jobs {
            break;
        }
        // The chain's clock, between ticks (not the daemon's time).
        daemon.chain_mut().warp(1).await.unwrap();
    }
    assert_eq!(passes as u64, jobs, "every job passed by attest_pass");
    let audits = timed.audits.lock().unwrap().clone();
    let verifier_total: Duration = audits.iter().map(|a| a.0).sum();
    let recheck_total: Duration = audits.iter().map(|a| a.1).sum();
    let sampled: usize = audits.iter().map(|a| a.2).sum();
    let fraction = verifier_total.as_secs_f64() / provider_total.as_secs_f64();
    let end_to_end = daemon_wall.as_secs_f64() / provider_total.as_secs_f64();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "pipeline cache: {}",
        if cached {
            "on (4 distinct manifests: compiled once each)"
        } else {
            "off (capacity 1, jobs alternate manifests: every audit prepares)"
        }
    );
    println!(
        "adapter: {adapter}; {jobs} jobs x {chunks} chunks x {} KiB, hashmix {rounds} rounds, k = {samples}",
        elements * 4 / 1024
    );
    println!("| measurement | value |");
    println!("|---|---|");
    println!("| jobs passed by the daemon (attest_pass) | {passes} |");
    println!("| sampled chunks verified | {sampled} |");
    println!(
        "| providers' total (run all chunks + commitment, per job) | {:.1} ms |",
        ms(provider_total)
    );
    println!(
        "| of which commitments (leaf hashes + root) | {:.1} ms |",
        ms(commit_total)
    );
    println!(
        "| verifier audits total (fetch + proofs + prepare + re-execute + compare) | {:.1} ms |",
        ms(verifier_total)
    );
    println!(
        "| of which GPU re-execution of sampled chunks | {:.1} ms |",
        ms(recheck_total)
    );
    println!(
        "| verifier per job | {:.2} ms |",
        ms(verifier_total) / jobs as f64
    );
    println!(
        "| sampled chunks verified per second (audit time) | {:.0} |",
        sampled as f64 / verifier_total.as_secs_f64()
    );
    println!(
        "| daemon wall time, end to end (chain reads, draw cranks, audits, verdicts; the in-process validator's execution included) | {:.1} ms |",
        ms(daemon_wall)
    );
    println!(
        "| sampled chunks per second, daemon wall time | {:.0} |",
        sampled as f64 / daemon_wall.as_secs_f64()
    );
    println!("| whole bench | {:.1} s |", started.elapsed().as_secs_f64());
    println!(
        "chunks_per_second: {:.0}",
        sampled as f64 / verifier_total.as_secs_f64()
    );
    println!("verifier_fraction: {fraction:.4}");
    println!("verifier_fraction_end_to_end: {end_to_end:.4}");
}
