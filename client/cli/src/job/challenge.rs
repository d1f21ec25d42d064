//! `assay job challenge`: the buyer's (or any fisherman's) check that a passed job's
//! whole output can still be obtained, and the challenge when it cannot.
//!
//! Until its pass window ends a passed job's provider must keep every chunk obtainable
//! (from the store it committed, or the mirror it named), its collateral at stake. This
//! command reads every chunk and checks it against its committed leaf; if one cannot be
//! obtained it calls it unavailable on chain (`challenge_availability`, signed by a staked
//! operator that is neither the provider nor the verifier, which locks the market's
//! challenger bond). A committee then looks: upheld, the collateral pays the buyer (and
//! the challenger a finder share); overturned because the chunk was served by then, the
//! challenger pays the miss penalty — and now has the chunk.

use anyhow::{bail, ensure};
use assay_client::{Chain, JobState, Pubkey};
use clap::Args;
use serde::Serialize;
use solana_sdk::signature::Signer;

use crate::common::{decimals, explain, format_amount, Net};
use crate::report::{report, Outcome};

#[derive(Args)]
pub struct ChallengeArgs {
    /// The job's address, or `<buyer>:<job id>`, or just the job id (your own job).
    job: String,
    /// Check only this chunk (default: every chunk, the first unobtainable one is called).
    #[arg(long)]
    chunk: Option<u32>,
    /// Only check and report; send nothing.
    #[arg(long)]
    check_only: bool,
}

/// What `assay job challenge` found and did: `unavailable` is the first chunk that could
/// not be obtained (none: every checked chunk was); `signature`, `bond` and `at_risk`
/// (base units of the challenger's stake) are there when it was called on chain.
#[derive(Serialize)]
struct Challenged {
    job: String,
    checked: usize,
    unavailable: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    signature: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bond: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    at_risk: Option<u64>,
    #[serde(skip)]
    decimals: u8,
}

impl std::fmt::Display for Challenged {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        let (key, reason) = (&self.job, self.reason.as_deref().unwrap_or(""));
        match (self.unavailable, self.bond, self.at_risk) {
            (None, ..) => write!(
                f,
                "all {} checked chunks of {key} are obtainable and match their committed leaves; nothing to challenge",
                self.checked
            ),
            (Some(index), Some(bond), Some(penalty)) => write!(
                f,
                "called chunk {index} of {key} unavailable ({reason}); {} tokens of your stake are locked until a committee looks. \
                 If nobody can obtain it, the provider's collateral pays you; if it is served by then, you pay {} tokens and can fetch it with `assay job result`.",
                format_amount(bond, self.decimals),
                format_amount(penalty, self.decimals)
            ),
            (Some(index), ..) => write!(f, "chunk {index} of {key} cannot be obtained: {reason}"),
        }
    }
}

pub async fn run(a: ChallengeArgs, net: &Net) -> Outcome {
    let key = crate::job::job_key(&a.job, net)?;
    let (mut chain, signer) = net.connect().await?;
    let Some(job) = chain.job(&key).await? else {
        bail!("job {key} not found: it was never posted, or it has already ended (after its pass window a job's outputs are the buyer's to keep)");
    };
    ensure!(
        job.state == JobState::Passed,
        "job {key} is {:?}: only a passed job in its pass window can be challenged for availability",
        job.state
    );
    let slot = chain.slot().await?;
    ensure!(
        slot <= job.step_deadline_slot,
        "job {key}'s pass window ended at slot {} (now {slot}): it can only be closed",
        job.step_deadline_slot
    );
    let chunks: Vec<u32> = match a.chunk {
        Some(i) => {
            ensure!(
                i < job.n_chunks,
                "chunk {i} is out of range: the job has {} chunks",
                job.n_chunks
            );
            vec![i]
        }
        None => (0..job.n_chunks).collect(),
    };
    let store = net.store()?;
    let unserved = assay_node::audit::first_unserved(&store, &key, &job, &chunks)?;
    let mut found = Challenged {
        job: key.to_string(),
        checked: chunks.len(),
        unavailable: unserved.as_ref().map(|(index, _)| *index),
        reason: unserved.as_ref().map(|(_, reason)| reason.to_string()),
        signature: None,
        bond: None,
        at_risk: None,
        decimals: 0,
    };
    let Some((index, reason)) = unserved else {
        return report(found);
    };
    if a.check_only {
        return report(found);
    }
    let me = signer.pubkey();
    ensure!(
        job.provider != Some(me) && job.verifier != Some(me),
        "{me} is this job's provider or verifier: a party cannot challenge its own pass"
    );
    let bond = job.challenger_bond();
    let dec = decimals(&mut chain).await.unwrap_or(0);
    let available = chain
        .operator(&me)
        .await?
        .map(|op| op.available())
        .unwrap_or(0);
    ensure!(
        available >= bond,
        "chunk {index} of {key} cannot be obtained ({reason}), but calling it unavailable locks a bond of {} tokens of stake and {me} has {} unlocked: run `assay stake deposit <amount>` first (any role)",
        format_amount(bond, dec),
        format_amount(available, dec)
    );
    let ix = chain
        .deployment()
        .challenge_availability(&me, &key, &job, index);
    let signature = chain
        .send(&[ix], &[&signer])
        .await
        .map_err(|e| explain(e, &assay_market::ID))?;
    found.signature = Some(signature.to_string());
    found.bond = Some(bond);
    found.at_risk = Some(job.params.verifier_miss_penalty.min(bond));
    found.decimals = dec;
    report(found)
}

/// What `job result` adds when a chunk of a job still in its pass window cannot be
/// obtained: how to make the provider serve it or pay.
pub fn hint_for(key: &Pubkey, state: JobState, window_end: u64) -> Option<String> {
    (state == JobState::Passed).then(|| {
        format!(
            "the job is in its pass window until slot {window_end}: `assay job challenge {key}` calls the chunk unavailable, \
             so the provider serves it or its collateral compensates you"
        )
    })
}
