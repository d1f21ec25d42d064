//! `assay job watch`: a job's state transitions followed until it ends.

use std::fmt;
use std::time::Duration;

use anyhow::{bail, Result};
use assay_client::{Chain, Job, JobState};
use clap::Args;
use serde::Serialize;
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

/// One thing `job watch` says, rendered as it happens: a line of text, or one JSON object
/// per line (`--json`).
#[derive(Serialize)]
#[serde(untagged)]
pub(super) enum WatchEvent {
    /// A live job entered `state` at `slot`; while Challenged, what its round asks.
    Entered {
        slot: u64,
        state: String,
        #[serde(flatten)]
        challenge: Option<ChallengeRound>,
    },
    /// The watched job's account closed; how it ended, from the closing transaction
    /// where the endpoint serves history (the embedded endpoint does not).
    Closed {
        slot: u64,
        state: &'static str,
        last_state: Option<String>,
        final_state: Option<serde_json::Value>,
        /// Closed straight from Challenged: `finalize`, no verdict was ever given.
        unaudited: bool,
        #[serde(skip)]
        story: Option<serde_json::Value>,
    },
    /// The job had ended before the watch began: its story from the chain's history.
    Ended { story: serde_json::Value },
}

/// While a job is Challenged: the round's verifier, the chunks it must re-execute
/// (derived from the drawn seed as the verifier derives them) and the slot its verdict is
/// due by.
#[derive(Serialize)]
pub(super) struct ChallengeRound {
    round: u8,
    verifier: Option<String>,
    sampled_chunks: Vec<u32>,
    verdict_due_slot: u64,
}

impl WatchEvent {
    pub(super) fn entered(slot: u64, job: &Job) -> Self {
        let challenge = (job.state == JobState::Challenged).then(|| ChallengeRound {
            round: job.round,
            verifier: job.verifier.map(|v| v.to_string()),
            sampled_chunks: assay_protocol::sample_indices(
                &job.seed,
                job.n_chunks,
                u32::from(job.samples),
            ),
            verdict_due_slot: job.step_deadline_slot,
        });
        Self::Entered {
            slot,
            state: format!("{:?}", job.state),
            challenge,
        }
    }

    /// Prints the event: text, or JSON lines (a history's events each on its own line,
    /// then the closing state).
    pub(super) fn emit(&self, json: bool) {
        match (self, json) {
            (Self::Ended { story }, true) => {
                for event in story["events"].as_array().into_iter().flatten() {
                    println!("{event}");
                }
                println!(
                    "{}",
                    json!({"state": "Closed", "final_state": story["final_state"]})
                );
            }
            (_, true) => println!("{}", serde_json::to_value(self).unwrap_or_default()),
            (_, false) => println!("{self}"),
        }
    }
}

impl fmt::Display for WatchEvent {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Self::Entered {
                slot,
                state,
                challenge: Some(c),
            } => {
                let chunks: Vec<String> = c.sampled_chunks.iter().map(u32::to_string).collect();
                write!(
                    f,
                    "slot {slot:>8}  {state}: round {} verifier {} re-executes chunks [{}], verdict due by slot {}",
                    c.round,
                    c.verifier.as_deref().unwrap_or("(none eligible)"),
                    chunks.join(", "),
                    c.verdict_due_slot
                )
            }
            Self::Entered { slot, state, .. } => write!(f, "slot {slot:>8}  {state}"),
            Self::Closed {
                slot,
                story: Some(story),
                ..
            } => write!(
                f,
                "slot {slot:>8}  ended: {}\n{}",
                story["final_state"]
                    .as_str()
                    .unwrap_or("the job account closed"),
                ClosedJob(story.clone())
            ),
            Self::Closed {
                slot,
                unaudited: true,
                ..
            } => write!(
                f,
                "slot {slot:>8}  ended: settled unaudited (no verifier gave a verdict; the provider was paid and the verifier fee returned to the buyer)"
            ),
            Self::Closed { slot, .. } => write!(
                f,
                "slot {slot:>8}  ended: the job account closed (payouts made)"
            ),
            Self::Ended { story } => write!(f, "{}", ClosedJob(story.clone())),
        }
    }
}

pub(super) async fn watch(a: WatchArgs, net: &Net, json: bool) -> Result<()> {
    let key = job_key(&a.job.job, net)?;
    let (mut chain, _) = net.connect().await?;
    let started = std::time::Instant::now();
    let mut last: Option<JobState> = None;
    let mut seen_any = false;
    let mut closes_unaudited = false;
    loop {
        let slot = chain.slot().await?;
        match chain.job(&key).await? {
            Some(job) => {
                seen_any = true;
                closes_unaudited = job.state == JobState::Challenged;
                if last != Some(job.state) {
                    remember(net, &key, &job);
                    WatchEvent::entered(slot, &job).emit(json);
                    last = Some(job.state);
                }
                if job.state.is_terminal() {
                    return Ok(());
                }
            }
            None if seen_any => {
                let dec = decimals(&mut chain).await?;
                let story = closed_job(&chain, &key, dec).await.ok().flatten();
                WatchEvent::Closed {
                    slot,
                    state: "Closed",
                    last_state: last.map(|s| format!("{s:?}")),
                    final_state: story.as_ref().map(|v| v["final_state"].clone()),
                    unaudited: closes_unaudited,
                    story,
                }
                .emit(json);
                return Ok(());
            }
            None => {
                let dec = decimals(&mut chain).await?;
                let Some(story) = closed_job(&chain, &key, dec).await? else {
                    bail!("job {key} not found: no account and no transaction ever named it");
                };
                WatchEvent::Ended { story }.emit(json);
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
        let line = serde_json::to_value(WatchEvent::entered(4_321, &job)).unwrap();
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
        let line = serde_json::to_value(WatchEvent::entered(4_321, &job)).unwrap();
        assert!(line.get("sampled_chunks").is_none(), "{line}");
    }
}
