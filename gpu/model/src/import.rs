//! ONNX → [`Net`]: the graph is parsed by `onnx-ir` (run time, no code generation) and
//! must be a chain over one batched input whose other operands are constants.

use onnx_ir::{ArgType, Argument, DType, Node, OnnxGraphBuilder};

use crate::net::{Layer, Net, Window};
use crate::ModelError;

/// Operators the compiler accepts (stage 1: multilayer perceptrons).
pub const SUPPORTED_OPS: &[&str] = &[
    "Gemm",
    "MatMul",
    "Add",
    "Relu",
    "Flatten",
    "Reshape",
    "Conv",
    "MaxPool",
    "AveragePool",
    "BatchNormalization",
    "Sigmoid",
    "Tanh",
    "Softmax (last node only)",
];

/// Parses ONNX bytes into the chain the engine runs; every refusal is a named error.
pub fn net_from_onnx(bytes: &[u8]) -> Result<Net, ModelError> {
    let graph = OnnxGraphBuilder::new()
        .parse_bytes(bytes)
        .map_err(|e| ModelError::Parse(e.to_string()))?;
    let [input] = graph.inputs.as_slice() else {
        return Err(ModelError::InputCount(graph.inputs.len()));
    };
    let [output] = graph.outputs.as_slice() else {
        return Err(ModelError::OutputCount(graph.outputs.len()));
    };
    let item_shape = batched_item_shape(input)?;
    let mut chain = Chain {
        softmax: false,
        exported_batch: match &input.ty {
            ArgType::Tensor(t) => t.static_shape.as_ref().and_then(|d| d[0]),
            _ => None,
        },
        current: input.name.clone(),
        shape: item_shape.clone(),
        layers: Vec::new(),
        onnx_ops: Vec::new(),
    };
    for node in &graph.nodes {
        chain.push(node)?;
    }
    if output.name != chain.current {
        return Err(ModelError::NotAChain {
            node: output.name.clone(),
            reason: "the graph's output is not the end of the chain".into(),
        });
    }
    Ok(Net {
        item_shape,
        output_shape: chain.shape,
        layers: chain.layers,
        onnx_ops: chain.onnx_ops,
        softmax: chain.softmax,
    })
}

/// The input's shape without its batch dimension; every other dimension must be static.
fn batched_item_shape(input: &Argument) -> Result<Vec<usize>, ModelError> {
    let ArgType::Tensor(t) = &input.ty else {
        return Err(ModelError::InputType {
            name: input.name.clone(),
            found: format!("{:?}", input.ty),
        });
    };
    if t.dtype != DType::F32 {
        return Err(ModelError::InputType {
            name: input.name.clone(),
            found: format!("{:?}", t.dtype),
        });
    }
    if t.rank < 2 {
        return Err(ModelError::NoBatchDimension {
            name: input.name.clone(),
            rank: t.rank,
        });
    }
    let dims = t.static_shape.clone().unwrap_or_else(|| vec![None; t.rank]);
    dims.iter()
        .enumerate()
        .skip(1)
        .map(|(axis, d)| {
            d.ok_or_else(|| ModelError::DynamicShape {
                tensor: input.name.clone(),
                axis,
            })
        })
        .collect()
}

/// A convolution's or pool's window attributes, as onnx-ir parsed them.
#[derive(Clone, Copy)]
struct WindowSpec<'a> {
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: &'a onnx_ir::node::padding::PaddingConfig2d,
    dilation: [usize; 2],
    auto_pad: &'a onnx_ir::node::padding::AutoPad,
    ceil_mode: bool,
}

/// The [`WindowSpec`] of a MaxPool or AveragePool config (same fields, two types).
macro_rules! pool_spec {
    ($c:expr) => {
        WindowSpec {
            kernel: $c.kernel_size,
            stride: $c.strides,
            padding: &$c.padding,
            dilation: $c.dilation,
            auto_pad: &$c.auto_pad,
            ceil_mode: $c.ceil_mode,
        }
    };
}

/// The chain being built: the name of the tensor that carries the item, and its shape.
struct Chain {
    /// A final Softmax was seen (nothing may follow it).
    softmax: bool,
    /// The batch size the model was exported with, when static (a Reshape may name it).
    exported_batch: Option<usize>,
    current: String,
    shape: Vec<usize>,
    layers: Vec<Layer>,
    onnx_ops: Vec<String>,
}

impl Chain {
    fn push(&mut self, node: &Node) -> Result<(), ModelError> {
        if self.softmax {
            return Err(unsupported(
                node,
                "a step after a Softmax (a Softmax is supported only as the model's last step: \
                 the job commits the logits and the reader applies it)",
            ));
        }
        let op = match node {
            Node::Constant(_) => return Ok(()),
            Node::Gemm(_) | Node::Linear(_) | Node::MatMul(_) => self.push_dense(node)?,
            Node::Add(_) => {
                let other = match self.data_input(node, 0) {
                    Ok(()) => 1,
                    Err(_) => {
                        self.data_input(node, 1)?;
                        0
                    }
                };
                let c = constant(node, other)?;
                let c = broadcast_to_item(node, &c, &constant_shape(node, other), &self.shape)?;
                self.add_constant(&c);
                "Add"
            }
            Node::Conv2d(c) => {
                self.push_conv(node, &c.config)?;
                "Conv"
            }
            Node::MaxPool2d(p) => {
                let c = &p.config;
                if node.outputs().len() > 1 {
                    return Err(unsupported(node, "the Indices output"));
                }
                let window = self.pool_window(node, &pool_spec!(c))?;
                self.layers.push(Layer::MaxPool { window });
                "MaxPool"
            }
            Node::AveragePool2d(p) => {
                let c = &p.config;
                let window = self.pool_window(node, &pool_spec!(c))?;
                let count_pad = c.count_include_pad;
                self.layers.push(Layer::AvgPool { window, count_pad });
                "AveragePool"
            }
            Node::BatchNormalization(b) => {
                self.data_input(node, 0)?;
                let epsilon = match &b.config {
                    onnx_ir::node::batch_norm::BatchNormConfig::Static(c) => c.epsilon,
                    onnx_ir::node::batch_norm::BatchNormConfig::Runtime(_) => {
                        return Err(unsupported(node, "statistics computed at run time"))
                    }
                };
                self.fold_batch_norm(node, epsilon)?;
                "BatchNormalization"
            }
            Node::Sigmoid(_) => {
                self.data_input(node, 0)?;
                self.layers.push(Layer::Sigmoid);
                "Sigmoid"
            }
            Node::Tanh(_) => {
                self.data_input(node, 0)?;
                self.layers.push(Layer::Tanh);
                "Tanh"
            }
            Node::Softmax(sm) => {
                self.data_input(node, 0)?;
                if self.softmax {
                    return Err(unsupported(node, "a second Softmax"));
                }
                if sm.config.axis != self.shape.len() {
                    return Err(unsupported(node, "an axis other than the last"));
                }
                // Checked to be the graph's last step once the chain ends.
                self.softmax = true;
                "Softmax"
            }
            Node::Relu(_) => {
                self.data_input(node, 0)?;
                self.layers.push(Layer::Relu);
                "Relu"
            }
            Node::Flatten(f) => {
                self.data_input(node, 0)?;
                if f.config.axis != 1 {
                    return Err(unsupported(
                        node,
                        "axis other than 1 (it would merge items)",
                    ));
                }
                self.shape = vec![self.shape.iter().product()];
                "Flatten"
            }
            Node::Reshape(r) => {
                self.data_input(node, 0)?;
                self.reshape(node, &r.config.shape)?;
                "Reshape"
            }
            other => {
                return Err(ModelError::UnsupportedOp {
                    op: format!("{:?}", other.node_type()),
                    node: other.name().to_string(),
                })
            }
        };
        self.onnx_ops.push(op.to_string());
        self.current = node.outputs()[0].name.clone();
        Ok(())
    }

    /// A Gemm, a MatMul or onnx-ir's fused Linear as a Dense layer; the name reported.
    fn push_dense(&mut self, node: &Node) -> Result<&'static str, ModelError> {
        self.data_input(node, 0)?;
        let w = constant(node, 1)?;
        let (k, n) = matrix_dims(node, &w)?;
        match node {
            Node::Gemm(g) => {
                let c = &g.config;
                if c.trans_a != 0 {
                    return Err(unsupported(
                        node,
                        "transA=1 (the batch must be the first axis)",
                    ));
                }
                let t = c.trans_b != 0;
                let (inputs, outputs) = if t { (n, k) } else { (k, n) };
                let bias = optional_constant(node, 2)?;
                self.dense(node, inputs, outputs, &w, t, c.alpha, bias, c.beta)?;
                Ok("Gemm")
            }
            Node::Linear(l) => {
                let t = l.config.transpose_weight;
                let (inputs, outputs) = if t { (n, k) } else { (k, n) };
                let bias = optional_constant(node, 2)?;
                self.dense(node, inputs, outputs, &w, t, 1.0, bias, 1.0)?;
                // onnx-ir fuses MatMul (+ Add) and some Gemms into Linear.
                Ok("MatMul")
            }
            _ => {
                self.dense(node, k, n, &w, false, 1.0, None, 1.0)?;
                Ok("MatMul")
            }
        }
    }

    /// A 2-D convolution of one group.
    fn push_conv(
        &mut self,
        node: &Node,
        cfg: &onnx_ir::node::conv2d::Conv2dConfig,
    ) -> Result<(), ModelError> {
        self.data_input(node, 0)?;
        if cfg.groups != 1 {
            return Err(unsupported(node, "groups other than 1"));
        }
        let weights = constant(node, 1)?;
        let [filters, channels, kh, kw] = constant_shape(node, 1)[..] else {
            return Err(unsupported(
                node,
                "a weight that is not [filters, channels, kh, kw]",
            ));
        };
        let spec = WindowSpec {
            kernel: cfg.kernel_size,
            stride: cfg.stride,
            padding: &cfg.padding,
            dilation: cfg.dilation,
            auto_pad: &cfg.auto_pad,
            ceil_mode: false,
        };
        let window = self.window(node, &spec)?;
        if window.channels != channels || [kh, kw] != cfg.kernel_size {
            return Err(unsupported(
                node,
                &format!(
                    "a weight of shape {:?} for items of shape {:?}",
                    constant_shape(node, 1),
                    self.shape
                ),
            ));
        }
        let bias = match optional_constant(node, 2)? {
            Some(bias) => broadcast_to_item(node, &bias, &constant_shape(node, 2), &[filters])?,
            None => vec![0.0; filters],
        };
        self.shape = vec![filters, window.output[0], window.output[1]];
        self.layers.push(Layer::Conv {
            window,
            filters,
            weights,
            bias,
        });
        Ok(())
    }

    /// Checks that input `slot` of `node` is the item tensor the chain carries.
    fn data_input(&self, node: &Node, slot: usize) -> Result<(), ModelError> {
        match node.inputs().get(slot) {
            Some(arg) if arg.name == self.current => Ok(()),
            _ => Err(ModelError::NotAChain {
                node: node.name().to_string(),
                reason: format!("its input {slot} is not the output of the previous step"),
            }),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn dense(
        &mut self,
        node: &Node,
        inputs: usize,
        outputs: usize,
        matrix: &[f32],
        out_major: bool,
        alpha: f32,
        bias: Option<Vec<f32>>,
        beta: f32,
    ) -> Result<(), ModelError> {
        if self.shape != [inputs] {
            return Err(unsupported(
                node,
                &format!(
                    "an item of shape {:?} (a matrix product needs [batch, {inputs}])",
                    self.shape
                ),
            ));
        }
        // Row-major [outputs][inputs]; alpha folded into the weights, beta into the bias.
        let mut weights = vec![0f32; inputs * outputs];
        for o in 0..outputs {
            for i in 0..inputs {
                let w = if out_major {
                    matrix[o * inputs + i]
                } else {
                    matrix[i * outputs + o]
                };
                weights[o * inputs + i] = if alpha == 1.0 { w } else { alpha * w };
            }
        }
        let bias = match bias {
            None => vec![0.0; outputs],
            Some(b) => broadcast_to_item(node, &b, &constant_shape(node, 2), &[outputs])?
                .into_iter()
                .map(|v| if beta == 1.0 { v } else { beta * v })
                .collect(),
        };
        self.layers.push(Layer::Dense {
            inputs,
            outputs,
            weights,
            bias,
        });
        self.shape = vec![outputs];
        Ok(())
    }

    /// An Add of a constant (already one value per item value): folded into a preceding
    /// bias-free Dense, else its own layer.
    fn add_constant(&mut self, c: &[f32]) {
        if let Some(Layer::Dense { bias, .. }) = self.layers.last_mut() {
            if bias.iter().all(|&b| b == 0.0) {
                *bias = c.to_vec();
                return;
            }
        }
        self.layers.push(Layer::AddConstant {
            constant: c.to_vec(),
        });
    }

    /// The window of a convolution or pool over the current item `[channels, h, w]`.
    fn window(&self, node: &Node, spec: &WindowSpec) -> Result<Window, ModelError> {
        use onnx_ir::node::padding::{AutoPad, PaddingConfig2d};
        let WindowSpec {
            kernel,
            stride,
            padding,
            dilation,
            auto_pad,
            ceil_mode,
        } = *spec;
        let [channels, h, w] = self.shape[..] else {
            return Err(unsupported(
                node,
                &format!(
                    "an item of shape {:?} (needs [channels, height, width])",
                    self.shape
                ),
            ));
        };
        if ceil_mode {
            return Err(unsupported(node, "ceil_mode"));
        }
        if kernel.contains(&0) || stride.contains(&0) || dilation.contains(&0) {
            return Err(unsupported(node, "a zero kernel, stride or dilation"));
        }
        let input = [h, w];
        let span = |a: usize| dilation[a] * (kernel[a] - 1) + 1;
        // (before, after) padding per axis.
        let pads: [(usize, usize); 2] = match auto_pad {
            AutoPad::NotSet => match padding {
                PaddingConfig2d::Valid => [(0, 0); 2],
                PaddingConfig2d::Explicit(top, left, bottom, right) => {
                    [(*top, *bottom), (*left, *right)]
                }
            },
            AutoPad::Valid => [(0, 0); 2],
            AutoPad::SameUpper | AutoPad::SameLower => {
                let same = |a: usize| {
                    let out = input[a].div_ceil(stride[a]);
                    let total = ((out - 1) * stride[a] + span(a)).saturating_sub(input[a]);
                    let small = total / 2;
                    if matches!(auto_pad, AutoPad::SameUpper) {
                        (small, total - small)
                    } else {
                        (total - small, small)
                    }
                };
                [same(0), same(1)]
            }
        };
        let mut output = [0; 2];
        for a in 0..2 {
            let padded = input[a] + pads[a].0 + pads[a].1;
            if padded < span(a) {
                return Err(unsupported(node, "a window larger than the padded input"));
            }
            output[a] = (padded - span(a)) / stride[a] + 1;
        }
        Ok(Window {
            channels,
            input,
            output,
            kernel,
            stride,
            pad: [pads[0].0, pads[1].0],
            dilation,
        })
    }

    /// A pool's window over the item it takes (checked to be the chain's), which becomes
    /// the item's new shape.
    fn pool_window(&mut self, node: &Node, spec: &WindowSpec) -> Result<Window, ModelError> {
        self.data_input(node, 0)?;
        let window = self.window(node, spec)?;
        self.shape = vec![window.channels, window.output[0], window.output[1]];
        Ok(window)
    }

    /// A BatchNormalization over the previous layer's output folded into it:
    /// `y = (x − mean)·scale/√(var+ε) + B`, per channel, into a Conv's filters or a
    /// Dense's outputs (computed in f64, rounded once to f32).
    fn fold_batch_norm(&mut self, node: &Node, epsilon: f64) -> Result<(), ModelError> {
        let [scale, shift, mean, var] = [1, 2, 3, 4].map(|slot| constant(node, slot));
        let (scale, shift, mean, var) = (scale?, shift?, mean?, var?);
        let (weights, bias, channels) = match self.layers.last_mut() {
            Some(Layer::Conv {
                weights,
                bias,
                filters,
                ..
            }) => (weights, bias, *filters),
            Some(Layer::Dense {
                weights,
                bias,
                outputs,
                ..
            }) => (weights, bias, *outputs),
            _ => {
                return Err(unsupported(
                    node,
                    "a position not right after a Conv or Gemm (it is folded into it)",
                ))
            }
        };
        if [&scale, &shift, &mean, &var]
            .iter()
            .any(|v| v.len() != channels)
        {
            return Err(unsupported(
                node,
                &format!("statistics that are not one per channel ({channels})"),
            ));
        }
        let per = weights.len() / channels;
        for ch in 0..channels {
            let k = f64::from(scale[ch]) / (f64::from(var[ch]) + epsilon).sqrt();
            for w in &mut weights[ch * per..(ch + 1) * per] {
                *w = (f64::from(*w) * k) as f32;
            }
            bias[ch] =
                ((f64::from(bias[ch]) - f64::from(mean[ch])) * k + f64::from(shift[ch])) as f32;
        }
        Ok(())
    }

    fn reshape(
        &mut self,
        node: &Node,
        target: &onnx_ir::node::reshape::ReshapeInput,
    ) -> Result<(), ModelError> {
        use onnx_ir::node::reshape::ReshapeInput;
        let ReshapeInput::Static(dims) = target else {
            return Err(unsupported(node, "a shape computed at run time"));
        };
        let len: usize = self.shape.iter().product();
        let Some((&first, rest)) = dims.split_first() else {
            return Err(unsupported(node, "an empty target shape"));
        };
        // The batch axis must stay first: 0 (copy), -1 (infer), or the batch size the
        // model was exported with.
        let keeps_batch =
            first == 0 || first == -1 || self.exported_batch.is_some_and(|b| first == b as i64);
        if !keeps_batch {
            return Err(unsupported(
                node,
                "a target shape that does not keep the batch axis first (0 or -1)",
            ));
        }
        // A 0 copies the input's size on that axis (ONNX's default, allowzero = 0).
        let copied: Vec<i64> = rest
            .iter()
            .enumerate()
            .map(|(j, &d)| match (d, self.shape.get(j)) {
                (0, Some(&size)) => size as i64,
                (d, _) => d,
            })
            .collect();
        let known: i64 = copied.iter().filter(|&&d| d > 0).product();
        let infer = copied.iter().filter(|&&d| d == -1).count();
        let bad =
            copied.iter().any(|&d| d == 0 || d < -1) || infer > 1 || (first == -1 && infer > 0);
        if bad || known <= 0 {
            return Err(unsupported(node, &format!("target shape {dims:?}")));
        }
        let known = known as usize;
        let shape: Vec<usize> = copied
            .iter()
            .map(|&d| if d == -1 { len / known } else { d as usize })
            .collect();
        if shape.iter().product::<usize>() != len {
            return Err(unsupported(
                node,
                &format!("target shape {dims:?} for an item of {len} values"),
            ));
        }
        self.shape = shape;
        Ok(())
    }
}

fn unsupported(node: &Node, reason: &str) -> ModelError {
    ModelError::Unsupported {
        op: format!("{:?}", node.node_type()),
        node: node.name().to_string(),
        reason: reason.to_string(),
    }
}

/// Input `slot` of `node` as a constant when the node has it (an optional operand left
/// out reads as None).
fn optional_constant(node: &Node, slot: usize) -> Result<Option<Vec<f32>>, ModelError> {
    match node.inputs().get(slot) {
        Some(arg) if !arg.is_optional() => constant(node, slot).map(Some),
        _ => Ok(None),
    }
}

/// Input `slot` of `node` as constant f32 values (an initializer or a Constant node).
fn constant(node: &Node, slot: usize) -> Result<Vec<f32>, ModelError> {
    let arg = node
        .inputs()
        .get(slot)
        .ok_or_else(|| unsupported(node, "a missing operand"))?;
    let data = arg.value().ok_or_else(|| ModelError::RuntimeOperand {
        op: format!("{:?}", node.node_type()),
        node: node.name().to_string(),
        operand: arg.name.clone(),
    })?;
    data.as_slice::<f32>()
        .map(|s| s.to_vec())
        .map_err(|_| unsupported(node, &format!("a {:?} constant (only f32)", data.dtype())))
}

/// The shape of constant input `slot` of `node`.
fn constant_shape(node: &Node, slot: usize) -> Vec<usize> {
    node.inputs()
        .get(slot)
        .and_then(Argument::value)
        .map(|d| d.shape().to_vec())
        .unwrap_or_default()
}

/// A constant broadcast (NumPy rules, right-aligned) over one item of `item` shape: its
/// axes must each be 1 or the item's size, and any axis beyond the item's is the batch
/// axis and must be 1 (a constant that differs per item is not a model parameter).
fn broadcast_to_item(
    node: &Node,
    c: &[f32],
    shape: &[usize],
    item: &[usize],
) -> Result<Vec<f32>, ModelError> {
    let refuse = || {
        unsupported(
            node,
            &format!("a constant of shape {shape:?} broadcast over items of shape {item:?}"),
        )
    };
    if shape.len() > item.len() + 1 || (shape.len() == item.len() + 1 && shape[0] != 1) {
        return Err(refuse());
    }
    let kept = &shape[shape.len().saturating_sub(item.len())..];
    let dims: Vec<usize> = std::iter::repeat_n(1, item.len() - kept.len())
        .chain(kept.iter().copied())
        .collect();
    if dims.iter().zip(item).any(|(&c, &s)| c != 1 && c != s) {
        return Err(refuse());
    }
    let len: usize = item.iter().product();
    let mut out = Vec::with_capacity(len);
    for flat in 0..len {
        // The constant's index for item position `flat`: an axis of size 1 reads index 0.
        let (mut rem, mut at, mut stride) = (flat, 0, 1);
        for (axis, &size) in item.iter().enumerate().rev() {
            let i = rem % size;
            rem /= size;
            if dims[axis] != 1 {
                at += i * stride;
            }
            stride *= dims[axis];
        }
        out.push(*c.get(at).ok_or_else(refuse)?);
    }
    Ok(out)
}

/// The (rows, columns) of a rank-2 constant operand.
fn matrix_dims(node: &Node, values: &[f32]) -> Result<(usize, usize), ModelError> {
    let shape = constant_shape(node, 1);
    match shape.as_slice() {
        [k, n] if k * n == values.len() => Ok((*k, *n)),
        _ => Err(unsupported(
            node,
            &format!("a weight of shape {shape:?} (needs rank 2)"),
        )),
    }
}
