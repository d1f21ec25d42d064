//! The demo's audited-inference job: the digits MLP (models/digits, built into the
//! binary) over its 360 test images, compiled by `assay-model` like any buyer's model, and
//! its accuracy read back from the outputs the provider committed.

use anyhow::{Context, Result};
use assay_gpu::{ChunkOutputs, JobBundle};
use assay_model::{argmax, compile, labels_from_npy, Batch, ModelInfo, Net};
use serde::Serialize;

const MODEL: &[u8] = include_bytes!("../../../../models/digits/mlp.onnx");
const IMAGES: &[u8] = include_bytes!("../../../../models/digits/test_x.npy");
const LABELS: &[u8] = include_bytes!("../../../../models/digits/test_y.npy");

/// Items per chunk of the demo's model job.
const PER_CHUNK: u32 = 30;

/// What the buyer reads back from the model job.
#[derive(Serialize)]
pub(super) struct InferenceReport {
    pub model: String,
    pub items: usize,
    pub correct: usize,
    pub accuracy: f64,
}

/// The digits MLP over the 360 test images, as a job (12 chunks of 30 images).
pub(super) fn digits_job() -> Result<(JobBundle, ModelInfo)> {
    let net = Net::from_onnx(MODEL).context("the built-in digits model")?;
    let batch = Batch::from_npy(IMAGES).context("the built-in digits images")?;
    let job = compile(&net, &batch, PER_CHUNK)?;
    Ok((job.bundle, job.info))
}

/// The predicted classes of `outputs` (the whole job) against the test labels.
pub(super) fn read_back(info: &ModelInfo, outputs: &ChunkOutputs) -> Result<InferenceReport> {
    let rows = info
        .outputs(outputs.as_bytes())
        .context("the model job's outputs have the wrong length")?;
    let labels = labels_from_npy(LABELS).context("the built-in digits labels")?;
    let correct = rows
        .iter()
        .zip(&labels)
        .filter(|(row, &y)| argmax(row).is_some_and(|c| c as i64 == y))
        .count();
    Ok(InferenceReport {
        model: format!("digits MLP ({})", info.onnx_ops.join(" → ")),
        items: rows.len(),
        correct,
        accuracy: correct as f64 / rows.len().max(1) as f64,
    })
}
