//! `assay job`: the buyer's commands.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, ensure, Context, Result};
use assay_client::{pda, Chain, Job, JobState, Pubkey};
use assay_gpu::kernels::{self, hashmix::HashMixParams, matmul, render::RenderParams};
use assay_gpu::{JobBundle, JobManifest};
use assay_market::errors::MarketError;
use assay_market::state::MarketParams;
use assay_verifier::{ResultIndex, Sources};
use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;
use solana_sdk::signature::Signer;

use crate::common::{
    decimals, explain, format_amount, parse_amount, parse_pubkey, post_args, upload_job, Net, Offer,
};

#[derive(Subcommand)]
pub enum JobCommand {
    /// Write an example job (manifest, WGSL kernel, input files) built from one of the
    /// built-in kernels, ready for `assay job post`.
    New(NewArgs),
    /// Fill in a hand-written manifest's hashes: the kernel's sha256 and each input's
    /// sha256 and length, from kernel.wgsl and input-N.bin beside it (N in binding order),
    /// then validate the result. See docs/kernels.md.
    Seal(SealArgs),
    /// Dry run: execute a job on this machine's GPU exactly as a provider would (same
    /// chunks, same commitment) and print per-chunk timing, the result root and the
    /// output hash; with --reference, compare by the manifest's rule. No chain, no store.
    Run(RunArgs),
    /// Validate a manifest and its files, upload them to the blob store and post the job,
    /// escrowing the price.
    Post(PostArgs),
    /// Show a job's on-chain state.
    Status(JobRef),
    /// Follow a job's state transitions until it ends (or --timeout passes).
    Watch(WatchArgs),
    /// Cancel an unclaimed job; the escrow returns to you.
    Cancel(JobRef),
    /// Download a job's outputs and check every chunk against the committed Merkle root.
    Result(ResultArgs),
    /// Within a passed job's pass window, check that every chunk of its output can still
    /// be obtained; call the first one that cannot unavailable, so the provider serves it
    /// or its collateral compensates the buyer (needs a stake of your own).
    Challenge(crate::challenge::ChallengeArgs),
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Example {
    /// f32 matrix multiply, tolerance-checked (rows of C per chunk).
    Matmul,
    /// Integer hash mixer, exact.
    Hashmix,
    /// Ray-marched image tiles, tolerance-checked.
    Render,
    /// A kernel of your own, to start from: a WGSL skeleton that keeps the kernel
    /// contract, its sealed manifest, an input and make_input.py that generates it
    /// (docs/kernels.md walks through it).
    Template,
}

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

/// A job on disk: its manifest, kernel and input files.
#[derive(Args)]
pub struct JobFiles {
    /// The job manifest (JSON).
    manifest: PathBuf,
    /// The WGSL kernel source. Default: kernel.wgsl beside the manifest.
    #[arg(long)]
    kernel: Option<PathBuf>,
    /// Input files, in any order (matched to the manifest by sha256). Default: every
    /// input-*.bin beside the manifest.
    #[arg(long = "input")]
    inputs: Vec<PathBuf>,
}

#[derive(Args)]
pub struct SealArgs {
    /// The manifest to complete (rewritten in place).
    manifest: PathBuf,
}

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

#[derive(Args)]
pub struct PostArgs {
    #[command(flatten)]
    files: JobFiles,
    /// Price escrowed now and paid on settlement, in tokens (e.g. 10 or 2.5).
    #[arg(long)]
    price: String,
    /// Collateral the provider must lock, in tokens. Default: the market's floor for this
    /// price (`min_collateral_bps`; 3.2 × the price at the local terms).
    #[arg(long)]
    collateral: Option<String>,
    /// Chunks the verifier re-executes (k); at most the manifest's chunk count. The
    /// verifier is paid for each (the market's `sample_fee_bps`), so k is the audit's
    /// price tier. Default: the smallest k for which faking any number of chunks is a
    /// losing bet at this price and collateral (`assay economics`), at least the market's
    /// minimum.
    #[arg(long)]
    samples: Option<u32>,
    /// Slots a provider has to claim the job.
    #[arg(long, default_value_t = 1_500)]
    claim_window: u64,
    /// Slots the provider has, after claiming, to commit its result.
    #[arg(long, default_value_t = 1_500)]
    execution_window: u64,
    /// Job id (unique per buyer). Default: the current time in milliseconds.
    #[arg(long)]
    job_id: Option<u64>,
}

#[derive(Args)]
pub struct JobRef {
    /// The job's address, or `<buyer>:<job id>`, or just the job id (your own job).
    job: String,
}

#[derive(Args)]
pub struct WatchArgs {
    #[command(flatten)]
    job: JobRef,
    /// Give up after this many seconds (0: never).
    #[arg(long, default_value_t = 0)]
    timeout: u64,
    /// Poll interval in milliseconds.
    #[arg(long, default_value_t = 500)]
    interval_ms: u64,
}

#[derive(Args)]
pub struct ResultArgs {
    #[command(flatten)]
    job: JobRef,
    /// File to write the concatenated chunk outputs to.
    #[arg(long, default_value = "outputs.bin")]
    out: PathBuf,
}

pub async fn run(command: JobCommand, net: &Net, json: bool) -> Result<()> {
    match command {
        JobCommand::New(a) => new(a, json),
        JobCommand::Run(a) => dry_run(a, json),
        JobCommand::Seal(a) => seal(a, json),
        JobCommand::Post(a) => post(a, net, json).await,
        JobCommand::Status(a) => status(a, net, json).await,
        JobCommand::Watch(a) => watch(a, net, json).await,
        JobCommand::Cancel(a) => cancel(a, net, json).await,
        JobCommand::Result(a) => result(a, net, json).await,
        JobCommand::Challenge(a) => crate::challenge::run(a, net, json).await,
    }
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

fn new(a: NewArgs, json: bool) -> Result<()> {
    let bundle = example_bundle(a.kind, a.seed)?;
    std::fs::create_dir_all(&a.out)
        .with_context(|| format!("cannot create {}", a.out.display()))?;
    let write = |name: &str, bytes: &[u8]| -> Result<PathBuf> {
        let path = a.out.join(name);
        std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
        Ok(path)
    };
    let manifest = write("manifest.json", bundle.manifest.to_json().as_bytes())?;
    write("kernel.wgsl", bundle.kernel_source.as_bytes())?;
    for (i, input) in bundle.inputs.iter().enumerate() {
        write(&format!("input-{i}.bin"), input)?;
    }
    if matches!(a.kind, Example::Template) {
        for (name, text) in crate::template::EXTRA_FILES {
            write(name, text.as_bytes())?;
        }
    }
    if json {
        println!(
            "{}",
            json!({"manifest": manifest, "chunks": bundle.manifest.n_chunks(), "inputs": bundle.inputs.len()})
        );
    } else {
        println!(
            "wrote {} ({} chunks, {} inputs); post it with: assay job post {} --price 10",
            manifest.display(),
            bundle.manifest.n_chunks(),
            bundle.inputs.len(),
            manifest.display()
        );
    }
    Ok(())
}

/// Reads the manifest and its files and checks everything that needs no device.
fn load_bundle(a: &JobFiles) -> Result<JobBundle> {
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
fn seal(a: SealArgs, json: bool) -> Result<()> {
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
    if json {
        println!(
            "{}",
            json!({"manifest": path, "chunks": bundle.manifest.n_chunks(), "inputs": bundle.inputs.len(), "manifest_sha256": hex::encode(bundle.manifest.manifest_hash()?)})
        );
    } else {
        println!(
            "sealed {}: {} chunks, {} inputs, manifest sha256 {}",
            path.display(),
            bundle.manifest.n_chunks(),
            bundle.inputs.len(),
            hex::encode(bundle.manifest.manifest_hash()?)
        );
    }
    Ok(())
}

/// `assay job run`: the provider's execution and commitment, locally.
fn dry_run(a: RunArgs, json: bool) -> Result<()> {
    let bundle = load_bundle(&a.files)?;
    let job_address = match &a.job_address {
        Some(text) => parse_pubkey(text)?,
        None => Pubkey::default(),
    };
    let gpu = assay_gpu::Gpu::new().context("no GPU adapter (on a machine without a GPU, run ./scripts/install-deps.sh for Mesa lavapipe)")?;
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

    let wall = outputs.wall_time.as_secs_f64() * 1e3;
    let gpu_ms = outputs.gpu_time.map(|t| t.as_secs_f64() * 1e3);
    if json {
        println!(
            "{}",
            json!({
                "adapter": gpu.adapter_info().name,
                "chunks": n,
                "chunk_bytes": bundle.manifest.chunk_bytes(),
                "run_ms": wall,
                "gpu_ms": gpu_ms,
                "timed_chunks": timed.iter().zip(&times).map(|(c, t)| json!({"chunk": c, "ms": t})).collect::<Vec<_>>(),
                "median_chunk_ms": median,
                "job_address": job_address.to_string(),
                "result_root": hex::encode(commitment.root()),
                "output_sha256": hex::encode(output_hash),
                "reference_checked": a.reference.is_some(),
                "mismatched_chunks": mismatches.iter().map(|(c, why)| json!({"chunk": c, "reason": why})).collect::<Vec<_>>(),
            })
        );
    } else {
        println!(
            "ran {n} chunks on {} in {wall:.1} ms{}",
            gpu.adapter_info().name,
            gpu_ms.map_or(String::new(), |g| format!(" ({g:.1} ms of GPU time)"))
        );
        println!("{:>8} {:>12}", "chunk", "ms (alone)");
        for (chunk, ms) in timed.iter().zip(&times) {
            println!("{chunk:>8} {ms:>12.3}");
        }
        println!(
            "median {median:.3} ms per chunk, slowest {:.3} ms",
            sorted[sorted.len() - 1]
        );
        println!(
            "result root {} (for job address {job_address})",
            hex::encode(commitment.root())
        );
        println!("output sha256 {}", hex::encode(output_hash));
        match &a.reference {
            None => {}
            Some(path) if mismatches.is_empty() => {
                println!("matches {} under the manifest's rule", path.display())
            }
            Some(path) => {
                for (chunk, why) in mismatches.iter().take(5) {
                    println!("chunk {chunk} differs from {}: {why}", path.display());
                }
            }
        }
    }
    ensure!(
        mismatches.is_empty(),
        "{} of {n} chunks differ from the reference under the manifest's rule",
        mismatches.len()
    );
    Ok(())
}

async fn post(a: PostArgs, net: &Net, json: bool) -> Result<()> {
    let bundle = load_bundle(&a.files)?;
    let n_chunks = bundle.manifest.n_chunks();
    if let Some(k) = a.samples {
        ensure!(k >= 1, "--samples must be at least 1");
        ensure!(
            k <= n_chunks,
            "--samples {k} exceeds the job's {n_chunks} chunks: a verifier cannot sample more chunks than there are"
        );
    }
    let (mut chain, buyer) = net.connect().await?;
    let dec = decimals(&mut chain).await?;
    let price = parse_amount(&a.price, dec)?;
    ensure!(price > 0, "--price must be more than zero");
    let params = chain.market_config().await?.params;
    let floor = assay_market::state::JobTerms::of(&params, price, n_chunks, params.min_samples)
        .map(|t| t.min_collateral)
        .unwrap_or(0);
    let collateral = match &a.collateral {
        Some(c) => parse_amount(c, dec)?,
        None => floor,
    };
    let samples = match a.samples {
        Some(k) => u8::try_from(k).context("--samples must be at most 255")?,
        None => default_samples(&params, n_chunks, price, collateral),
    };
    let balance = chain.balance_of(&buyer.pubkey()).await?;
    ensure!(
        balance >= price,
        "insufficient balance: {} holds {} tokens, the job's price is {}",
        buyer.pubkey(),
        format_amount(balance, dec),
        format_amount(price, dec)
    );
    let job_id = a.job_id.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)
    });
    let offer = Offer {
        samples,
        price,
        collateral,
        claim_window_slots: a.claim_window,
        execution_window_slots: a.execution_window,
    };
    // Everything the chain will check, before anything is uploaded or sent.
    let args = post_args(&bundle, job_id, &offer)?;
    let terms = args.check(&params).map_err(|e| match e {
        MarketError::InvalidSampleCount => anyhow::anyhow!(
            "--samples {samples}: the market accepts {} to {} samples, and at most the job's {n_chunks} chunks",
            params.min_samples,
            assay_market::constants::MAX_SAMPLES
        ),
        MarketError::InvalidDeadline => anyhow::anyhow!(
            "--claim-window and --execution-window must be 1 to {} slots",
            assay_market::instructions::MAX_WINDOW_SLOTS
        ),
        MarketError::AuditUnaffordable => anyhow::anyhow!(
            "a price of {} cannot pay re-executing {samples} of {n_chunks} chunks: the verifier \
             is paid {} % of the price plus the price of each sampled chunk (at least {}), and \
             the protocol takes {} %. Raise --price or lower --samples (AuditUnaffordable)",
            format_amount(price, dec),
            f64::from(params.verifier_fee_bps) / 100.0,
            format_amount(params.min_verifier_fee, dec),
            f64::from(params.protocol_fee_bps) / 100.0
        ),
        MarketError::CollateralTooLow => anyhow::anyhow!(
            "--collateral {} is below the market's floor of {} for this price ({} % of it): a \
             provider must have more at stake than a fully faked job saves (CollateralTooLow)",
            format_amount(collateral, dec),
            format_amount(floor, dec),
            f64::from(params.min_collateral_bps) / 100.0
        ),
        other => anyhow::anyhow!("the market would reject this job: {other}"),
    })?;
    let capable = capable_stake(&mut chain, args.needs).await?;
    let needs = needs_text(args.needs);
    ensure!(
        capable.auditable,
        "no registered verifier can run this job (it needs {needs}): the market would refuse \
         it (NoCapableVerifier). Ask for less in the manifest's \"requires\", or wait for a \
         verifier that declares it"
    );
    ensure!(
        capable.largest >= terms.verifier_bond,
        "no verifier able to run this job has {} tokens staked, the bond this job locks from its \
         verifier (its fee {} × {}): every draw would pass over them and the job would \
         settle unaudited. Post a smaller job, or wait for a verifier with more stake \
         (largest now: {})",
        format_amount(terms.verifier_bond, dec),
        format_amount(terms.verifier_fee, dec),
        params.bond_fee_multiple,
        format_amount(capable.largest, dec)
    );
    if let Some(from) = capable.drawable_from {
        tracing::warn!(
            drawable_from_slot = from,
            "the verifier stake able to run this job joins the draws at slot {from} (the next \
             draw epoch): if the provider commits before then, the job settles unaudited and \
             the verifier fee is refunded"
        );
    }
    let key = pda::job(&buyer.pubkey(), job_id);
    ensure!(
        chain.account(&key).await?.is_none(),
        "you already have a live job with id {job_id} ({key}); pass another --job-id"
    );
    upload_job(&net.store()?, &bundle, &args)?;
    let args_needs = args.needs;
    let d = chain.deployment();
    chain
        .send(&[d.post_job(&buyer.pubkey(), args)], &[&buyer])
        .await
        .map_err(|e| explain(e, &assay_market::ID))?;
    if let Some(job) = chain.job(&key).await? {
        remember(net, &key, &job);
    }
    if json {
        println!(
            "{}",
            json!({"job": key.to_string(), "job_id": job_id, "price": price, "collateral": collateral, "chunks": n_chunks, "samples": samples, "needs": args_needs, "capable_stake": capable.stake, "total_verifier_stake": capable.total_stake, "capable_verifiers": capable.verifiers})
        );
    } else {
        println!("posted job {key} (id {job_id})");
        println!(
            "  {n_chunks} chunks, {samples} sampled, price {} escrowed, collateral {}",
            format_amount(price, dec),
            format_amount(collateral, dec)
        );
        println!(
            "  needs {needs}: verifier stake able to run it {} of {} tokens ({} verifiers)",
            format_amount(capable.stake, dec),
            format_amount(capable.total_stake, dec),
            capable.verifiers
        );
        println!("  follow it with: assay job watch {key}");
    }
    Ok(())
}

/// Verifier stake that can run a job needing `needs`, in the draws of this epoch or the
/// next (whichever holds more), beside all verifier stake.
struct CapableStake {
    /// Whether `post_job` would accept it (the program's own rule).
    auditable: bool,
    stake: u64,
    total_stake: u64,
    verifiers: usize,
    /// The most stake any verifier able to run the job has now or next epoch.
    largest: u64,
    /// When no stake able to run the job is in this draw epoch's weights yet (it was
    /// deposited this epoch): the first slot of the epoch whose draws count it.
    drawable_from: Option<u64>,
}

async fn capable_stake(chain: &mut impl Chain, needs: u8) -> Result<CapableStake> {
    let registry = chain.registry().await?;
    let slot = chain.slot().await?;
    let total = |need: u8| {
        let now = registry
            .weights_at(registry.epoch_of(slot), need)
            .map_or(0, assay_protocol::sumtree::total);
        now.max(registry.capable_weight(need).1)
    };
    let epoch = registry.epoch_of(slot);
    let in_this_epoch = registry
        .weights_at(epoch, needs)
        .map_or(0, assay_protocol::sumtree::total);
    let capable: Vec<_> = registry
        .entries()
        .into_iter()
        .filter(|e| {
            e.next_weight > 0 && assay_protocol::capability::covers(e.next_capabilities, needs)
        })
        .collect();
    Ok(CapableStake {
        auditable: assay_market::instructions::post_job::is_auditable(&registry, needs, slot),
        stake: total(needs),
        total_stake: total(0),
        verifiers: capable.len(),
        largest: capable
            .iter()
            .map(|e| e.weight.max(e.next_weight))
            .max()
            .unwrap_or(0),
        drawable_from: (in_this_epoch == 0).then(|| registry.epoch_start(epoch + 1)),
    })
}

/// The default sample count of a job of `n_chunks` at `price` and `collateral`: the
/// smallest k (from the market's minimum, at most 64 and the chunk count) for which faking
/// any number of chunks is a losing bet when the drawn verifier re-executes (compute taken
/// as 80 % of what the provider is paid; `assay economics`), and whose audit the price can
/// pay. The market's minimum when none qualifies (the post then explains why).
pub(crate) fn default_samples(
    params: &MarketParams,
    n_chunks: u32,
    price: u64,
    collateral: u64,
) -> u8 {
    let most = n_chunks.min(u32::from(assay_market::constants::MAX_SAMPLES));
    (u32::from(params.min_samples)..=most)
        .filter_map(|k| {
            let k8 = u8::try_from(k).ok()?;
            let terms = assay_market::state::JobTerms::of(params, price, n_chunks, k8).ok()?;
            let payout = price - terms.verifier_fee - terms.protocol_fee;
            let safe = assay_client::economics::Terms {
                n_chunks,
                samples: k,
                price: payout,
                collateral,
                provider_cost: payout / 5 * 4,
            }
            .cheating_never_pays();
            safe.then_some(k8)
        })
        .next()
        .unwrap_or(params.min_samples)
}

/// `needs` in words: "nothing optional" or the capability names.
pub fn needs_text(needs: u8) -> String {
    let names: Vec<&str> = assay_protocol::capability::names(needs).collect();
    if names.is_empty() {
        "nothing optional".into()
    } else {
        names.join(" + ")
    }
}

/// Resolves `<address>`, `<buyer>:<id>` or `<id>` (the signer's own job).
pub(crate) fn job_key(text: &str, net: &Net) -> Result<Pubkey> {
    if let Some((buyer, id)) = text.split_once(':') {
        let id: u64 = id
            .parse()
            .with_context(|| format!("{id:?} is not a job id"))?;
        return Ok(pda::job(&parse_pubkey(buyer)?, id));
    }
    if let Ok(id) = text.parse::<u64>() {
        let buyer = net.signer()?;
        return Ok(pda::job(&buyer.pubkey(), id));
    }
    parse_pubkey(text)
}

fn record_path(net: &Net, key: &Pubkey) -> PathBuf {
    net.jobs_dir().join(format!("{key}.json"))
}

/// Keeps the last state seen of a job: its account closes when it ends, but `job result`
/// still needs the committed root.
fn remember(net: &Net, key: &Pubkey, job: &Job) {
    let path = record_path(net, key);
    let record = json!({
        "job": key.to_string(),
        "state": format!("{:?}", job.state),
        "n_chunks": job.n_chunks,
        "result_root": hex::encode(job.result_root),
        "output_uri": job.output_uri,
    });
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    if let Err(e) = std::fs::write(&path, record.to_string()) {
        tracing::warn!(path = %path.display(), error = %e, "cannot record the job locally");
    }
}

/// What the job waits for in its state, and what its `step_deadline_slot` means there.
fn step_of(state: JobState) -> &'static str {
    match state {
        JobState::Open => "waiting for a provider to claim it (until claim_deadline_slot)",
        JobState::Claimed => "the provider is computing (commit by commit_deadline_slot)",
        JobState::Committed => "waiting for the verifier draw: anyone makes it after seed_slot, up to draw_deadline_slot; after that it lapses and the provider's collateral is slashed",
        JobState::Challenged => "the drawn verifier re-executes the sample (verdict by step_deadline_slot); with no verifier left it settles unaudited",
        JobState::Disputed => "a fault was reported: the provider concedes or contests by step_deadline_slot",
        JobState::Contested => "a committee (drawn by anyone up to draw_deadline_slot, else the contest lapses) re-executes the disputed chunk and votes by step_deadline_slot",
        JobState::Passed => "passed and the provider paid; anyone staked may challenge the pass until step_deadline_slot, then the verifier's fee and both stakes are released",
        JobState::PassChallenged => "the pass is challenged (accuser): a committee (drawn by anyone up to draw_deadline_slot, else the challenge lapses) votes by step_deadline_slot",
        _ => "ended",
    }
}

/// Whether the job is on its way to settling without any verdict: drawn with nobody
/// eligible, or its last round's verifier past its window.
fn heading_unaudited(job: &Job, slot: u64) -> bool {
    (job.state == JobState::Challenged
        && (job.verifier.is_none() || (slot > job.step_deadline_slot && !job.rounds_remain())))
        || (job.state == JobState::Passed && job.verifier.is_none())
}

fn describe(key: &Pubkey, job: &Job, slot: u64, dec: u8) -> serde_json::Value {
    json!({
        "needs": needs_text(job.needs),
        "audit": heading_unaudited(job, slot).then_some(
            "none: finalize pays the provider but opens a pass window in which anyone may still challenge a sampled chunk (the provider's collateral at stake); unchallenged, it settles unaudited and the verifier fee returns to the buyer"
        ),
        "job": key.to_string(),
        "job_id": job.job_id,
        "state": format!("{:?}", job.state),
        "step": step_of(job.state),
        "buyer": job.buyer.to_string(),
        "price": job.price,
        "price_tokens": format_amount(job.price, dec),
        "collateral": job.collateral,
        "n_chunks": job.n_chunks,
        "samples": job.samples,
        "provider": job.provider.map(|p| p.to_string()),
        "result_root": (job.result_root != [0; 32]).then(|| hex::encode(job.result_root)),
        "output_uri": (!job.output_uri.is_empty()).then(|| job.output_uri.clone()),
        "verifier": job.verifier.map(|v| v.to_string()),
        "accuser": job.accuser.map(|a| a.to_string()),
        "round": job.round,
        "due": job.due(slot).map(|c| c.name()),
        "seed_slot": job.draw_pending().then_some(job.seed_slot),
        "draw_deadline_slot": job.draw_pending().then_some(job.draw_deadline_slot),
        "claim_deadline_slot": job.claim_deadline_slot,
        "commit_deadline_slot": job.commit_deadline_slot,
        "step_deadline_slot": job.step_deadline_slot,
        "slot": slot,
    })
}

fn print_job(v: &serde_json::Value) {
    println!(
        "job {}  state {}",
        v["job"].as_str().unwrap_or("?"),
        v["state"].as_str().unwrap_or("?")
    );
    for field in [
        "step",
        "audit",
        "needs",
        "buyer",
        "price_tokens",
        "n_chunks",
        "samples",
        "provider",
        "result_root",
        "output_uri",
        "verifier",
        "accuser",
        "round",
        "due",
        "seed_slot",
        "draw_deadline_slot",
        "claim_deadline_slot",
        "commit_deadline_slot",
        "step_deadline_slot",
        "slot",
    ] {
        if !v[field].is_null() {
            let value = v[field]
                .as_str()
                .map_or_else(|| v[field].to_string(), str::to_string);
            println!("  {field:<22} {value}");
        }
    }
}

async fn status(a: JobRef, net: &Net, json: bool) -> Result<()> {
    let key = job_key(&a.job, net)?;
    let (mut chain, _) = net.connect().await?;
    let dec = decimals(&mut chain).await?;
    let slot = chain.slot().await?;
    let Some(job) = chain.job(&key).await? else {
        let Some(v) = closed_job(&chain, &key, dec).await? else {
            bail!("job {key} not found: no account and no transaction ever named it");
        };
        if json {
            println!("{v}");
        } else {
            print_closed_job(&v);
        }
        return Ok(());
    };
    remember(net, &key, &job);
    let v = describe(&key, &job, slot, dec);
    if json {
        println!("{v}");
    } else {
        print_job(&v);
    }
    Ok(())
}

/// A closed job's story read from the chain's transaction history: every Assay event of
/// every transaction that named it (sample draws, verdicts, contests, stake slashed) and
/// its settlement (`JobClosed`). `None`: no transaction ever named the address.
async fn closed_job(
    chain: &assay_client::rpc::RpcChain,
    key: &Pubkey,
    dec: u8,
) -> Result<Option<serde_json::Value>> {
    let history = chain
        .history(key, 1000)
        .await
        .with_context(|| format!("cannot read the history of {key}"))?;
    if history.is_empty() {
        return Ok(None);
    }
    let mut events = vec![];
    let mut settled = serde_json::Value::Null;
    let mut parties = serde_json::Map::new();
    let who = crate::history::Parties::from_events(
        history
            .iter()
            .filter(|e| !e.failed)
            .flat_map(|e| e.events.iter()),
    );
    for entry in history.iter().filter(|e| !e.failed) {
        for event in &entry.events {
            use assay_client::events::AssayEvent as E;
            match event {
                E::JobPosted(e) => {
                    parties.insert("buyer".into(), json!(e.buyer.to_string()));
                    parties.insert("price".into(), json!(format_amount(e.price, dec)));
                    parties.insert("n_chunks".into(), json!(e.n_chunks));
                    parties.insert("samples".into(), json!(e.samples));
                }
                E::JobClaimed(e) => {
                    parties.insert("provider".into(), json!(e.provider.to_string()));
                }
                E::ChallengeDrawn(e) => {
                    if let Some(v) = e.verifier {
                        parties.insert("verifier".into(), json!(v.to_string()));
                    }
                    // The chunks the verifier re-executes, as it derives them.
                    let n_chunks = parties
                        .get("n_chunks")
                        .and_then(serde_json::Value::as_u64)
                        .unwrap_or_default();
                    let samples = parties
                        .get("samples")
                        .and_then(serde_json::Value::as_u64)
                        .unwrap_or_default();
                    let sample = assay_protocol::sample_indices(
                        &e.seed,
                        u32::try_from(n_chunks).unwrap_or_default(),
                        u32::try_from(samples).unwrap_or_default(),
                    );
                    parties.insert("sampled_chunks".into(), json!(sample));
                }
                E::JobClosed(e) => {
                    settled = json!({
                        "final_state": format!("{:?}", e.state),
                        "provider_paid": format_amount(e.provider_paid, dec),
                        "verifier_paid": format_amount(e.verifier_paid, dec),
                        "treasury_paid": format_amount(e.treasury_paid, dec),
                        "buyer_refund": format_amount(e.buyer_refund + e.residue, dec),
                        "provider_slashed": format_amount(e.provider_slashed, dec),
                        "verifier_slashed": format_amount(e.verifier_slashed, dec),
                    });
                }
                _ => {}
            }
            events.push(json!({
                "slot": entry.slot,
                "signature": entry.signature.to_string(),
                "event": crate::history::name(event),
                "detail": crate::history::describe(event, &who, dec),
            }));
        }
    }
    let mut v = json!({"job": key.to_string(), "state": "Closed", "events": events});
    if let Some(commit) = history
        .iter()
        .rev()
        .filter(|e| !e.failed)
        .find_map(|e| e.commit.as_ref())
    {
        v["result_root"] = json!(hex::encode(commit.result_root));
        v["output_uri"] = json!(commit.output_uri);
    }
    if let Some(fields) = settled.as_object() {
        for (k, value) in fields {
            v[k] = value.clone();
        }
    }
    for (k, value) in parties {
        v[k] = value;
    }
    Ok(Some(v))
}

fn print_closed_job(v: &serde_json::Value) {
    println!(
        "job {}: closed ({})",
        v["job"].as_str().unwrap_or_default(),
        v["final_state"]
            .as_str()
            .unwrap_or("no settlement found in its history")
    );
    for field in [
        "buyer",
        "provider",
        "verifier",
        "price",
        "provider_paid",
        "verifier_paid",
        "treasury_paid",
        "buyer_refund",
        "provider_slashed",
        "verifier_slashed",
    ] {
        if let Some(value) = v[field].as_str() {
            println!("  {field:<22} {value}");
        }
    }
    if let Some(sample) = v["sampled_chunks"].as_array() {
        let list: Vec<String> = sample.iter().map(|i| i.to_string()).collect();
        println!("  {:<22} {}", "sampled_chunks", list.join(", "));
    }
    for event in v["events"].as_array().into_iter().flatten() {
        println!(
            "  slot {:>8}  {}",
            event["slot"],
            event["detail"].as_str().unwrap_or_default()
        );
    }
}

/// What `job watch` says when a live job enters a state: the slot and state, and while
/// it is Challenged, the round's verifier, the chunks it must re-execute (derived from the
/// drawn seed as the verifier derives them) and the slot its verdict is due by.
fn watch_line(slot: u64, job: &Job) -> serde_json::Value {
    let mut line = json!({"slot": slot, "state": format!("{:?}", job.state)});
    if job.state == JobState::Challenged {
        line["round"] = json!(job.round);
        line["verifier"] = json!(job.verifier.map(|v| v.to_string()));
        line["sampled_chunks"] = json!(assay_protocol::sample_indices(
            &job.seed,
            job.n_chunks,
            u32::from(job.samples)
        ));
        line["verdict_due_slot"] = json!(job.step_deadline_slot);
    }
    line
}

fn print_watch_line(line: &serde_json::Value) {
    let slot = line["slot"].as_u64().unwrap_or_default();
    let state = line["state"].as_str().unwrap_or_default();
    match line["sampled_chunks"].as_array() {
        Some(sample) => {
            let chunks: Vec<String> = sample.iter().map(|c| c.to_string()).collect();
            println!(
                "slot {slot:>8}  {state}: round {} verifier {} re-executes chunks [{}], verdict due by slot {}",
                line["round"],
                line["verifier"].as_str().unwrap_or("(none eligible)"),
                chunks.join(", "),
                line["verdict_due_slot"]
            );
        }
        None => println!("slot {slot:>8}  {state}"),
    }
}

async fn watch(a: WatchArgs, net: &Net, json: bool) -> Result<()> {
    let key = job_key(&a.job.job, net)?;
    let (mut chain, _) = net.connect().await?;
    let started = std::time::Instant::now();
    let mut last: Option<JobState> = None;
    let mut seen_any = false;
    // Closed straight from Challenged means `finalize`: no verdict was ever given.
    let mut closes_unaudited = false;
    loop {
        let slot = chain.slot().await?;
        match chain.job(&key).await? {
            Some(job) => {
                seen_any = true;
                closes_unaudited = job.state == JobState::Challenged;
                if last != Some(job.state) {
                    remember(net, &key, &job);
                    let line = watch_line(slot, &job);
                    if json {
                        println!("{line}");
                    } else {
                        print_watch_line(&line);
                    }
                    last = Some(job.state);
                }
                if job.state.is_terminal() {
                    return Ok(());
                }
            }
            None if seen_any => {
                // How it ended, from the closing transaction where the endpoint serves
                // history (the embedded endpoint does not).
                let dec = decimals(&mut chain).await?;
                let story = closed_job(&chain, &key, dec).await.ok().flatten();
                let final_state = story.as_ref().map(|v| v["final_state"].clone());
                if json {
                    println!(
                        "{}",
                        json!({"slot": slot, "state": "Closed", "last_state": last.map(|s| format!("{s:?}")), "final_state": final_state, "unaudited": closes_unaudited})
                    );
                } else if let Some(story) = &story {
                    println!(
                        "slot {slot:>8}  ended: {}",
                        story["final_state"]
                            .as_str()
                            .unwrap_or("the job account closed")
                    );
                    print_closed_job(story);
                } else if closes_unaudited {
                    println!(
                        "slot {slot:>8}  ended: settled unaudited (no verifier gave a verdict; the provider was paid and the verifier fee returned to the buyer)"
                    );
                } else {
                    println!("slot {slot:>8}  ended: the job account closed (payouts made)");
                }
                return Ok(());
            }
            None => {
                // Ended before we looked: its story is in the chain's history.
                let dec = decimals(&mut chain).await?;
                let Some(v) = closed_job(&chain, &key, dec).await? else {
                    bail!("job {key} not found: no account and no transaction ever named it");
                };
                if json {
                    for event in v["events"].as_array().into_iter().flatten() {
                        println!("{event}");
                    }
                    println!(
                        "{}",
                        json!({"state": "Closed", "final_state": v["final_state"]})
                    );
                } else {
                    print_closed_job(&v);
                }
                return Ok(());
            }
        }
        if a.timeout > 0 && started.elapsed() >= Duration::from_secs(a.timeout) {
            bail!(
                "gave up after {} s; the job is still {:?}",
                a.timeout,
                last.unwrap_or(JobState::Open)
            );
        }
        tokio::time::sleep(Duration::from_millis(a.interval_ms.max(50))).await;
    }
}

async fn cancel(a: JobRef, net: &Net, json: bool) -> Result<()> {
    let key = job_key(&a.job, net)?;
    let (mut chain, buyer) = net.connect().await?;
    let Some(job) = chain.job(&key).await? else {
        bail!("job {key} not found: it was never posted, or it has already ended");
    };
    ensure!(
        job.buyer == buyer.pubkey(),
        "job {key} belongs to {}, not to the signer {}",
        job.buyer,
        buyer.pubkey()
    );
    ensure!(
        job.state == JobState::Open,
        "job {key} is {:?}: only an unclaimed (Open) job can be cancelled",
        job.state
    );
    let d = chain.deployment();
    chain
        .send(&[d.cancel_job(&buyer.pubkey(), job.job_id)], &[&buyer])
        .await
        .map_err(|e| explain(e, &assay_market::ID))?;
    if json {
        println!(
            "{}",
            json!({"job": key.to_string(), "cancelled": true, "refunded": job.price})
        );
    } else {
        println!(
            "cancelled job {key}; the escrow returned to {}",
            buyer.pubkey()
        );
    }
    Ok(())
}

/// The root and output URI this CLI recorded for `key` when it last saw the job open
/// (`None` when it never saw it committed).
fn local_commitment(net: &Net, key: &Pubkey) -> Option<([u8; 32], String)> {
    let text = std::fs::read_to_string(record_path(net, key)).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    let root = <[u8; 32]>::try_from(hex::decode(v["result_root"].as_str()?).ok()?).ok()?;
    let uri = v["output_uri"].as_str()?.to_string();
    (root != [0; 32] && !uri.is_empty()).then_some((root, uri))
}

async fn result(a: ResultArgs, net: &Net, json: bool) -> Result<()> {
    let key = job_key(&a.job.job, net)?;
    let (mut chain, _) = net.connect().await?;
    let mut hint = None;
    let (root, uri) = match chain.job(&key).await? {
        Some(job) => {
            remember(net, &key, &job);
            hint = crate::challenge::hint_for(&key, job.state, job.step_deadline_slot);
            (job.result_root, job.output_uri)
        }
        // Closed: the commitment as this CLI recorded it, else from the transaction that
        // made it (any user, any machine).
        None => match local_commitment(net, &key) {
            Some(commitment) => commitment,
            None => {
                let history = chain
                    .history(&key, 1000)
                    .await
                    .with_context(|| format!("cannot read the history of {key}"))?;
                ensure!(!history.is_empty(), "job {key} never existed on this chain");
                let commit = history
                    .iter()
                    .rev()
                    .filter(|e| !e.failed)
                    .find_map(|e| e.commit.clone())
                    .with_context(|| format!("job {key} closed without a committed result"))?;
                (commit.result_root, commit.output_uri)
            }
        },
    };
    ensure!(
        root != [0; 32] && !uri.is_empty(),
        "job {key} has no committed result yet"
    );
    let store = net.store()?;
    let sources = Sources::for_output(&store, &uri);
    let index = ResultIndex::fetch(&sources, &uri).with_context(|| match &hint {
        Some(hint) => format!("cannot fetch the result index; {hint}"),
        None => "cannot fetch the result index".to_string(),
    })?;
    ensure!(
        index.job == key.to_bytes(),
        "the result index belongs to another job"
    );
    let tree = assay_protocol::MerkleTree::from_leaves(index.leaves.clone())
        .context("the result index lists no chunks")?;
    ensure!(
        tree.root() == root,
        "the published leaves do not match the committed root: the provider's outputs are not what it committed"
    );
    let bar = indicatif::ProgressBar::new(index.chunks.len() as u64);
    let mut out = Vec::new();
    for (i, (chunk_hash, leaf)) in index.chunks.iter().zip(&index.leaves).enumerate() {
        let with_hint = |what: String| match &hint {
            Some(hint) => format!("{what}; {hint}"),
            None => what,
        };
        let bytes = sources
            .get(chunk_hash)
            .with_context(|| with_hint(format!("chunk {i} is unavailable")))?;
        let expected = assay_protocol::leaf_hash(&key.to_bytes(), i as u32, &bytes);
        ensure!(
            expected == *leaf,
            with_hint(format!("chunk {i} does not match its committed leaf"))
        );
        out.extend_from_slice(&bytes);
        bar.inc(1);
    }
    bar.finish_and_clear();
    std::fs::write(&a.out, &out).with_context(|| format!("cannot write {}", a.out.display()))?;
    if json {
        println!(
            "{}",
            json!({"job": key.to_string(), "chunks": index.chunks.len(), "bytes": out.len(), "root": hex::encode(root), "out": a.out})
        );
    } else {
        println!(
            "{} chunks ({} bytes) checked against root {} and written to {}",
            index.chunks.len(),
            out.len(),
            hex::encode(root),
            a.out.display()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;

    /// Stake deposited in this draw epoch makes a job postable (the market counts the
    /// next epoch's weights) but is not drawn until the next epoch: `job post` names the
    /// slot it joins the draws (a job committed before it settles unaudited); once the
    /// epoch turns there is nothing to say.
    #[tokio::test(flavor = "current_thread")]
    async fn stake_of_this_epoch_is_drawable_only_from_the_next() {
        use assay_stake::constants::ROLE_VERIFIER;
        use assay_testkit::embedded::{LocalChain, LocalSetup};
        let mut chain = LocalChain::start(LocalSetup::default()).await.unwrap();
        let verifier = chain.new_user(1_000_000_000).await.unwrap();
        let d = chain.deployment;
        chain
            .send(
                &[
                    d.register_operator(&verifier.pubkey(), ROLE_VERIFIER),
                    d.deposit(&verifier.pubkey(), 500_000_000),
                ],
                &[&verifier],
            )
            .await
            .unwrap();
        let fresh = capable_stake(&mut chain, 0).await.unwrap();
        assert!(fresh.auditable, "the market accepts the job");
        let registry = chain.registry().await.unwrap();
        let slot = chain.slot().await.unwrap();
        let next = registry.epoch_start(registry.epoch_of(slot) + 1);
        assert_eq!(fresh.drawable_from, Some(next));
        chain.next_epoch().await.unwrap();
        let settled = capable_stake(&mut chain, 0).await.unwrap();
        assert_eq!(settled.drawable_from, None);
    }

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

    /// Issue #14: `job watch` shows a challenged job's sample as the verifier derives it.
    #[test]
    fn watching_a_challenged_job_shows_its_verifier_and_sample() {
        let verifier = Pubkey::new_unique();
        // A zeroed account body (after the discriminator) decodes to an all-default job.
        let mut data = <Job as anchor_lang::Discriminator>::DISCRIMINATOR.to_vec();
        data.resize(Job::SIZE, 0);
        let mut job =
            <Job as anchor_lang::AccountDeserialize>::try_deserialize(&mut data.as_slice())
                .unwrap();
        job.state = JobState::Challenged;
        job.n_chunks = 64;
        job.samples = 6;
        job.seed = [9; 32];
        job.round = 1;
        job.verifier = Some(verifier);
        job.step_deadline_slot = 5_000;
        let line = watch_line(4_321, &job);
        let expected = assay_protocol::sample_indices(&[9; 32], 64, 6);
        assert_eq!(expected.len(), 6);
        assert_eq!(line["sampled_chunks"], json!(expected));
        assert_eq!(line["verifier"], json!(verifier.to_string()));
        assert_eq!(
            (
                line["slot"].as_u64(),
                line["round"].as_u64(),
                line["verdict_due_slot"].as_u64()
            ),
            (Some(4_321), Some(1), Some(5_000))
        );
        job.state = JobState::Committed;
        assert!(watch_line(4_321, &job).get("sampled_chunks").is_none());
    }
}
