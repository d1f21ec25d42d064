//! `assay job status`: a job's on-chain state, or what its history says once it closed.

use anyhow::{bail, Context, Result};
use assay_client::{Chain, Job, JobState, Pubkey};
use serde_json::json;

use crate::common::{decimals, format_amount, Net};

use std::fmt;

use serde::Serialize;

use crate::report::{report, Outcome};

use super::*;

/// What the job waits for in its state, and what its `step_deadline_slot` means there.
pub(super) fn step_of(state: JobState) -> &'static str {
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
pub(super) fn heading_unaudited(job: &Job, slot: u64) -> bool {
    (job.state == JobState::Challenged
        && (job.verifier.is_none() || (slot > job.step_deadline_slot && !job.rounds_remain())))
        || (job.state == JobState::Passed && job.verifier.is_none())
}

pub(super) fn describe(key: &Pubkey, job: &Job, slot: u64, dec: u8) -> serde_json::Value {
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

/// `assay job status` of a live job: its account as `describe` reads it (the JSON form
/// is that object).
#[derive(Serialize)]
#[serde(transparent)]
pub(super) struct LiveJob(pub serde_json::Value);

impl fmt::Display for LiveJob {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let v = &self.0;
        write!(
            f,
            "job {}  state {}",
            v["job"].as_str().unwrap_or("?"),
            v["state"].as_str().unwrap_or("?")
        )?;
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
                write!(f, "\n  {field:<22} {value}")?;
            }
        }
        Ok(())
    }
}

pub(super) async fn status(a: JobRef, net: &Net) -> Outcome {
    let key = job_key(&a.job, net)?;
    let (mut chain, _) = net.connect().await?;
    let dec = decimals(&mut chain).await?;
    let slot = chain.slot().await?;
    let Some(job) = chain.job(&key).await? else {
        let Some(v) = closed_job(&chain, &key, dec).await? else {
            bail!("job {key} not found: no account and no transaction ever named it");
        };
        return report(ClosedJob(v));
    };
    remember(net, &key, &job);
    report(LiveJob(describe(&key, &job, slot, dec)))
}

/// A closed job's story read from the chain's transaction history: every Assay event of
/// every transaction that named it (sample draws, verdicts, contests, stake slashed) and
/// its settlement (`JobClosed`). `None`: no transaction ever named the address.
pub(super) async fn closed_job(
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

/// A closed job's story from the chain's history (`closed_job`); the JSON form is that
/// object.
#[derive(Serialize)]
#[serde(transparent)]
pub(super) struct ClosedJob(pub serde_json::Value);

impl fmt::Display for ClosedJob {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let v = &self.0;
        write!(
            f,
            "job {}: closed ({})",
            v["job"].as_str().unwrap_or_default(),
            v["final_state"]
                .as_str()
                .unwrap_or("no settlement found in its history")
        )?;
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
                write!(f, "\n  {field:<22} {value}")?;
            }
        }
        if let Some(sample) = v["sampled_chunks"].as_array() {
            let list: Vec<String> = sample.iter().map(|i| i.to_string()).collect();
            write!(f, "\n  {:<22} {}", "sampled_chunks", list.join(", "))?;
        }
        for event in v["events"].as_array().into_iter().flatten() {
            write!(
                f,
                "\n  slot {:>8}  {}",
                event["slot"],
                event["detail"].as_str().unwrap_or_default()
            )?;
        }
        Ok(())
    }
}
