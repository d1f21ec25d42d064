//! `assay provider run`: the provider worker (`assay_node::provider`), rendered here.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use assay_client::{Chain, Pubkey};
use assay_gpu::{BlobStore, Mirror};
use assay_node::provider::{undefended_jobs, ProviderEvent, Worker};
use clap::Args;
use indicatif::ProgressBar;
use serde_json::json;
use solana_sdk::signature::Signer;
use tracing::{info, warn};

use crate::common::Net;

#[derive(Args)]
pub struct RunArgs {
    /// Seconds between passes over the open jobs.
    #[arg(long, default_value_t = 2.0)]
    poll: f64,
    /// Do one pass (claim and run what is available) and exit.
    #[arg(long)]
    once: bool,
    /// Stop after committing this many jobs (0: no limit).
    #[arg(long, default_value_t = 0)]
    max_jobs: u64,
    /// Also publish every output into this store of your own (a directory or store URL)
    /// and name it in each commit, so verifiers read from it when a blob in the shared
    /// store is missing or corrupt, before anyone calls your chunk unavailable.
    #[arg(long, value_name = "STORE", requires = "mirror_url")]
    mirror: Option<String>,
    /// The http(s):// URL at which anyone reads `--mirror` (e.g. a web server over that
    /// directory). At most 128 bytes; it is written into every commit.
    #[arg(long, value_name = "URL", requires = "mirror")]
    mirror_url: Option<String>,
}

pub async fn run(a: RunArgs, net: &Net, json: bool) -> Result<()> {
    let (mut chain, signer) = net.connect().await?;
    let store = net.store()?;
    let mirror = match (a.mirror, a.mirror_url) {
        (Some(dir), Some(url)) => {
            let store =
                BlobStore::open(&dir).with_context(|| format!("cannot open --mirror {dir}"))?;
            Some(Mirror::new(store, url)?)
        }
        _ => None,
    };
    let gpu = crate::common::gpu()?;
    info!(adapter = %gpu.adapter_info().name, provider = %signer.pubkey(), "provider worker started");
    let mut spinner: Option<ProgressBar> = None;
    let render = move |event: ProviderEvent| render(event, json, &mut spinner);
    let mut worker = Worker::new(&mut chain, signer, Arc::new(gpu), store, mirror, render);
    let poll = Duration::from_secs_f64(a.poll.max(0.05));
    let me = worker.provider();
    loop {
        let done = tokio::select! {
            done = worker.pass() => done?,
            _ = shutdown() => {
                info!("shutting down between jobs");
                return Ok(());
            }
        };
        if a.once || (a.max_jobs > 0 && worker.committed() >= a.max_jobs) {
            if !json && a.once && done == 0 {
                println!("no job to run");
            }
            return warn_of_undefended_jobs(worker.chain(), &me).await;
        }
        tokio::select! {
            _ = tokio::time::sleep(poll) => {}
            _ = shutdown() => return warn_of_undefended_jobs(worker.chain(), &me).await,
        }
    }
}

/// Shows one of the worker's events: a spinner while it runs a job on the GPU, a line
/// (or a JSON object) when it commits or contests.
fn render(event: ProviderEvent, json: bool, spinner: &mut Option<ProgressBar>) {
    if let Some(bar) = spinner.take() {
        bar.finish_and_clear();
    }
    match event {
        ProviderEvent::Running { job, chunks } => {
            if !json {
                let bar = ProgressBar::new_spinner();
                bar.set_message(format!("running {chunks} chunks of {job} on the GPU"));
                bar.enable_steady_tick(Duration::from_millis(120));
                *spinner = Some(bar);
            }
        }
        ProviderEvent::Committed {
            job,
            root,
            output_uri,
            seconds,
        } => {
            let root = hex::encode(root);
            if json {
                println!(
                    "{}",
                    json!({"job": job.to_string(), "committed": root, "output_uri": output_uri, "seconds": seconds})
                );
            } else {
                println!("committed {job}: root {root} ({seconds:.2} s of GPU work)");
            }
        }
        ProviderEvent::Contested { job, chunk } => {
            if json {
                println!("{}", json!({"job": job.to_string(), "contested": chunk}));
            } else {
                println!("contested the fault on {job} (chunk {chunk}): outputs re-published");
            }
        }
    }
}

/// Says on stderr which of the provider's jobs nobody defends once this worker exits.
async fn warn_of_undefended_jobs(chain: &mut dyn Chain, provider: &Pubkey) -> Result<()> {
    let jobs = match chain.jobs().await {
        Ok(jobs) => jobs,
        Err(e) => {
            warn!(error = %e, "cannot list the jobs left undefended");
            return Ok(());
        }
    };
    let open = undefended_jobs(&jobs, provider);
    if open.is_empty() {
        return Ok(());
    }
    let at_stake: u64 = open.iter().map(|(_, _, collateral)| collateral).sum();
    let dec = crate::common::decimals(chain).await.unwrap_or(0);
    eprintln!(
        "warning: {} of your jobs are still in their audit, with {} tokens of collateral \
         locked. With no `assay provider run` running, nobody contests a fault \
         reported on them (a chunk called unavailable included), and the collateral is \
         slashed after the dispute window; and until each pass window ends your outputs \
         must stay obtainable, or a chunk called unavailable costs the collateral. Keep \
         the worker running (and the store or --mirror serving) until they settle:",
        open.len(),
        crate::common::format_amount(at_stake, dec)
    );
    for (key, state, _) in &open {
        eprintln!("  {key} {state:?}");
    }
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown() {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
