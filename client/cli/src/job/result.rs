//! `assay job result`: a job's outputs downloaded and every chunk checked against the committed root.

use std::fmt;
use std::path::PathBuf;

use anyhow::{ensure, Context};
use assay_client::{Chain, Pubkey};
use assay_gpu::{fetch_checked_outputs, Sources};
use clap::Args;
use serde::Serialize;

use crate::common::Net;
use crate::report::{report, Outcome};

use super::*;

#[derive(Args)]
pub struct ResultArgs {
    #[command(flatten)]
    job: JobRef,
    /// File to write the concatenated chunk outputs to.
    #[arg(long, default_value = "outputs.bin")]
    out: PathBuf,
}

/// The root and output URI this CLI recorded for `key` when it last saw the job open
/// (`None` when it never saw it committed).
pub(super) fn local_commitment(net: &Net, key: &Pubkey) -> Option<([u8; 32], String)> {
    let text = std::fs::read_to_string(record_path(net, key)).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    let root = <[u8; 32]>::try_from(hex::decode(v["result_root"].as_str()?).ok()?).ok()?;
    let uri = v["output_uri"].as_str()?.to_string();
    (root != [0; 32] && !uri.is_empty()).then_some((root, uri))
}

pub(super) async fn result(a: ResultArgs, net: &Net) -> Outcome {
    let key = job_key(&a.job.job, net)?;
    let (mut chain, _) = net.connect().await?;
    let mut hint = None;
    let (root, uri) = match chain.job(&key).await? {
        Some(job) => {
            remember(net, &key, &job);
            hint = super::challenge::hint_for(&key, job.state, job.step_deadline_slot);
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
    let bar = indicatif::ProgressBar::new_spinner();
    let out = fetch_checked_outputs(&sources, &uri, &key.to_bytes(), &root, |_| bar.inc(1))
        .map_err(|e| match &hint {
            Some(hint) => anyhow::anyhow!("{e}; {hint}"),
            None => anyhow::anyhow!("{e}"),
        })?;
    bar.finish_and_clear();
    let chunks = bar.position() as usize;
    std::fs::write(&a.out, &out).with_context(|| format!("cannot write {}", a.out.display()))?;
    report(Checked {
        job: key.to_string(),
        chunks,
        bytes: out.len(),
        root: hex::encode(root),
        out: a.out,
    })
}

/// `assay job result`'s report: every chunk checked against the committed root, and the
/// file the outputs were written to.
#[derive(Serialize)]
pub(super) struct Checked {
    job: String,
    chunks: usize,
    bytes: usize,
    root: String,
    out: PathBuf,
}

impl fmt::Display for Checked {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "{} chunks ({} bytes) checked against root {} and written to {}",
            self.chunks,
            self.bytes,
            self.root,
            self.out.display()
        )
    }
}
