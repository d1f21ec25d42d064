//! Integer hash mixer: compared bit-exactly (u32 wrapping arithmetic is exact everywhere).
//!
//! Element `g = chunk·elements_per_chunk + l` of the output is
//! `x = seeds[g mod n_seeds] ^ (g · 0x9E3779B9)`, then `rounds` times
//! `x ^= x>>16; x *= 0x7feb352d; x ^= x>>15; x *= 0x846ca68b; x ^= x>>16; x += r`.

use super::{bundle, param_err, u32_bytes, ParamError, SplitMix, CHUNK_PRELUDE};
use crate::manifest::{CompareRule, ElementType, JobBundle, OutputSpec};

/// Workgroup width of the kernel.
pub const WORKGROUP: u32 = 64;

/// Parameters of a hash-mixer job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HashMixParams {
    /// Number of chunks (>= 1).
    pub chunks: u32,
    /// u32 elements per chunk (a multiple of 64).
    pub elements_per_chunk: u32,
    /// Mixing rounds per element (work per element).
    pub rounds: u32,
    /// Number of u32 seeds in the input blob (>= 1).
    pub n_seeds: u32,
    /// Seed for the input blob.
    pub seed: u64,
}

fn source(p: &HashMixParams) -> String {
    format!(
        "{CHUNK_PRELUDE}\
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
@group(0) @binding(2) var<storage, read> seeds: array<u32>;
const ELEMS: u32 = {e}u;
const ROUNDS: u32 = {r}u;
const NSEEDS: u32 = {s}u;

@compute @workgroup_size({WORKGROUP}, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {{
    let l = gid.x;
    let g = chunk.index * ELEMS + l;
    var x = seeds[g % NSEEDS] ^ (g * 0x9E3779B9u);
    for (var r = 0u; r < ROUNDS; r = r + 1u) {{
        x = x ^ (x >> 16u);
        x = x * 0x7feb352du;
        x = x ^ (x >> 15u);
        x = x * 0x846ca68bu;
        x = x ^ (x >> 16u);
        x = x + r;
    }}
    out[l] = x;
}}
",
        e = p.elements_per_chunk,
        r = p.rounds,
        s = p.n_seeds
    )
}

/// The seeds blob for `p`.
pub fn seeds(p: &HashMixParams) -> Vec<u32> {
    let mut rng = SplitMix::new(p.seed);
    (0..p.n_seeds).map(|_| rng.next_u64() as u32).collect()
}

/// Builds the job (manifest + kernel + seeds blob).
pub fn job(p: &HashMixParams) -> Result<JobBundle, ParamError> {
    if p.chunks == 0 {
        return Err(param_err("hashmix", "chunk count must be >= 1"));
    }
    if p.elements_per_chunk == 0 || !p.elements_per_chunk.is_multiple_of(WORKGROUP) {
        return Err(param_err(
            "hashmix",
            format!("elements_per_chunk must be a non-zero multiple of {WORKGROUP}"),
        ));
    }
    if p.n_seeds == 0 {
        return Err(param_err("hashmix", "n_seeds must be >= 1"));
    }
    Ok(bundle(
        source(p),
        "main",
        [WORKGROUP, 1, 1],
        u64::from(p.chunks),
        [p.elements_per_chunk / WORKGROUP, 1, 1],
        vec![u32_bytes(&seeds(p))],
        OutputSpec {
            element: ElementType::U32,
            elements_per_chunk: p.elements_per_chunk,
        },
        CompareRule::Exact,
    ))
}

/// CPU reference: output bytes of chunk `index`.
pub fn reference_chunk(p: &HashMixParams, seeds: &[u32], index: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(p.elements_per_chunk as usize * 4);
    for l in 0..p.elements_per_chunk {
        let g = index.wrapping_mul(p.elements_per_chunk).wrapping_add(l);
        let mut x = seeds[(g % p.n_seeds) as usize] ^ g.wrapping_mul(0x9E37_79B9);
        for r in 0..p.rounds {
            x ^= x >> 16;
            x = x.wrapping_mul(0x7feb_352d);
            x ^= x >> 15;
            x = x.wrapping_mul(0x846c_a68b);
            x ^= x >> 16;
            x = x.wrapping_add(r);
        }
        out.extend_from_slice(&x.to_le_bytes());
    }
    out
}
