//! `assay job seal`: a hand-written manifest's hashes filled in from the files beside it.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::report::{report, Outcome};
use anyhow::{bail, Context, Result};
use assay_gpu::{JobBundle, JobManifest};
use clap::Args;
use serde::Serialize;
use serde_json::json;

/// A job on disk: its manifest, kernel and input files.
#[derive(Args)]
pub struct JobFiles {
    /// The job manifest (JSON).
    pub(super) manifest: PathBuf,
    /// The WGSL kernel source. Default: kernel.wgsl beside the manifest.
    #[arg(long)]
    pub(super) kernel: Option<PathBuf>,
    /// Input files, in any order (matched to the manifest by sha256). Default: every
    /// input-*.bin beside the manifest.
    #[arg(long = "input")]
    pub(super) inputs: Vec<PathBuf>,
}

#[derive(Args)]
pub struct SealArgs {
    /// The manifest to complete (rewritten in place).
    manifest: PathBuf,
}

/// Reads the manifest and its files and checks everything that needs no device.
pub(super) fn load_bundle(a: &JobFiles) -> Result<JobBundle> {
    let text = std::fs::read_to_string(&a.manifest)
        .with_context(|| format!("cannot read manifest {}", a.manifest.display()))?;
    let manifest = JobManifest::from_json(&text)
        .with_context(|| format!("manifest {} is invalid", a.manifest.display()))?;
    let dir = a
        .manifest
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let kernel_path = a.kernel.clone().unwrap_or_else(|| dir.join("kernel.wgsl"));
    let kernel_source = std::fs::read_to_string(&kernel_path)
        .with_context(|| format!("cannot read kernel {}", kernel_path.display()))?;
    let mut files = a.inputs.clone();
    if files.is_empty() {
        let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
            .with_context(|| format!("cannot list {}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("input-") && n.ends_with(".bin"))
            })
            .collect();
        found.sort();
        files = found;
    }
    let mut blobs = vec![];
    for path in &files {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read input {}", path.display()))?;
        blobs.push((assay_gpu::Digest::of(&bytes), bytes));
    }
    let mut inputs = vec![];
    for (i, binding) in manifest.inputs.iter().enumerate() {
        let Some((_, bytes)) = blobs.iter().find(|(d, _)| *d == binding.sha256) else {
            bail!(
                "manifest input {i} (binding {}, sha256 {}) is not among the input files given",
                binding.binding,
                binding.sha256.to_hex()
            );
        };
        inputs.push(bytes.clone());
    }
    let bundle = JobBundle {
        manifest,
        kernel_source,
        inputs,
    };
    bundle
        .validate()
        .with_context(|| format!("job {} fails validation", a.manifest.display()))?;
    Ok(bundle)
}

/// `assay job seal`: writes the hashes and lengths of the kernel and inputs beside the
/// manifest into it (the fields a person cannot type), then validates it.
pub(super) fn seal(a: SealArgs) -> Outcome {
    let path = &a.manifest;
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read manifest {}", path.display()))?;
    let mut value: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let read = |name: &str| -> Result<Vec<u8>> {
        let file = dir.join(name);
        std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))
    };
    let kernel = read("kernel.wgsl")?;
    value["kernel"]["sha256"] = json!(assay_gpu::Digest::of(&kernel).to_hex());
    let inputs = value["inputs"]
        .as_array_mut()
        .context("the manifest has no \"inputs\" list")?;
    for (i, input) in inputs.iter_mut().enumerate() {
        let bytes = read(&format!("input-{i}.bin"))?;
        input["sha256"] = json!(assay_gpu::Digest::of(&bytes).to_hex());
        input["len"] = json!(bytes.len());
    }
    let sealed = serde_json::to_string_pretty(&value)?;
    JobManifest::from_json(&sealed)
        .and_then(|m| m.validate().map(|()| m))
        .with_context(|| format!("{} is still not a valid manifest", path.display()))?;
    std::fs::write(path, &sealed).with_context(|| format!("cannot write {}", path.display()))?;
    let bundle = load_bundle(&JobFiles {
        manifest: path.clone(),
        kernel: None,
        inputs: vec![],
    })?;
    report(Sealed {
        manifest: path.clone(),
        chunks: bundle.manifest.n_chunks(),
        inputs: bundle.inputs.len(),
        manifest_sha256: hex::encode(bundle.manifest.manifest_hash()?),
    })
}

/// `assay job seal`'s report: the sealed manifest and its hash.
#[derive(Serialize)]
pub(super) struct Sealed {
    manifest: PathBuf,
    chunks: u32,
    inputs: usize,
    manifest_sha256: String,
}

impl fmt::Display for Sealed {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "sealed {}: {} chunks, {} inputs, manifest sha256 {}",
            self.manifest.display(),
            self.chunks,
            self.inputs,
            self.manifest_sha256
        )
    }
}
