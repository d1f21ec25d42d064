//! `cargo bench -p assay-gpu --bench gpu_bench`
//!
//! Prints a table, then one `name: value` line per headline figure:
//! `gemm_cpu_over_wgpu`, `merkle_over_sha256`, `recheck_fraction`.
//! Env: `GEMM_N` (default 1024), `GEMM_ROWS` (rows per chunk, default 64), `GEMM_TM` +
//! `GEMM_TN4` (+ `GEMM_SUBGROUP=0|1`, default 1) to force a `Wide`/`WideSubgroup` block,
//! `GEMM_ONLY` (stop after the GEMM), `RECHECK_ROUNDS` (default 48), `ASSAY_BENCH_SMOKE`
//! (every size small: CI's check that the bench runs).

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use assay_gpu::kernels::{hashmix, matmul};
use assay_gpu::{leaf_hashes, recheck, Commitment, Gpu, GpuOptions, ServedChunk};
use sha2::Digest as _;

fn env_opt(name: &str) -> Option<u32> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

fn env_u32(name: &str, default: u32) -> u32 {
    env_opt(name).unwrap_or(default)
}

/// `ASSAY_BENCH_SMOKE` set: every size small, so CI checks the bench runs and prints its
/// lines in seconds (`scripts/bench-smoke.sh`); the figures then mean nothing.
fn smoke() -> bool {
    std::env::var_os("ASSAY_BENCH_SMOKE").is_some()
}

/// `full` normally, `small` in a smoke run.
fn size(full: u32, small: u32) -> u32 {
    if smoke() {
        small
    } else {
        full
    }
}

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    if std::env::var_os("NODEVICE_SELECT").is_none() {
        std::env::set_var("NODEVICE_SELECT", "1");
    }
    let gpu = Gpu::with_options(GpuOptions {
        watchdog: Duration::from_secs(120),
        ..Default::default()
    })
    .expect("bench needs a GPU adapter (lavapipe is enough)");
    let info = gpu.adapter_info();
    println!(
        "adapter: {} ({:?}, {:?}), timestamps: {}",
        info.name,
        info.backend,
        info.device_type,
        gpu.has_timestamps()
    );
    println!(
        "cpu threads: {}",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let mut rows: Vec<(String, String)> = Vec::new();

    // 1. GEMM
    let n = env_u32("GEMM_N", size(1024, 128));
    let flops = 2.0 * f64::from(n).powi(3);
    let rows_per_chunk = env_u32("GEMM_ROWS", 64.min(n));
    let mut variant = matmul::MatmulVariant::for_shape(&gpu, n, rows_per_chunk);
    // Overrides for comparing blocks: GEMM_TM, GEMM_TN4 (both) and GEMM_SUBGROUP (0/1).
    if let (Some(tm), Some(tn4)) = (env_opt("GEMM_TM"), env_opt("GEMM_TN4")) {
        variant = if env_u32("GEMM_SUBGROUP", 1) == 1 {
            matmul::MatmulVariant::WideSubgroup { tm, tn4 }
        } else {
            matmul::MatmulVariant::Wide { tm, tn4 }
        };
    }
    let p = matmul::MatmulParams {
        m: n,
        k: n,
        n,
        rows_per_chunk,
        seed: 1,
        variant,
    };
    let job = matmul::job(&p).expect("gemm params");
    // Pipeline compile (lavapipe JITs at pipeline creation and at the first dispatch;
    // Mesa's on-disk shader cache makes repeated runs fast).
    let t_compile = Instant::now();
    let prepared = gpu.prepare(&job).expect("prepare gemm");
    prepared.run_all().expect("warm-up");
    let t_compile = t_compile.elapsed();
    let (t_gpu, out) = common::best_of(3, || prepared.run_all().expect("gemm run"));
    let (a, b) = matmul::inputs(&p);
    let mut c = vec![0f32; (n * n) as usize];
    let nn = n as usize;
    let (t_cpu, ()) = common::best_of(3, || unsafe {
        matrixmultiply::sgemm(
            nn,
            nn,
            nn,
            1.0,
            a.as_ptr(),
            nn as isize,
            1,
            b.as_ptr(),
            nn as isize,
            1,
            0.0,
            c.as_mut_ptr(),
            nn as isize,
            1,
        );
    });
    // Whole-matrix check of wgpu against matrixmultiply (a different summation order with
    // FMA) under the proven bound; the scale is the verifier's GPU `magnitude` pass.
    let scale = prepared
        .run(assay_gpu::Pass::Scale, out.indices())
        .expect("scale pass");
    let worst = assay_gpu::bound_usage(
        &job.manifest.compare,
        job.manifest.output.element,
        out.as_bytes(),
        &assay_gpu::kernels::f32_bytes(&c),
        Some(scale.as_bytes()),
    )
    .expect("float rule");
    let gpu_gflops = flops / t_gpu.as_secs_f64() / 1e9;
    let cpu_gflops = flops / t_cpu.as_secs_f64() / 1e9;
    rows.push((
        format!("gemm {n}^3 wgpu prepare + first run (JIT compile)"),
        format!("{:.1} s", t_compile.as_secs_f64()),
    ));
    rows.push((
        format!("gemm {n}^3 wgpu ({variant:?}) time"),
        format!("{:.1} ms", t_gpu.as_secs_f64() * 1e3),
    ));
    if let Some(g) = out.gpu_time {
        rows.push((
            format!("gemm {n}^3 wgpu GPU-timestamp time"),
            format!("{:.1} ms", g.as_secs_f64() * 1e3),
        ));
    }
    rows.push((
        format!("gemm {n}^3 wgpu GFLOP/s"),
        format!("{gpu_gflops:.2}"),
    ));
    rows.push((
        format!("gemm {n}^3 matrixmultiply time"),
        format!("{:.1} ms", t_cpu.as_secs_f64() * 1e3),
    ));
    rows.push((
        format!("gemm {n}^3 matrixmultiply GFLOP/s"),
        format!("{cpu_gflops:.2}"),
    ));
    rows.push((
        "gemm wgpu vs matrixmultiply, worst |diff|/bound".into(),
        format!("{worst:.3e}"),
    ));
    drop(prepared);

    if std::env::var_os("GEMM_ONLY").is_some() {
        println!(
            "{variant:?} rows_per_chunk {rows_per_chunk}: compile {:.1} s, gemm_wgpu_gflops: {gpu_gflops:.3} ({:.1} ms), gemm_cpu_gflops: {cpu_gflops:.3}, gemm_cpu_over_wgpu: {:.4}",
            t_compile.as_secs_f64(),
            t_gpu.as_secs_f64() * 1e3,
            t_cpu.as_secs_f64() / t_gpu.as_secs_f64()
        );
        return;
    }
    // 3 (provider side first: it produces the 256 MiB used by 2).
    let rounds = env_u32("RECHECK_ROUNDS", size(48, 4));
    let chunks = size(4096, 256);
    let hp = hashmix::HashMixParams {
        chunks,
        elements_per_chunk: size(16384, 1024),
        rounds,
        n_seeds: 4096,
        seed: 7,
    };
    let hjob = hashmix::job(&hp).expect("hashmix params");
    let key = [3u8; 32];
    let provider_start = Instant::now();
    let hprep = gpu.prepare(&hjob).expect("prepare hashmix");
    let outputs = hprep.run_all().expect("hashmix run");
    let t_provider_exec = provider_start.elapsed();
    let commitment = Commitment::build(&key, &hjob.manifest, &outputs).expect("commit");
    let t_provider = provider_start.elapsed();
    drop(hprep);
    let sample = assay_protocol::sample_indices(&[42; 32], chunks, 64);
    let served: Vec<ServedChunk> = sample
        .iter()
        .map(|&i| ServedChunk {
            index: i,
            output: outputs.chunk(i).expect("chunk").to_vec(),
            proof: commitment.proof(i).expect("proof"),
        })
        .collect();
    let (t_verifier, report) = common::best_of(3, || {
        let prep = gpu.prepare(&hjob).expect("prepare hashmix (verifier)");
        recheck(&prep, &key, &hjob.manifest, &commitment.root(), &served).expect("recheck")
    });
    assert!(report.passed(), "honest provider must pass");
    let recheck_fraction = t_verifier.as_secs_f64() / t_provider.as_secs_f64();
    rows.push((
        format!(
            "hashmix {chunks} chunks x {} KiB, {rounds} rounds: provider run+commit",
            hp.elements_per_chunk * 4 / 1024
        ),
        format!(
            "{:.1} ms (exec {:.1} ms)",
            t_provider.as_secs_f64() * 1e3,
            t_provider_exec.as_secs_f64() * 1e3
        ),
    ));
    rows.push((
        "verifier: prepare + recompute 64 chunks + proofs + compare".into(),
        format!("{:.1} ms", t_verifier.as_secs_f64() * 1e3),
    ));

    // 2. Merkle vs sha256 over the same 256 MiB.
    let bytes = outputs.as_bytes();
    let (t_sha, digest) = common::best_of(3, || sha2::Sha256::digest(bytes));
    let (t_merkle, root) = common::best_of(3, || {
        assay_protocol::MerkleTree::from_leaves(leaf_hashes(&key, &outputs))
            .expect("tree")
            .root()
    });
    assert_eq!(root, commitment.root());
    std::hint::black_box(digest);
    let mib = bytes.len() as f64 / (1 << 20) as f64;
    rows.push((
        format!("sha256 over {mib:.0} MiB, 1 core"),
        format!(
            "{:.1} ms ({:.0} MiB/s)",
            t_sha.as_secs_f64() * 1e3,
            mib / t_sha.as_secs_f64()
        ),
    ));
    rows.push((
        format!("merkle root over {mib:.0} MiB ({chunks} leaves, all cores)"),
        format!(
            "{:.1} ms ({:.0} MiB/s)",
            t_merkle.as_secs_f64() * 1e3,
            mib / t_merkle.as_secs_f64()
        ),
    ));

    let w = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    println!("| {:w$} | value |", "measurement");
    println!("|{}|-------|", "-".repeat(w + 2));
    for (k, v) in &rows {
        println!("| {k:w$} | {v} |");
    }
    println!("gemm_wgpu_gflops: {gpu_gflops:.3}");
    println!("gemm_cpu_gflops: {cpu_gflops:.3}");
    println!(
        "gemm_cpu_over_wgpu: {:.4}",
        t_cpu.as_secs_f64() / t_gpu.as_secs_f64()
    );
    println!(
        "merkle_over_sha256: {:.4}",
        t_sha.as_secs_f64() / t_merkle.as_secs_f64()
    );
    println!("recheck_fraction: {recheck_fraction:.4}");
}
