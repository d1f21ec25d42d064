//! `assay job new template`: the starting point for a kernel of one's own — a WGSL
//! skeleton that keeps the kernel contract, its sealed manifest, an input file and the
//! Python script (standard library only) that generates that input. `assay job run`
//! dry-runs it as written; docs/kernels.md walks from it to a posted job.

use anyhow::{Context, Result};
use assay_gpu::{Digest, JobBundle, JobManifest};

/// Chunks of the template job.
const CHUNKS: u32 = 16;
/// Output elements per chunk, and the input words each chunk reads.
const PER_CHUNK: u32 = 256;

const KERNEL: &str = "\
// Your kernel. The contract (docs/kernels.md): binding 0 is the chunk uniform, binding 1
// this chunk's output slice (its indices start at 0 in every chunk), bindings 2.. the
// inputs in manifest order. A chunk's output may depend only on the inputs and
// chunk.index: a verifier recomputes any chunk alone.
struct Chunk { index: u32, count: u32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<uniform> chunk: Chunk;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;   // output.element: \"u32\"
@group(0) @binding(2) var<storage, read> data: array<u32>;        // input-0.bin

// = output.elements_per_chunk in manifest.json, and the input words a chunk reads.
const PER_CHUNK: u32 = 256u;

// 64 invocations per workgroup; manifest.json dispatches 4 workgroups per chunk.
@compute @workgroup_size(64, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;                      // 0 .. PER_CHUNK within this chunk
    if (i >= PER_CHUNK) {
        return;
    }
    let x = data[chunk.index * PER_CHUNK + i];
    // Replace this line with your computation (integers compare exactly; for f32
    // outputs see the float rule in docs/kernels.md).
    out[i] = x * 2654435761u + chunk.index;
}
";

const MAKE_INPUT: &str = r#"#!/usr/bin/env python3
"""Writes input-0.bin beside this script: the u32 words (little-endian) the kernel's
`data` binding reads, 256 per chunk for 16 chunks. Change it together with kernel.wgsl,
then run `assay job seal manifest.json` to hash the new input into the manifest."""
import os
import struct

CHUNKS, PER_CHUNK = 16, 256
words = [(i * 40503 + 7) % 2**32 for i in range(CHUNKS * PER_CHUNK)]
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "input-0.bin")
with open(path, "wb") as f:
    f.write(struct.pack("<%dI" % len(words), *words))
print("wrote %s (%d bytes)" % (path, 4 * len(words)))
"#;

/// The input `make_input.py` writes.
fn input() -> Vec<u8> {
    (0..CHUNKS * PER_CHUNK)
        .flat_map(|i| (u64::from(i) * 40503 + 7).to_le_bytes()[..4].to_vec())
        .collect()
}

/// The template job: kernel, sealed manifest and input.
pub fn bundle() -> Result<JobBundle> {
    let input = input();
    let manifest = format!(
        r#"{{
  "version": 2,
  "kernel": {{ "sha256": "{}", "entry_point": "main" }},
  "workgroup_size": [64, 1, 1],
  "grid": {{ "chunks": {CHUNKS}, "workgroups_per_chunk": [4, 1, 1] }},
  "inputs": [ {{ "binding": 2, "sha256": "{}", "len": {} }} ],
  "output": {{ "element": "u32", "elements_per_chunk": {PER_CHUNK} }},
  "compare": {{ "rule": "exact" }}
}}
"#,
        Digest::of(KERNEL.as_bytes()).to_hex(),
        Digest::of(&input).to_hex(),
        input.len()
    );
    let bundle = JobBundle {
        manifest: JobManifest::from_json(&manifest).context("the template's manifest")?,
        kernel_source: KERNEL.to_string(),
        inputs: vec![input],
    };
    bundle
        .validate()
        .context("the template's own job is invalid")?;
    Ok(bundle)
}

/// Files the template adds beside the job's own: the input generator.
pub const EXTRA_FILES: &[(&str, &str)] = &[("make_input.py", MAKE_INPUT)];
