//! Bad input never panics and never runs: each case is a clear, typed error.
mod common;

use std::time::Duration;

use assay_gpu::kernels::{hashmix, matmul};
use assay_gpu::{
    BlobError, BlobStore, ElementType, Feature, GpuError, GpuOptions, JobBundle, JobManifest,
    ManifestError,
};
use common::{gpu, open_gpu};

fn small_job() -> JobBundle {
    hashmix::job(&hashmix::HashMixParams {
        chunks: 4,
        elements_per_chunk: 64,
        rounds: 2,
        n_seeds: 8,
        seed: 1,
    })
    .unwrap()
}

fn manifest_err(r: Result<assay_gpu::PreparedJob<'_>, GpuError>) -> ManifestError {
    match r {
        Err(GpuError::Manifest(e)) => e,
        Err(e) => panic!("expected a manifest error, got {e}"),
        Ok(_) => panic!("expected a manifest error, job was accepted"),
    }
}

#[test]
fn corrupted_input_blob_is_rejected_before_execution() {
    let mut job = small_job();
    job.inputs[0][5] ^= 0xff;
    let e = manifest_err(gpu().prepare(&job));
    assert!(
        matches!(e, ManifestError::InputHashMismatch { binding: 2, .. }),
        "{e}"
    );
}

#[test]
fn corrupted_blob_in_store_is_rejected_on_read() {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::local(dir.path()).unwrap();
    let job = small_job();
    job.store(&store).unwrap();
    let loaded = JobBundle::load(job.manifest.clone(), &store).unwrap();
    assert_eq!(loaded.inputs, job.inputs);
    assert_eq!(loaded.kernel_source, job.kernel_source);
    // Flip a byte on disk.
    let hash = job.manifest.inputs[0].sha256;
    let path = dir.path().join("blobs").join(hash.to_hex());
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[0] ^= 1;
    std::fs::write(&path, bytes).unwrap();
    assert!(matches!(
        store.get(&hash.0),
        Err(BlobError::HashMismatch { .. })
    ));
    assert!(matches!(
        JobBundle::load(job.manifest.clone(), &store),
        Err(assay_gpu::Error::Blob(BlobError::HashMismatch { .. }))
    ));
    assert!(matches!(store.get(&[9; 32]), Err(BlobError::NotFound(_))));
}

#[test]
fn blob_store_opens_file_urls_and_rejects_unsupported_schemes() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("file://{}", dir.path().display());
    let store = BlobStore::open(&url).unwrap();
    let h = store.put(b"chunk bytes").unwrap();
    assert_eq!(h, assay_protocol::hashv(&[b"chunk bytes"]));
    assert!(store.contains(&h).unwrap());
    assert_eq!(store.get(&h).unwrap(), b"chunk bytes");
    assert!(matches!(
        BlobStore::open("gopher://x/y"),
        Err(BlobError::UnsupportedUrl { .. })
    ));
}

#[test]
fn input_of_wrong_length_is_rejected_before_execution() {
    let mut job = small_job();
    job.inputs[0].extend_from_slice(&[0; 4]);
    assert!(matches!(
        manifest_err(gpu().prepare(&job)),
        ManifestError::InputLengthMismatch { .. }
    ));
    job.inputs.push(vec![0; 4]);
    assert!(matches!(
        manifest_err(gpu().prepare(&job)),
        ManifestError::InputCountMismatch {
            expected: 1,
            actual: 2
        }
    ));
}

#[test]
fn manifest_binding_that_the_kernel_does_not_declare_is_rejected() {
    let mut job = small_job();
    let mut extra = job.manifest.inputs[0].clone();
    extra.binding = 5;
    job.manifest.inputs.push(extra);
    job.inputs.push(job.inputs[0].clone());
    assert_eq!(
        manifest_err(gpu().prepare(&job)),
        ManifestError::BindingNotInKernel(5)
    );
}

#[test]
fn kernel_binding_missing_from_manifest_is_rejected() {
    let mut job = small_job();
    job.manifest.inputs.clear();
    job.inputs.clear();
    assert!(matches!(
        manifest_err(gpu().prepare(&job)),
        ManifestError::KernelBindingNotInManifest {
            group: 0,
            binding: 2
        }
    ));
}

fn with_kernel(mut job: JobBundle, source: &str) -> JobBundle {
    job.kernel_source = source.to_string();
    job.manifest.kernel.sha256 = assay_gpu::Digest::of(source.as_bytes());
    job
}

#[test]
fn kernel_that_fails_validation_is_rejected() {
    let job = small_job();
    let unparsable = with_kernel(job.clone(), "fn main( {");
    assert!(matches!(
        manifest_err(gpu().prepare(&unparsable)),
        ManifestError::KernelParse(_)
    ));
    // Parses, but is ill-typed (f32 stored into u32 array).
    let src = job.kernel_source.replace("out[l] = x;", "out[l] = 1.5;");
    let invalid = with_kernel(job.clone(), &src);
    let e = manifest_err(gpu().prepare(&invalid));
    assert!(
        matches!(
            e,
            ManifestError::KernelParse(_) | ManifestError::KernelInvalid(_)
        ),
        "{e}"
    );
    let renamed = with_kernel(
        job.clone(),
        &job.kernel_source.replace("fn main(", "fn other("),
    );
    assert_eq!(
        manifest_err(gpu().prepare(&renamed)),
        ManifestError::MissingEntryPoint("main".into())
    );
    let mut wrong_wg = job.clone();
    wrong_wg.manifest.workgroup_size = [32, 1, 1];
    assert!(matches!(
        manifest_err(gpu().prepare(&wrong_wg)),
        ManifestError::WorkgroupSizeMismatch { .. }
    ));
    let mut wrong_hash = job;
    wrong_hash.kernel_source.push(' ');
    assert!(matches!(
        manifest_err(gpu().prepare(&wrong_hash)),
        ManifestError::KernelHashMismatch { .. }
    ));
}

/// The hash-mixer kernel with its `array<u32>` output declared as `array<element>` (the
/// stored value converted to it).
fn hashmix_writing(element: &str) -> JobBundle {
    let job = small_job();
    let (store, enable) = match element {
        "u32" => ("x", ""),
        "i32" => ("bitcast<i32>(x)", ""),
        "f32" => ("bitcast<f32>(x)", ""),
        "f16" => ("f16(x & 0xffu)", "enable f16;\n"),
        other => panic!("no kernel for {other}"),
    };
    let source = format!(
        "{enable}{}",
        job.kernel_source
            .replace(
                "array<u32>;\n@group(0) @binding(2)",
                &format!("array<{element}>;\n@group(0) @binding(2)")
            )
            .replace("out[l] = x;", &format!("out[l] = {store};"))
    );
    let mut job = with_kernel(job, &source);
    if element == "f16" {
        job.manifest.requires.features = vec![Feature::ShaderF16];
    }
    job
}

#[test]
fn kernel_output_element_that_disagrees_with_the_manifest_is_refused_at_seal() {
    use ElementType::*;
    for kernel in ["u32", "i32", "f32", "f16"] {
        for manifest in [U32, I32, F32, F16] {
            let mut job = hashmix_writing(kernel);
            job.manifest.output.element = manifest;
            // What `job seal` and every prepare run: the manifest's kernel check.
            let checked = job.manifest.validate_kernel(&job.kernel_source);
            let agrees = format!("{manifest:?}").to_lowercase() == kernel;
            if agrees {
                assert_eq!(checked, Ok(()), "array<{kernel}> sealed as {manifest:?}");
            } else {
                let err = checked.expect_err(&format!("array<{kernel}> sealed as {manifest:?}"));
                assert_eq!(
                    err,
                    ManifestError::OutputTypeMismatch {
                        manifest,
                        kernel: kernel.into()
                    }
                );
                assert!(err.to_string().contains("re-seal"), "{err}");
            }
        }
    }
    // The engine refuses it too, before any buffer is made.
    let mut sealed_as_u32 = hashmix_writing("i32");
    sealed_as_u32.manifest.output.element = U32;
    assert!(matches!(
        manifest_err(gpu().prepare(&sealed_as_u32)),
        ManifestError::OutputTypeMismatch { manifest: U32, .. }
    ));
}

#[test]
fn empty_job_is_rejected() {
    let mut job = small_job();
    job.manifest.grid.chunks = 0;
    assert_eq!(manifest_err(gpu().prepare(&job)), ManifestError::EmptyJob);
    assert!(hashmix::job(&hashmix::HashMixParams {
        chunks: 0,
        elements_per_chunk: 64,
        rounds: 1,
        n_seeds: 1,
        seed: 0
    })
    .is_err());
    let mut no_output = small_job();
    no_output.manifest.output.elements_per_chunk = 0;
    assert_eq!(
        manifest_err(gpu().prepare(&no_output)),
        ManifestError::EmptyOutput
    );
}

#[test]
fn chunk_count_above_u32_is_rejected() {
    let mut job = small_job();
    job.manifest.grid.chunks = u64::from(u32::MAX) + 1;
    assert_eq!(
        manifest_err(gpu().prepare(&job)),
        ManifestError::TooManyChunks(1 << 32)
    );
}

#[test]
fn chunk_grid_beyond_the_extended_tier_is_rejected_before_any_device() {
    let mut job = small_job();
    job.manifest.grid.workgroups_per_chunk = [65_536, 1, 1];
    assert!(matches!(
        manifest_err(gpu().prepare(&job)),
        ManifestError::ImpossibleLimit {
            what: "max_compute_workgroups_per_dimension",
            value: 65_536,
            max: 65_535,
        }
    ));
    let mut big_out = small_job();
    big_out.manifest.output.elements_per_chunk = ((128 << 20) / 4 + 1) as u32;
    assert!(matches!(
        manifest_err(gpu().prepare(&big_out)),
        ManifestError::ImpossibleLimit {
            what: "max_storage_buffer_binding_size",
            ..
        }
    ));
}

#[test]
fn chunk_index_outside_the_job_is_rejected() {
    let job = small_job();
    let prepared = gpu().prepare(&job).unwrap();
    assert!(matches!(
        prepared.run_chunks(&[4]),
        Err(GpuError::ChunkOutOfRange {
            index: 4,
            chunks: 4
        })
    ));
    assert!(matches!(
        prepared.run_chunks(&[]),
        Err(GpuError::NoChunksRequested)
    ));
}

#[test]
fn manifest_with_unknown_fields_is_rejected() {
    let job = small_job();
    let json = job.manifest.to_json();
    assert_eq!(JobManifest::from_json(&json).unwrap(), job.manifest);
    let extra = json.replacen('{', "{\n  \"priority\": 9,", 1);
    assert!(
        matches!(JobManifest::from_json(&extra), Err(ManifestError::Json(m)) if m.contains("priority"))
    );
    let nested = json.replace(
        "\"entry_point\"",
        "\"shader_stage\": \"compute\", \"entry_point\"",
    );
    assert!(matches!(
        JobManifest::from_json(&nested),
        Err(ManifestError::Json(_))
    ));
    // Version 1 hashed no requirements: a v1 manifest would name another job.
    for version in [1, 4] {
        let mut other = job.manifest.clone();
        other.version = version;
        let err = other.validate().unwrap_err();
        assert!(matches!(
            err,
            ManifestError::UnsupportedVersion { found } if found == version
        ));
        // The message says what to do.
        assert!(err.to_string().contains("set \"version\": 2"), "{err}");
        assert!(err.to_string().contains("re-seal"), "{err}");
    }
    // Version 3 is for stages: one dispatch stays version 2, so a job has one hash.
    let mut v3 = job.manifest.clone();
    v3.version = 3;
    assert_eq!(v3.validate(), Err(ManifestError::Version3WithoutStages));
}

#[test]
fn manifest_hash_is_sha256_of_canonical_borsh_and_changes_with_any_field() {
    let m = matmul::job(&matmul::MatmulParams {
        m: 32,
        k: 16,
        n: 64,
        rows_per_chunk: 32,
        seed: 0,
        variant: matmul::MatmulVariant::Tiled,
    })
    .unwrap()
    .manifest;
    let bytes = m.canonical_bytes().unwrap();
    assert_eq!(m.manifest_hash().unwrap(), assay_protocol::hashv(&[&bytes]));
    assert_eq!(JobManifest::from_canonical_bytes(&bytes).unwrap(), m);
    assert_eq!(
        JobManifest::from_json(&m.to_json())
            .unwrap()
            .manifest_hash()
            .unwrap(),
        m.manifest_hash().unwrap()
    );
    let mut other = m.clone();
    other.grid.chunks += 1;
    assert_ne!(other.manifest_hash().unwrap(), m.manifest_hash().unwrap());
    assert!(JobManifest::from_canonical_bytes(&bytes[..bytes.len() - 1]).is_err());
    let mut nan = m;
    if let assay_gpu::CompareRule::Float { max_rel, .. } = &mut nan.compare {
        *max_rel = f32::NAN;
    }
    assert!(matches!(
        nan.validate(),
        Err(ManifestError::BadFloatBound { .. })
    ));
}

#[test]
fn kernel_running_past_its_budget_trips_the_watchdog_instead_of_hanging() {
    // A separate device: after the watchdog fires the device is discarded.
    let g = open_gpu(GpuOptions {
        watchdog: Duration::from_millis(5),
        ..GpuOptions::default()
    });
    let job = hashmix::job(&hashmix::HashMixParams {
        chunks: 64,
        elements_per_chunk: 4096,
        rounds: 20_000,
        n_seeds: 8,
        seed: 1,
    })
    .unwrap();
    let prepared = g.prepare(&job).unwrap();
    let started = std::time::Instant::now();
    match prepared.run_all() {
        Err(GpuError::Watchdog { budget }) => assert_eq!(budget, Duration::from_millis(5)),
        other => panic!(
            "expected the watchdog to fire, got {:?}",
            other.map(|o| o.len())
        ),
    }
    assert!(started.elapsed() < Duration::from_secs(5));
}

/// The store is usable from inside an async runtime (a daemon's or the CLI's).
#[tokio::test(flavor = "current_thread")]
async fn blob_store_works_inside_an_async_runtime() {
    let dir = tempfile::tempdir().unwrap();
    let store = assay_gpu::BlobStore::local(dir.path()).unwrap();
    let hash = store.put(b"chunk").unwrap();
    assert_eq!(store.get(&hash).unwrap(), b"chunk");
    assert!(store.contains(&hash).unwrap());
}
