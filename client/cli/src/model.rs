//! `assay model`: a buyer's ONNX model and batch compiled into an ordinary job, and the
//! job's outputs read back per item (classes, accuracy, a reference checked under the
//! job's own bound).

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{bail, ensure, Context, Result};
use assay_gpu::{bound_usage, ElementType, JobBundle, JobManifest, Pass};
use assay_model::{argmax, compile_in, labels_from_npy, npy_f32, Batch, Layout, ModelInfo, Net};
use clap::{Args, Subcommand, ValueEnum};
use serde::Serialize;

use crate::report::{report, Outcome};

#[derive(Subcommand)]
pub enum ModelCommand {
    /// Compile an ONNX model and a batch of inputs into a job directory (manifest.json,
    /// kernel.wgsl, input-0.bin = the items, input-1.bin = the parameters, model.json),
    /// ready for `assay job post`. Supported operators: Gemm, MatMul, Add, Relu, Sigmoid,
    /// Tanh, Flatten, Reshape, Conv, MaxPool, AveragePool, BatchNormalization (folded), and
    /// a final Softmax (applied by `model read`); anything else is refused by name before
    /// anything is written or paid.
    Compile(CompileArgs),
    /// Read a model job's outputs (`assay job result --out FILE`) back per item: writes
    /// them as .npy, prints the predicted classes' accuracy against labels, and checks a
    /// reference (e.g. ONNX Runtime's) under the job's own derived bound.
    Read(ReadArgs),
}

#[derive(Args)]
pub struct CompileArgs {
    /// The ONNX model: one input (batch axis first, the item's axes static), one output.
    model: PathBuf,
    /// The batch: a float32 .npy whose first axis is the item.
    #[arg(long)]
    inputs: PathBuf,
    /// Items per chunk (one Merkle leaf; a verifier re-runs whole chunks). The last chunk
    /// is padded with zero items.
    #[arg(long, default_value_t = 32)]
    batch_per_chunk: u32,
    /// Directory to write the job into.
    #[arg(long, default_value = "assay-model-job")]
    out: PathBuf,
    /// How a chunk runs the model: `per-layer` dispatches each layer over every item and
    /// output value (parallel enough for a GPU, layers of any width up to the device's
    /// limits); `one-dispatch` runs one invocation per item through every layer (layers
    /// up to 1,024 values; on a CPU adapter it can be faster). Same bits either way.
    #[arg(long, value_enum, default_value_t = LayoutArg::PerLayer)]
    layout: LayoutArg,
}

#[derive(Clone, Copy, ValueEnum)]
enum LayoutArg {
    PerLayer,
    OneDispatch,
}

impl From<LayoutArg> for Layout {
    fn from(arg: LayoutArg) -> Layout {
        match arg {
            LayoutArg::PerLayer => Layout::PerLayer,
            LayoutArg::OneDispatch => Layout::PerItem,
        }
    }
}

#[derive(Args)]
pub struct ReadArgs {
    /// The job directory `assay model compile` wrote.
    job: PathBuf,
    /// The job's outputs, as `assay job result --out` wrote them.
    #[arg(long, default_value = "outputs.bin")]
    outputs: PathBuf,
    /// Where to write the outputs per item, as a float32 .npy.
    #[arg(long, default_value = "outputs.npy")]
    out: PathBuf,
    /// Integer labels (.npy, one per item): prints the accuracy of the argmax classes.
    #[arg(long)]
    labels: Option<PathBuf>,
    /// A reference output (.npy, e.g. ONNX Runtime's) to check under the job's derived
    /// bound; runs the bound pass on this machine's GPU adapter. For a model ending in
    /// Softmax, the reference is of the logits the job commits (the model without it).
    #[arg(long)]
    reference: Option<PathBuf>,
}

pub fn run(command: ModelCommand) -> Outcome {
    match command {
        ModelCommand::Compile(a) => compile_job(a),
        ModelCommand::Read(a) => read(a),
    }
}

fn read_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

/// `assay model compile`'s report.
#[derive(Serialize)]
struct Compiled {
    manifest: PathBuf,
    chunks: u32,
    /// Dispatches per chunk (one per layer, or one).
    dispatches_per_chunk: usize,
    #[serde(flatten)]
    info: ModelInfo,
    max_rel: f32,
}

impl fmt::Display for Compiled {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        writeln!(
            f,
            "compiled {} ({} parameters) over {} items of shape {:?} into {} chunks of {} ({} dispatches per chunk)",
            self.info.onnx_ops.join(" → "),
            self.info.parameters,
            self.info.items,
            self.info.item_shape,
            self.chunks,
            self.info.batch_per_chunk,
            self.dispatches_per_chunk,
        )?;
        writeln!(
            f,
            "comparison: per output, {} × the forward-error bound the verifier derives from the model and that item",
            self.max_rel
        )?;
        write!(
            f,
            "wrote {}; post it with: assay job post {} --price 10",
            self.manifest.display(),
            self.manifest.display()
        )
    }
}

fn compile_job(a: CompileArgs) -> Outcome {
    let net = Net::from_onnx(&read_file(&a.model)?)
        .with_context(|| format!("{} cannot be compiled", a.model.display()))?;
    let batch = Batch::from_npy(&read_file(&a.inputs)?)
        .with_context(|| format!("{} is not a batch", a.inputs.display()))?;
    let job = compile_in(&net, &batch, a.batch_per_chunk, a.layout.into())?;
    let info = serde_json::to_string_pretty(&job.info)?;
    let manifest =
        crate::job::new::write_job_dir(&a.out, &job.bundle, &[("model.json", info.as_bytes())])?;
    let max_rel = match job.bundle.manifest.compare {
        assay_gpu::CompareRule::Float { max_rel, .. } => max_rel,
        assay_gpu::CompareRule::Exact => 0.0,
    };
    report(Compiled {
        manifest,
        chunks: job.bundle.manifest.n_chunks(),
        dispatches_per_chunk: job.bundle.manifest.output_dispatches().len(),
        info: job.info,
        max_rel,
    })
}

/// `assay model read`'s report.
#[derive(Serialize)]
struct Read {
    items: usize,
    written: PathBuf,
    /// `(correct, labelled)` when labels were given.
    accuracy: Option<(usize, usize)>,
    /// Largest share of the bound the reference used (≤ 1: it matches), when given.
    reference_bound_usage: Option<f64>,
}

impl fmt::Display for Read {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "{} items written to {}",
            self.items,
            self.written.display()
        )?;
        if let Some((correct, n)) = self.accuracy {
            write!(
                f,
                "\naccuracy: {correct}/{n} = {:.2} %",
                100.0 * correct as f64 / n.max(1) as f64
            )?;
        }
        if let Some(usage) = self.reference_bound_usage {
            write!(
                f,
                "\nreference matches under the derived bound: worst element uses {:.2} % of it",
                100.0 * usage
            )?;
        }
        Ok(())
    }
}

fn read(a: ReadArgs) -> Outcome {
    let info: ModelInfo = serde_json::from_slice(&read_file(&a.job.join("model.json"))?)
        .with_context(|| format!("{} is not a model job's model.json", a.job.display()))?;
    let output = read_file(&a.outputs)?;
    let Some(rows) = info.outputs(&output) else {
        bail!(
            "{} has {} bytes, not the outputs of this model job ({} items of {} values, in chunks of {})",
            a.outputs.display(),
            output.len(),
            info.items,
            info.output_len(),
            info.batch_per_chunk
        );
    };
    let mut shape = vec![rows.len() as u64];
    shape.extend(info.output_shape.iter().map(|&d| d as u64));
    // What the model outputs: the committed values, or their softmax when it ends in one.
    let flat: Vec<f32> = info.presented(&rows).concat();
    std::fs::write(&a.out, npy_f32(&shape, &flat))
        .with_context(|| format!("cannot write {}", a.out.display()))?;
    let accuracy = match &a.labels {
        None => None,
        Some(path) => {
            let labels = labels_from_npy(&read_file(path)?)
                .with_context(|| format!("{} holds no integer labels", path.display()))?;
            ensure!(
                labels.len() == rows.len(),
                "{} has {} labels for {} items",
                path.display(),
                labels.len(),
                rows.len()
            );
            let correct = rows
                .iter()
                .zip(&labels)
                .filter(|(row, &y)| argmax(row).is_some_and(|c| c as i64 == y))
                .count();
            Some((correct, labels.len()))
        }
    };
    let reference_bound_usage = match &a.reference {
        None => None,
        Some(path) => Some(reference_usage(&a.job, &output, path)?),
    };
    report(Read {
        items: rows.len(),
        written: a.out,
        accuracy,
        reference_bound_usage,
    })
}

/// Runs the job's bound pass on this machine and returns the largest share of the bound
/// `reference` uses against the job's outputs; fails when any element is outside it.
fn reference_usage(job_dir: &Path, output: &[u8], reference: &Path) -> Result<f64> {
    let manifest = JobManifest::from_json(&String::from_utf8_lossy(&read_file(
        &job_dir.join("manifest.json"),
    )?))?;
    let kernel_source = String::from_utf8(read_file(&job_dir.join("kernel.wgsl"))?)
        .context("kernel.wgsl is not UTF-8")?;
    let inputs = (0..manifest.inputs.len())
        .map(|i| read_file(&job_dir.join(format!("input-{i}.bin"))))
        .collect::<Result<Vec<_>>>()?;
    let bundle = JobBundle {
        manifest,
        kernel_source,
        inputs,
    };
    let reference = Batch::from_npy(&read_file(reference)?)
        .with_context(|| format!("{} is not a float32 .npy", reference.display()))?;
    let mut expected = assay_gpu::kernels::f32_bytes(&reference.values);
    ensure!(
        expected.len() <= output.len(),
        "the reference has more values than the job's outputs"
    );
    // The padding items at the end have no reference: the job's own values stand in.
    expected.extend_from_slice(&output[expected.len()..]);
    let gpu = crate::common::gpu()?;
    let prepared = gpu.prepare(&bundle)?;
    let indices: Vec<u32> = (0..bundle.manifest.n_chunks()).collect();
    let bound = prepared.run(Pass::Scale, &indices)?;
    let chunk = bundle.manifest.chunk_bytes() as usize;
    let mut worst = 0f64;
    for (pos, index) in indices.iter().enumerate() {
        let range = pos * chunk..(pos + 1) * chunk;
        let rule = &bundle.manifest.compare;
        assay_gpu::compare_chunk(
            rule,
            ElementType::F32,
            &expected[range.clone()],
            &output[range.clone()],
            Some(bound.slot(pos)),
        )
        .with_context(|| format!("chunk {index}: the reference is outside the job's bound"))?;
        let usage = bound_usage(
            rule,
            ElementType::F32,
            &expected[range.clone()],
            &output[range],
            Some(bound.slot(pos)),
        );
        worst = worst.max(usage.unwrap_or(0.0));
    }
    Ok(worst)
}
