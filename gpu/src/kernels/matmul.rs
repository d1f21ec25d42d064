//! f32 matrix multiply `C = A·B` (A: M×K, B: K×N, row-major), chunk = a block of
//! `rows_per_chunk` output rows.
//!
//! Summation order is fixed in every variant: `c_ij = (((0 + a_i0·b_0j) + a_i1·b_1j) + …)`,
//! k ascending, so on a device that does not fuse multiply-add (lavapipe) the GPU result
//! equals [`reference_rows`] bit for bit. Other devices may fuse or reorder; the
//! comparison rule tolerates that with the bound proven in `docs/verification.md`:
//! `|got − ref| <= max_abs + max_rel·(|A|·|B|)ij`, `max_rel ≈ 2·K·2⁻²⁴`, where the
//! verifier computes `(|A|·|B|)` with the `magnitude` entry point.

use super::{bundle, f32_bytes, param_err, ParamError, SplitMix, CHUNK_PRELUDE};
use crate::manifest::{CompareRule, ElementType, Feature, JobBundle, OutputSpec};

/// Kernel shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatmulVariant {
    /// 4×4 outputs per invocation in registers, vec4 loads, no workgroup memory and no
    /// barriers: the fast choice on CPU adapters (lavapipe), where barriers are costly.
    RegisterBlocked,
    /// 16×16 workgroup-memory tiles with barriers: the classic choice on real GPUs.
    Tiled,
    /// The register-blocked kernel with `tm` rows × `4·tn4` columns per invocation and
    /// workgroups of 8 invocations along x. Large blocks ([`MatmulVariant::WIDE_CPU`],
    /// 64×64) are the fast choice on lavapipe, where every element an invocation loads
    /// from a storage buffer costs ~30 cycles (a per-lane loop) while register spills
    /// are cheap, so throughput follows flops per loaded element, `2·tm·tn/(tm+tn)`.
    /// They take minutes to JIT-compile, so tests use small ones.
    Wide { tm: u32, tn4: u32 },
    /// [`MatmulVariant::Wide`] with A shared across the subgroup: each of the 8 lanes
    /// loads one of every 8 A rows and `subgroupBroadcast` hands the values to the
    /// others, so A costs `tm/8` loads per k-step instead of `tm` (B is per lane and
    /// loaded once per k-step, reused by all `tm` rows). Same arithmetic, same order,
    /// bit-identical results. Needs wgpu's `SUBGROUP` feature; where the subgroup size is
    /// not 8 (= the workgroup width) the kernel takes a plain per-element loop instead.
    /// `tm` must be a multiple of 8.
    WideSubgroup { tm: u32, tn4: u32 },
}

impl MatmulVariant {
    /// 64×64 outputs per invocation: the fastest block measured on lavapipe.
    pub const WIDE_CPU: Self = Self::Wide { tm: 64, tn4: 16 };

    /// 64×64 outputs per invocation, A shared across the subgroup: used on lavapipe for
    /// large shapes with `rows_per_chunk` a multiple of 64 when the device has subgroups.
    pub const WIDE_SUBGROUP_CPU: Self = Self::WideSubgroup { tm: 64, tn4: 16 };

    /// 128×32 outputs per invocation, A shared across the subgroup: fewer loads for the
    /// same 4096 accumulators (16 + 32 vec4 loads per k-step against 8 + 64), used when
    /// `rows_per_chunk` is a multiple of 128.
    pub const WIDE_SUBGROUP_TALL_CPU: Self = Self::WideSubgroup { tm: 128, tn4: 8 };

    /// A small block (8×8 per invocation, 64-column workgroups) for short chunks: it
    /// tiles `rows_per_chunk` multiples of 8 and compiles in well under a second.
    pub const SMALL: Self = Self::Wide { tm: 8, tn4: 2 };

    /// `(columns, rows)` of output one workgroup computes: `n` and `rows_per_chunk` must
    /// be multiples of them.
    pub fn tile(&self) -> (u32, u32) {
        match *self {
            Self::RegisterBlocked => (RB_WG[0] * RB_TN4 * 4, RB_WG[1] * RB_TM),
            Self::Tiled => (16, 16),
            Self::Wide { tm, tn4 } | Self::WideSubgroup { tm, tn4 } => (WIDE_WX * tn4 * 4, tm),
        }
    }

    fn tiles(&self, n: u32, rows_per_chunk: u32) -> bool {
        let (cols, rows) = self.tile();
        cols > 0 && rows > 0 && n.is_multiple_of(cols) && rows_per_chunk.is_multiple_of(rows)
    }

    /// The variant suited to `gpu`'s adapter type and the shape (`n`, `rows_per_chunk`).
    /// On a CPU adapter: for large shapes (`n >= 1024`) the 4096-output blocks, which
    /// take a minute or more to JIT-compile once ([`Self::WIDE_SUBGROUP_TALL_CPU`] or
    /// [`Self::WIDE_SUBGROUP_CPU`] with subgroups, else [`Self::WIDE_CPU`]); otherwise the 4×4 [`Self::RegisterBlocked`] kernel or, for
    /// chunks of 8 or 16 rows, [`Self::SMALL`] (both compile in well under a second).
    /// Elsewhere [`Self::for_gpu`].
    pub fn for_shape(gpu: &crate::Gpu, n: u32, rows_per_chunk: u32) -> Self {
        if !gpu.is_cpu() {
            return Self::for_gpu(gpu);
        }
        let large = n >= 1024;
        let sg = large && gpu.has_subgroups();
        if sg && Self::WIDE_SUBGROUP_TALL_CPU.tiles(n, rows_per_chunk) {
            Self::WIDE_SUBGROUP_TALL_CPU
        } else if sg && Self::WIDE_SUBGROUP_CPU.tiles(n, rows_per_chunk) {
            Self::WIDE_SUBGROUP_CPU
        } else if large && Self::WIDE_CPU.tiles(n, rows_per_chunk) {
            Self::WIDE_CPU
        } else if !Self::RegisterBlocked.tiles(n, rows_per_chunk)
            && Self::SMALL.tiles(n, rows_per_chunk)
        {
            Self::SMALL
        } else {
            Self::RegisterBlocked
        }
    }

    /// The variant suited to `gpu`'s adapter type.
    pub fn for_gpu(gpu: &crate::Gpu) -> Self {
        if gpu.is_cpu() {
            Self::RegisterBlocked
        } else {
            Self::Tiled
        }
    }
}

/// Parameters of a matmul job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MatmulParams {
    /// Rows of A and C (a multiple of `rows_per_chunk`).
    pub m: u32,
    /// Inner dimension (a multiple of 16).
    pub k: u32,
    /// Columns of B and C (a multiple of 64 and of the variant's tile columns).
    pub n: u32,
    /// Output rows per chunk (a multiple of the variant's tile rows, [`MatmulVariant::tile`]).
    pub rows_per_chunk: u32,
    /// Seed for A and B (entries uniform in [-1, 1)).
    pub seed: u64,
    pub variant: MatmulVariant,
}

impl MatmulParams {
    /// Number of chunks.
    pub fn chunks(&self) -> u32 {
        self.m / self.rows_per_chunk
    }
}

/// Relative factor of the comparison bound for inner dimension `k`:
/// `2·γ_k/(1−γ_k)` with `γ_k = k·u/(1−k·u)`, `u = 2⁻²⁴`, rounded up (see the proof).
pub fn rel_bound(k: u32) -> f32 {
    let u = 2f64.powi(-24);
    let ku = f64::from(k) * u;
    let g = ku / (1.0 - ku);
    let rel = 2.0 * g / (1.0 - g) * (1.0 + 1e-6);
    let r = rel as f32;
    if f64::from(r) < rel {
        f32::from_bits(r.to_bits() + 1)
    } else {
        r
    }
}

/// Absolute floor of the comparison bound: `8·k·2⁻¹²⁶`, covering underflow and
/// flush-to-zero of products, partial sums and the scale.
pub fn abs_floor(k: u32) -> f32 {
    8.0 * k as f32 * f32::MIN_POSITIVE
}

/// Rows per invocation in the register-blocked kernel.
const RB_TM: u32 = 4;
/// vec4 columns per invocation in the register-blocked kernel.
const RB_TN4: u32 = 1;
/// Workgroup shape of the register-blocked kernel.
const RB_WG: [u32; 2] = [8, 8];

fn register_blocked_source(
    p: &MatmulParams,
    tm: u32,
    tn4: u32,
    wg: [u32; 2],
    subgroup: bool,
) -> String {
    let body = |name: &str, w: &str| {
        let sg_args = if subgroup {
            ", @builtin(subgroup_invocation_id) sid: u32, @builtin(subgroup_size) sgs: u32"
        } else {
            ""
        };
        let mut s = format!(
            "@compute @workgroup_size({wx}, {wy}, 1)
fn {name}(@builtin(global_invocation_id) gid: vec3<u32>{sg_args}) {{
    let c4 = gid.x * {tn4}u;
    let lr = gid.y * {tm}u;
    let r = chunk.index * ROWS + lr;
",
            wx = wg[0],
            wy = wg[1]
        );
        if subgroup {
            // Fallback where the 8 lanes of the workgroup are not exactly one subgroup:
            // one output vec4 at a time, same products summed in the same order.
            s += &format!(
                "    if (sgs != {WIDE_WX}u) {{
        for (var i = 0u; i < {tm}u; i = i + 1u) {{
            for (var j = 0u; j < {tn4}u; j = j + 1u) {{
                var acc = vec4<f32>(0.0);
                for (var k4 = 0u; k4 < K4; k4 = k4 + 1u) {{
                    let av = {w}(a[(r + i) * K4 + k4]);
                    let kb = k4 * 4u * N4 + c4 + j;
                    acc = acc + av.x * {w}(b[kb]);
                    acc = acc + av.y * {w}(b[kb + N4]);
                    acc = acc + av.z * {w}(b[kb + 2u * N4]);
                    acc = acc + av.w * {w}(b[kb + 3u * N4]);
                }}
                out[(lr + i) * N4 + c4 + j] = acc;
            }}
        }}
        return;
    }}
"
            );
        }
        for i in 0..tm {
            for j in 0..tn4 {
                s += &format!("    var acc{i}_{j} = vec4<f32>(0.0);\n");
            }
        }
        s += "    for (var k4 = 0u; k4 < K4; k4 = k4 + 1u) {\n";
        if subgroup {
            // Lane `sid` loads rows g·8 + sid; row i comes from lane i % 8.
            for g in 0..tm / WIDE_WX {
                s += &format!(
                    "        let s{g} = {w}(a[(r + {o}u + sid) * K4 + k4]);\n",
                    o = g * WIDE_WX
                );
            }
            for i in 0..tm {
                s += &format!(
                    "        let a{i} = subgroupBroadcast(s{g}, {l}u);\n",
                    g = i / WIDE_WX,
                    l = i % WIDE_WX
                );
            }
        } else {
            for i in 0..tm {
                s += &format!("        let a{i} = {w}(a[(r + {i}u) * K4 + k4]);\n");
            }
        }
        s += "        let kb = k4 * 4u * N4 + c4;\n";
        for (kk, comp) in ["x", "y", "z", "w"].iter().enumerate() {
            for j in 0..tn4 {
                s += &format!("        let b{kk}_{j} = {w}(b[kb + {kk}u * N4 + {j}u]);\n");
            }
            for i in 0..tm {
                for j in 0..tn4 {
                    s += &format!("        acc{i}_{j} = acc{i}_{j} + a{i}.{comp} * b{kk}_{j};\n");
                }
            }
        }
        s += "    }\n";
        for i in 0..tm {
            for j in 0..tn4 {
                s += &format!("    out[(lr + {i}u) * N4 + c4 + {j}u] = acc{i}_{j};\n");
            }
        }
        s += "}\n";
        s
    };
    format!(
        "{CHUNK_PRELUDE}\
@group(0) @binding(1) var<storage, read_write> out: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> b: array<vec4<f32>>;
const ROWS: u32 = {rows}u;
const K4: u32 = {k4}u;
const N4: u32 = {n4}u;

{main}
{mag}",
        rows = p.rows_per_chunk,
        k4 = p.k / 4,
        n4 = p.n / 4,
        main = body("main", ""),
        mag = body("magnitude", "abs"),
    )
}

/// Workgroup width of the wide kernel (one lavapipe SIMD row of 8 lanes).
const WIDE_WX: u32 = 8;

fn tiled_source(p: &MatmulParams) -> String {
    let body = |name: &str, w: &str| {
        format!(
            "@compute @workgroup_size(16, 16, 1)
fn {name}(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {{
    let col = gid.x;
    let lr = gid.y;
    let r = chunk.index * ROWS + lr;
    var acc = 0.0;
    for (var t = 0u; t < K; t = t + 16u) {{
        ta[lid.y][lid.x] = {w}(a[r * K + t + lid.x]);
        tb[lid.y][lid.x] = {w}(b[(t + lid.y) * N + col]);
        workgroupBarrier();
        for (var kk = 0u; kk < 16u; kk = kk + 1u) {{
            acc = acc + ta[lid.y][kk] * tb[kk][lid.x];
        }}
        workgroupBarrier();
    }}
    out[lr * N + col] = acc;
}}
"
        )
    };
    format!(
        "{CHUNK_PRELUDE}\
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> a: array<f32>;
@group(0) @binding(3) var<storage, read> b: array<f32>;
const ROWS: u32 = {rows}u;
const K: u32 = {k}u;
const N: u32 = {n}u;
var<workgroup> ta: array<array<f32, 16>, 16>;
var<workgroup> tb: array<array<f32, 16>, 16>;

{main}
{mag}",
        rows = p.rows_per_chunk,
        k = p.k,
        n = p.n,
        main = body("main", ""),
        mag = body("magnitude", "abs"),
    )
}

/// A and B for `p` (entries uniform in [-1, 1)).
pub fn inputs(p: &MatmulParams) -> (Vec<f32>, Vec<f32>) {
    let mut rng = SplitMix::new(p.seed);
    let a = (0..u64::from(p.m) * u64::from(p.k))
        .map(|_| rng.f32_in(-1.0, 1.0))
        .collect();
    let b = (0..u64::from(p.k) * u64::from(p.n))
        .map(|_| rng.f32_in(-1.0, 1.0))
        .collect();
    (a, b)
}

/// Builds the job: manifest (float rule with the proven bound and the `magnitude` scale
/// entry point), kernel and the A, B blobs.
pub fn job(p: &MatmulParams) -> Result<JobBundle, ParamError> {
    if p.rows_per_chunk == 0 {
        return Err(param_err("matmul", "rows_per_chunk must be non-zero"));
    }
    if p.m == 0 || !p.m.is_multiple_of(p.rows_per_chunk) {
        return Err(param_err(
            "matmul",
            "m must be a non-zero multiple of rows_per_chunk",
        ));
    }
    if p.k == 0 || !p.k.is_multiple_of(16) {
        return Err(param_err("matmul", "k must be a non-zero multiple of 16"));
    }
    if p.n == 0 || !p.n.is_multiple_of(64) {
        return Err(param_err("matmul", "n must be a non-zero multiple of 64"));
    }
    let (cols, rows) = p.variant.tile();
    let bad_block = match p.variant {
        MatmulVariant::Wide { tm, tn4 } => tm == 0 || tn4 == 0,
        MatmulVariant::WideSubgroup { tm, tn4 } => tm == 0 || tn4 == 0 || tm % WIDE_WX != 0,
        _ => false,
    };
    if bad_block {
        return Err(param_err(
            "matmul",
            format!("unsupported block {:?}", p.variant),
        ));
    }
    if !p.n.is_multiple_of(cols) || !p.rows_per_chunk.is_multiple_of(rows) {
        return Err(param_err(
            "matmul",
            format!("n must be a multiple of {cols} and rows_per_chunk of {rows}"),
        ));
    }
    let grid = [p.n / cols, p.rows_per_chunk / rows, 1];
    let (a, b) = inputs(p);
    let (source, wg) = match p.variant {
        MatmulVariant::RegisterBlocked => (
            register_blocked_source(p, RB_TM, RB_TN4, RB_WG, false),
            [RB_WG[0], RB_WG[1], 1],
        ),
        MatmulVariant::Wide { tm, tn4 } => (
            register_blocked_source(p, tm, tn4, [WIDE_WX, 1], false),
            [WIDE_WX, 1, 1],
        ),
        MatmulVariant::WideSubgroup { tm, tn4 } => (
            register_blocked_source(p, tm, tn4, [WIDE_WX, 1], true),
            [WIDE_WX, 1, 1],
        ),
        MatmulVariant::Tiled => (tiled_source(p), [16, 16, 1]),
    };
    let mut job = bundle(
        source,
        "main",
        wg,
        u64::from(p.chunks()),
        grid,
        vec![f32_bytes(&a), f32_bytes(&b)],
        OutputSpec {
            element: ElementType::F32,
            elements_per_chunk: p.rows_per_chunk * p.n,
        },
        CompareRule::Float {
            max_abs: abs_floor(p.k),
            max_rel: rel_bound(p.k),
            scale_entry_point: Some("magnitude".into()),
        },
    );
    if matches!(p.variant, MatmulVariant::WideSubgroup { .. }) {
        job.manifest.requires.features = vec![Feature::Subgroups];
    }
    Ok(job)
}

/// CPU reference for output rows `rows` (k ascending, no FMA), and the magnitude
/// `(|A|·|B|)` when `magnitude` is true. Returns row-major f32s.
pub fn reference_rows(
    a: &[f32],
    b: &[f32],
    k: usize,
    n: usize,
    rows: std::ops::Range<usize>,
    magnitude: bool,
) -> Vec<f32> {
    let mut out = vec![0f32; rows.len() * n];
    for (oi, i) in rows.enumerate() {
        let orow = &mut out[oi * n..(oi + 1) * n];
        for kk in 0..k {
            let mut av = a[i * k + kk];
            if magnitude {
                av = av.abs();
            }
            let brow = &b[kk * n..(kk + 1) * n];
            for (o, &bv) in orow.iter_mut().zip(brow) {
                let bv = if magnitude { bv.abs() } else { bv };
                // Rust never contracts `a * b + c` into an FMA.
                *o += av * bv;
            }
        }
    }
    out
}

/// CPU reference output bytes of chunk `index`.
pub fn reference_chunk(
    p: &MatmulParams,
    a: &[f32],
    b: &[f32],
    index: u32,
    magnitude: bool,
) -> Vec<u8> {
    let r0 = (index * p.rows_per_chunk) as usize;
    let rows = r0..r0 + p.rows_per_chunk as usize;
    f32_bytes(&reference_rows(
        a,
        b,
        p.k as usize,
        p.n as usize,
        rows,
        magnitude,
    ))
}
