//! `assay job cancel`: an unclaimed job cancelled, its escrow returned.

use anyhow::{bail, ensure};
use assay_client::{Chain, JobState};
use solana_sdk::signature::Signer;

use crate::common::{explain, Net};

use std::fmt;

use serde::Serialize;

use crate::report::{report, Outcome};

use super::*;

pub(super) async fn cancel(a: JobRef, net: &Net) -> Outcome {
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
    report(Cancelled {
        job: key.to_string(),
        cancelled: true,
        refunded: job.price,
        to: buyer.pubkey().to_string(),
    })
}

/// `assay job cancel`'s report: the escrow (base units) returned to the buyer.
#[derive(Serialize)]
pub(super) struct Cancelled {
    job: String,
    cancelled: bool,
    refunded: u64,
    to: String,
}

impl fmt::Display for Cancelled {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "cancelled job {}; the escrow returned to {}",
            self.job, self.to
        )
    }
}
