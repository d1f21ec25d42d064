//! The digits MLP (models/digits, trained and exported by models/digits/train.py) compiled
//! to WGSL and run by the engine: its outputs match ONNX Runtime's CPU reference under the
//! derived bound, and its accuracy is ONNX Runtime's.
#[path = "../../tests/common/mod.rs"]
mod common;

use assay_gpu::{compare_chunk, Pass};
use assay_model::{argmax, compile, labels_from_npy, Batch, Net};

fn digits(name: &str) -> Vec<u8> {
    let path = format!("{}/../../models/digits/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn digits_mlp_matches_onnx_runtime_under_the_derived_bound() {
    let net = Net::from_onnx(&digits("mlp.onnx")).unwrap();
    assert_eq!(
        net.onnx_ops,
        ["Gemm", "Relu", "MatMul"],
        "MatMul+Add fused by onnx-ir"
    );
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

    // ONNX Runtime's logits, chunked the same way (zero items pad the last chunk: the
    // engine's outputs for them are the model's output at 0, compared with ours).
    let ort = Batch::from_npy(&digits("mlp_ort_logits.npy")).unwrap();
    let mut ort_bytes = assay_gpu::kernels::f32_bytes(&ort.values);
    let tail = out.as_bytes().len() - ort_bytes.len();
    ort_bytes.extend_from_slice(&out.as_bytes()[out.as_bytes().len() - tail..]);
    let chunk = job.bundle.manifest.chunk_bytes() as usize;
    let rule = &job.bundle.manifest.compare;
    let mut worst = 0f64;
    for (pos, (_, ours)) in out.iter().enumerate() {
        let theirs = &ort_bytes[pos * chunk..(pos + 1) * chunk];
        compare_chunk(
            rule,
            assay_gpu::ElementType::F32,
            theirs,
            ours,
            Some(bound.slot(pos)),
        )
        .unwrap_or_else(|e| panic!("chunk {pos}: engine vs onnxruntime: {e}"));
        let usage = assay_gpu::bound_usage(
            rule,
            assay_gpu::ElementType::F32,
            theirs,
            ours,
            Some(bound.slot(pos)),
        );
        worst = worst.max(usage.unwrap_or(0.0));
    }
    println!("engine vs onnxruntime: worst use of the bound {:.4}", worst);

    let labels = labels_from_npy(&digits("test_y.npy")).unwrap();
    let correct = |rows: &[Vec<f32>]| {
        rows.iter()
            .zip(&labels)
            .filter(|(l, &y)| argmax(l) == Some(y as usize))
            .count()
    };
    let ort_rows: Vec<Vec<f32>> = ort.values.chunks(10).map(<[f32]>::to_vec).collect();
    println!(
        "digits mlp accuracy: engine {}/360, onnxruntime {}/360",
        correct(&logits),
        correct(&ort_rows)
    );
    assert_eq!(correct(&logits), correct(&ort_rows));
    assert!(correct(&logits) > 300, "a trained model, not noise");
}
