//! `assay job run`: a job executed on this machine's GPU exactly as a provider would, no chain.

use std::path::PathBuf;

use anyhow::{bail, ensure, Context};
use assay_client::Pubkey;
use clap::Args;
use serde::Serialize;

use crate::common::parse_pubkey;
use crate::report::{report, Outcome};

use super::seal::load_bundle;
use super::*;

#[derive(Args)]
pub struct RunArgs {
    #[command(flatten)]
    files: JobFiles,
    /// The expected output (all chunks concatenated, as `assay job result` writes it):
    /// compared chunk by chunk by the manifest's rule.
    #[arg(long)]
    reference: Option<PathBuf>,
    /// The job account the result root is computed for (leaves bind the job's address;
    /// `assay job post` prints it). Default: the all-zero address.
    #[arg(long)]
    job_address: Option<String>,
    /// Chunks timed one by one (spread over the job), for the per-chunk timing table.
    #[arg(long, default_value_t = 16)]
    time_chunks: u32,
}

/// What `assay job run` measured and computed (times in milliseconds).
#[derive(Serialize)]
struct DryRun {
    adapter: String,
    chunks: u32,
    chunk_bytes: u64,
    run_ms: f64,
    gpu_ms: Option<f64>,
    timed_chunks: Vec<TimedChunk>,
    median_chunk_ms: f64,
    slowest_chunk_ms: f64,
    job_address: String,
    result_root: String,
    output_sha256: String,
    /// The reference it matched under the manifest's rule, if one was given.
    reference: Option<PathBuf>,
}

#[derive(Serialize)]
struct TimedChunk {
    chunk: u32,
    ms: f64,
}

impl std::fmt::Display for DryRun {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        writeln!(
            f,
            "ran {} chunks on {} in {:.1} ms{}",
            self.chunks,
            self.adapter,
            self.run_ms,
            self.gpu_ms
                .map_or(String::new(), |g| format!(" ({g:.1} ms of GPU time)"))
        )?;
        writeln!(f, "{:>8} {:>12}", "chunk", "ms (alone)")?;
        for t in &self.timed_chunks {
            writeln!(f, "{:>8} {:>12.3}", t.chunk, t.ms)?;
        }
        writeln!(
            f,
            "median {:.3} ms per chunk, slowest {:.3} ms",
            self.median_chunk_ms, self.slowest_chunk_ms
        )?;
        writeln!(
            f,
            "result root {} (for job address {})",
            self.result_root, self.job_address
        )?;
        write!(f, "output sha256 {}", self.output_sha256)?;
        if let Some(path) = &self.reference {
            write!(f, "\nmatches {} under the manifest's rule", path.display())?;
        }
        Ok(())
    }
}

/// `assay job run`: the provider's execution and commitment, locally. Fails, naming the
/// first differing chunks, when a reference differs under the manifest's rule.
pub(super) fn dry_run(a: RunArgs) -> Outcome {
    let bundle = load_bundle(&a.files)?;
    let job_address = match &a.job_address {
        Some(text) => parse_pubkey(text)?,
        None => Pubkey::default(),
    };
    let gpu = crate::common::gpu()?;
    let prepared = gpu.prepare(&bundle).with_context(|| {
        format!(
            "{} cannot run on {}",
            a.files.manifest.display(),
            gpu.adapter_info().name
        )
    })?;
    let n = bundle.manifest.n_chunks();
    let outputs = prepared.run_all()?;
    let commitment =
        assay_gpu::Commitment::build(&job_address.to_bytes(), &bundle.manifest, &outputs)?;
    let output_hash = assay_protocol::hashv(&[outputs.as_bytes()]);

    // Per-chunk times: `time_chunks` chunks spread over the job, each dispatched alone.
    let timed: Vec<u32> = {
        let count = a.time_chunks.clamp(1, n);
        let mut picks: Vec<u32> = (0..count)
            .map(|i| (u64::from(i) * u64::from(n) / u64::from(count)) as u32)
            .collect();
        picks.dedup();
        picks
    };
    let mut times = Vec::with_capacity(timed.len());
    for &chunk in &timed {
        let alone = prepared.run_chunks(&[chunk])?;
        ensure!(
            alone.chunk(chunk) == outputs.chunk(chunk),
            "chunk {chunk} recomputed alone differs from the full run: the kernel is not deterministic or reads outside its chunk"
        );
        times.push(alone.gpu_time.unwrap_or(alone.wall_time).as_secs_f64() * 1e3);
    }
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];

    let mut mismatches: Vec<(u32, String)> = vec![];
    if let Some(path) = &a.reference {
        let reference = std::fs::read(path)
            .with_context(|| format!("cannot read reference {}", path.display()))?;
        let chunk_bytes = bundle.manifest.chunk_bytes() as usize;
        ensure!(
            reference.len() == outputs.as_bytes().len(),
            "the reference has {} bytes; the job's output has {} ({n} chunks of {chunk_bytes})",
            reference.len(),
            outputs.as_bytes().len()
        );
        let needs_scale = matches!(
            &bundle.manifest.compare,
            assay_gpu::CompareRule::Float {
                scale_entry_point: Some(_),
                ..
            }
        );
        let scale = match needs_scale {
            true => Some(prepared.run(assay_gpu::Pass::Scale, outputs.indices())?),
            false => None,
        };
        for (pos, (chunk, got)) in outputs.iter().enumerate() {
            let expected =
                &reference[chunk as usize * chunk_bytes..(chunk as usize + 1) * chunk_bytes];
            let scale = scale.as_ref().map(|s| s.slot(pos));
            if let Err(e) = assay_gpu::compare_chunk(
                &bundle.manifest.compare,
                bundle.manifest.output.element,
                got,
                expected,
                scale,
            ) {
                mismatches.push((chunk, e.to_string()));
            }
        }
    }

    if !mismatches.is_empty() {
        let path = a
            .reference
            .as_deref()
            .unwrap_or(std::path::Path::new(""))
            .display();
        let first: Vec<String> = mismatches
            .iter()
            .take(5)
            .map(|(chunk, why)| format!("chunk {chunk} differs from {path}: {why}"))
            .collect();
        bail!(
            "{} of {n} chunks differ from the reference under the manifest's rule:\n{}",
            mismatches.len(),
            first.join("\n")
        );
    }
    report(DryRun {
        adapter: gpu.adapter_info().name.clone(),
        chunks: n,
        chunk_bytes: bundle.manifest.chunk_bytes(),
        run_ms: outputs.wall_time.as_secs_f64() * 1e3,
        gpu_ms: outputs.gpu_time.map(|t| t.as_secs_f64() * 1e3),
        timed_chunks: timed
            .iter()
            .zip(&times)
            .map(|(&chunk, &ms)| TimedChunk { chunk, ms })
            .collect(),
        median_chunk_ms: median,
        slowest_chunk_ms: sorted[sorted.len() - 1],
        job_address: job_address.to_string(),
        result_root: hex::encode(commitment.root()),
        output_sha256: hex::encode(output_hash),
        reference: a.reference.clone(),
    })
}
