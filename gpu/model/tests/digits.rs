//! The digits models (models/digits, trained and exported by models/digits/train.py)
//! compiled to WGSL and run by the engine: their outputs match ONNX Runtime's CPU
//! reference under the derived bound, and their accuracy is ONNX Runtime's.
#[path = "../../tests/common/mod.rs"]
mod common;

use assay_gpu::{bound_usage, compare_chunk, ElementType, Pass};
use assay_model::{argmax, compile, compile_in, labels_from_npy, Batch, Layout, Net};

fn digits(name: &str) -> Vec<u8> {
    let path = format!("{}/../../models/digits/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Runs `model` over the 360 test images, compares every chunk with ONNX Runtime's
/// logits under the job's rule, and returns (correct classes, ONNX Runtime's correct
/// classes, worst share of the bound used).
fn against_onnx_runtime(model: &str, ops: &[&str]) -> (usize, usize, f64) {
    let net = Net::from_onnx(&digits(&format!("{model}.onnx"))).unwrap();
    assert_eq!(net.onnx_ops, ops, "{model}");
    let batch = Batch::from_npy(&digits("test_x.npy")).unwrap();
    assert_eq!(batch.items(), 360);
    let job = compile(&net, &batch, 32).unwrap();
    assert_eq!(
        job.bundle.manifest.n_chunks(),
        12,
        "360 items, 32 per chunk, last padded"
    );

    let prepared = common::gpu().prepare(&job.bundle).unwrap();
    let out = prepared.run_all().unwrap();
    let bound = prepared.run(Pass::Scale, out.indices()).unwrap();
    let logits = job.outputs(out.as_bytes()).unwrap();

    // ONNX Runtime's logits, chunked the same way; the padding items of the last chunk
    // have no reference, the engine's own values stand in for them.
    let ort = Batch::from_npy(&digits(&format!("{model}_ort_logits.npy"))).unwrap();
    let mut ort_bytes = assay_gpu::kernels::f32_bytes(&ort.values);
    ort_bytes.extend_from_slice(&out.as_bytes()[ort_bytes.len()..]);
    let chunk = job.bundle.manifest.chunk_bytes() as usize;
    let rule = &job.bundle.manifest.compare;
    let mut worst = 0f64;
    for (pos, (_, ours)) in out.iter().enumerate() {
        let theirs = &ort_bytes[pos * chunk..(pos + 1) * chunk];
        let scale = Some(bound.slot(pos));
        compare_chunk(rule, ElementType::F32, theirs, ours, scale)
            .unwrap_or_else(|e| panic!("{model} chunk {pos}: engine vs onnxruntime: {e}"));
        let usage = bound_usage(rule, ElementType::F32, theirs, ours, scale);
        worst = worst.max(usage.unwrap_or(0.0));
    }

    let labels = labels_from_npy(&digits("test_y.npy")).unwrap();
    let correct = |rows: &[Vec<f32>]| {
        rows.iter()
            .zip(&labels)
            .filter(|(l, &y)| argmax(l) == Some(y as usize))
            .count()
    };
    let ort_rows: Vec<Vec<f32>> = ort.values.chunks(10).map(<[f32]>::to_vec).collect();
    (correct(&logits), correct(&ort_rows), worst)
}

#[test]
fn digits_mlp_matches_onnx_runtime_under_the_derived_bound() {
    let (engine, ort, worst) = against_onnx_runtime("mlp", &["Gemm", "Relu", "MatMul"]);
    println!("digits mlp: accuracy engine {engine}/360, onnxruntime {ort}/360; worst use of the bound {worst:.4}");
    assert_eq!(engine, ort);
    assert!(engine > 300, "a trained model, not noise");
}

#[test]
fn digits_cnn_matches_onnx_runtime_under_the_derived_bound() {
    let ops = [
        "Reshape",
        "Conv",
        "BatchNormalization",
        "Relu",
        "MaxPool",
        "Flatten",
        "Gemm",
    ];
    let (engine, ort, worst) = against_onnx_runtime("cnn", &ops);
    println!("digits cnn: accuracy engine {engine}/360, onnxruntime {ort}/360; worst use of the bound {worst:.4}");
    assert_eq!(engine, ort);
    assert!(engine > 300, "a trained model, not noise");
}

/// Both layouts sum every output in the same order, so a model compiled a dispatch per
/// layer (a version 3 manifest: one stage per layer after the first, one scratch buffer)
/// and compiled to one dispatch give the same bits, outputs and bounds alike.
#[test]
fn a_dispatch_per_layer_and_one_dispatch_give_the_same_bits() {
    let batch = Batch::from_npy(&digits("test_x.npy")).unwrap();
    for model in ["mlp", "cnn"] {
        let net = Net::from_onnx(&digits(&format!("{model}.onnx"))).unwrap();
        let staged = compile_in(&net, &batch, 32, Layout::PerLayer).unwrap();
        let single = compile_in(&net, &batch, 32, Layout::PerItem).unwrap();
        let m = &staged.bundle.manifest;
        assert_eq!(m.version, assay_gpu::STAGED_MANIFEST_VERSION);
        assert_eq!(m.stages.len() + 1, net.layers.len(), "{model}");
        assert_eq!(m.scratch.len(), 1);
        assert!(single.bundle.manifest.stages.is_empty());
        let run = |job: &assay_model::CompiledModel| {
            let prepared = common::gpu().prepare(&job.bundle).unwrap();
            let out = prepared.run_all().unwrap();
            let bound = prepared.run(Pass::Scale, out.indices()).unwrap();
            (out.into_bytes(), bound.into_bytes())
        };
        assert!(run(&staged) == run(&single), "{model}");
    }
}
