//! `assay job`: the buyer's commands, one file each.

mod cancel;
mod challenge;
mod dry_run;
pub(crate) mod new;
mod post;
mod result;
mod seal;
mod status;
mod watch;

pub use dry_run::RunArgs;
pub use new::{example_bundle, NewArgs};
pub(crate) use post::default_samples;
pub use post::PostArgs;
pub use result::ResultArgs;
pub use seal::{JobFiles, SealArgs};
pub use watch::WatchArgs;

use std::path::PathBuf;

use anyhow::{Context, Result};
use assay_client::{pda, Job, Pubkey};
use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;
use solana_sdk::signature::Signer;

use crate::common::{parse_pubkey, Net};
use crate::report::{printed, Outcome};

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
    Challenge(challenge::ChallengeArgs),
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
pub struct JobRef {
    /// The job's address, or `<buyer>:<job id>`, or just the job id (your own job).
    job: String,
}

pub async fn run(command: JobCommand, net: &Net, json: bool) -> Outcome {
    match command {
        JobCommand::New(a) => new::new(a),
        JobCommand::Run(a) => dry_run::dry_run(a),
        JobCommand::Seal(a) => seal::seal(a),
        JobCommand::Post(a) => post::post(a, net).await,
        JobCommand::Status(a) => status::status(a, net).await,
        JobCommand::Watch(a) => printed(watch::watch(a, net, json).await),
        JobCommand::Cancel(a) => cancel::cancel(a, net).await,
        JobCommand::Result(a) => result::result(a, net).await,
        JobCommand::Challenge(a) => challenge::run(a, net).await,
    }
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
