//! [`Net`] → WGSL, in one of two [`Layout`]s: a dispatch per layer (one invocation per
//! item and output value, layers passed through a per-chunk scratch buffer), or the whole
//! chain in one dispatch (one invocation per item).
//!
//! Two passes over the same bindings: the output pass (`main`, or `layer0`, `layer1`, …)
//! writes each item's outputs; the bound pass (`bound`, or `bound0`, `bound1`, …)
//! recomputes the item and writes, per output, `e`: a bound on how far *any* honest f32
//! evaluation of the chain (any summation order, fused or not) can be from the exact
//! result. Two honest runs differ by at most `2e`, which is the comparison rule
//! (`max_rel` = 2, inflated for the bound's own rounding). Derivation: `docs/models.md`.
//! Both layouts sum in the same order, so they produce the same bits.

use std::fmt::Write;

use assay_gpu::kernels::lit;

use crate::net::{f32_up, gamma, Layer, Net, Window, UNIT_ROUNDOFF};

/// Invocations per workgroup.
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

/// Binding of the per-layer scratch buffer of [`Layout::PerLayer`].
pub const WORK_BINDING: u32 = 4;

/// How a chunk runs the chain.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Layout {
    /// One dispatch per layer (a version 3 manifest): one invocation per item and output
    /// value, each layer reading the one before from a per-chunk scratch buffer. Parallel
    /// over a layer's values, so a GPU is kept busy, and no layer lives in private memory.
    /// A chain of one layer is a single dispatch with no scratch (a version 2 manifest).
    #[default]
    PerLayer,
    /// One dispatch per chunk: one invocation per item runs every layer in private memory
    /// (layers at most [`crate::MAX_WIDTH`] values wide).
    PerItem,
}

impl Layout {
    /// The layout `net` actually compiles to under this choice.
    pub fn for_net(self, net: &Net) -> Layout {
        if net.layers.is_empty() {
            Layout::PerItem
        } else {
            self
        }
    }
}

/// The kernel's header: the chunk uniform, output, items and parameters bindings, the
/// batch size and (per layer) the scratch buffer.
fn header(s: &mut String, net: &Net, batch: u32, layout: Layout) {
    let _ = writeln!(
        s,
        "// Assay model kernel ({layout:?}): {} layers ({}).\n\
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
    if layout == Layout::PerLayer && net.layers.len() > 1 {
        let _ = writeln!(
            s,
            "@group(0) @binding({WORK_BINDING}) var<storage, read_write> work: array<f32>;"
        );
    }
}

/// WGSL source of the model for chunks of `batch` items, in `layout`
/// ([`Layout::for_net`] decides).
pub fn source(net: &Net, batch: u32, layout: Layout) -> String {
    match layout.for_net(net) {
        Layout::PerItem => per_item_source(net, batch),
        Layout::PerLayer => per_layer_source(net, batch),
    }
}

/// Every layer's body, in order; `names(k, at)` says where layer `k` (its parameters at
/// `at`) reads and writes.
fn emit_layers(s: &mut String, net: &Net, names: impl Fn(usize, usize) -> Names) {
    let mut len = net.input_len();
    for (k, (layer, &at)) in net.layers.iter().zip(&param_offsets(net)).enumerate() {
        let out_len = layer.output_len(len);
        let g = names(k, at);
        g.open_layer(s, out_len);
        match layer {
            Layer::Dense { inputs, .. } => dense(s, &g, out_len, *inputs, gamma(inputs + 1)),
            Layer::Conv { window, .. } => conv(s, &g, out_len, window, gamma(terms(layer) + 1)),
            Layer::MaxPool { window } => max_pool(s, &g, out_len, window),
            Layer::AvgPool { window, count_pad } => {
                avg_pool(s, &g, out_len, window, *count_pad, gamma(terms(layer) + 6))
            }
            Layer::AddConstant { .. } => add_constant(s, &g, out_len),
            Layer::Relu => relu(s, &g, out_len),
            Layer::Sigmoid => logistic(s, &g, out_len, false),
            Layer::Tanh => logistic(s, &g, out_len, true),
        }
        g.close_layer(s);
        len = out_len;
    }
}

/// One invocation per item, the whole chain in private arrays.
fn per_item_source(net: &Net, batch: u32) -> String {
    let mut s = String::new();
    header(&mut s, net, batch, Layout::PerItem);
    let (n_in, n_out) = (net.input_len(), net.output_len());
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
        emit_layers(&mut s, net, |k, at| Names {
            k,
            bound,
            at,
            per_layer: None,
        });
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

/// Entry points `layer{k}` and `bound{k}` per layer: invocation `item × width + o` computes
/// value `o` of the item's layer output (in the bound pass also its error), reading the
/// layer before from `work` (the items for layer 0) and writing to `work` (the outputs
/// for the last layer). `work` holds four regions of `BATCH × widest` values: the values
/// and the errors of even and of odd layers.
fn per_layer_source(net: &Net, batch: u32) -> String {
    let mut s = String::new();
    header(&mut s, net, batch, Layout::PerLayer);
    let shape = PerLayer {
        last: net.layers.len() - 1,
        n_in: net.input_len(),
        n_out: net.output_len(),
        width: net.widest(),
        region: batch as usize * net.widest(),
    };
    for bound in [false, true] {
        emit_layers(&mut s, net, |k, at| Names {
            k,
            bound,
            at,
            per_layer: Some(shape),
        });
    }
    s
}

/// `work` bytes of a [`Layout::PerLayer`] chunk of `batch` items: four regions.
pub fn work_bytes(net: &Net, batch: u32) -> u64 {
    4 * u64::from(batch) * net.widest() as u64 * 4
}

/// The dispatches of a [`Layout::PerLayer`] chunk: per layer, `(entry, bound entry,
/// workgroups)`, one invocation per item and output value (`batch × width` of them, the
/// lanes of every workgroup full but the last).
pub fn layer_dispatches(net: &Net, batch: u32) -> Vec<(String, String, [u32; 3])> {
    let mut len = net.input_len();
    (0..net.layers.len())
        .map(|k| {
            len = net.layers[k].output_len(len);
            let invocations = batch as usize * len;
            let x = u32::try_from(invocations.div_ceil(WORKGROUP as usize)).unwrap_or(u32::MAX);
            (format!("layer{k}"), format!("bound{k}"), [x, 1, 1])
        })
        .collect()
}

/// Where the layers of a [`Layout::PerLayer`] kernel keep their values.
#[derive(Clone, Copy)]
struct PerLayer {
    /// Index of the last layer (it writes the outputs).
    last: usize,
    n_in: usize,
    n_out: usize,
    /// Values per item in each region of `work`.
    width: usize,
    /// Values per region (`BATCH × width`).
    region: usize,
}

/// Layer `k`: whether this is the bound pass, where its parameters start, and where it
/// reads and writes (private arrays `v{k}`/`e{k}` in, `v{k+1}`/`e{k+1}` out, or regions
/// of `work`).
struct Names {
    k: usize,
    bound: bool,
    at: usize,
    per_layer: Option<PerLayer>,
}

impl Names {
    /// Value `index` of the layer's input.
    fn v(&self, index: &str) -> String {
        match self.per_layer {
            None => format!("v{}[{index}]", self.k),
            Some(_) if self.k == 0 => format!("items[base + {index}]"),
            Some(p) => self.work(p, self.k % 2, index),
        }
    }
    /// The bound on value `index`'s error (the items are exact).
    fn e(&self, index: &str) -> String {
        match self.per_layer {
            None => format!("e{}[{index}]", self.k),
            Some(_) if self.k == 0 => "0.0".into(),
            Some(p) => self.work(p, 2 + self.k % 2, index),
        }
    }
    /// Where output value `o` goes (discarded in the last layer's bound pass).
    fn nv(&self) -> String {
        match self.per_layer {
            None => format!("v{}[o]", self.k + 1),
            Some(p) if self.k == p.last && self.bound => "_".into(),
            Some(p) if self.k == p.last => format!("outputs[item * {}u + o]", p.n_out),
            Some(p) => self.work(p, (self.k + 1) % 2, "o"),
        }
    }
    /// Where output `o`'s error bound goes (the bound pass only).
    fn ne(&self) -> String {
        match self.per_layer {
            None => format!("e{}[o]", self.k + 1),
            Some(p) if self.k == p.last => format!("outputs[item * {}u + o]", p.n_out),
            Some(p) => self.work(p, 2 + (self.k + 1) % 2, "o"),
        }
    }
    fn work(&self, p: PerLayer, region: usize, index: &str) -> String {
        format!(
            "work[{}u + item * {}u + {index}]",
            region * p.region,
            p.width
        )
    }
    /// Per item: declares the layer's output arrays. Per layer: opens its entry point,
    /// whose invocation computes output `o` of `item`.
    fn open_layer(&self, s: &mut String, out_len: usize) {
        match self.per_layer {
            None => {
                let _ = writeln!(s, "  var v{}: array<f32, {out_len}>;", self.k + 1);
                if self.bound {
                    let _ = writeln!(s, "  var e{}: array<f32, {out_len}>;", self.k + 1);
                }
            }
            Some(p) => {
                let entry = if self.bound { "bound" } else { "layer" };
                let _ = writeln!(
                    s,
                    "\n@compute @workgroup_size({WORKGROUP})\n\
                     fn {entry}{k}(@builtin(global_invocation_id) gid: vec3<u32>) {{\n\
                     \x20 if (gid.x >= BATCH * {out_len}u) {{ return; }}\n\
                     \x20 let item = gid.x / {out_len}u;\n\
                     \x20 let o = gid.x % {out_len}u;\n\
                     \x20 let base = (chunk.index * BATCH + item) * {n_in}u;",
                    k = self.k,
                    n_in = p.n_in,
                );
            }
        }
    }
    fn close_layer(&self, s: &mut String) {
        if self.per_layer.is_some() {
            let _ = writeln!(s, "}}");
        }
    }
    /// Opens the computation of each output `o`: a loop per item, the invocation's own
    /// `o` per layer.
    fn open_outputs(&self, s: &mut String, out_len: usize) {
        match self.per_layer {
            None => {
                let _ = writeln!(s, "  for (var o = 0u; o < {out_len}u; o++) {{");
            }
            Some(_) => {
                let _ = writeln!(s, "  {{");
            }
        }
    }
}

/// One product `w · x[i]` summed into `acc`; in the bound pass also into `mag`
/// (`|w|·(|x̂|+2e)`) and `carried` (`|w|·e`).
fn accumulate(s: &mut String, g: &Names, weight: &str, index: &str, indent: &str) {
    let (v, e) = (g.v(index), g.e(index));
    let _ = writeln!(s, "{indent}let w = {weight};\n{indent}acc = acc + w * {v};");
    if g.bound {
        let _ = writeln!(
            s,
            "{indent}mag = mag + abs(w) * (abs({v}) + 2.0 * {e});\n\
             {indent}carried = carried + abs(w) * {e};"
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
    let _ = writeln!(s, "    {} = acc;", g.nv());
    if g.bound {
        let _ = writeln!(
            s,
            "    {} = carried + {} * mag;",
            g.ne(),
            lit(f32_up(gamma))
        );
    }
}

fn dense(s: &mut String, g: &Names, out_len: usize, inputs: usize, gamma: f64) {
    let (at, b) = (g.at, g.at + inputs * out_len);
    g.open_outputs(s, out_len);
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

/// Opens the computation of a window layer's outputs: `o` → channel `ch`, row `oy`,
/// column `ox`. [`window_loops`] then opens the loops over the window itself.
fn open_window(s: &mut String, g: &Names, out_len: usize, w: &Window) {
    let [oh, ow] = w.output;
    g.open_outputs(s, out_len);
    let _ = writeln!(
        s,
        "    let ch = o / {area}u;\n\
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
    open_window(s, g, out_len, w);
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
    let (v, e, nv, ne) = (g.v("at"), g.e("at"), g.nv(), g.ne());
    open_window(s, g, out_len, w);
    let _ = writeln!(s, "    var m = -3.40282347e38;");
    if g.bound {
        let _ = writeln!(s, "    var em = 0.0;");
    }
    window_loops(s, w, false);
    let _ = writeln!(s, "      m = max(m, {v});");
    if g.bound {
        let _ = writeln!(s, "      em = max(em, {e});");
    }
    close_window_loops(s);
    let _ = writeln!(s, "    {nv} = m;");
    if g.bound {
        let _ = writeln!(s, "    {ne} = em;");
    }
    let _ = writeln!(s, "  }}");
}

/// Sum over the window times the reciprocal of the count; the bound carries the inputs'
/// errors through the mean and adds `γ_{n+6}` of the magnitudes (the sum's roundings, the
/// reciprocal's division, the product).
fn avg_pool(s: &mut String, g: &Names, out_len: usize, w: &Window, count_pad: bool, gamma: f64) {
    let (v, e, nv, ne) = (g.v("at"), g.e("at"), g.nv(), g.ne());
    open_window(s, g, out_len, w);
    let _ = writeln!(s, "    var acc = 0.0;\n    var count = 0u;");
    if g.bound {
        let _ = writeln!(s, "    var mag = 0.0;\n    var carried = 0.0;");
    }
    window_loops(s, w, false);
    let _ = writeln!(s, "      acc = acc + {v};\n      count = count + 1u;");
    if g.bound {
        let _ = writeln!(
            s,
            "      mag = mag + abs({v}) + 2.0 * {e};\n      carried = carried + {e};"
        );
    }
    close_window_loops(s);
    let divisor = if count_pad {
        format!("{}.0", w.kernel[0] * w.kernel[1])
    } else {
        "f32(max(count, 1u))".to_string()
    };
    let _ = writeln!(s, "    let inv = 1.0 / {divisor};\n    {nv} = acc * inv;");
    if g.bound {
        let _ = writeln!(
            s,
            "    {ne} = (carried + {} * mag) * inv;",
            lit(f32_up(gamma))
        );
    }
    let _ = writeln!(s, "  }}");
}

fn add_constant(s: &mut String, g: &Names, out_len: usize) {
    let (v, e, nv, ne, at) = (g.v("o"), g.e("o"), g.nv(), g.ne(), g.at);
    let u = lit(f32_up(UNIT_ROUNDOFF));
    g.open_outputs(s, out_len);
    let _ = writeln!(
        s,
        "    let c = params[{at}u + o];\n\
         \x20   {nv} = {v} + c;"
    );
    if g.bound {
        let _ = writeln!(s, "    {ne} = {e} + {u} * (abs({v}) + 2.0 * {e} + abs(c));");
    }
    let _ = writeln!(s, "  }}");
}

fn relu(s: &mut String, g: &Names, out_len: usize) {
    let (v, e, nv, ne) = (g.v("o"), g.e("o"), g.nv(), g.ne());
    g.open_outputs(s, out_len);
    let _ = writeln!(s, "    {nv} = max({v}, 0.0);");
    if g.bound {
        let _ = writeln!(s, "    {ne} = {e};");
    }
    let _ = writeln!(s, "  }}");
}

/// Sigmoid, or tanh as `2·σ(2x) − 1`, through WGSL's `exp` (accurate to `3 + 2|x|` ULP)
/// and division (2.5 ULP). Sigmoid is ¼-Lipschitz, tanh 1-Lipschitz; an honest device's
/// own error at `x` is at most `(3 + 2|x|)·2⁻²³/4` (the exp's relative error through
/// `1/(1+E)`, whose derivative is at most ¼ in `E`'s relative terms) plus `3.5·2⁻²³`
/// (the `1 + E` and the division), for tanh twice that at `2x` plus the final subtraction.
fn logistic(s: &mut String, g: &Names, out_len: usize, tanh: bool) {
    let (v, e, nv, ne) = (g.v("o"), g.e("o"), g.nv(), g.ne());
    let ulp = lit(f32_up(2.0 * UNIT_ROUNDOFF));
    let expr = if tanh {
        format!("2.0 / (1.0 + exp(-2.0 * {v})) - 1.0")
    } else {
        format!("1.0 / (1.0 + exp(-{v}))")
    };
    g.open_outputs(s, out_len);
    let _ = writeln!(s, "    {nv} = {expr};");
    if g.bound {
        let bound = if tanh {
            format!(
                "{e} + 2.0 * ((3.0 + 4.0 * (abs({v}) + {e})) * {ulp} * 0.25 + 3.5 * {ulp}) + {ulp}"
            )
        } else {
            format!("0.25 * {e} + (3.0 + 2.0 * (abs({v}) + {e})) * {ulp} * 0.25 + 3.5 * {ulp}")
        };
        let _ = writeln!(s, "    {ne} = {bound};");
    }
    let _ = writeln!(s, "  }}");
}
