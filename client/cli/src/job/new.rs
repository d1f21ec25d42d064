//! `assay job new`: an example job (a built-in kernel, or a template of your own) written to a directory.

use std::path::PathBuf;

use anyhow::{Context, Result};
use assay_gpu::kernels::{self, hashmix::HashMixParams, matmul, render::RenderParams};
use assay_gpu::JobBundle;
use clap::Args;

use std::fmt;

use serde::Serialize;

use crate::report::{report, Outcome};

use super::*;

#[derive(Args)]
pub struct NewArgs {
    #[arg(value_enum)]
    kind: Example,
    /// Directory to write manifest.json, kernel.wgsl and input-N.bin into.
    #[arg(long, default_value = "assay-job")]
    out: PathBuf,
    /// Seed for the generated inputs.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// The built-in example job `kind`, its inputs generated from `seed`.
pub fn example_bundle(kind: Example, seed: u64) -> Result<JobBundle> {
    Ok(match kind {
        Example::Matmul => kernels::matmul::job(&matmul::MatmulParams {
            m: 256,
            k: 128,
            n: 128,
            rows_per_chunk: 16,
            seed,
            variant: matmul::MatmulVariant::Tiled,
        })?,
        Example::Hashmix => kernels::hashmix::job(&HashMixParams {
            chunks: 64,
            elements_per_chunk: 1024,
            rounds: 32,
            n_seeds: 256,
            seed,
        })?,
        Example::Render => kernels::render::job(&RenderParams {
            width: 128,
            height: 128,
            tile: 32,
            spheres: 4,
            steps: 32,
            seed,
        })?,
        Example::Template => crate::template::bundle()?,
    })
}

/// `assay job new`'s report: where the job was written.
#[derive(Serialize)]
pub(super) struct Written {
    manifest: PathBuf,
    chunks: u32,
    inputs: usize,
}

impl fmt::Display for Written {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "wrote {} ({} chunks, {} inputs); post it with: assay job post {} --price 10",
            self.manifest.display(),
            self.chunks,
            self.inputs,
            self.manifest.display()
        )
    }
}

/// Writes `bundle` into `dir` as `assay job post` reads it (manifest.json, kernel.wgsl,
/// input-N.bin), plus `extra` files; returns the manifest's path.
pub(crate) fn write_job_dir(
    dir: &std::path::Path,
    bundle: &JobBundle,
    extra: &[(&str, &[u8])],
) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let write = |name: &str, bytes: &[u8]| -> Result<PathBuf> {
        let path = dir.join(name);
        std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
        Ok(path)
    };
    let manifest = write("manifest.json", bundle.manifest.to_json().as_bytes())?;
    write("kernel.wgsl", bundle.kernel_source.as_bytes())?;
    for (i, input) in bundle.inputs.iter().enumerate() {
        write(&format!("input-{i}.bin"), input)?;
    }
    for (name, bytes) in extra {
        write(name, bytes)?;
    }
    Ok(manifest)
}

pub(super) fn new(a: NewArgs) -> Outcome {
    let bundle = example_bundle(a.kind, a.seed)?;
    let extra: Vec<(&str, &[u8])> = if matches!(a.kind, Example::Template) {
        crate::template::EXTRA_FILES
            .iter()
            .map(|(name, text)| (*name, text.as_bytes()))
            .collect()
    } else {
        vec![]
    };
    let manifest = write_job_dir(&a.out, &bundle, &extra)?;
    report(Written {
        manifest,
        chunks: bundle.manifest.n_chunks(),
        inputs: bundle.inputs.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;

    /// Issue #16, portable by default: `assay job new` writes manifests that need nothing
    /// beyond a conformant WebGPU adapter at default limits, so every verifier can audit them.
    #[test]
    fn every_example_job_runs_on_any_conformant_adapter() {
        for kind in Example::value_variants() {
            let bundle = example_bundle(*kind, 7).unwrap();
            assert!(bundle.manifest.requires.is_empty(), "{kind:?}");
            assert_eq!(bundle.manifest.needs(), 0, "{kind:?}");
        }
    }
}
