//! The compiled form of a model: a chain of layers over one item's flat f32 vector, and
//! the forward-error bound it carries (see `docs/models.md`, "The comparison bound").

use serde::Serialize;

/// One step of the chain. Every layer maps an item's flat vector to the next one.
#[derive(Clone, Debug, PartialEq)]
pub enum Layer {
    /// `y_o = bias_o + Σ_i weights[o·inputs + i] · x_i` (Gemm, MatMul, Linear, with an
    /// Add of a constant folded in as the bias).
    Dense {
        inputs: usize,
        outputs: usize,
        /// Row-major `[outputs][inputs]`.
        weights: Vec<f32>,
        /// `outputs` values (zeros when the model has none).
        bias: Vec<f32>,
    },
    /// `y_i = x_i + constant_i` (an Add that does not follow a Dense).
    AddConstant { constant: Vec<f32> },
    /// `y_i = max(x_i, 0)`.
    Relu,
}

impl Layer {
    /// Output length for an input of length `len`.
    pub fn output_len(&self, len: usize) -> usize {
        match self {
            Layer::Dense { outputs, .. } => *outputs,
            Layer::AddConstant { .. } | Layer::Relu => len,
        }
    }

    /// Short name for reports.
    pub fn name(&self) -> &'static str {
        match self {
            Layer::Dense { .. } => "dense",
            Layer::AddConstant { .. } => "add",
            Layer::Relu => "relu",
        }
    }
}

/// A model the engine can run: per item, `input_len` f32 values in, the chain, out.
#[derive(Clone, Debug, PartialEq)]
pub struct Net {
    /// Shape of one item as the model declares it (the batch dimension removed).
    pub item_shape: Vec<usize>,
    /// Shape of one item's output (batch dimension removed).
    pub output_shape: Vec<usize>,
    pub layers: Vec<Layer>,
    /// The ONNX operators the chain was compiled from, in order (for reports).
    pub onnx_ops: Vec<String>,
}

/// A summary of a compiled model, written beside the job as `model.json`.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct ModelInfo {
    /// Items in the batch (the last chunk is padded with zero items up to `batch_per_chunk`).
    pub items: usize,
    pub batch_per_chunk: u32,
    pub item_shape: Vec<usize>,
    pub output_shape: Vec<usize>,
    pub onnx_ops: Vec<String>,
    pub parameters: usize,
}

impl Net {
    /// Values per input item.
    pub fn input_len(&self) -> usize {
        self.item_shape.iter().product()
    }

    /// Values per output item.
    pub fn output_len(&self) -> usize {
        self.layers
            .iter()
            .fold(self.input_len(), |len, l| l.output_len(len))
    }

    /// Widest vector an item passes through (the kernel keeps two of them per invocation).
    pub fn widest(&self) -> usize {
        let mut len = self.input_len();
        let mut widest = len;
        for l in &self.layers {
            len = l.output_len(len);
            widest = widest.max(len);
        }
        widest
    }

    /// Number of weights and constants.
    pub fn parameters(&self) -> usize {
        self.layers
            .iter()
            .map(|l| match l {
                Layer::Dense { weights, bias, .. } => weights.len() + bias.len(),
                Layer::AddConstant { constant } => constant.len(),
                Layer::Relu => 0,
            })
            .sum()
    }

    /// The model evaluated in f64 on one item (a reference for tests and benches; the
    /// engine computes in f32).
    pub fn forward_f64(&self, item: &[f32]) -> Vec<f64> {
        let mut x: Vec<f64> = item.iter().map(|&v| f64::from(v)).collect();
        for layer in &self.layers {
            x = match layer {
                Layer::Dense {
                    inputs,
                    weights,
                    bias,
                    ..
                } => bias
                    .iter()
                    .enumerate()
                    .map(|(o, &b)| {
                        let row = &weights[o * inputs..(o + 1) * inputs];
                        f64::from(b)
                            + row
                                .iter()
                                .zip(&x)
                                .map(|(&w, &v)| f64::from(w) * v)
                                .sum::<f64>()
                    })
                    .collect(),
                Layer::AddConstant { constant } => x
                    .iter()
                    .zip(constant)
                    .map(|(v, &c)| v + f64::from(c))
                    .collect(),
                Layer::Relu => x.iter().map(|v| v.max(0.0)).collect(),
            };
        }
        x
    }
}

/// Unit roundoff of f32 under round-to-nearest (the assumption `docs/verification.md`
/// states for every float rule).
pub const UNIT_ROUNDOFF: f64 = 1.0 / (1u64 << 24) as f64;

/// `γ_n = n·u / (1 − n·u)`: the relative error bound of any order of `n` rounded
/// additions and multiplications of non-negative-coefficient terms (Higham, Lemma 3.1).
pub fn gamma(n: usize) -> f64 {
    let nu = n as f64 * UNIT_ROUNDOFF;
    nu / (1.0 - nu)
}

/// `x` rounded up to the next f32 (never below `x`).
pub fn f32_up(x: f64) -> f32 {
    let r = x as f32;
    if f64::from(r) < x {
        f32::from_bits(r.to_bits() + 1)
    } else {
        r
    }
}
