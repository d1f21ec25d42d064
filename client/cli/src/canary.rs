//! `assay canary run`: a canary operation against a live market.
//!
//! Posts ordinary example jobs from fresh keys funded by a buyer key, runs them from fresh
//! provider keys funded and staked by a provider key, with a secret set of chunks planted
//! wrong, and from a third key challenges every pass whose sample holds a planted chunk
//! (`assay_node::canary`). Jobs, their secrets and the fresh keys still holding funds
//! are kept in a state file, so a restart still challenges what it launched and brings
//! every fresh provider's stake home after its cooldown.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::report::{report, Outcome};
use anyhow::{ensure, Context, Result};
use assay_client::keys::{data_dir, read_keypair};
use assay_client::Chain;
use assay_node::canary::{CanaryKeys, CanaryOperator, CanaryOutcome, CanaryRecord};
use clap::Args;
use rand::Rng;
use solana_sdk::signature::Signer;
use tracing::info;

use crate::common::{decimals, parse_amount, post_args, upload_job, Net, Offer};
use crate::job::{example_bundle, Example};

#[derive(Args)]
pub struct CanaryArgs {
    /// The canary's buyer keypair (it pays the price; gets it back, and more, when a
    /// planted fault is found).
    #[arg(long)]
    buyer: PathBuf,
    /// The canary's provider keypair. It never claims a canary itself: each canary is
    /// claimed by a fresh key it funds with the job's collateral (and 0.02 SOL of rent),
    /// staked in the claim's transaction; once the canary closes that stake is unstaked,
    /// and a run after the cooldown withdraws it and sends it back here.
    #[arg(long)]
    provider: PathBuf,
    /// The canary's challenger keypair (a staked operator; each challenge bonds the
    /// market's verifier bond).
    #[arg(long)]
    challenger: PathBuf,
    /// Canary jobs to launch in this run (0: only watch those in the state file).
    #[arg(long, default_value_t = 1)]
    jobs: u32,
    /// Which built-in kernel the canary jobs run (as real buyers' `assay job new` makes).
    #[arg(long, value_enum, default_value = "hashmix")]
    kernel: Example,
    /// Chunks planted wrong per job. Default: as many as it takes for the job's sample to
    /// hold one with probability --catch (what docs/economics.md assumes), whatever the
    /// job's size. More catch a lazy verifier more often but make an honest verifier's
    /// finder share (paid from the canary's collateral) more frequent.
    #[arg(long)]
    planted: Option<u32>,
    /// With no --planted: the probability that a canary's sample holds a planted chunk.
    #[arg(long, default_value_t = 0.9)]
    catch: f64,
    /// Chunks the verifier re-executes (k). Default: what `assay job post` picks for a
    /// real buyer at this price (the smallest k that deters every cheat), so canaries
    /// look like the jobs around them.
    #[arg(long)]
    samples: Option<u32>,
    /// Price per job, in tokens.
    #[arg(long, default_value = "10")]
    price: String,
    /// Mean seconds between launches; actual gaps are exponential (Poisson arrivals, like
    /// independent buyers). 0: back to back.
    #[arg(long, default_value_t = 0.0)]
    interval_s: f64,
    /// Mean seconds between posting a canary job and claiming it (exponential), so the
    /// claim comes as late as a polling provider's would. 0: at once.
    #[arg(long, default_value_t = 0.0)]
    claim_delay_s: f64,
    /// Where launched jobs and their planted chunks are kept.
    /// Default: ~/.local/share/assay/canary.json ($ASSAY_HOME).
    #[arg(long)]
    state: Option<PathBuf>,
    /// Stop watching after this many seconds (0: until every canary job has closed).
    #[arg(long, default_value_t = 0)]
    timeout_s: u64,
    /// Milliseconds between watches.
    #[arg(long, default_value_t = 1_000)]
    poll_ms: u64,
}

fn load_records(path: &PathBuf) -> Result<Vec<CanaryRecord>> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .with_context(|| format!("{} is not a canary state file", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(vec![]),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

fn save_records(path: &PathBuf, records: &[CanaryRecord]) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(records)?)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

fn describe(outcome: &Option<CanaryOutcome>) -> String {
    match outcome {
        None => "waiting for its audit".into(),
        Some(CanaryOutcome::Challenged { verifier, chunk }) => {
            format!("{verifier} passed planted chunk {chunk}: challenged")
        }
        Some(CanaryOutcome::Reported { verifier, chunk }) => {
            format!("{verifier} reported planted chunk {chunk}: conceded")
        }
        Some(CanaryOutcome::Missed { verifier }) => {
            format!("{verifier} passed; its sample held no planted chunk")
        }
    }
}

/// What `assay canary run` left: the state file and every canary job it tracks, with what
/// its planted chunks got (none while it waits for its audit).
#[derive(serde::Serialize)]
struct CanaryRun {
    state: PathBuf,
    jobs: Vec<CanaryJob>,
}

#[derive(serde::Serialize)]
struct CanaryJob {
    job: String,
    planted: Vec<u32>,
    outcome: Option<CanaryOutcome>,
}

impl std::fmt::Display for CanaryRun {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "canary jobs ({}):", self.state.display())?;
        for r in &self.jobs {
            write!(
                f,
                "\n  {} planted {:?}: {}",
                r.job,
                r.planted,
                describe(&r.outcome)
            )?;
        }
        Ok(())
    }
}

pub async fn run(a: CanaryArgs, net: &Net, json: bool) -> Outcome {
    ensure!(a.planted != Some(0), "--planted must be at least 1");
    ensure!(a.catch > 0.0 && a.catch <= 1.0, "--catch must be in (0, 1]");
    if let Some(k) = a.samples {
        ensure!(
            (1..=u32::from(u8::MAX)).contains(&k),
            "--samples must be between 1 and 255"
        );
    }
    for (flag, value) in [
        ("--interval-s", a.interval_s),
        ("--claim-delay-s", a.claim_delay_s),
    ] {
        ensure!(
            value >= 0.0 && value.is_finite(),
            "{flag} must be 0 or more"
        );
    }
    let keys = CanaryKeys {
        buyer: read_keypair(&a.buyer)?,
        provider: read_keypair(&a.provider)?,
        challenger: read_keypair(&a.challenger)?,
    };
    let distinct = [&keys.buyer, &keys.provider, &keys.challenger]
        .map(|k| k.pubkey())
        .iter()
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    ensure!(
        distinct == 3,
        "--buyer, --provider and --challenger must be three different keys (the challenger cannot challenge its own job)"
    );
    let state = a
        .state
        .clone()
        .unwrap_or_else(|| data_dir().join("canary.json"));
    let mut records = load_records(&state)?;
    let mut chain = net.connect_paying(&keys.challenger).await?;
    let store = net.store()?;
    let gpu = crate::common::gpu()?;
    let price = parse_amount(&a.price, decimals(&mut chain).await?)?;
    let params = chain.market_config().await?.params;
    // Only the operator knows where the faults are: the secret comes from a key it holds.
    let secret = assay_protocol::hashv(&[b"assay canary secret", keys.challenger.secret_bytes()]);
    let mut canary = CanaryOperator {
        chain: &mut chain,
        gpu: &gpu,
        store: &store,
        keys: &keys,
        secret,
        planted: match a.planted {
            Some(m) => assay_node::canary::Planted::Fixed(m),
            None => assay_node::canary::Planted::Catch(a.catch),
        },
        fresh_buyers: true,
        fresh_providers: true,
        events: vec![],
    };

    let mut rng = rand::thread_rng();
    // Exponential gaps of mean `mean` seconds: independent arrivals, as of many buyers.
    let mut gap = |mean: f64| Duration::from_secs_f64(-mean * (1.0 - rng.gen::<f64>()).ln());
    for n in 0..a.jobs {
        if n > 0 && a.interval_s > 0.0 {
            tokio::time::sleep(gap(a.interval_s)).await;
        }
        let bundle = example_bundle(a.kernel, rand::random())?;
        let n_chunks = bundle.manifest.n_chunks();
        // What a real buyer posts at this price: the market's collateral floor, and the
        // CLI's default sample count.
        let collateral =
            assay_market::state::JobTerms::of(&params, price, n_chunks, params.min_samples)
                .map(|t| t.min_collateral)
                .unwrap_or(0);
        let samples = match a.samples {
            Some(k) => k,
            None => u32::from(crate::job::default_samples(
                &params, n_chunks, price, collateral,
            )),
        };
        ensure!(
            samples <= n_chunks,
            "--samples ({samples}) exceeds the job's {n_chunks} chunks"
        );
        let offer = Offer {
            samples: samples as u8,
            price,
            collateral,
            claim_window_slots: 1_500,
            execution_window_slots: 1_500,
        };
        let job_id = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)
            .wrapping_add(u64::from(n));
        let args = post_args(&bundle, job_id, &offer)?;
        upload_job(&store, &bundle, &args)?;
        let record = canary
            .launch(&bundle, args, gap(a.claim_delay_s))
            .await
            .with_context(|| format!("launching canary job {job_id}"))?;
        info!(job = %record.job, job_id, "canary launched");
        if !json {
            eprintln!("launched canary job {} (id {job_id})", record.job);
        }
        records.push(record);
        save_records(&state, &records)?;
    }

    let started = Instant::now();
    loop {
        let report = canary.watch(&mut records).await?;
        save_records(&state, &records)?;
        let timed_out = a.timeout_s > 0 && started.elapsed() >= Duration::from_secs(a.timeout_s);
        if report.open == 0 || timed_out {
            if report.retiring > 0 {
                info!(
                    retiring = report.retiring,
                    "fresh providers' stake is in its unstake cooldown; a later run sweeps it home"
                );
            }
            break;
        }
        tokio::time::sleep(Duration::from_millis(a.poll_ms)).await;
    }
    report(CanaryRun {
        state,
        jobs: records
            .into_iter()
            .map(|r| CanaryJob {
                job: r.job,
                planted: r.planted,
                outcome: r.outcome,
            })
            .collect(),
    })
}
