//! The demo's report: each job's story, the balances before and after, the canary scene
//! and the audited inference, as text or JSON; the render jobs' PNGs.

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context, Result};
use assay_client::economics::detection_probability;
use assay_gpu::kernels::{self, render::RenderParams};
use assay_gpu::ChunkOutputs;
use assay_market::state::JobState;
use serde::Serialize;

use super::{canary, inference, tokens, Demo, TREASURY};

#[derive(Serialize)]
struct JobReport {
    name: String,
    kernel: String,
    provider: String,
    chunks: u32,
    samples: u32,
    faked_chunks: u32,
    detection_probability: f64,
    states: Vec<String>,
    verifier: String,
    finding: String,
    provider_paid: f64,
    verifier_paid: f64,
    treasury_paid: f64,
    buyer_refund: f64,
    provider_slashed: f64,
    provider_run_ms: f64,
    recheck_ms: f64,
    verification_overhead: f64,
}

#[derive(Serialize)]
pub(super) struct Report {
    adapter: String,
    jobs: Vec<JobReport>,
    balances: Vec<(String, f64, f64)>,
    cheater_caught: bool,
    canary: canary::CanaryReport,
    /// The model job's outputs read back per image (audited inference).
    inference: inference::InferenceReport,
    verification_overhead: f64,
    images: Vec<String>,
    elapsed_s: f64,
}

impl Report {
    /// The demo fails unless its story happened: every job settled or slashed, and the
    /// lazy verifier caught.
    pub(super) fn require_the_story(&self) -> Result<()> {
        ensure!(
            self.jobs.iter().all(|j| matches!(
                j.states.last().map(String::as_str),
                Some("Settled" | "Slashed")
            )),
            "a job did not reach Settled or Slashed"
        );
        ensure!(
            self.canary.lazy_verifier_caught,
            "the lazy verifier was not caught by a canary job"
        );
        Ok(())
    }
}

impl Demo {
    /// The rendered images, as PNGs beside the blob store; their paths.
    pub(super) fn images(
        &self,
        out: &std::path::Path,
        render: &RenderParams,
    ) -> Result<Vec<String>> {
        let mut images = vec![];
        for (i, job) in self.jobs.iter().enumerate() {
            if job.kernel != "render" {
                continue;
            }
            let path = out.join(format!(
                "render-job{}-{}.png",
                i + 1,
                if job.faked.is_empty() {
                    "honest"
                } else {
                    "cheater"
                }
            ));
            write_png(&path, render, job.outputs.as_ref().context("outputs")?)?;
            images.push(path.display().to_string());
        }
        Ok(images)
    }

    /// The report: each job's story and the balances before and after.
    pub(super) fn report(
        &self,
        before: &BTreeMap<&str, u64>,
        after: &BTreeMap<&str, u64>,
        canary: canary::CanaryReport,
        images: Vec<String>,
        started: Instant,
    ) -> Result<Report> {
        let mut reports = vec![];
        let (mut total_provider, mut total_recheck) = (Duration::ZERO, Duration::ZERO);
        for job in &self.jobs {
            let n = job.bundle.manifest.n_chunks();
            let closed = job.closed.clone();
            let c = |f: fn(&assay_market::events::JobClosed) -> u64| {
                closed.as_ref().map(f).map(tokens).unwrap_or(0.0)
            };
            // The verifier's share of the work: the sampled chunks, scaled to what an honest
            // provider would have spent on all chunks.
            let honest_time = job.provider_time.as_secs_f64() * f64::from(n)
                / f64::from(n - job.faked.len() as u32);
            total_provider += Duration::from_secs_f64(honest_time);
            total_recheck += job.recheck_time;
            reports.push(JobReport {
                name: job.name.clone(),
                kernel: job.kernel.to_string(),
                provider: self.actors[1 + job.provider].name.to_string(),
                chunks: n,
                samples: u32::from(job.samples),
                faked_chunks: job.faked.len() as u32,
                detection_probability: detection_probability(
                    n,
                    u32::from(job.samples),
                    job.faked.len() as u32,
                ),
                states: job.states.iter().map(|s| format!("{s:?}")).collect(),
                verifier: job
                    .verifier
                    .map(|v| self.name_of(&v).to_string())
                    .unwrap_or_else(|| "none".into()),
                finding: job.finding.clone(),
                provider_paid: c(|c| c.provider_paid),
                verifier_paid: c(|c| c.verifier_paid),
                treasury_paid: c(|c| c.treasury_paid),
                buyer_refund: c(|c| c.buyer_refund),
                provider_slashed: c(|c| c.provider_slashed),
                provider_run_ms: honest_time * 1e3,
                recheck_ms: job.recheck_time.as_secs_f64() * 1e3,
                verification_overhead: job.recheck_time.as_secs_f64() / honest_time.max(1e-9),
            });
        }
        let cheater_caught = self
            .jobs
            .iter()
            .filter(|j| !j.faked.is_empty())
            .all(|j| j.states.last() == Some(&JobState::Slashed));
        Ok(Report {
            adapter: self.adapter.clone(),
            jobs: reports,
            balances: self
                .actors
                .iter()
                .map(|a| a.name)
                .chain([TREASURY])
                .map(|name| (name.to_string(), tokens(before[name]), tokens(after[name])))
                .collect(),
            cheater_caught,
            canary,
            inference: self.inference()?,
            verification_overhead: total_recheck.as_secs_f64()
                / total_provider.as_secs_f64().max(1e-9),
            images,
            elapsed_s: started.elapsed().as_secs_f64(),
        })
    }

    /// The model job's committed outputs read back per image.
    fn inference(&self) -> Result<inference::InferenceReport> {
        let job = self
            .jobs
            .iter()
            .find(|j| j.kernel == "model")
            .context("the demo posts a model job")?;
        let outputs = job.outputs.as_ref().context("the model job was run")?;
        let (_, info) = inference::digits_job()?;
        inference::read_back(&info, outputs)
    }
}

/// The text form: each job's story, the balances, the inference and canary scenes.
impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let r = self;
        writeln!(f)?;
        writeln!(f, "== Jobs")?;
        for (i, j) in r.jobs.iter().enumerate() {
            writeln!(
                f,
                "#{} {} — provider {}, verifier {}",
                i + 1,
                j.name,
                j.provider,
                j.verifier
            )?;
            if j.faked_chunks == 0 {
                writeln!(
                    f,
                    "   {} chunks, {} sampled; nothing faked",
                    j.chunks, j.samples
                )?;
            } else {
                writeln!(
                    f,
                    "   {} chunks, {} sampled; {} faked → P(caught) = {:.4}",
                    j.chunks, j.samples, j.faked_chunks, j.detection_probability
                )?;
            }
            writeln!(f, "   states: {}", j.states.join(" → "))?;
            writeln!(f, "   verifier: {}", j.finding)?;
            writeln!(
                f,
            "   paid: provider {:.2}, verifier {:.2}, treasury {:.2}, buyer refund {:.2}; provider slashed {:.2} (tokens)",
            j.provider_paid, j.verifier_paid, j.treasury_paid, j.buyer_refund, j.provider_slashed
        )?;
            writeln!(
                f,
            "   GPU time: provider {:.1} ms (whole job), verifier {:.1} ms (sample) → overhead {:.1} %",
            j.provider_run_ms,
            j.recheck_ms,
            j.verification_overhead * 100.0
        )?;
        }
        writeln!(f)?;
        writeln!(f, "== Balances (wallet + stake, tokens)")?;
        for (name, before, after) in &r.balances {
            writeln!(
                f,
                "   {name:<28} {before:>9.2} → {after:>9.2}  ({:+.2})",
                after - before
            )?;
        }
        writeln!(f)?;
        writeln!(
            f,
            "== {}",
            if r.cheater_caught {
                "The cheating provider was caught on every job it faked and slashed."
            } else {
                "The cheater escaped on at least one job (see P(caught) above)."
            }
        )?;
        writeln!(f)?;
        writeln!(f, "== Audited inference")?;
        writeln!(
                f,
        "   {} over {} images, settled after the verifier re-ran sampled batches under the model's derived bound: {}/{} correct ({:.1} %)",
        r.inference.model,
        r.inference.items,
        r.inference.correct,
        r.inference.items,
        100.0 * r.inference.accuracy
    )?;
        writeln!(f)?;
        writeln!(
            f,
            "== Canary jobs (carol plants faults; larry passes without re-executing)"
        )?;
        for j in &r.canary.jobs {
            writeln!(
                f,
                "   canary #{:<2} verifier {:<22} planted {:?}, in sample {:?}",
                j.job_id, j.verifier, j.planted, j.planted_in_sample
            )?;
            writeln!(f, "      {}", j.outcome)?;
            writeln!(f, "      states: {}", j.states.join(" → "))?;
        }
        writeln!(
                f,
        "   lazy verifier {}: lost {:.2} tokens of stake; honest verifiers earned {:.2} tokens of finder shares on canaries; the canary operation {} carol {:.2} tokens",
        if r.canary.lazy_verifier_caught { "caught" } else { "not caught" },
        r.canary.lazy_verifier_slashed,
        r.canary.honest_finder_paid,
        if r.canary.canary_net_cost < 0.0 { "earned" } else { "cost" },
        r.canary.canary_net_cost.abs()
    )?;
        writeln!(f)?;
        writeln!(
            f,
            "   verification overhead: {:.1} % of the providers' GPU time",
            r.verification_overhead * 100.0
        )?;
        for image in &r.images {
            writeln!(f, "   image: {image}")?;
        }
        writeln!(
            f,
            "   GPU adapter: {}; finished in {:.1} s",
            r.adapter, r.elapsed_s
        )?;
        Ok(())
    }
}

/// Assembles the render job's tiles (vec4<f32> per pixel, tile-major) into an RGB PNG.
fn write_png(path: &std::path::Path, p: &RenderParams, outputs: &ChunkOutputs) -> Result<()> {
    let (w, h, tile) = (p.width as usize, p.height as usize, p.tile as usize);
    let tiles_x = w / tile;
    let mut rgb = vec![0u8; w * h * 3];
    for (index, bytes) in outputs.iter() {
        let pixels = kernels::bytes_f32(bytes);
        let (tx, ty) = (index as usize % tiles_x, index as usize / tiles_x);
        for y in 0..tile {
            for x in 0..tile {
                let src = (y * tile + x) * 4;
                let dst = ((ty * tile + y) * w + tx * tile + x) * 3;
                for c in 0..3 {
                    rgb[dst + c] = (pixels[src + c].clamp(0.0, 1.0) * 255.0).round() as u8;
                }
            }
        }
    }
    let file =
        std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), w as u32, h as u32);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.write_header()?.write_image_data(&rgb)?;
    Ok(())
}
