//! Assay's model compiler: audited inference on any wgpu GPU.
//!
//! A buyer's ONNX model and a batch of inputs become an ordinary sealed job
//! ([`assay_gpu::JobBundle`]): a generated WGSL kernel, the parameters and the items as
//! input blobs, and a manifest whose comparison rule is a forward-error bound derived from
//! the model and each input (never a tolerance the buyer picks). Providers and verifiers
//! run only the hashed WGSL; they never parse ONNX, and nothing autotunes, so the
//! verifier's trusted base does not grow.
//!
//! One chunk is `batch_per_chunk` consecutive items; its leaf is their f32 outputs.
//!
//! Flow: [`Net::from_onnx`] → [`Batch::from_npy`] → [`compile`] → post the bundle like
//! any other job → [`CompiledModel::outputs`] on the job's output.

mod batch;
mod import;
pub mod kernel;
mod net;

pub use batch::{labels_from_npy, npy_f32, Batch, BatchError};
pub use import::{net_from_onnx, SUPPORTED_OPS};
pub use kernel::Layout;
pub use net::{f32_up, gamma, Layer, ModelInfo, Net, UNIT_ROUNDOFF};

use assay_gpu::kernels::f32_bytes;
use assay_gpu::{
    ChunkGrid, CompareRule, Digest, ElementType, InputBinding, JobBundle, JobManifest, KernelSpec,
    ManifestError, OutputSpec, Requirements, ScratchBinding, StageSpec, MANIFEST_VERSION,
    STAGED_MANIFEST_VERSION,
};

/// The widest vector (values per item) a layer may produce in [`Layout::PerItem`]: the
/// kernel keeps each layer's vector in invocation-private memory (two per layer in the
/// bound pass), and shader compilers slow down sharply with large private arrays.
pub const MAX_WIDTH: usize = 1024;

/// Why a model or batch was refused, before anything is uploaded or paid.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("the ONNX model does not parse: {0}")]
    Parse(String),
    #[error("the model has {0} inputs; a job's model takes exactly one (the batch of items): make the others initializers")]
    InputCount(usize),
    #[error("the model has {0} outputs; a job's model produces exactly one")]
    OutputCount(usize),
    #[error("input `{name}` is {found}; the engine takes f32 items")]
    InputType { name: String, found: String },
    #[error(
        "input `{name}` has rank {rank}; it needs a batch axis first and the item's axes after it"
    )]
    NoBatchDimension { name: String, rank: usize },
    #[error("input `{tensor}` has a dynamic size on axis {axis}; only the batch axis (0) may be dynamic: export the model with a fixed item shape")]
    DynamicShape { tensor: String, axis: usize },
    #[error("unsupported operator {op} (node `{node}`); supported: {}", SUPPORTED_OPS.join(", "))]
    UnsupportedOp { op: String, node: String },
    #[error("{op} node `{node}` uses {reason}, which the compiler does not support")]
    Unsupported {
        op: String,
        node: String,
        reason: String,
    },
    #[error("{op} node `{node}` takes operand `{operand}` at run time; every operand but the item must be a constant (an initializer)")]
    RuntimeOperand {
        op: String,
        node: String,
        operand: String,
    },
    #[error("node `{node}` breaks the chain: {reason} (the compiler runs a chain of layers over one item)")]
    NotAChain { node: String, reason: String },
    #[error(
        "{what} is {value}, over the limit of {limit} every verifier's device is required to meet"
    )]
    TooLarge {
        what: &'static str,
        value: u64,
        limit: u64,
    },
    #[error("items have shape {got:?} but the model takes {expected:?}")]
    BatchShape {
        expected: Vec<usize>,
        got: Vec<usize>,
    },
    #[error("item {item} has a non-finite value (NaN or infinity) at position {index}: NaN bits differ between devices, so no verifier could compare its outputs and an honest provider could be judged faulty")]
    NonFiniteInput { item: usize, index: usize },
    #[error("layer {layer} ({kind}) has a non-finite parameter (NaN or infinity)")]
    NonFiniteParameter { layer: usize, kind: &'static str },
    #[error("values in this model may reach {bound:e} on this batch, beyond what f32 holds with room for the error bound ({limit:e}): outputs could overflow to infinity, which no verifier can compare")]
    MayOverflow { bound: f64, limit: f64 },
    #[error("batch_per_chunk must be at least 1, not {0}")]
    BatchPerChunk(u32),
    #[error(transparent)]
    Batch(#[from] BatchError),
    #[error(transparent)]
    Manifest(#[from] ManifestError),
}

impl Net {
    /// Parses an ONNX model (see [`net_from_onnx`]); [`compile`] checks that the job fits
    /// every verifier.
    pub fn from_onnx(bytes: &[u8]) -> Result<Net, ModelError> {
        net_from_onnx(bytes)
    }
}

/// A compiled model job: the bundle to post, and how to read its output back.
#[derive(Clone, Debug)]
pub struct CompiledModel {
    pub bundle: JobBundle,
    pub info: ModelInfo,
}

/// Compiles `net` over `batch` into a job of `ceil(items / batch_per_chunk)` chunks, in
/// the default [`Layout`]; the last chunk is padded with zero items (their outputs are
/// dropped by [`CompiledModel::outputs`]).
pub fn compile(
    net: &Net,
    batch: &Batch,
    batch_per_chunk: u32,
) -> Result<CompiledModel, ModelError> {
    compile_in(net, batch, batch_per_chunk, Layout::default())
}

/// [`compile`] in `layout` (a chain of no layer always compiles to [`Layout::PerItem`]).
pub fn compile_in(
    net: &Net,
    batch: &Batch,
    batch_per_chunk: u32,
    layout: Layout,
) -> Result<CompiledModel, ModelError> {
    let layout = layout.for_net(net);
    if layout == Layout::PerItem && net.widest() > MAX_WIDTH {
        return Err(ModelError::TooLarge {
            what: "the widest layer (values per item) of a one-dispatch kernel",
            value: net.widest() as u64,
            limit: MAX_WIDTH as u64,
        });
    }
    if batch_per_chunk == 0 {
        return Err(ModelError::BatchPerChunk(0));
    }
    if batch.item_shape != net.item_shape {
        return Err(ModelError::BatchShape {
            expected: net.item_shape.clone(),
            got: batch.item_shape.clone(),
        });
    }
    check_finite(net, batch)?;
    let per_chunk = batch_per_chunk as usize;
    let chunks = batch.items().div_ceil(per_chunk);
    let mut items = batch.values.clone();
    items.resize(chunks * per_chunk * net.input_len(), 0.0);
    let source = kernel::source(net, batch_per_chunk, layout);
    let blobs = vec![f32_bytes(&items), f32_bytes(&kernel::params_blob(net))];
    let limits = wgpu::Limits::default();
    let biggest = blobs.iter().map(|b| b.len() as u64).max().unwrap_or(0);
    if biggest > limits.max_storage_buffer_binding_size {
        return Err(ModelError::TooLarge {
            what: "the largest blob (bytes)",
            value: biggest,
            limit: limits.max_storage_buffer_binding_size,
        });
    }
    let elements_per_chunk = u32::try_from(per_chunk * net.output_len())
        .ok()
        .filter(|&n| u64::from(n) * 4 <= limits.max_storage_buffer_binding_size)
        .ok_or(ModelError::TooLarge {
            what: "a chunk's outputs (values)",
            value: (per_chunk * net.output_len()) as u64,
            limit: limits.max_storage_buffer_binding_size / 4,
        })?;
    let (entry_point, scale_entry_point, workgroups_per_chunk, stages, scratch) =
        dispatches(net, batch_per_chunk, layout, &limits)?;
    let manifest = JobManifest {
        version: if stages.is_empty() && scratch.is_empty() {
            MANIFEST_VERSION
        } else {
            STAGED_MANIFEST_VERSION
        },
        kernel: KernelSpec {
            sha256: Digest::of(source.as_bytes()),
            entry_point,
        },
        workgroup_size: [kernel::WORKGROUP, 1, 1],
        grid: ChunkGrid {
            chunks: chunks as u64,
            workgroups_per_chunk,
        },
        inputs: blobs
            .iter()
            .zip([kernel::ITEMS_BINDING, kernel::PARAMS_BINDING])
            .map(|(b, binding)| InputBinding {
                binding,
                sha256: Digest::of(b),
                len: b.len() as u64,
            })
            .collect(),
        output: OutputSpec {
            element: ElementType::F32,
            elements_per_chunk,
        },
        compare: CompareRule::Float {
            max_abs: kernel::abs_floor(net),
            max_rel: kernel::max_rel(net),
            scale_entry_point: Some(scale_entry_point),
        },
        requires: Requirements::default(),
        stages,
        scratch,
    };
    let bundle = JobBundle {
        manifest,
        kernel_source: source,
        inputs: blobs,
    };
    bundle.validate()?;
    Ok(CompiledModel {
        bundle,
        info: ModelInfo {
            items: batch.items(),
            batch_per_chunk,
            item_shape: net.item_shape.clone(),
            output_shape: net.output_shape.clone(),
            onnx_ops: net.onnx_ops.clone(),
            parameters: net.parameters(),
            softmax: net.softmax,
        },
    })
}

/// A chunk's first dispatch (entry point, scale entry point, workgroups), its further
/// stages and its scratch buffers, in `layout` (already [`Layout::for_net`]).
type Dispatches = (
    String,
    String,
    [u32; 3],
    Vec<StageSpec>,
    Vec<ScratchBinding>,
);

fn dispatches(
    net: &Net,
    batch_per_chunk: u32,
    layout: Layout,
    limits: &wgpu::Limits,
) -> Result<Dispatches, ModelError> {
    if layout == Layout::PerItem {
        let workgroups = [batch_per_chunk.div_ceil(kernel::WORKGROUP), 1, 1];
        return Ok(("main".into(), "bound".into(), workgroups, vec![], vec![]));
    }
    let work = kernel::work_bytes(net, batch_per_chunk);
    let scratch = if net.layers.len() > 1 {
        vec![ScratchBinding {
            binding: kernel::WORK_BINDING,
            len: work,
        }]
    } else {
        vec![]
    };
    if !scratch.is_empty() && work > limits.max_storage_buffer_binding_size {
        return Err(ModelError::TooLarge {
            what:
                "a chunk's scratch for its layers (bytes: 4 × batch_per_chunk × widest layer × 4)",
            value: work,
            limit: limits.max_storage_buffer_binding_size,
        });
    }
    let mut layers = kernel::layer_dispatches(net, batch_per_chunk).into_iter();
    let Some((entry, bound, workgroups)) = layers.next() else {
        return Err(ModelError::NotAChain {
            node: String::new(),
            reason: "no layer to run".into(),
        });
    };
    let stages = layers
        .map(|(entry_point, scale, workgroups)| StageSpec {
            entry_point,
            scale_entry_point: Some(scale),
            workgroups,
        })
        .collect();
    Ok((entry, bound, workgroups, stages, scratch))
}

/// The largest magnitude a job may reach (its bound pass adds `2e` terms on top).
const MAGNITUDE_LIMIT: f64 = f32::MAX as f64 / 16.0;

/// Refuses what would make honest outputs incomparable: a non-finite input or parameter,
/// or values that may overflow f32 (NaN and infinity pass the rule only bit-identical, and
/// NaN bits differ between devices).
fn check_finite(net: &Net, batch: &Batch) -> Result<(), ModelError> {
    if let Some(i) = batch.values.iter().position(|v| !v.is_finite()) {
        let per = net.input_len().max(1);
        return Err(ModelError::NonFiniteInput {
            item: i / per,
            index: i % per,
        });
    }
    for (layer, l) in net.layers.iter().enumerate() {
        if l.parameters()
            .iter()
            .any(|p| p.iter().any(|v| !v.is_finite()))
        {
            return Err(ModelError::NonFiniteParameter {
                layer,
                kind: l.name(),
            });
        }
    }
    let input = batch
        .values
        .iter()
        .map(|v| f64::from(v.abs()))
        .fold(0.0, f64::max);
    let bound = net.magnitude_bound(input);
    if bound > MAGNITUDE_LIMIT {
        return Err(ModelError::MayOverflow {
            bound,
            limit: MAGNITUDE_LIMIT,
        });
    }
    Ok(())
}

impl ModelInfo {
    /// Values per output item.
    pub fn output_len(&self) -> usize {
        self.output_shape.iter().product()
    }

    /// The job's whole output (all chunks, little-endian f32) split per item, padding
    /// dropped; `None` when its length is not that of this model's job.
    pub fn outputs(&self, job_output: &[u8]) -> Option<Vec<Vec<f32>>> {
        let per_item = self.output_len();
        let padded =
            self.items.div_ceil(self.batch_per_chunk as usize) * self.batch_per_chunk as usize;
        if job_output.len() != padded * per_item * 4 {
            return None;
        }
        let values = assay_gpu::kernels::bytes_f32(job_output);
        Some(
            values
                .chunks(per_item)
                .take(self.items)
                .map(<[f32]>::to_vec)
                .collect(),
        )
    }
}

impl ModelInfo {
    /// What the model outputs for the committed `rows`: the rows themselves, or their
    /// softmax over the item's last axis (computed in f64) when the model ends in one.
    pub fn presented(&self, rows: &[Vec<f32>]) -> Vec<Vec<f32>> {
        if !self.softmax {
            return rows.to_vec();
        }
        let group = self.output_shape.last().copied().unwrap_or(1).max(1);
        rows.iter()
            .map(|row| row.chunks(group).flat_map(softmax).collect())
            .collect()
    }
}

/// Softmax of `z` in f64, rounded to f32.
fn softmax(z: &[f32]) -> Vec<f32> {
    let max = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exps: Vec<f64> = z.iter().map(|&v| f64::from(v - max).exp()).collect();
    let sum: f64 = exps.iter().sum();
    exps.iter().map(|e| (e / sum) as f32).collect()
}

impl CompiledModel {
    /// See [`ModelInfo::outputs`].
    pub fn outputs(&self, job_output: &[u8]) -> Option<Vec<Vec<f32>>> {
        self.info.outputs(job_output)
    }
}

/// Index of the largest value (the predicted class of a logits vector); `None` when empty
/// or any value is NaN.
pub fn argmax(values: &[f32]) -> Option<usize> {
    if values.iter().any(|v| v.is_nan()) {
        return None;
    }
    values
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(i, _)| i)
}
