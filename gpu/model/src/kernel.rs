//! [`Net`] → WGSL: one invocation per item, the whole chain in one dispatch per chunk.
//!
//! Two entry points over the same bindings: `main` writes each item's outputs; `bound`
//! recomputes the item and writes, per output, `e`: a bound on how far *any* honest f32
//! evaluation of the chain (any summation order, fused or not) can be from the exact
//! result. Two honest runs differ by at most `2e`, which is the comparison rule
//! (`max_rel` = 2, inflated for the bound's own rounding). Derivation: `docs/models.md`.

use std::fmt::Write;

use assay_gpu::kernels::lit;

use crate::net::{f32_up, gamma, Layer, Net, UNIT_ROUNDOFF};

/// Invocations per workgroup (one item each).
pub const WORKGROUP: u32 = 64;
/// Binding of the items blob.
pub const ITEMS_BINDING: u32 = 2;
/// Binding of the parameters blob (every layer's weights and constants, in order).
pub const PARAMS_BINDING: u32 = 3;

/// Where each layer's parameters start in the parameters blob (in f32 elements).
pub fn param_offsets(net: &Net) -> Vec<usize> {
    let mut at = 0;
    net.layers
        .iter()
        .map(|l| {
            let start = at;
            at += match l {
                Layer::Dense { weights, bias, .. } => weights.len() + bias.len(),
                Layer::AddConstant { constant } => constant.len(),
                Layer::Relu => 0,
            };
            start
        })
        .collect()
}

/// The parameters blob: per layer, its weights then its bias (or its constant).
pub fn params_blob(net: &Net) -> Vec<f32> {
    let mut out = Vec::with_capacity(net.parameters());
    for l in &net.layers {
        match l {
            Layer::Dense { weights, bias, .. } => {
                out.extend_from_slice(weights);
                out.extend_from_slice(bias);
            }
            Layer::AddConstant { constant } => out.extend_from_slice(constant),
            Layer::Relu => {}
        }
    }
    if out.is_empty() {
        // A blob must be non-empty; a model of Relus alone gets one unused zero.
        out.push(0.0);
    }
    out
}

/// `max_rel` of the comparison rule: 2 (two honest runs, each within `e`), inflated for
/// the rounding of the bound pass itself (sums of non-negative terms, relative error at
/// most `γ_{n+3}` per layer, compounded over the layers).
pub fn max_rel(net: &Net) -> f32 {
    let widest = net.widest();
    let layers = net.layers.len().max(1) as f64;
    f32_up(2.0 * (1.0 + 2.0 * layers * gamma(widest + 3)))
}

/// Absolute floor: underflow. Each operation loses at most `2⁻¹²⁶` to flush-to-zero; the
/// chain performs at most `2·(n+1)` per output per layer, amplified by later layers'
/// absolute row sums; both runs and the bound pass each lose that much.
pub fn abs_floor(net: &Net) -> f32 {
    let mut floor = 0f64;
    for l in &net.layers {
        if let Layer::Dense {
            inputs, weights, ..
        } = l
        {
            let row_sum = weights
                .chunks(*inputs)
                .map(|r| r.iter().map(|w| f64::from(w.abs())).sum::<f64>())
                .fold(0.0, f64::max);
            floor = floor * row_sum.max(1.0) + 2.0 * (*inputs as f64 + 1.0);
        } else {
            floor += 1.0;
        }
    }
    f32_up((3.0 * floor * f64::from(f32::MIN_POSITIVE)).max(f64::from(f32::MIN_POSITIVE)))
}

/// WGSL source of the model for chunks of `batch` items.
pub fn source(net: &Net, batch: u32) -> String {
    let mut s = String::new();
    let offsets = param_offsets(net);
    let (n_in, n_out) = (net.input_len(), net.output_len());
    let _ = writeln!(
        s,
        "// Assay model kernel: one invocation per item, {} layers ({}).\n\
         struct Chunk {{ index: u32, count: u32, pad0: u32, pad1: u32 }}\n\
         @group(0) @binding(0) var<uniform> chunk: Chunk;\n\
         @group(0) @binding(1) var<storage, read_write> outputs: array<f32>;\n\
         @group(0) @binding({ITEMS_BINDING}) var<storage, read> items: array<f32>;\n\
         @group(0) @binding({PARAMS_BINDING}) var<storage, read> params: array<f32>;\n\
         const BATCH: u32 = {batch}u;",
        net.layers.len(),
        net.layers
            .iter()
            .map(Layer::name)
            .collect::<Vec<_>>()
            .join(", "),
    );
    for bound in [false, true] {
        let entry = if bound { "bound" } else { "main" };
        let _ = writeln!(
            s,
            "\n@compute @workgroup_size({WORKGROUP})\n\
             fn {entry}(@builtin(global_invocation_id) gid: vec3<u32>) {{\n\
             \x20 let item = gid.x;\n\
             \x20 if (item >= BATCH) {{ return; }}\n\
             \x20 let base = (chunk.index * BATCH + item) * {n_in}u;\n\
             \x20 var v0: array<f32, {n_in}>;\n\
             \x20 for (var i = 0u; i < {n_in}u; i++) {{ v0[i] = items[base + i]; }}"
        );
        if bound {
            let _ = writeln!(s, "  var e0: array<f32, {n_in}>;");
        }
        let mut len = n_in;
        for (k, (layer, &at)) in net.layers.iter().zip(&offsets).enumerate() {
            let (v, e) = (format!("v{k}"), format!("e{k}"));
            let (nv, ne) = (format!("v{}", k + 1), format!("e{}", k + 1));
            let out_len = layer.output_len(len);
            let _ = writeln!(s, "  var {nv}: array<f32, {out_len}>;");
            if bound {
                let _ = writeln!(s, "  var {ne}: array<f32, {out_len}>;");
            }
            match layer {
                Layer::Dense { inputs, .. } => {
                    let b = at + inputs * out_len;
                    let g = lit(f32_up(gamma(inputs + 1)));
                    let _ = writeln!(
                        s,
                        "  for (var o = 0u; o < {out_len}u; o++) {{\n\
                         \x20   var acc = params[{b}u + o];"
                    );
                    if bound {
                        let _ = writeln!(
                            s,
                            "    var mag = abs(acc);\n\
                             \x20   var carried = 0.0;"
                        );
                    }
                    let _ = writeln!(
                        s,
                        "    for (var i = 0u; i < {inputs}u; i++) {{\n\
                         \x20     let w = params[{at}u + o * {inputs}u + i];\n\
                         \x20     acc = acc + w * {v}[i];"
                    );
                    if bound {
                        let _ = writeln!(
                            s,
                            "      mag = mag + abs(w) * (abs({v}[i]) + 2.0 * {e}[i]);\n\
                             \x20     carried = carried + abs(w) * {e}[i];"
                        );
                    }
                    let _ = writeln!(s, "    }}\n    {nv}[o] = acc;");
                    if bound {
                        let _ = writeln!(s, "    {ne}[o] = carried + {g} * mag;");
                    }
                    let _ = writeln!(s, "  }}");
                }
                Layer::AddConstant { .. } => {
                    let u = lit(f32_up(UNIT_ROUNDOFF));
                    let _ = writeln!(
                        s,
                        "  for (var o = 0u; o < {out_len}u; o++) {{\n\
                         \x20   let c = params[{at}u + o];\n\
                         \x20   {nv}[o] = {v}[o] + c;"
                    );
                    if bound {
                        let _ = writeln!(
                            s,
                            "    {ne}[o] = {e}[o] + {u} * (abs({v}[o]) + 2.0 * {e}[o] + abs(c));"
                        );
                    }
                    let _ = writeln!(s, "  }}");
                }
                Layer::Relu => {
                    let _ = writeln!(
                        s,
                        "  for (var o = 0u; o < {out_len}u; o++) {{ {nv}[o] = max({v}[o], 0.0); }}"
                    );
                    if bound {
                        let _ = writeln!(
                            s,
                            "  for (var o = 0u; o < {out_len}u; o++) {{ {ne}[o] = {e}[o]; }}"
                        );
                    }
                }
            }
            len = out_len;
        }
        let last = net.layers.len();
        let src = if bound {
            format!("e{last}")
        } else {
            format!("v{last}")
        };
        let _ = writeln!(
            s,
            "  for (var o = 0u; o < {n_out}u; o++) {{ outputs[item * {n_out}u + o] = {src}[o]; }}\n}}"
        );
    }
    s
}
