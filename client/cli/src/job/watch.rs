//! `assay job watch`: a job's state transitions followed until it ends.

use std::time::Duration;

use anyhow::{bail, Result};
use assay_client::{Chain, Job, JobState};
use clap::Args;
use serde_json::json;

use crate::common::{decimals, Net};

use super::status::{closed_job, ClosedJob};
use super::*;

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

/// What `job watch` says when a live job enters a state: the slot and state, and while
/// it is Challenged, the round's verifier, the chunks it must re-execute (derived from the
/// drawn seed as the verifier derives them) and the slot its verdict is due by.
pub(super) fn watch_line(slot: u64, job: &Job) -> serde_json::Value {
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

pub(super) fn print_watch_line(line: &serde_json::Value) {
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

pub(super) async fn watch(a: WatchArgs, net: &Net, json: bool) -> Result<()> {
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
                    println!("{}", ClosedJob(story.clone()));
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
                    println!("{}", ClosedJob(v));
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

#[cfg(test)]
mod tests {
    use super::*;

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
