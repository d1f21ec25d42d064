//! The compiled form of a model: a chain of layers over one item's flat f32 vector, and
//! the forward-error bound it carries (see `docs/models.md`, "The comparison bound").

use serde::Serialize;

/// A 2-D window (convolution or pooling) over an item of shape `[channels, height, width]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub channels: usize,
    /// Input `[height, width]`.
    pub input: [usize; 2],
    /// Output `[height, width]`.
    pub output: [usize; 2],
    pub kernel: [usize; 2],
    pub stride: [usize; 2],
    /// Padding before the first row and column `[top, left]` (positions outside the input
    /// are skipped: zeros for a convolution, absent for a pool).
    pub pad: [usize; 2],
    pub dilation: [usize; 2],
}

impl Window {
    /// Output positions per channel.
    pub fn output_area(&self) -> usize {
        self.output[0] * self.output[1]
    }
}

/// One step of the chain. Every layer maps an item's flat vector to the next one.
#[derive(Clone, Debug, PartialEq)]
pub enum Layer {
    /// `y_o = bias_o + Σ_i weights[o·inputs + i] · x_i` (Gemm, MatMul, Linear, with an
    /// Add of a constant or a BatchNormalization folded in).
    Dense {
        inputs: usize,
        outputs: usize,
        /// Row-major `[outputs][inputs]`.
        weights: Vec<f32>,
        /// `outputs` values (zeros when the model has none).
        bias: Vec<f32>,
    },
    /// 2-D convolution, one group: `filters` output channels, weights
    /// `[filters][channels][kernel_h][kernel_w]` (a BatchNormalization folded in).
    Conv {
        window: Window,
        filters: usize,
        weights: Vec<f32>,
        bias: Vec<f32>,
    },
    /// Largest value in each window, per channel.
    MaxPool { window: Window },
    /// Mean of each window, per channel: over the whole kernel area when `count_pad`
    /// (padding counts as zeros), else over the positions inside the input.
    AvgPool { window: Window, count_pad: bool },
    /// `y_i = x_i + constant_i` (an Add that does not follow a Dense).
    AddConstant { constant: Vec<f32> },
    /// `y_i = max(x_i, 0)`.
    Relu,
    /// `y_i = 1 / (1 + exp(−x_i))`.
    Sigmoid,
    /// `y_i = 2 / (1 + exp(−2·x_i)) − 1` (tanh, through the same `exp`).
    Tanh,
}

impl Layer {
    /// Output length for an input of length `len`.
    pub fn output_len(&self, len: usize) -> usize {
        match self {
            Layer::Dense { outputs, .. } => *outputs,
            Layer::Conv {
                window, filters, ..
            } => filters * window.output_area(),
            Layer::MaxPool { window } | Layer::AvgPool { window, .. } => {
                window.channels * window.output_area()
            }
            Layer::AddConstant { .. } | Layer::Relu | Layer::Sigmoid | Layer::Tanh => len,
        }
    }

    /// Short name for reports.
    pub fn name(&self) -> &'static str {
        match self {
            Layer::Dense { .. } => "dense",
            Layer::Conv { .. } => "conv",
            Layer::MaxPool { .. } => "maxpool",
            Layer::AvgPool { .. } => "avgpool",
            Layer::AddConstant { .. } => "add",
            Layer::Relu => "relu",
            Layer::Sigmoid => "sigmoid",
            Layer::Tanh => "tanh",
        }
    }

    /// The layer's parameters in blob order: weights then bias, or the constant.
    pub fn parameters(&self) -> [&[f32]; 2] {
        match self {
            Layer::Dense { weights, bias, .. } | Layer::Conv { weights, bias, .. } => {
                [weights, bias]
            }
            Layer::AddConstant { constant } => [constant, &[]],
            Layer::MaxPool { .. }
            | Layer::AvgPool { .. }
            | Layer::Relu
            | Layer::Sigmoid
            | Layer::Tanh => [&[], &[]],
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
    /// The model ends in a Softmax over the item's last axis: the job commits the logits
    /// before it (what the bound covers), and the reader applies it.
    pub softmax: bool,
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
    /// The model's final Softmax, applied by the reader to the committed logits.
    #[serde(default)]
    pub softmax: bool,
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

    /// An upper bound on any value an item reaches (exact arithmetic) when every input
    /// value is at most `input` in magnitude: per layer, the largest `|b| + Σ|w|·M` (a pool
    /// or ReLU keeps `M`, Sigmoid and Tanh bring it to 1).
    pub fn magnitude_bound(&self, input: f64) -> f64 {
        let mut m = input;
        let mut peak = m;
        for layer in &self.layers {
            m = match layer {
                Layer::Dense { weights, bias, .. } | Layer::Conv { weights, bias, .. } => {
                    let per = weights.len() / bias.len().max(1);
                    weights
                        .chunks(per.max(1))
                        .zip(bias)
                        .map(|(row, b)| {
                            f64::from(b.abs())
                                + row.iter().map(|w| f64::from(w.abs())).sum::<f64>() * m
                        })
                        .fold(0.0, f64::max)
                }
                Layer::AddConstant { constant } => {
                    m + constant
                        .iter()
                        .map(|c| f64::from(c.abs()))
                        .fold(0.0, f64::max)
                }
                Layer::Sigmoid | Layer::Tanh => 1.0,
                Layer::MaxPool { .. } | Layer::AvgPool { .. } | Layer::Relu => m,
            };
            peak = peak.max(m);
        }
        peak
    }

    /// Number of weights and constants.
    pub fn parameters(&self) -> usize {
        self.layers
            .iter()
            .map(|l| l.parameters().iter().map(|p| p.len()).sum::<usize>())
            .sum()
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
