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
use crate::manifest::{CompareRule, ElementType, JobBundle, OutputSpec};

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
}

impl MatmulVariant {
    /// 64×64 outputs per invocation: the fastest block measured on lavapipe.
    pub const WIDE_CPU: Self = Self::Wide { tm: 64, tn4: 16 };

    /// The variant suited to `gpu`'s adapter type and the shape (`n`, `rows_per_chunk`):
    /// [`Self::WIDE_CPU`] on a CPU adapter when the shape allows it, else [`Self::for_gpu`].
    pub fn for_shape(gpu: &crate::Gpu, n: u32, rows_per_chunk: u32) -> Self {
        if gpu.is_cpu() && n % (WIDE_WX * 64) == 0 && rows_per_chunk % 64 == 0 {
            Self::WIDE_CPU
        } else {
            Self::for_gpu(gpu)
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
    /// Columns of B and C (a multiple of 64).
    pub n: u32,
    /// Output rows per chunk (a multiple of 32).
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

fn rb_params() -> (u32, u32, [u32; 2]) {
    (RB_TM, RB_TN4, RB_WG)
}

fn register_blocked_source(p: &MatmulParams, tm: u32, tn4: u32, wg: [u32; 2]) -> String {
    let body = |name: &str, w: &str| {
        let mut s = format!(
            "@compute @workgroup_size({wx}, {wy}, 1)
fn {name}(@builtin(global_invocation_id) gid: vec3<u32>) {{
    let c4 = gid.x * {tn4}u;
    let lr = gid.y * {tm}u;
    let r = chunk.index * ROWS + lr;
",
            wx = wg[0],
            wy = wg[1]
        );
        for i in 0..tm {
            for j in 0..tn4 {
                s += &format!("    var acc{i}_{j} = vec4<f32>(0.0);\n");
            }
        }
        s += "    for (var k4 = 0u; k4 < K4; k4 = k4 + 1u) {\n";
        for i in 0..tm {
            s += &format!("        let a{i} = {w}(a[(r + {i}u) * K4 + k4]);\n");
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
    if p.rows_per_chunk == 0 || p.rows_per_chunk % 32 != 0 {
        return Err(param_err(
            "matmul",
            "rows_per_chunk must be a non-zero multiple of 32",
        ));
    }
    if p.m == 0 || p.m % p.rows_per_chunk != 0 {
        return Err(param_err(
            "matmul",
            "m must be a non-zero multiple of rows_per_chunk",
        ));
    }
    if p.k == 0 || p.k % 16 != 0 {
        return Err(param_err("matmul", "k must be a non-zero multiple of 16"));
    }
    if p.n == 0 || p.n % 64 != 0 {
        return Err(param_err("matmul", "n must be a non-zero multiple of 64"));
    }
    let (a, b) = inputs(p);
    let (source, wg, grid) = match p.variant {
        MatmulVariant::RegisterBlocked => {
            let (tm, tn4, wg) = rb_params();
            let (cols, rows) = (wg[0] * tn4 * 4, wg[1] * tm);
            if p.n % cols != 0 || p.rows_per_chunk % rows != 0 {
                return Err(param_err(
                    "matmul",
                    format!("n must be a multiple of {cols} and rows_per_chunk of {rows}"),
                ));
            }
            (
                register_blocked_source(p, tm, tn4, wg),
                [wg[0], wg[1], 1],
                [p.n / cols, p.rows_per_chunk / rows, 1],
            )
        }
        MatmulVariant::Wide { tm, tn4 } => {
            let (cols, rows) = (WIDE_WX * tn4 * 4, tm);
            if tm == 0 || tn4 == 0 || p.n % cols != 0 || p.rows_per_chunk % rows != 0 {
                return Err(param_err(
                    "matmul",
                    format!("n must be a multiple of {cols} and rows_per_chunk of {rows}"),
                ));
            }
            (
                register_blocked_source(p, tm, tn4, [WIDE_WX, 1]),
                [WIDE_WX, 1, 1],
                [p.n / cols, p.rows_per_chunk / rows, 1],
            )
        }
        MatmulVariant::Tiled => (
            tiled_source(p),
            [16, 16, 1],
            [p.n / 16, p.rows_per_chunk / 16, 1],
        ),
    };
    Ok(bundle(
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
    ))
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
