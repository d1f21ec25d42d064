//! What a job needs of an adapter: declared in the manifest (and so in its hash), checked
//! against the kernel before anything runs, reduced to the on-chain capability bits, and
//! checked against the device before a job is prepared.
mod common;

use assay_gpu::kernels::{hashmix, matmul, render};
use assay_gpu::{Feature, GpuError, JobBundle, JobManifest, LimitRequirements, ManifestError};
use assay_protocol::capability::{self, EXTENDED_LIMITS, SHADER_F16, SUBGROUPS};
use common::gpu;

/// A one-chunk job around `source` (entry `main`, 64 u32 outputs, workgroup 64) that
/// requires `features` and `workgroup_storage` bytes.
fn job_with(source: &str, features: Vec<Feature>, workgroup_storage: Option<u32>) -> JobBundle {
    let manifest = format!(
        r#"{{
  "version": 2,
  "kernel": {{ "sha256": "{}", "entry_point": "main" }},
  "workgroup_size": [64, 1, 1],
  "grid": {{ "chunks": 1, "workgroups_per_chunk": [1, 1, 1] }},
  "inputs": [],
  "output": {{ "element": "u32", "elements_per_chunk": 64 }},
  "compare": {{ "rule": "exact" }}
}}"#,
        assay_gpu::Digest::of(source.as_bytes()).to_hex()
    );
    let mut manifest = JobManifest::from_json(&manifest).unwrap();
    manifest.requires.features = features;
    manifest.requires.limits.max_compute_workgroup_storage_size = workgroup_storage;
    JobBundle {
        manifest,
        kernel_source: source.into(),
        inputs: vec![],
    }
}

const PRELUDE: &str = r#"
struct Chunk { index: u32, count: u32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<uniform> chunk: Chunk;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
"#;

fn subgroup_kernel() -> String {
    format!(
        "{PRELUDE}
@compute @workgroup_size(64, 1, 1)
fn main(@builtin(local_invocation_index) i: u32, @builtin(subgroup_size) size: u32) {{
    out[i] = subgroupAdd(1u) / size + i;
}}"
    )
}

fn f16_kernel() -> String {
    format!(
        "enable f16;
{PRELUDE}
@compute @workgroup_size(64, 1, 1)
fn main(@builtin(local_invocation_index) i: u32) {{
    let half = f16(i) * 0.5h;
    out[i] = u32(f32(half) * 2.0);
}}"
    )
}

/// A kernel with `bytes` of workgroup memory.
fn workgroup_kernel(bytes: u32) -> String {
    format!(
        "{PRELUDE}
var<workgroup> scratch: array<u32, {}>;
@compute @workgroup_size(64, 1, 1)
fn main(@builtin(local_invocation_index) i: u32) {{
    scratch[i] = i * 3u;
    workgroupBarrier();
    out[i] = scratch[63u - i];
}}",
        bytes / 4
    )
}

#[test]
fn built_in_jobs_run_on_any_conformant_adapter_unless_they_ask_for_more() {
    use matmul::MatmulVariant as V;
    let matmul_job = |variant| {
        matmul::job(&matmul::MatmulParams {
            m: 128,
            k: 64,
            n: 512,
            rows_per_chunk: 64,
            seed: 1,
            variant,
        })
        .unwrap()
    };
    for variant in [V::RegisterBlocked, V::Tiled, V::SMALL, V::WIDE_CPU] {
        let job = matmul_job(variant);
        assert_eq!(job.manifest.needs(), 0, "{variant:?}");
        assert!(job.manifest.requires.is_empty());
    }
    let sg = matmul_job(V::WideSubgroup { tm: 64, tn4: 2 });
    assert_eq!(sg.manifest.requires.features, vec![Feature::Subgroups]);
    assert_eq!(sg.manifest.needs(), SUBGROUPS);
    let hash = hashmix::job(&hashmix::HashMixParams {
        chunks: 4,
        elements_per_chunk: 256,
        rounds: 2,
        n_seeds: 8,
        seed: 1,
    })
    .unwrap();
    assert_eq!(hash.manifest.needs(), 0);
    let image = render::job(&render::RenderParams {
        width: 64,
        height: 64,
        tile: 16,
        spheres: 3,
        steps: 8,
        seed: 1,
    })
    .unwrap();
    assert_eq!(image.manifest.needs(), 0);
}

#[test]
fn this_adapter_declares_what_it_runs() {
    let caps = gpu().capabilities();
    println!(
        "adapter {}: capabilities {:?}",
        gpu().adapter_info().name,
        capability::names(caps).collect::<Vec<_>>()
    );
    assert!(capability::is_known(caps));
    assert_eq!(caps & SUBGROUPS != 0, gpu().has_subgroups());
    if gpu().is_cpu() {
        // lavapipe offers f16, subgroups and the whole extended tier (FIELD-NOTES).
        assert_eq!(caps, SHADER_F16 | SUBGROUPS | EXTENDED_LIMITS);
    }
}

#[test]
fn a_kernel_that_uses_subgroups_or_f16_without_declaring_them_is_refused_before_it_runs() {
    for (source, feature) in [
        (subgroup_kernel(), Feature::Subgroups),
        (f16_kernel(), Feature::ShaderF16),
    ] {
        let undeclared = job_with(&source, vec![], None);
        match undeclared.validate() {
            Err(ManifestError::KernelInvalid(message)) => {
                assert!(message.contains("requires.features"), "{message}")
            }
            other => panic!("{feature:?}: expected KernelInvalid, got {other:?}"),
        }
        let declared = job_with(&source, vec![feature], None);
        declared.validate().unwrap();
        assert_eq!(declared.manifest.needs(), feature.capability());
    }
}

#[test]
fn declared_features_run_where_the_adapter_has_them() {
    for (source, feature) in [
        (subgroup_kernel(), Feature::Subgroups),
        (f16_kernel(), Feature::ShaderF16),
    ] {
        let job = job_with(&source, vec![feature], None);
        if gpu().capabilities() & feature.capability() == 0 {
            match gpu().prepare(&job) {
                Err(GpuError::Manifest(ManifestError::AdapterLacksFeature {
                    feature: f, ..
                })) => {
                    assert_eq!(f, feature.name())
                }
                other => panic!("expected AdapterLacksFeature, got {:?}", other.err()),
            }
            continue;
        }
        let out = gpu().prepare(&job).unwrap().run_all().unwrap();
        let words: Vec<u32> = out
            .slot(0)
            .chunks(4)
            .map(|b| u32::from_le_bytes(b.try_into().unwrap()))
            .collect();
        // f16: i·0.5·2 = i exactly for i < 64; subgroups: subgroupAdd(1)/size = 1.
        let expected: Vec<u32> = match feature {
            Feature::ShaderF16 => (0..64).collect(),
            Feature::Subgroups => (1..65).collect(),
        };
        assert_eq!(words, expected, "{feature:?}");
    }
}

#[test]
fn an_adapter_without_a_required_feature_or_limit_is_told_so() {
    let job = job_with(&subgroup_kernel(), vec![Feature::Subgroups], None);
    let downlevel = wgpu::Limits::downlevel_defaults();
    assert_eq!(
        job.manifest
            .validate_device("a phone", wgpu::Features::empty(), &downlevel),
        Err(ManifestError::AdapterLacksFeature {
            feature: "subgroups",
            adapter: "a phone".into()
        })
    );
    let wide = job_with(&workgroup_kernel(32_768), vec![], Some(32_768));
    assert!(matches!(
        wide.manifest
            .validate_device("a phone", wgpu::Features::all(), &downlevel),
        Err(ManifestError::ExceedsDeviceLimit {
            what: "max_compute_workgroup_storage_size",
            value: 32_768,
            ..
        })
    ));
}

#[test]
fn workgroup_memory_beyond_the_default_must_be_declared_and_needs_the_extended_tier() {
    let big = workgroup_kernel(32_768);
    assert_eq!(
        job_with(&big, vec![], None).validate(),
        Err(ManifestError::UndeclaredWorkgroupStorage {
            used: 32_768,
            allowed: 16_384
        })
    );
    let declared = job_with(&big, vec![], Some(32_768));
    declared.validate().unwrap();
    assert_eq!(declared.manifest.needs(), EXTENDED_LIMITS);
    let small = job_with(&workgroup_kernel(256), vec![], None);
    small.validate().unwrap();
    assert_eq!(small.manifest.needs(), 0);
    if gpu().capabilities() & EXTENDED_LIMITS != 0 {
        let out = gpu().prepare(&declared).unwrap().run_all().unwrap();
        assert_eq!(&out.slot(0)[..4], &(63u32 * 3).to_le_bytes());
    }
}

#[test]
fn bad_requirements_get_clear_errors() {
    let base = job_with(&workgroup_kernel(256), vec![], None);
    let json = base.manifest.to_json();
    let with = |requires: &str| {
        json.trim_end().trim_end_matches('}').to_string()
            + &format!(r#", "requires": {requires} }}"#)
    };
    for (requires, expect) in [
        (
            r#"{ "features": ["ray-tracing"] }"#,
            "unknown variant `ray-tracing`",
        ),
        (
            r#"{ "limits": { "max_texture_size": 4 } }"#,
            "unknown field `max_texture_size`",
        ),
        (r#"{ "feature": [] }"#, "unknown field `feature`"),
    ] {
        match JobManifest::from_json(&with(requires)) {
            Err(ManifestError::Json(message)) => assert!(message.contains(expect), "{message}"),
            other => panic!("{requires}: expected a JSON error, got {other:?}"),
        }
    }
    let mut twice = base.manifest.clone();
    twice.requires.features = vec![Feature::Subgroups, Feature::Subgroups];
    assert_eq!(
        twice.validate(),
        Err(ManifestError::DuplicateFeature("subgroups"))
    );
    let mut impossible = base.manifest.clone();
    impossible.requires.limits = LimitRequirements {
        max_compute_workgroup_storage_size: Some(65_536),
    };
    assert_eq!(
        impossible.validate(),
        Err(ManifestError::ImpossibleLimit {
            what: "max_compute_workgroup_storage_size",
            value: 65_536,
            max: 32_768
        })
    );
    let mut huge_group = base.manifest.clone();
    huge_group.workgroup_size = [2048, 1, 1];
    assert!(matches!(
        huge_group.validate(),
        Err(ManifestError::ImpossibleLimit {
            what: "max_compute_workgroup_size_x",
            ..
        })
    ));
}

#[test]
fn requirements_are_part_of_the_manifest_hash_and_round_trip() {
    let plain = job_with(&subgroup_kernel(), vec![], None).manifest;
    let declared = job_with(&subgroup_kernel(), vec![Feature::Subgroups], None).manifest;
    assert_ne!(
        plain.manifest_hash().unwrap(),
        declared.manifest_hash().unwrap()
    );
    let json = declared.to_json();
    assert!(json.contains(r#""subgroups""#), "{json}");
    assert_eq!(JobManifest::from_json(&json).unwrap(), declared);
    // A portable manifest's JSON says nothing about requirements.
    assert!(!plain.to_json().contains("requires"));
}

/// A 4-chunk job whose kernel writes `elements` f16 values per chunk
/// (`out[i] = f16(chunk·64 + i) · 0.25 + 1/3`), float rule `max_abs` 0.01, requiring
/// `features`.
fn f16_output_job(features: Vec<Feature>, elements: u32) -> JobBundle {
    let source = format!(
        "enable f16;
struct Chunk {{ index: u32, count: u32, pad0: u32, pad1: u32 }}
@group(0) @binding(0) var<uniform> chunk: Chunk;
@group(0) @binding(1) var<storage, read_write> out: array<f16>;
@compute @workgroup_size(64, 1, 1)
fn main(@builtin(local_invocation_index) i: u32) {{
    if (i < {elements}u) {{
        out[i] = f16(chunk.index * 64u + i) * 0.25h + f16(1.0 / 3.0);
    }}
}}"
    );
    let manifest = format!(
        r#"{{
  "version": 2,
  "kernel": {{ "sha256": "{}", "entry_point": "main" }},
  "workgroup_size": [64, 1, 1],
  "grid": {{ "chunks": 4, "workgroups_per_chunk": [1, 1, 1] }},
  "inputs": [],
  "output": {{ "element": "f16", "elements_per_chunk": {elements} }},
  "compare": {{ "rule": "float", "max_abs": 0.01, "max_rel": 0.0 }}
}}"#,
        assay_gpu::Digest::of(source.as_bytes()).to_hex()
    );
    let mut manifest = JobManifest::from_json(&manifest).unwrap_or_else(|e| panic!("{e}"));
    manifest.requires.features = features;
    JobBundle {
        manifest,
        kernel_source: source,
        inputs: vec![],
    }
}

/// Issue #14 item 3: `f16` outputs (2 bytes an element) run, commit and compare as floats
/// where the adapter has `shader-f16`, and get a clear error where it has not.
#[test]
fn f16_outputs_run_commit_and_compare_where_the_adapter_has_shader_f16() {
    use assay_gpu::{compare_chunk, recheck, ChunkFault, Commitment, ElementType, Mismatch};
    let job = f16_output_job(vec![Feature::ShaderF16], 64);
    assert_eq!(job.manifest.chunk_bytes(), 128);
    assert_eq!(job.manifest.needs(), SHADER_F16);
    if gpu().capabilities() & SHADER_F16 == 0 {
        let err = gpu().prepare(&job).err();
        assert!(
            matches!(
                err,
                Some(GpuError::Manifest(ManifestError::AdapterLacksFeature {
                    feature: "shader-f16",
                    ..
                }))
            ),
            "{err:?}"
        );
        return;
    }
    let prepared = gpu().prepare(&job).unwrap();
    let outputs = prepared.run_all().unwrap();
    for (chunk, bytes) in outputs.iter() {
        assert_eq!(bytes.len(), 128);
        for (i, v) in bytes.chunks(2).enumerate() {
            let got = half::f16::from_le_bytes([v[0], v[1]]).to_f32();
            let want = (chunk * 64 + i as u32) as f32 * 0.25 + 1.0 / 3.0;
            // f16 has 11 significant bits: within half an ulp of 64 (2^-5) plus rounding.
            assert!(
                (got - want).abs() <= 0.07,
                "chunk {chunk} element {i}: {got} vs {want}"
            );
        }
    }
    // An honest commitment passes the recheck; a provider that moves one element by
    // more than the bound is caught at that element.
    let key = [7u8; 32];
    let serve = |outputs: &assay_gpu::ChunkOutputs| {
        let commitment = Commitment::build(&key, &job.manifest, outputs).unwrap();
        let served: Vec<_> = (0..4)
            .map(|i| assay_gpu::ServedChunk {
                index: i,
                output: outputs.chunk(i).unwrap().to_vec(),
                proof: commitment.proof(i).unwrap(),
            })
            .collect();
        recheck(&prepared, &key, &job.manifest, &commitment.root(), &served).unwrap()
    };
    assert!(serve(&outputs).passed());
    let mut cheated = outputs.clone();
    let slot = &mut cheated.chunk_mut(2).unwrap()[10..12];
    let moved = half::f16::from_le_bytes([slot[0], slot[1]]).to_f32() + 0.5;
    slot.copy_from_slice(&half::f16::from_f32(moved).to_le_bytes());
    let report = serve(&cheated);
    let faults: Vec<_> = report.chunks.iter().filter(|(_, r)| r.is_err()).collect();
    assert_eq!(faults.len(), 1);
    assert!(
        matches!(
            &faults[0],
            (
                2,
                Err(ChunkFault::WrongOutput {
                    mismatch: Mismatch::Float { element: 5, .. },
                    ..
                })
            )
        ),
        "{faults:?}"
    );
    // Within the bound (one f16 ulp at 0.33 is 2^-12): accepted.
    let a = half::f16::from_f32(0.333).to_le_bytes();
    let b = half::f16::from_bits(half::f16::from_f32(0.333).to_bits() + 1).to_le_bytes();
    let rule = &job.manifest.compare;
    assert_eq!(compare_chunk(rule, ElementType::F16, &a, &b, None), Ok(()));
}

#[test]
fn f16_outputs_must_declare_shader_f16_and_fill_whole_words() {
    let undeclared = f16_output_job(vec![], 64);
    assert_eq!(
        undeclared.manifest.validate(),
        Err(ManifestError::F16WithoutShaderF16)
    );
    let odd = f16_output_job(vec![Feature::ShaderF16], 63);
    assert_eq!(odd.manifest.validate(), Err(ManifestError::OddF16Chunk(63)));
    let f16 = f16_output_job(vec![Feature::ShaderF16], 64);
    assert_eq!(f16.manifest.validate(), Ok(()), "a float rule suits f16");
    let mut integer = f16.manifest.clone();
    integer.output.element = assay_gpu::ElementType::U32;
    assert_eq!(
        integer.validate(),
        Err(ManifestError::FloatRuleOnIntegerOutput)
    );
}
