//! `cargo bench -p assay-model --bench inference`
//!
//! The digits MLP over a batch of `ASSAY_BENCH_ITEMS` images (default 65,536: the 360
//! test images repeated), compiled to WGSL and run on this machine's adapter, beside ONNX
//! Runtime's CPU provider on the same batch (scripts/onnx/ort_bench.py, best of 3), and
//! the verifier's sampled audit beside the provider's whole run. The job is compiled a
//! dispatch per layer (the default); the same batch compiled to one dispatch per chunk
//! runs beside it. Prints a table and `name: value` lines: `engine_inferences_per_s`,
//! `engine_one_dispatch_inferences_per_s`, `per_layer_over_one_dispatch`,
//! `ort_inferences_per_s`, `engine_over_ort`, `verifier_over_provider`, `ort_bound_usage`.
//! `ASSAY_BENCH_SMOKE`: a small batch (CI's check that the bench runs).
#[path = "../../tests/common/mod.rs"]
mod common;
#[path = "../tests/support/python.rs"]
mod python;

use assay_gpu::{bound_usage, recheck, Commitment, ElementType, Pass, ServedChunk};
use assay_model::{compile, compile_in, npy_f32, Batch, Layout, Net};

const PER_CHUNK: u32 = 256;
const SAMPLES: u32 = 8;

fn digits(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../../models/digits/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn main() {
    let smoke = std::env::var_os("ASSAY_BENCH_SMOKE").is_some();
    let items: usize = std::env::var("ASSAY_BENCH_ITEMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if smoke { 2048 } else { 65_536 });
    let net = Net::from_onnx(&digits("mlp.onnx")).unwrap();
    let test = Batch::from_npy(&digits("test_x.npy")).unwrap();
    let per = net.input_len();
    let values: Vec<f32> = (0..items)
        .flat_map(|i| {
            test.values[(i % test.items()) * per..][..per]
                .iter()
                .copied()
        })
        .collect();
    let batch = Batch {
        item_shape: net.item_shape.clone(),
        values,
    };
    let job = compile(&net, &batch, PER_CHUNK).unwrap();
    let gpu = common::gpu();
    let prepared = gpu.prepare(&job.bundle).unwrap();
    let manifest = &job.bundle.manifest;
    let n = manifest.n_chunks();

    // Provider: every chunk, then the commitment.
    let (provider, (outputs, commitment)) = common::best_of(3, || {
        let out = prepared.run_all().unwrap();
        let c = Commitment::build(&common::JOB_KEY, manifest, &out).unwrap();
        (out, c)
    });
    // Verifier: SAMPLES chunks spread over the job, re-run with the bound pass, compared.
    let sample: Vec<u32> = (0..SAMPLES.min(n))
        .map(|k| k * n / SAMPLES.min(n))
        .collect();
    let served: Vec<ServedChunk> = sample
        .iter()
        .map(|&i| ServedChunk {
            index: i,
            output: outputs.chunk(i).unwrap().to_vec(),
            proof: commitment.proof(i).unwrap(),
        })
        .collect();
    let (verifier, report) = common::best_of(3, || {
        recheck(
            &prepared,
            &common::JOB_KEY,
            manifest,
            &commitment.root(),
            &served,
        )
        .unwrap()
    });
    assert!(report.passed());

    // The same batch in one dispatch per chunk (one invocation per item): same bits.
    let one_dispatch = compile_in(&net, &batch, PER_CHUNK, Layout::PerItem).unwrap();
    let prepared_one = gpu.prepare(&one_dispatch.bundle).unwrap();
    let (provider_one, outputs_one) = common::best_of(3, || {
        let out = prepared_one.run_all().unwrap();
        Commitment::build(&common::JOB_KEY, &one_dispatch.bundle.manifest, &out).unwrap();
        out
    });
    assert!(outputs_one.as_bytes() == outputs.as_bytes());

    // ONNX Runtime on the same batch.
    let dir = std::env::temp_dir().join(format!("assay-inference-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (x, y) = (dir.join("batch.npy"), dir.join("ort.npy"));
    std::fs::write(&x, npy_f32(&[items as u64, per as u64], &batch.values)).unwrap();
    let model = format!(
        "{}/../../models/digits/mlp.onnx",
        env!("CARGO_MANIFEST_DIR")
    );
    let run = std::process::Command::new(python::onnx_python())
        .arg(python::onnx_script("ort_bench.py"))
        .args([model.as_str(), x.to_str().unwrap(), y.to_str().unwrap()])
        .output()
        .expect("python with onnxruntime (scripts/install-deps.sh)");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "ort_bench.py failed: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let ort_s: f64 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("ort_seconds: "))
        .and_then(|v| v.parse().ok())
        .expect("an ort_seconds line");
    // ONNX Runtime's outputs checked under the job's bound (the padding keeps the engine's).
    let ort = Batch::from_npy(&std::fs::read(&y).unwrap()).unwrap();
    let mut ort_bytes = assay_gpu::kernels::f32_bytes(&ort.values);
    ort_bytes.extend_from_slice(&outputs.as_bytes()[ort_bytes.len()..]);
    let chunk = manifest.chunk_bytes() as usize;
    let all: Vec<u32> = (0..n).collect();
    let scale = prepared.run(Pass::Scale, &all).unwrap();
    let usage = (0..n as usize)
        .map(|pos| {
            let r = pos * chunk..(pos + 1) * chunk;
            bound_usage(
                &manifest.compare,
                ElementType::F32,
                &ort_bytes[r.clone()],
                outputs.slot(pos),
                Some(scale.slot(pos)),
            )
            .unwrap()
        })
        .fold(0.0, f64::max);
    let _ = std::fs::remove_dir_all(&dir);

    let engine_rate = items as f64 / provider.as_secs_f64();
    let one_rate = items as f64 / provider_one.as_secs_f64();
    let ort_rate = items as f64 / ort_s;
    let info = gpu.adapter_info();
    println!(
        "digits MLP 64-32-10, {items} items, {n} chunks of {PER_CHUNK}, adapter: {} ({:?})",
        info.name, info.device_type
    );
    println!("| | seconds | inferences/s |");
    println!("|---|---:|---:|");
    println!(
        "| engine, provider (run all + commit), a dispatch per layer | {:.4} | {:.0} |",
        provider.as_secs_f64(),
        engine_rate
    );
    println!(
        "| engine, provider (run all + commit), one dispatch per chunk | {:.4} | {:.0} |",
        provider_one.as_secs_f64(),
        one_rate
    );
    println!(
        "| ONNX Runtime CPU (same batch) | {:.4} | {:.0} |",
        ort_s, ort_rate
    );
    println!(
        "| verifier, {} sampled chunks (+ bound pass, compare) | {:.4} | |",
        sample.len(),
        verifier.as_secs_f64()
    );
    println!("engine_inferences_per_s: {engine_rate:.0}");
    println!("engine_one_dispatch_inferences_per_s: {one_rate:.0}");
    println!("per_layer_over_one_dispatch: {:.3}", engine_rate / one_rate);
    println!("ort_inferences_per_s: {ort_rate:.0}");
    println!("engine_over_ort: {:.3}", engine_rate / ort_rate);
    println!(
        "verifier_over_provider: {:.4}",
        verifier.as_secs_f64() / provider.as_secs_f64()
    );
    println!("ort_bound_usage: {usage:.5}");
    assert!(
        usage <= 1.0,
        "ONNX Runtime's outputs outside the derived bound"
    );
}
