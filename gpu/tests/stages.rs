//! Multi-stage chunks (manifest version 3): several dispatches per chunk, results passed
//! through per-chunk scratch buffers, one output slice per chunk.

mod common;

use assay_gpu::{
    Digest, GpuOptions, JobBundle, JobManifest, ManifestError, Pass, ScratchBinding, StageSpec,
};
use common::{gpu, open_gpu};

/// Values per chunk; three workgroups of 64, so each stage reads what *other*
/// workgroups of the stage before it wrote.
const N: u32 = 192;
const CHUNKS: u32 = 5;

/// Stage `fill` writes `a[i] = x[i]²`; stage `shift` writes `b[i] = a[(i+1) % N] − a[i]`;
/// stage `finish` writes `out[i] = b[i] + a[N−1−i]`. The scale pass: `scale_fill` writes
/// `a[i] = |x[i]|`, `scale_finish` writes `out[i] = 2·a[i]` (`scale_shift` leaves `b`).
const THREE_STAGES: &str = r#"
struct Chunk { index: u32, count: u32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<uniform> chunk: Chunk;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> a: array<f32>;
@group(0) @binding(4) var<storage, read_write> b: array<f32>;
const N: u32 = 192u;

@compute @workgroup_size(64)
fn fill(@builtin(global_invocation_id) gid: vec3<u32>) {
    let v = x[chunk.index * N + gid.x];
    a[gid.x] = v * v;
}
@compute @workgroup_size(64)
fn shift(@builtin(global_invocation_id) gid: vec3<u32>) {
    b[gid.x] = a[(gid.x + 1u) % N] - a[gid.x];
}
@compute @workgroup_size(64)
fn finish(@builtin(global_invocation_id) gid: vec3<u32>) {
    out[gid.x] = b[gid.x] + a[N - 1u - gid.x];
}
@compute @workgroup_size(64)
fn scale_fill(@builtin(global_invocation_id) gid: vec3<u32>) {
    a[gid.x] = abs(x[chunk.index * N + gid.x]);
}
@compute @workgroup_size(64)
fn scale_shift(@builtin(global_invocation_id) gid: vec3<u32>) {}
@compute @workgroup_size(64)
fn scale_finish(@builtin(global_invocation_id) gid: vec3<u32>) {
    out[gid.x] = 2.0 * a[gid.x];
}
"#;

fn inputs() -> Vec<f32> {
    (0..N * CHUNKS)
        .map(|i| ((i * 37) % 23) as f32 - 11.0)
        .collect()
}

fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn floats(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect()
}

fn three_stage_job() -> JobBundle {
    let x = f32_bytes(&inputs());
    let stage = |entry: &str| StageSpec {
        entry_point: entry.into(),
        scale_entry_point: Some(format!("scale_{entry}")),
        workgroups: [N / 64, 1, 1],
    };
    let manifest = JobManifest::from_json(&format!(
        r#"{{
  "version": 3,
  "kernel": {{ "sha256": "{kernel}", "entry_point": "fill" }},
  "workgroup_size": [64, 1, 1],
  "grid": {{ "chunks": {CHUNKS}, "workgroups_per_chunk": [3, 1, 1] }},
  "inputs": [ {{ "binding": 2, "sha256": "{x}", "len": {len} }} ],
  "output": {{ "element": "f32", "elements_per_chunk": {N} }},
  "compare": {{ "rule": "float", "max_abs": 0.0, "max_rel": 0.0, "scale_entry_point": "scale_fill" }},
  "stages": [],
  "scratch": [ {{ "binding": 3, "len": {bytes} }}, {{ "binding": 4, "len": {bytes} }} ]
}}"#,
        kernel = Digest::of(THREE_STAGES.as_bytes()),
        x = Digest::of(&x),
        len = x.len(),
        bytes = N * 4,
    ))
    .unwrap();
    let manifest = JobManifest {
        stages: vec![stage("shift"), stage("finish")],
        ..manifest
    };
    JobBundle {
        manifest,
        kernel_source: THREE_STAGES.into(),
        inputs: vec![x],
    }
}

/// What the three stages compute for `chunk`, on the CPU.
fn reference(chunk: u32) -> Vec<f32> {
    let x = inputs();
    let n = N as usize;
    let a: Vec<f32> = (0..n).map(|i| x[chunk as usize * n + i].powi(2)).collect();
    (0..n)
        .map(|i| (a[(i + 1) % n] - a[i]) + a[n - 1 - i])
        .collect()
}

#[test]
fn each_stage_of_a_chunk_sees_what_the_stages_before_it_wrote() {
    let job = three_stage_job();
    job.validate().unwrap();
    let prepared = gpu().prepare(&job).unwrap();
    let all = prepared.run_all().unwrap();
    for (chunk, got) in all.iter() {
        assert_eq!(floats(got), reference(chunk), "chunk {chunk}");
    }
    // A chunk recomputed alone, as a verifier does, gives the same bytes.
    let alone = prepared.run_chunks(&[3, 1]).unwrap();
    assert_eq!(alone.chunk(3), all.chunk(3));
    assert_eq!(alone.chunk(1), all.chunk(1));
    // The scale pass runs the stages' scale entry points in the same order.
    let scale = prepared.run(Pass::Scale, &[2]).unwrap();
    let x = inputs();
    let want: Vec<f32> = (0..N as usize)
        .map(|i| 2.0 * x[2 * N as usize + i].abs())
        .collect();
    assert_eq!(floats(scale.chunk(2).unwrap()), want);
}

/// A buyer's kernel that reads its scratch before writing it: were scratch left over
/// from the chunk before, a provider's batched run and a verifier's single chunk would
/// differ and an honest provider would be judged faulty. Scratch starts at zero for
/// every chunk, in a batch, across batches and alone.
#[test]
fn scratch_starts_at_zero_for_every_chunk_so_no_chunk_sees_another() {
    const LEAKY: &str = r#"
struct Chunk { index: u32, count: u32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<uniform> chunk: Chunk;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
@group(0) @binding(2) var<storage, read> unused: array<u32>;
@group(0) @binding(5) var<storage, read_write> left: array<u32>;
@compute @workgroup_size(64)
fn peek(@builtin(global_invocation_id) gid: vec3<u32>) {
    out[gid.x] = left[gid.x] * 1000u + unused[0];
    left[gid.x] = left[gid.x] + chunk.index + 1u;
}
@compute @workgroup_size(64)
fn add(@builtin(global_invocation_id) gid: vec3<u32>) {
    out[gid.x] = out[gid.x] + left[gid.x];
}
"#;
    let zero = vec![0u8; 4];
    let manifest = JobManifest::from_json(&format!(
        r#"{{
  "version": 3,
  "kernel": {{ "sha256": "{}", "entry_point": "peek" }},
  "workgroup_size": [64, 1, 1],
  "grid": {{ "chunks": 7, "workgroups_per_chunk": [1, 1, 1] }},
  "inputs": [ {{ "binding": 2, "sha256": "{}", "len": 4 }} ],
  "output": {{ "element": "u32", "elements_per_chunk": 64 }},
  "compare": {{ "rule": "exact" }},
  "stages": [ {{ "entry_point": "add", "workgroups": [1, 1, 1] }} ],
  "scratch": [ {{ "binding": 5, "len": 256 }} ]
}}"#,
        Digest::of(LEAKY.as_bytes()),
        Digest::of(&zero),
    ))
    .unwrap();
    let job = JobBundle {
        manifest,
        kernel_source: LEAKY.into(),
        inputs: vec![zero],
    };
    // Two chunks per batch: chunks 2, 4 and 6 reuse the scratch region of chunk 0.
    let small_batches = open_gpu(GpuOptions {
        max_batch_chunks: 2,
        ..GpuOptions::default()
    });
    let prepared = small_batches.prepare(&job).unwrap();
    assert_eq!(prepared.batch_chunks(), 2);
    let twice = [prepared.run_all().unwrap(), prepared.run_all().unwrap()];
    for run in &twice {
        for (chunk, got) in run.iter() {
            let values: Vec<u32> = got
                .chunks_exact(4)
                .map(|b| u32::from_le_bytes(b.try_into().unwrap()))
                .collect();
            assert_eq!(values, vec![chunk + 1; 64], "chunk {chunk}");
        }
    }
    let alone = prepared.run_chunks(&[6]).unwrap();
    assert_eq!(alone.chunk(6), twice[0].chunk(6));
}

#[test]
fn bad_stages_and_scratch_are_refused_with_named_errors() {
    let job = three_stage_job();
    type Edit = fn(&mut JobManifest, &mut String);
    type Expected = fn(&ManifestError) -> bool;
    let cases: [(&str, Edit, Expected); 8] = [
        (
            "stages in a version 2 manifest",
            |m, _| m.version = 2,
            |e| matches!(e, ManifestError::StagesNeedVersion3),
        ),
        (
            "a stage without the scale entry point the rule needs",
            |m, _| m.stages[0].scale_entry_point = None,
            |e| matches!(e, ManifestError::StageScaleMismatch { stage } if stage == "shift"),
        ),
        (
            "a stage of zero workgroups",
            |m, _| m.stages[1].workgroups = [0, 1, 1],
            |e| matches!(e, ManifestError::ZeroDimension),
        ),
        (
            "scratch at an input's binding",
            |m, _| m.scratch[0].binding = 2,
            |e| matches!(e, ManifestError::DuplicateBinding(2)),
        ),
        (
            "four scratch buffers",
            |m, _| {
                for binding in [5, 6] {
                    m.scratch.push(ScratchBinding { binding, len: 4 });
                }
            },
            |e| matches!(e, ManifestError::TooManyScratchBuffers { count: 4, max: 3 }),
        ),
        (
            "a stage the kernel does not have",
            |m, _| m.stages[1].entry_point = "absent".into(),
            |e| matches!(e, ManifestError::MissingEntryPoint(name) if name == "absent"),
        ),
        (
            "scratch the kernel declares read-only",
            |m, source| {
                *source = source.replace(
                    "@binding(4) var<storage, read_write> b: array<f32>;",
                    "@binding(4) var<storage, read> b: array<f32>;",
                );
                *source = source.replace("b[gid.x] = a[(gid.x + 1u) % N] - a[gid.x];", "");
                m.kernel.sha256 = Digest::of(source.as_bytes());
            },
            |e| matches!(e, ManifestError::WrongBindingKind { binding: 4, .. }),
        ),
        (
            "scratch the kernel does not declare",
            |m, _| m.scratch.push(ScratchBinding { binding: 9, len: 4 }),
            |e| matches!(e, ManifestError::BindingNotInKernel(9)),
        ),
    ];
    for (what, edit, expected) in cases {
        let mut bad = job.clone();
        edit(&mut bad.manifest, &mut bad.kernel_source);
        let err = bad.validate().expect_err(what);
        assert!(expected(&err), "{what}: {err}");
    }
}

#[test]
fn version_2_manifests_encode_as_before_and_version_3_round_trips() {
    let job = three_stage_job();
    let bytes = job.manifest.canonical_bytes().unwrap();
    assert_eq!(
        JobManifest::from_canonical_bytes(&bytes).unwrap(),
        job.manifest
    );
    // Version 2's canonical bytes are its fields in order, as the derived encoding wrote
    // them: no job posted before stages existed changes its hash.
    let params = assay_gpu::kernels::hashmix::HashMixParams {
        chunks: 4,
        elements_per_chunk: 64,
        rounds: 2,
        n_seeds: 8,
        seed: 1,
    };
    let one = assay_gpu::kernels::hashmix::job(&params).unwrap().manifest;
    let m = &one;
    let fields = (
        m.version,
        &m.kernel,
        m.workgroup_size,
        &m.grid,
        &m.inputs,
        &m.output,
        &m.compare,
        &m.requires,
    );
    assert_eq!(
        one.canonical_bytes().unwrap(),
        borsh::to_vec(&fields).unwrap()
    );
    // And version 3's trailing stages are part of what the hash binds.
    let mut fewer = job.manifest.clone();
    fewer.stages.pop();
    assert_ne!(
        fewer.manifest_hash().unwrap(),
        job.manifest.manifest_hash().unwrap()
    );
}
