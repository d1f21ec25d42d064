//! Built-in jobs: each has a WGSL kernel, a CPU reference and a builder that turns a few
//! parameters (sizes, seed) into a [`JobBundle`] (manifest + kernel + input blobs).

pub mod hashmix;
pub mod matmul;
pub mod render;

use crate::manifest::{
    ChunkGrid, CompareRule, Digest, InputBinding, JobBundle, JobManifest, KernelSpec, OutputSpec,
    Requirements, FIRST_INPUT_BINDING, MANIFEST_VERSION,
};

/// Why a built-in job could not be built from the given parameters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid parameters for built-in job `{job}`: {reason}")]
pub struct ParamError {
    pub job: &'static str,
    pub reason: String,
}

pub(crate) fn param_err(job: &'static str, reason: impl Into<String>) -> ParamError {
    ParamError {
        job,
        reason: reason.into(),
    }
}

/// Deterministic generator (splitmix64) for job inputs.
pub(crate) struct SplitMix(u64);

impl SplitMix {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform f32 in `[lo, hi)`, multiple of 2⁻²⁴·(hi−lo).
    pub(crate) fn f32_in(&mut self, lo: f32, hi: f32) -> f32 {
        let u = (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32;
        lo + (hi - lo) * u
    }
}

/// Little-endian bytes of an f32 slice.
pub fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// f32 values of little-endian bytes (trailing partial element ignored).
pub fn bytes_f32(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// Little-endian bytes of a u32 slice.
pub fn u32_bytes(v: &[u32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// WGSL literal for an f32 that parses back to the same bits.
pub fn lit(x: f32) -> String {
    let s = format!("{x:?}");
    if s.contains('.') || s.contains('e') || s.contains("inf") || s.contains("NaN") {
        s
    } else {
        format!("{s}.0")
    }
}

/// Shared WGSL prelude: the chunk uniform (binding 0).
pub(crate) const CHUNK_PRELUDE: &str =
    "struct Chunk { index: u32, count: u32, pad0: u32, pad1: u32 }\n\
@group(0) @binding(0) var<uniform> chunk: Chunk;\n";

#[allow(clippy::too_many_arguments)]
pub(crate) fn bundle(
    kernel_source: String,
    entry_point: &str,
    workgroup_size: [u32; 3],
    chunks: u64,
    workgroups_per_chunk: [u32; 3],
    inputs: Vec<Vec<u8>>,
    output: OutputSpec,
    compare: CompareRule,
) -> JobBundle {
    let manifest = JobManifest {
        version: MANIFEST_VERSION,
        kernel: KernelSpec {
            sha256: Digest::of(kernel_source.as_bytes()),
            entry_point: entry_point.into(),
        },
        workgroup_size,
        grid: ChunkGrid {
            chunks,
            workgroups_per_chunk,
        },
        inputs: inputs
            .iter()
            .enumerate()
            .map(|(i, b)| InputBinding {
                binding: FIRST_INPUT_BINDING + i as u32,
                sha256: Digest::of(b),
                len: b.len() as u64,
            })
            .collect(),
        output,
        compare,
        requires: Requirements::default(),
        stages: vec![],
        scratch: vec![],
    };
    JobBundle {
        manifest,
        kernel_source,
        inputs,
    }
}
