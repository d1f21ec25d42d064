//! [`Net`] → WGSL: one invocation per item, the whole chain in one dispatch per chunk.
//!
//! Two entry points over the same bindings: `main` writes each item's outputs; `bound`
//! recomputes the item and writes, per output, `e`: a bound on how far *any* honest f32
//! evaluation of the chain (any summation order, fused or not) can be from the exact
//! result. Two honest runs differ by at most `2e`, which is the comparison rule
//! (`max_rel` = 2, inflated for the bound's own rounding). Derivation: `docs/models.md`.

use std::fmt::Write;

use assay_gpu::kernels::lit;

use crate::net::{f32_up, gamma, Layer, Net, Window, UNIT_ROUNDOFF};

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
            at += l.parameters().iter().map(|p| p.len()).sum::<usize>();
            start
        })
        .collect()
}

/// The parameters blob: per layer, its weights then its bias (or its constant).
pub fn params_blob(net: &Net) -> Vec<f32> {
    let mut out = Vec::with_capacity(net.parameters());
    for l in &net.layers {
        for part in l.parameters() {
            out.extend_from_slice(part);
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

/// Absolute floor: underflow. Each operation loses at most `2⁻¹²⁶` to flush-to-zero; a
/// layer performs at most [`ops_per_output`] per output, and a later layer amplifies what
/// came before by at most its largest absolute row sum; the provider's run, the
/// verifier's and the bound pass each lose that much.
pub fn abs_floor(net: &Net) -> f32 {
    let mut floor = 0f64;
    for l in &net.layers {
        let amplification = match l {
            Layer::Dense { weights, .. } | Layer::Conv { weights, .. } => {
                let per_row = terms(l).max(1);
                weights
                    .chunks(per_row)
                    .map(|r| r.iter().map(|w| f64::from(w.abs())).sum::<f64>())
                    .fold(1.0, f64::max)
            }
            _ => 1.0,
        };
        floor = floor * amplification + ops_per_output(l) as f64;
    }
    f32_up((3.0 * floor * f64::from(f32::MIN_POSITIVE)).max(f64::from(f32::MIN_POSITIVE)))
}

/// Products summed into one output of a Dense or Conv layer (its `n`).
fn terms(layer: &Layer) -> usize {
    match layer {
        Layer::Dense { inputs, .. } => *inputs,
        Layer::Conv { window, .. } => window.channels * window.kernel[0] * window.kernel[1],
        Layer::MaxPool { window } | Layer::AvgPool { window, .. } => {
            window.kernel[0] * window.kernel[1]
        }
        Layer::AddConstant { .. } | Layer::Relu | Layer::Sigmoid | Layer::Tanh => 1,
    }
}

/// Rounded operations behind one output of `layer`, an upper bound.
fn ops_per_output(layer: &Layer) -> usize {
    match layer {
        Layer::Dense { .. } | Layer::Conv { .. } => 2 * (terms(layer) + 1),
        Layer::AvgPool { .. } => terms(layer) + 6,
        Layer::Sigmoid | Layer::Tanh => 5,
        Layer::MaxPool { .. } | Layer::AddConstant { .. } | Layer::Relu => 1,
    }
}

/// WGSL source of the model for chunks of `batch` items.
pub fn source(net: &Net, batch: u32) -> String {
    let mut s = String::new();
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
        for (k, (layer, &at)) in net.layers.iter().zip(&param_offsets(net)).enumerate() {
            let out_len = layer.output_len(len);
            let _ = writeln!(s, "  var v{}: array<f32, {out_len}>;", k + 1);
            if bound {
                let _ = writeln!(s, "  var e{}: array<f32, {out_len}>;", k + 1);
            }
            let g = Names { k, bound, at };
            match layer {
                Layer::Dense { inputs, .. } => {
                    dense(&mut s, &g, out_len, *inputs, gamma(inputs + 1))
                }
                Layer::Conv { window, .. } => {
                    conv(&mut s, &g, out_len, window, gamma(terms(layer) + 1))
                }
                Layer::MaxPool { window } => max_pool(&mut s, &g, out_len, window),
                Layer::AvgPool { window, count_pad } => avg_pool(
                    &mut s,
                    &g,
                    out_len,
                    window,
                    *count_pad,
                    gamma(terms(layer) + 6),
                ),
                Layer::AddConstant { .. } => add_constant(&mut s, &g, out_len),
                Layer::Relu => relu(&mut s, &g, out_len),
                Layer::Sigmoid => logistic(&mut s, &g, out_len, false),
                Layer::Tanh => logistic(&mut s, &g, out_len, true),
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

/// Layer `k`'s variables (`v{k}`/`e{k}` in, `v{k+1}`/`e{k+1}` out), whether this is the
/// bound pass, and where its parameters start.
struct Names {
    k: usize,
    bound: bool,
    at: usize,
}

impl Names {
    fn v(&self) -> String {
        format!("v{}", self.k)
    }
    fn e(&self) -> String {
        format!("e{}", self.k)
    }
    fn nv(&self) -> String {
        format!("v{}", self.k + 1)
    }
    fn ne(&self) -> String {
        format!("e{}", self.k + 1)
    }
}

/// One product `w · x[i]` summed into `acc`; in the bound pass also into `mag`
/// (`|w|·(|x̂|+2e)`) and `carried` (`|w|·e`).
fn accumulate(s: &mut String, g: &Names, weight: &str, index: &str, indent: &str) {
    let (v, e) = (g.v(), g.e());
    let _ = writeln!(
        s,
        "{indent}let w = {weight};\n{indent}acc = acc + w * {v}[{index}];"
    );
    if g.bound {
        let _ = writeln!(
            s,
            "{indent}mag = mag + abs(w) * (abs({v}[{index}]) + 2.0 * {e}[{index}]);\n\
             {indent}carried = carried + abs(w) * {e}[{index}];"
        );
    }
}

/// `acc` starting at the bias `params[bias]`, and its bound accumulators.
fn start_sum(s: &mut String, g: &Names, bias: &str) {
    let _ = writeln!(s, "    var acc = {bias};");
    if g.bound {
        let _ = writeln!(s, "    var mag = abs(acc);\n    var carried = 0.0;");
    }
}

/// The sum stored, and in the bound pass `e' = carried + γ·mag`.
fn end_sum(s: &mut String, g: &Names, gamma: f64) {
    let _ = writeln!(s, "    {}[o] = acc;", g.nv());
    if g.bound {
        let _ = writeln!(
            s,
            "    {}[o] = carried + {} * mag;",
            g.ne(),
            lit(f32_up(gamma))
        );
    }
}

fn dense(s: &mut String, g: &Names, out_len: usize, inputs: usize, gamma: f64) {
    let (at, b) = (g.at, g.at + inputs * out_len);
    let _ = writeln!(s, "  for (var o = 0u; o < {out_len}u; o++) {{");
    start_sum(s, g, &format!("params[{b}u + o]"));
    let _ = writeln!(s, "    for (var i = 0u; i < {inputs}u; i++) {{");
    accumulate(
        s,
        g,
        &format!("params[{at}u + o * {inputs}u + i]"),
        "i",
        "      ",
    );
    let _ = writeln!(s, "    }}");
    end_sum(s, g, gamma);
    let _ = writeln!(s, "  }}");
}

/// Opens the loop over a window layer's outputs: `o` → channel `ch`, row `oy`, column
/// `ox`. [`window_loops`] then opens the loops over the window itself.
fn open_window(s: &mut String, out_len: usize, w: &Window) {
    let [oh, ow] = w.output;
    let _ = writeln!(
        s,
        "  for (var o = 0u; o < {out_len}u; o++) {{\n\
         \x20   let ch = o / {area}u;\n\
         \x20   let oy = (o / {ow}u) % {oh}u;\n\
         \x20   let ox = o % {ow}u;",
        area = oh * ow
    );
}

/// The loops over the window: `c` (every input channel for a convolution, `ch` for a
/// pool), `ky`, `kx`, skipping positions outside the input; `at` is the input index.
/// Closed by [`close_window_loops`].
fn window_loops(s: &mut String, w: &Window, all_channels: bool) {
    let [h, wd] = w.input;
    let [kh, kw] = w.kernel;
    let [sh, sw] = w.stride;
    let [pt, pl] = w.pad;
    let [dh, dw] = w.dilation;
    let channels = if all_channels {
        format!("for (var c = 0u; c < {}u; c++) {{", w.channels)
    } else {
        "{ let c = ch;".to_string()
    };
    let _ = writeln!(
        s,
        "    {channels}\n\
         \x20   for (var ky = 0u; ky < {kh}u; ky++) {{\n\
         \x20   for (var kx = 0u; kx < {kw}u; kx++) {{\n\
         \x20     let iy = i32(oy * {sh}u + ky * {dh}u) - {pt};\n\
         \x20     let ix = i32(ox * {sw}u + kx * {dw}u) - {pl};\n\
         \x20     if (iy < 0 || iy >= {h} || ix < 0 || ix >= {wd}) {{ continue; }}\n\
         \x20     let at = (c * {h}u + u32(iy)) * {wd}u + u32(ix);"
    );
}

fn close_window_loops(s: &mut String) {
    let _ = writeln!(s, "    }}}}}}");
}

fn conv(s: &mut String, g: &Names, out_len: usize, w: &Window, gamma: f64) {
    let [kh, kw] = w.kernel;
    let per_filter = w.channels * kh * kw;
    let filters = out_len / w.output_area();
    let (at, b) = (g.at, g.at + per_filter * filters);
    open_window(s, out_len, w);
    start_sum(s, g, &format!("params[{b}u + ch]"));
    window_loops(s, w, true);
    let weight = format!(
        "params[{at}u + ((ch * {}u + c) * {kh}u + ky) * {kw}u + kx]",
        w.channels
    );
    accumulate(s, g, &weight, "at", "      ");
    close_window_loops(s);
    end_sum(s, g, gamma);
    let _ = writeln!(s, "  }}");
}

/// Max over the window; the bound is the largest input error in it (max is 1-Lipschitz
/// in each input).
fn max_pool(s: &mut String, g: &Names, out_len: usize, w: &Window) {
    let (v, e, nv, ne) = (g.v(), g.e(), g.nv(), g.ne());
    open_window(s, out_len, w);
    let _ = writeln!(s, "    var m = -3.40282347e38;");
    if g.bound {
        let _ = writeln!(s, "    var em = 0.0;");
    }
    window_loops(s, w, false);
    let _ = writeln!(s, "      m = max(m, {v}[at]);");
    if g.bound {
        let _ = writeln!(s, "      em = max(em, {e}[at]);");
    }
    close_window_loops(s);
    let _ = writeln!(s, "    {nv}[o] = m;");
    if g.bound {
        let _ = writeln!(s, "    {ne}[o] = em;");
    }
    let _ = writeln!(s, "  }}");
}

/// Sum over the window times the reciprocal of the count; the bound carries the inputs'
/// errors through the mean and adds `γ_{n+6}` of the magnitudes (the sum's roundings, the
/// reciprocal's division, the product).
fn avg_pool(s: &mut String, g: &Names, out_len: usize, w: &Window, count_pad: bool, gamma: f64) {
    let (v, e, nv, ne) = (g.v(), g.e(), g.nv(), g.ne());
    open_window(s, out_len, w);
    let _ = writeln!(s, "    var acc = 0.0;\n    var count = 0u;");
    if g.bound {
        let _ = writeln!(s, "    var mag = 0.0;\n    var carried = 0.0;");
    }
    window_loops(s, w, false);
    let _ = writeln!(s, "      acc = acc + {v}[at];\n      count = count + 1u;");
    if g.bound {
        let _ = writeln!(
            s,
            "      mag = mag + abs({v}[at]) + 2.0 * {e}[at];\n      carried = carried + {e}[at];"
        );
    }
    close_window_loops(s);
    let divisor = if count_pad {
        format!("{}.0", w.kernel[0] * w.kernel[1])
    } else {
        "f32(max(count, 1u))".to_string()
    };
    let _ = writeln!(
        s,
        "    let inv = 1.0 / {divisor};\n    {nv}[o] = acc * inv;"
    );
    if g.bound {
        let _ = writeln!(
            s,
            "    {ne}[o] = (carried + {} * mag) * inv;",
            lit(f32_up(gamma))
        );
    }
    let _ = writeln!(s, "  }}");
}

fn add_constant(s: &mut String, g: &Names, out_len: usize) {
    let (v, e, nv, ne, at) = (g.v(), g.e(), g.nv(), g.ne(), g.at);
    let u = lit(f32_up(UNIT_ROUNDOFF));
    let _ = writeln!(
        s,
        "  for (var o = 0u; o < {out_len}u; o++) {{\n\
         \x20   let c = params[{at}u + o];\n\
         \x20   {nv}[o] = {v}[o] + c;"
    );
    if g.bound {
        let _ = writeln!(
            s,
            "    {ne}[o] = {e}[o] + {u} * (abs({v}[o]) + 2.0 * {e}[o] + abs(c));"
        );
    }
    let _ = writeln!(s, "  }}");
}

fn relu(s: &mut String, g: &Names, out_len: usize) {
    let (v, e, nv, ne) = (g.v(), g.e(), g.nv(), g.ne());
    let _ = writeln!(
        s,
        "  for (var o = 0u; o < {out_len}u; o++) {{ {nv}[o] = max({v}[o], 0.0); }}"
    );
    if g.bound {
        let _ = writeln!(
            s,
            "  for (var o = 0u; o < {out_len}u; o++) {{ {ne}[o] = {e}[o]; }}"
        );
    }
}

/// Sigmoid, or tanh as `2·σ(2x) − 1`, through WGSL's `exp` (accurate to `3 + 2|x|` ULP)
/// and division (2.5 ULP). Sigmoid is ¼-Lipschitz, tanh 1-Lipschitz; an honest device's
/// own error at `x` is at most `(3 + 2|x|)·2⁻²³/4` (the exp's relative error through
/// `1/(1+E)`, whose derivative is at most ¼ in `E`'s relative terms) plus `3.5·2⁻²³`
/// (the `1 + E` and the division), for tanh twice that at `2x` plus the final subtraction.
fn logistic(s: &mut String, g: &Names, out_len: usize, tanh: bool) {
    let (v, e, nv, ne) = (g.v(), g.e(), g.nv(), g.ne());
    let ulp = lit(f32_up(2.0 * UNIT_ROUNDOFF));
    let expr = if tanh {
        format!("2.0 / (1.0 + exp(-2.0 * {v}[o])) - 1.0")
    } else {
        format!("1.0 / (1.0 + exp(-{v}[o]))")
    };
    let _ = writeln!(
        s,
        "  for (var o = 0u; o < {out_len}u; o++) {{\n    {nv}[o] = {expr};"
    );
    if g.bound {
        let bound = if tanh {
            format!(
                "{e}[o] + 2.0 * ((3.0 + 4.0 * (abs({v}[o]) + {e}[o])) * {ulp} * 0.25 + 3.5 * {ulp}) + {ulp}"
            )
        } else {
            format!(
                "0.25 * {e}[o] + (3.0 + 2.0 * (abs({v}[o]) + {e}[o])) * {ulp} * 0.25 + 3.5 * {ulp}"
            )
        };
        let _ = writeln!(s, "    {ne}[o] = {bound};");
    }
    let _ = writeln!(s, "  }}");
}
