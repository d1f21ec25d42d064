//! A provider who cuts corners on a model job is caught on every sampled chunk its cheat
//! touches: the verifier recomputes the chunk with the hashed kernel, derives the bound
//! from the model and that chunk's inputs, and the cheat's outputs fall outside it. Each
//! attack runs the full recheck (Merkle proof against the cheater's own root, then the
//! comparison rule), and an honest provider passes the same recheck.
#[path = "../../tests/common/mod.rs"]
mod common;

use assay_gpu::{
    bound_usage, recheck, ChunkOutputs, Commitment, ElementType, Pass, PreparedJob, ServedChunk,
};
use assay_model::{compile, Batch, CompiledModel, Layer, Net};
use common::{gpu, JOB_KEY};

const PER_CHUNK: u32 = 32;

fn digits(name: &str) -> Vec<u8> {
    let path = format!("{}/../../models/digits/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn honest() -> (Net, Batch, CompiledModel) {
    honest_model("mlp")
}

/// The digits `model` (mlp or cnn) compiled over the 360 test images.
fn honest_model(model: &str) -> (Net, Batch, CompiledModel) {
    let net = Net::from_onnx(&digits(&format!("{model}.onnx"))).unwrap();
    let batch = Batch::from_npy(&digits("test_x.npy")).unwrap();
    let job = compile(&net, &batch, PER_CHUNK).unwrap();
    (net, batch, job)
}

/// The provider's outputs for the honest job when it runs `net` over `batch` instead.
fn run_as(net: &Net, batch: &Batch) -> ChunkOutputs {
    let cheat = compile(net, batch, PER_CHUNK).unwrap();
    gpu().prepare(&cheat.bundle).unwrap().run_all().unwrap()
}

/// Commits to `outputs` as the provider would, serves every chunk, and returns which
/// chunks the verifier's recheck rejects.
fn rejected_chunks(
    verifier: &PreparedJob<'_>,
    job: &CompiledModel,
    outputs: &ChunkOutputs,
) -> Vec<u32> {
    let manifest = &job.bundle.manifest;
    let commitment = Commitment::build(&JOB_KEY, manifest, outputs).unwrap();
    let served: Vec<ServedChunk> = outputs
        .iter()
        .map(|(index, out)| ServedChunk {
            index,
            output: out.to_vec(),
            proof: commitment.proof(index).unwrap(),
        })
        .collect();
    let report = recheck(verifier, &JOB_KEY, manifest, &commitment.root(), &served).unwrap();
    report
        .chunks
        .iter()
        .filter(|(_, verdict)| verdict.is_err())
        .map(|(index, _)| *index)
        .collect()
}

/// The cheat's smallest per-chunk excess over the bound (worst element of each chunk,
/// the least of those over chunks): `> 1` means every chunk is outside the bound.
fn least_excess(verifier: &PreparedJob<'_>, job: &CompiledModel, outputs: &ChunkOutputs) -> f64 {
    let honest = verifier.run_all().unwrap();
    let scale = verifier.run(Pass::Scale, honest.indices()).unwrap();
    let rule = &job.bundle.manifest.compare;
    (0..honest.len())
        .map(|pos| {
            let got = outputs.slot(pos);
            bound_usage(
                rule,
                ElementType::F32,
                got,
                honest.slot(pos),
                Some(scale.slot(pos)),
            )
            .unwrap()
        })
        .fold(f64::INFINITY, f64::min)
}

/// A provider that runs `cheat` instead of the job's model: the verifier rejects every
/// chunk; prints by how much the closest chunk misses the bound.
fn rejected_on_every_chunk(cheat: &Net, batch: &Batch, job: &CompiledModel, what: &str) {
    let verifier = gpu().prepare(&job.bundle).unwrap();
    let outputs = run_as(cheat, batch);
    let excess = least_excess(&verifier, job, &outputs);
    println!("{what}: every chunk at least {excess:.1}x the bound");
    let rejected = rejected_chunks(&verifier, job, &outputs);
    let n = job.bundle.manifest.n_chunks() as usize;
    assert_eq!(rejected.len(), n, "{what}: rejected {rejected:?}");
}

fn map_dense(net: &Net, layer: usize, f: impl Fn(&mut Vec<f32>, &mut Vec<f32>, usize)) -> Net {
    let mut net = net.clone();
    let Layer::Dense {
        weights,
        bias,
        inputs,
        ..
    } = &mut net.layers[layer]
    else {
        panic!("layer {layer} is not dense");
    };
    let inputs = *inputs;
    f(weights, bias, inputs);
    net
}

#[test]
fn honest_provider_passes_every_chunk() {
    let (_, _, job) = honest();
    let verifier = gpu().prepare(&job.bundle).unwrap();
    let outputs = verifier.run_all().unwrap();
    assert_eq!(
        rejected_chunks(&verifier, &job, &outputs),
        Vec::<u32>::new()
    );
}

#[test]
fn provider_running_f16_weights_is_caught_on_every_chunk() {
    let (net, batch, job) = honest();
    let f16 = |w: &mut Vec<f32>| {
        w.iter_mut()
            .for_each(|v| *v = half::f16::from_f32(*v).to_f32())
    };
    let mut cheap = map_dense(&net, 0, |w, b, _| {
        f16(w);
        f16(b)
    });
    cheap = map_dense(&cheap, 2, |w, b, _| {
        f16(w);
        f16(b)
    });
    assert_ne!(cheap, net);
    rejected_on_every_chunk(&cheap, &batch, &job, "f16 weights");
}

#[test]
fn provider_dropping_a_hidden_unit_is_caught_on_every_chunk() {
    let (net, batch, job) = honest();
    // Unit 0 of the hidden layer skipped: its weights and bias read as zero.
    let dropped = map_dense(&net, 0, |w, b, inputs| {
        w[..inputs].iter_mut().for_each(|v| *v = 0.0);
        b[0] = 0.0;
    });
    rejected_on_every_chunk(&dropped, &batch, &job, "dropped unit");
}

#[test]
fn provider_reporting_a_wrong_class_for_one_input_is_caught_on_that_chunk() {
    let (_, _, job) = honest();
    let verifier = gpu().prepare(&job.bundle).unwrap();
    let mut outputs = verifier.run_all().unwrap();
    // Item 5 of chunk 3: its two largest logits swapped, so its class changes.
    let item = &mut outputs.chunk_mut(3).unwrap()[5 * 40..6 * 40];
    let mut logits = assay_gpu::kernels::bytes_f32(item);
    let top = assay_model::argmax(&logits).unwrap();
    let second = (0..10)
        .filter(|&i| i != top)
        .max_by(|&a, &b| logits[a].total_cmp(&logits[b]))
        .unwrap();
    logits.swap(top, second);
    item.copy_from_slice(&assay_gpu::kernels::f32_bytes(&logits));
    assert_eq!(rejected_chunks(&verifier, &job, &outputs), vec![3]);
}

#[test]
fn provider_serving_another_models_outputs_is_caught_on_every_chunk() {
    let (net, batch, job) = honest();
    // Another model of the same shape: every output weight moved by 1 % (deterministic).
    let other = map_dense(&net, 2, |w, _, _| {
        w.iter_mut()
            .enumerate()
            .for_each(|(i, v)| *v *= if i % 2 == 0 { 1.01 } else { 0.99 })
    });
    rejected_on_every_chunk(&other, &batch, &job, "another model");
}

#[test]
fn provider_swapping_an_input_between_chunks_is_caught_on_both_chunks() {
    let (net, mut batch, job) = honest();
    // Item 0 of chunk 2 and item 0 of chunk 5 exchanged before running.
    let len = net.input_len();
    let (a, b) = (2 * PER_CHUNK as usize * len, 5 * PER_CHUNK as usize * len);
    for i in 0..len {
        batch.values.swap(a + i, b + i);
    }
    let verifier = gpu().prepare(&job.bundle).unwrap();
    assert_eq!(
        rejected_chunks(&verifier, &job, &run_as(&net, &batch)),
        vec![2, 5]
    );
}

/// The CNN's convolution bound (9 products per output) is as sharp as the MLP's: a
/// provider that runs the filters (BatchNorm folded in) and the classifier in f16 is caught
/// on every chunk.
#[test]
fn provider_running_the_cnn_in_f16_is_caught_on_every_chunk() {
    let (net, batch, job) = honest_model("cnn");
    let mut cheap = net.clone();
    for layer in &mut cheap.layers {
        if let Layer::Conv { weights, bias, .. } | Layer::Dense { weights, bias, .. } = layer {
            for v in weights.iter_mut().chain(bias.iter_mut()) {
                *v = half::f16::from_f32(*v).to_f32();
            }
        }
    }
    assert_ne!(cheap, net);
    rejected_on_every_chunk(&cheap, &batch, &job, "cnn in f16");
}
