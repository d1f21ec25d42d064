//! Render-style job: a small sphere-traced scene (smooth-union spheres over a floor),
//! image split into square tiles; chunk = tile, output = RGBA f32 per pixel, row-major
//! within the tile.
//!
//! The march uses a fixed step count (no early exit) and smooth coverage, so each pixel
//! is a continuous function of the scene; divisions are avoided except the two
//! normalizations. Compared with an absolute tolerance ([`TOLERANCE`]) which is
//! empirical for this kernel, not proven (see `docs/verification.md`).

use super::{bundle, f32_bytes, lit, param_err, ParamError, SplitMix, CHUNK_PRELUDE};
use crate::manifest::{CompareRule, ElementType, JobBundle, OutputSpec};

/// Absolute per-channel tolerance (colors are in [0, 1]): 2⁻⁹, half an 8-bit level.
pub const TOLERANCE: f32 = 1.0 / 512.0;

const SK: f32 = 0.3;
const INV_SK: f32 = 1.0 / 0.3;
const FOCAL: f32 = 1.5;
const TMAX: f32 = 20.0;
const INV_TMAX: f32 = 1.0 / 20.0;
const EPS: f32 = 0.01;
const LX: f32 = 0.408_248_3;
const LY: f32 = 0.816_496_6;
const LZ: f32 = 0.408_248_3;

/// Parameters of a render job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RenderParams {
    /// Image width in pixels (a multiple of `tile`).
    pub width: u32,
    /// Image height in pixels (a multiple of `tile`).
    pub height: u32,
    /// Tile edge in pixels (a multiple of 8).
    pub tile: u32,
    /// Number of spheres (>= 1).
    pub spheres: u32,
    /// Ray-march steps per pixel.
    pub steps: u32,
    /// Scene seed.
    pub seed: u64,
}

impl RenderParams {
    /// Number of tiles (chunks).
    pub fn chunks(&self) -> u32 {
        (self.width / self.tile) * (self.height / self.tile)
    }
}

fn source(p: &RenderParams) -> String {
    format!(
        "{CHUNK_PRELUDE}\
@group(0) @binding(1) var<storage, read_write> out: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> spheres: array<vec4<f32>>;
const W: u32 = {w}u;
const TILE: u32 = {tile}u;
const NS: u32 = {ns}u;
const STEPS: u32 = {steps}u;
const HALF_W: f32 = {half_w};
const HALF_H: f32 = {half_h};
const INV_H: f32 = {inv_h};

fn smin(a: f32, b: f32) -> f32 {{
    let h = min(max(0.5 + 0.5 * (b - a) * {inv_sk}, 0.0), 1.0);
    return b * (1.0 - h) + a * h - {sk} * h * (1.0 - h);
}}

fn sdf(x: f32, y: f32, z: f32) -> f32 {{
    var d = y + 1.0;
    for (var s = 0u; s < NS; s = s + 1u) {{
        let c = spheres[s];
        let dx = x - c.x;
        let dy = y - c.y;
        let dz = z - c.z;
        let ds = sqrt(dx * dx + dy * dy + dz * dz) - c.w;
        d = smin(d, ds);
    }}
    return d;
}}

@compute @workgroup_size(8, 8, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {{
    let tiles_x = W / TILE;
    let px = (chunk.index % tiles_x) * TILE + gid.x;
    let py = (chunk.index / tiles_x) * TILE + gid.y;
    let u = (f32(px) + 0.5 - HALF_W) * INV_H;
    let v = (HALF_H - f32(py) - 0.5) * INV_H;
    let rl = sqrt(u * u + v * v + {focal} * {focal});
    let rx = u / rl;
    let ry = v / rl;
    let rz = -{focal} / rl;
    var t = 0.0;
    for (var i = 0u; i < STEPS; i = i + 1u) {{
        let d = sdf(rx * t, ry * t, rz * t);
        t = min(max(t + d, 0.0), {tmax});
    }}
    let x = rx * t;
    let y = ry * t;
    let z = rz * t;
    let dend = sdf(x, y, z);
    let nx = sdf(x + {eps}, y, z) - sdf(x - {eps}, y, z);
    let ny = sdf(x, y + {eps}, z) - sdf(x, y - {eps}, z);
    let nz = sdf(x, y, z + {eps}) - sdf(x, y, z - {eps});
    let nl = sqrt(nx * nx + ny * ny + nz * nz) + 0.000001;
    let diff = max((nx * {lx} + ny * {ly} + nz * {lz}) / nl, 0.0);
    let hit = min(max(1.0 - dend * 20.0, 0.0), 1.0);
    let wgt = hit * (1.0 - t * {inv_tmax});
    let shade = 0.15 + 0.85 * diff;
    let sky = 0.5 + 0.5 * ry;
    let r = sky * 0.55 * (1.0 - wgt) + shade * 0.9 * wgt;
    let g = sky * 0.7 * (1.0 - wgt) + shade * 0.6 * wgt;
    let b = sky * 0.95 * (1.0 - wgt) + shade * 0.35 * wgt;
    out[gid.y * TILE + gid.x] = vec4<f32>(r, g, b, 1.0);
}}
",
        w = p.width,
        tile = p.tile,
        ns = p.spheres,
        steps = p.steps,
        half_w = lit(p.width as f32 * 0.5),
        half_h = lit(p.height as f32 * 0.5),
        inv_h = lit(1.0 / p.height as f32),
        inv_sk = lit(INV_SK),
        sk = lit(SK),
        focal = lit(FOCAL),
        tmax = lit(TMAX),
        eps = lit(EPS),
        lx = lit(LX),
        ly = lit(LY),
        lz = lit(LZ),
        inv_tmax = lit(INV_TMAX),
    )
}

/// The scene: `spheres` × (center x, y, z, radius), in front of a camera at the origin
/// looking down −z.
pub fn scene(p: &RenderParams) -> Vec<f32> {
    let mut rng = SplitMix::new(p.seed);
    let mut v = Vec::with_capacity(p.spheres as usize * 4);
    for _ in 0..p.spheres {
        v.push(rng.f32_in(-2.0, 2.0));
        v.push(rng.f32_in(-0.6, 1.0));
        v.push(rng.f32_in(-7.0, -3.5));
        v.push(rng.f32_in(0.3, 0.9));
    }
    v
}

/// Builds the job (manifest + kernel + scene blob).
pub fn job(p: &RenderParams) -> Result<JobBundle, ParamError> {
    if p.tile == 0 || !p.tile.is_multiple_of(8) {
        return Err(param_err("render", "tile must be a non-zero multiple of 8"));
    }
    if p.width == 0
        || p.height == 0
        || !p.width.is_multiple_of(p.tile)
        || !p.height.is_multiple_of(p.tile)
    {
        return Err(param_err(
            "render",
            "width and height must be non-zero multiples of tile",
        ));
    }
    if p.spheres == 0 {
        return Err(param_err("render", "at least one sphere"));
    }
    Ok(bundle(
        source(p),
        "main",
        [8, 8, 1],
        u64::from(p.chunks()),
        [p.tile / 8, p.tile / 8, 1],
        vec![f32_bytes(&scene(p))],
        OutputSpec {
            element: ElementType::F32,
            elements_per_chunk: p.tile * p.tile * 4,
        },
        CompareRule::Float {
            max_abs: TOLERANCE,
            max_rel: 0.0,
            scale_entry_point: None,
        },
    ))
}

// `max(..).min(..)` mirrors the shader's `min(max(..))` exactly (`f32::clamp` differs on NaN).
#[allow(clippy::manual_clamp)]
fn smin(a: f32, b: f32) -> f32 {
    let h = (0.5 + 0.5 * (b - a) * INV_SK).max(0.0).min(1.0);
    b * (1.0 - h) + a * h - SK * h * (1.0 - h)
}

fn sdf(s: &[f32], x: f32, y: f32, z: f32) -> f32 {
    let mut d = y + 1.0;
    for c in s.chunks_exact(4) {
        let (dx, dy, dz) = (x - c[0], y - c[1], z - c[2]);
        let ds = (dx * dx + dy * dy + dz * dz).sqrt() - c[3];
        d = smin(d, ds);
    }
    d
}

/// CPU reference: output bytes of tile `index` (same operations, same order as WGSL).
#[allow(clippy::manual_clamp)] // as in `smin`
pub fn reference_chunk(p: &RenderParams, scene: &[f32], index: u32) -> Vec<u8> {
    let tiles_x = p.width / p.tile;
    let (half_w, half_h, inv_h) = (
        p.width as f32 * 0.5,
        p.height as f32 * 0.5,
        1.0 / p.height as f32,
    );
    let mut out = Vec::with_capacity((p.tile * p.tile * 4) as usize);
    for ly in 0..p.tile {
        for lx in 0..p.tile {
            let px = (index % tiles_x) * p.tile + lx;
            let py = (index / tiles_x) * p.tile + ly;
            let u = (px as f32 + 0.5 - half_w) * inv_h;
            let v = (half_h - py as f32 - 0.5) * inv_h;
            let rl = (u * u + v * v + FOCAL * FOCAL).sqrt();
            let (rx, ry, rz) = (u / rl, v / rl, -FOCAL / rl);
            let mut t = 0.0f32;
            for _ in 0..p.steps {
                let d = sdf(scene, rx * t, ry * t, rz * t);
                t = (t + d).max(0.0).min(TMAX);
            }
            let (x, y, z) = (rx * t, ry * t, rz * t);
            let dend = sdf(scene, x, y, z);
            let nx = sdf(scene, x + EPS, y, z) - sdf(scene, x - EPS, y, z);
            let ny = sdf(scene, x, y + EPS, z) - sdf(scene, x, y - EPS, z);
            let nz = sdf(scene, x, y, z + EPS) - sdf(scene, x, y, z - EPS);
            let nl = (nx * nx + ny * ny + nz * nz).sqrt() + 0.000001;
            let diff = ((nx * LX + ny * LY + nz * LZ) / nl).max(0.0);
            let hit = (1.0 - dend * 20.0).max(0.0).min(1.0);
            let wgt = hit * (1.0 - t * INV_TMAX);
            let shade = 0.15 + 0.85 * diff;
            let sky = 0.5 + 0.5 * ry;
            let r = sky * 0.55 * (1.0 - wgt) + shade * 0.9 * wgt;
            let g = sky * 0.7 * (1.0 - wgt) + shade * 0.6 * wgt;
            let b = sky * 0.95 * (1.0 - wgt) + shade * 0.35 * wgt;
            out.extend(f32_bytes(&[r, g, b, 1.0]));
        }
    }
    out
}
