//! `assay demo`: a whole market on an embedded chain with real GPU work, run by the
//! shipped roles.
//!
//! A buyer posts matmul, hash-mixer, render and model jobs. Mallory, a cheating provider
//! (scripted: no shipped role cheats), claims two, computes only part of each, serves
//! zeros for the rest and commits. Then the market runs itself on one shared chain
//! ([`SharedChain`]): ada runs the provider worker (`assay provider run`), vera, victor and
//! wanda the verifier daemon (`assay-verifier`), a turn each per few slots. Verifiers are
//! drawn from the slot-hash seed, re-execute the sampled chunks and attest or report;
//! mallory contests one fault and a committee of the other verifiers' daemons re-audits
//! and votes; her other faults go unanswered and the daemons slash them once the dispute
//! window passes; ada's worker closes her passes after their window. Then a canary
//! operator plants faults and catches a lazy verifier (`canary`).

mod canary;
mod inference;
mod report;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::mpsc::Receiver;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anchor_lang::prelude::Pubkey;
use anyhow::{ensure, Context, Result};
use assay_client::events::AssayEvent;
use assay_client::{pda, Chain};
use assay_gpu::kernels::{self, hashmix::HashMixParams, matmul, render::RenderParams};
use assay_gpu::{fetch_checked_outputs, publish, Sources};
use assay_gpu::{BlobStore, ChunkOutputs, Commitment, Gpu, JobBundle};
use assay_market::state::{JobState, MarketParams};
use assay_node::journal::Journal;
use assay_node::metrics::Metrics;
use assay_node::provider::{ProviderEvent, Worker};
use assay_node::{Daemon, DaemonEvent, DaemonOptions, Finding};
use assay_stake::constants::{ROLE_PROVIDER, ROLE_VERIFIER};
use assay_testkit::embedded::{LocalChain, LocalSetup};
use assay_testkit::shared::SharedChain;
use clap::Args;

use crate::common::{post_args, upload_job, Offer};
use indicatif::{ProgressBar, ProgressStyle};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use solana_sdk::signature::{Keypair, Signer};

/// One token = 10⁶ base units (the demo mint has 6 decimals).
pub(crate) const TOKEN: u64 = 1_000_000;

#[derive(Args)]
pub struct DemoArgs {
    /// Directory for the blob store and the PNGs (created if missing).
    #[arg(long, default_value = "assay-demo")]
    out: PathBuf,
    /// Fraction of its chunks the cheating provider skips and fakes (0 < f ≤ 1).
    #[arg(long, default_value_t = 0.25)]
    cheat_fraction: f64,
    /// Seed for the inputs and for which chunks the cheater fakes.
    #[arg(long, default_value_t = 7)]
    seed: u64,
}

struct Actor {
    name: &'static str,
    key: Keypair,
}

/// The row the protocol's treasury (a token account of the market, not a wallet) gets in
/// the balance table.
const TREASURY: &str = "treasury";

/// Each actor's wallet plus deposited stake, and the treasury vault's balance, base units.
async fn holdings(chain: &mut LocalChain, actors: &[Actor]) -> Result<BTreeMap<&'static str, u64>> {
    let mut held = BTreeMap::new();
    for a in actors {
        let staked = chain
            .operator(&a.key.pubkey())
            .await?
            .map(|o| o.deposited)
            .unwrap_or(0);
        held.insert(a.name, chain.balance_of(&a.key.pubkey()).await? + staked);
    }
    let treasury = chain.deployment.treasury;
    held.insert(TREASURY, chain.token_balance(&treasury).await?);
    Ok(held)
}

struct DemoJob {
    name: String,
    kernel: &'static str,
    bundle: JobBundle,
    provider: usize,
    samples: u8,
    key: Pubkey,
    faked: Vec<u32>,
    outputs: Option<ChunkOutputs>,
    provider_time: Duration,
    recheck_time: Duration,
    verifier: Option<Pubkey>,
    finding: String,
    states: Vec<JobState>,
    closed: Option<assay_market::events::JobClosed>,
}

pub(crate) fn tokens(units: u64) -> f64 {
    units as f64 / TOKEN as f64
}

fn spinner(msg: &str) -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{elapsed}]").expect("static template"),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    bar.set_message(msg.to_string());
    bar
}

/// The demo job at `key`, if it is one of the demo's.
fn job_mut<'j>(jobs: &'j mut [DemoJob], key: &Pubkey) -> Option<&'j mut DemoJob> {
    jobs.iter_mut().find(|j| j.key == *key)
}

/// Records every job state change a transaction emitted.
fn record(jobs: &mut [DemoJob], events: &[AssayEvent]) {
    for event in events {
        match event {
            AssayEvent::JobStateChanged(c) => {
                if let Some(j) = job_mut(jobs, &c.job) {
                    j.states.push(c.to);
                }
            }
            AssayEvent::JobClosed(c) => {
                if let Some(j) = job_mut(jobs, &c.job) {
                    j.closed = Some(c.clone());
                }
            }
            _ => {}
        }
    }
}

/// The verifier daemon (`assay-verifier`) of each of `verifiers`, on `chain`, with its
/// journal under `out`; and the receiver of what they tell of their audits.
#[allow(clippy::type_complexity)]
fn verifier_daemons(
    out: &std::path::Path,
    chain: &SharedChain,
    gpu: &Arc<Gpu>,
    store: &Arc<BlobStore>,
    verifiers: &[Keypair],
) -> Result<(Vec<Daemon<SharedChain>>, Receiver<(Pubkey, DaemonEvent)>)> {
    let (tx, audits) = std::sync::mpsc::channel();
    let mut daemons = vec![];
    for verifier in verifiers {
        let me = verifier.pubkey();
        let tx = tx.clone();
        let journal = Journal::open(&out.join("journals").join(format!("{me}.redb")))
            .context("cannot open the verifier's journal")?;
        daemons.push(
            Daemon::new(
                chain.clone(),
                Box::new(gpu.clone()),
                store.clone(),
                verifier.insecure_clone(),
                journal,
                Metrics::new(),
                DaemonOptions::default(),
            )
            .with_events(move |event| {
                let _ = tx.send((me, event));
            }),
        );
    }
    Ok((daemons, audits))
}

fn demo_setup() -> LocalSetup {
    LocalSetup {
        market: MarketParams {
            verdict_window_slots: 40,
            dispute_window_slots: 20,
            vote_window_slots: 20,
            committee_size: 3,
            ..LocalSetup::default().market
        },
        ..LocalSetup::default()
    }
}

pub fn run(args: DemoArgs, json: bool) -> Result<()> {
    ensure!(
        args.cheat_fraction > 0.0 && args.cheat_fraction <= 1.0,
        "--cheat-fraction must be in (0, 1], got {}",
        args.cheat_fraction
    );
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run_async(args, json))
}

async fn run_async(args: DemoArgs, json: bool) -> Result<()> {
    let started = Instant::now();
    let mut demo = Demo::start(&args, json).await?;
    let before = holdings(&mut *demo.chain.lock().await, &demo.actors).await?;
    let render = demo.post_jobs(&args).await?;
    demo.mallory_cheats().await?;
    demo.market_runs().await?;
    let canary = demo.canary(args.seed).await?;
    let images = demo.images(&args.out, &render)?;
    let after = holdings(&mut *demo.chain.lock().await, &demo.actors).await?;
    let report = demo.report(&before, &after, canary, images, started)?;
    // Shown before the story is checked, so a failed run still shows what happened.
    crate::report::render(&report, json);
    report.require_the_story()
}

/// Indices of the cast's operators in [`Demo::operators`]: ada (honest provider), mallory
/// (cheating provider), then vera, victor and wanda (verifiers).
const ADA: usize = 0;
const MALLORY: usize = 1;
const VERA: usize = 2;
/// Slots the chain advances between the roles' turns while the market runs.
const STEP_SLOTS: u64 = 4;
/// Turns after which a job still open is a failure of the demo (every job closes in
/// about 40 at the demo's windows).
const MAX_STEPS: u32 = 200;

/// The demo's market: the GPU engine, the blob store, the embedded chain with both
/// programs, and the cast (a buyer, two providers, three verifiers) with its jobs.
struct Demo {
    json: bool,
    out: PathBuf,
    gpu: Arc<Gpu>,
    adapter: String,
    store: Arc<BlobStore>,
    chain: SharedChain,
    d: assay_client::ix::Deployment,
    buyer: Keypair,
    actors: Vec<Actor>,
    operators: Vec<Keypair>,
    /// The verifiers' daemons (vera, victor, wanda) and what they tell of their audits.
    daemons: Vec<Daemon<SharedChain>>,
    audits: Receiver<(Pubkey, DaemonEvent)>,
    jobs: Vec<DemoJob>,
}

impl Demo {
    /// The GPU engine, the blob store under `args.out`, the chain, and every actor funded
    /// and staked (stake reaches the draws at the next epoch, which the chain moves to).
    async fn start(args: &DemoArgs, json: bool) -> Result<Self> {
        let say = |line: String| {
            if !json {
                println!("{line}");
            }
        };
        let bar = spinner("starting the GPU engine");
        let gpu = crate::common::gpu()?;
        let adapter = format!(
            "{} ({:?}, {:?})",
            gpu.adapter_info().name,
            gpu.adapter_info().device_type,
            gpu.adapter_info().backend
        );
        bar.finish_and_clear();
        say(format!("GPU adapter: {adapter}"));
        let store =
            BlobStore::local(args.out.join("blobs")).context("cannot open the blob store")?;

        let bar = spinner("starting the embedded Solana bank and deploying both programs");
        let mut chain = LocalChain::start(demo_setup()).await?;
        let d = chain.deployment;
        let buyer = chain.new_user(1_000 * TOKEN).await?;
        let mut actors = vec![Actor {
            name: "buyer",
            key: buyer.insecure_clone(),
        }];
        let mut operators = vec![];
        for (name, roles) in [
            ("ada (honest provider)", ROLE_PROVIDER),
            ("mallory (cheating provider)", ROLE_PROVIDER),
            ("vera (verifier)", ROLE_VERIFIER),
            ("victor (verifier)", ROLE_VERIFIER),
            ("wanda (verifier)", ROLE_VERIFIER),
        ] {
            // A job's verifier bond is 50 verifier fees at the shipped terms: the demo's
            // heavily sampled 20-token jobs bond 300 to 550 tokens, about 2,100 together,
            // so one verifier drawn for all five still bonds each.
            let stake = if roles == ROLE_VERIFIER { 2_500 } else { 300 };
            let key = chain.new_user((stake + 200) * TOKEN).await?;
            chain
                .send(
                    &[
                        d.register_operator(&key.pubkey(), roles),
                        d.deposit(&key.pubkey(), stake * TOKEN),
                    ],
                    &[&key],
                )
                .await?;
            operators.push(key.insecure_clone());
            actors.push(Actor { name, key });
        }
        // Stake reaches the verifier draws at the next draw epoch.
        chain.next_epoch().await?;
        bar.finish_and_clear();
        say(format!(
            "chain up: mint {}, 1 buyer, 2 providers staked 300 tokens, 3 verifiers staked 2,500 tokens each",
            d.mint
        ));
        say(format!("Solana programs: {}", chain.programs));
        let gpu = Arc::new(gpu);
        let store = Arc::new(store);
        let chain = SharedChain::new(chain);
        let (daemons, audits) =
            verifier_daemons(&args.out, &chain, &gpu, &store, &operators[VERA..])?;
        Ok(Self {
            json,
            out: args.out.clone(),
            gpu,
            adapter,
            store,
            chain,
            daemons,
            audits,
            d,
            buyer,
            actors,
            operators,
            jobs: vec![],
        })
    }

    fn say(&self, line: String) {
        if !self.json {
            println!("{line}");
        }
    }

    /// The cast name of `key` ("?" for a key outside the cast).
    fn name_of(&self, key: &Pubkey) -> &'static str {
        self.actors
            .iter()
            .find(|a| a.key.pubkey() == *key)
            .map(|a| a.name)
            .unwrap_or("?")
    }

    /// The buyer's four jobs: two for the honest provider, two for the cheater, which fakes a `cheat_fraction` of its chunks. Returns the render parameters (for the images).
    async fn post_jobs(&mut self, args: &DemoArgs) -> Result<RenderParams> {
        let (ada, mallory) = (ADA, MALLORY);
        let render = RenderParams {
            width: 256,
            height: 256,
            tile: 32,
            spheres: 6,
            steps: 48,
            seed: args.seed,
        };
        let matmul = matmul::MatmulParams {
            m: 512,
            k: 256,
            n: 256,
            rows_per_chunk: 32,
            seed: args.seed,
            variant: matmul::MatmulVariant::for_shape(&self.gpu, 256, 32),
        };
        let hashmix = HashMixParams {
            chunks: 64,
            elements_per_chunk: 4096,
            rounds: 64,
            n_seeds: 1024,
            seed: args.seed,
        };
        let specs: Vec<(&str, &'static str, JobBundle, usize, u8)> = vec![
            (
                "matmul 512x256x256 f32",
                "matmul",
                kernels::matmul::job(&matmul)?,
                ada,
                8,
            ),
            (
                "render 256x256, 64 tiles",
                "render",
                kernels::render::job(&render)?,
                ada,
                16,
            ),
            (
                "hash mixer 64 x 4096 u32",
                "hashmix",
                kernels::hashmix::job(&hashmix)?,
                mallory,
                24,
            ),
            (
                "render 256x256, 64 tiles",
                "render",
                kernels::render::job(&render)?,
                mallory,
                24,
            ),
            (
                "digits MLP (ONNX), 360 images",
                "model",
                inference::digits_job()?.0,
                ada,
                3,
            ),
        ];
        let mut rng = rand::rngs::StdRng::seed_from_u64(args.seed);
        for (id, (name, kernel, bundle, provider, samples)) in specs.into_iter().enumerate() {
            let n_chunks = bundle.manifest.n_chunks();
            let job_id = id as u64 + 1;
            let offer = Offer {
                samples,
                price: 20 * TOKEN,
                // The floor at the shipped terms: 3.2 × the price.
                collateral: 64 * TOKEN,
                claim_window_slots: 500,
                execution_window_slots: 500,
            };
            let args_post = post_args(&bundle, job_id, &offer)?;
            upload_job(&self.store, &bundle, &args_post)?;
            let mut faked = vec![];
            if provider == mallory {
                let mut all: Vec<u32> = (0..n_chunks).collect();
                all.shuffle(&mut rng);
                let count =
                    ((args.cheat_fraction * f64::from(n_chunks)).round() as u32).clamp(1, n_chunks);
                faked = all[..count as usize].to_vec();
                faked.sort_unstable();
            }
            let key = pda::job(&self.buyer.pubkey(), job_id);
            self.jobs.push(DemoJob {
                name: name.to_string(),
                kernel,
                bundle,
                provider,
                samples,
                key,
                faked,
                outputs: None,
                provider_time: Duration::ZERO,
                recheck_time: Duration::ZERO,
                verifier: None,
                finding: String::new(),
                states: vec![],
                closed: None,
            });
            self.chain
                .send(
                    &[self.d.post_job(&self.buyer.pubkey(), args_post)],
                    &[&self.buyer],
                )
                .await?;
        }
        self.absorb(&[], &[])?;
        self.say(format!(
            "buyer posted {} jobs, 20 tokens escrowed each, 64 tokens collateral asked",
            self.jobs.len()
        ));
        Ok(render)
    }

    /// Mallory, the adversary, is scripted (no shipped role cheats): she claims her jobs,
    /// computes only the chunks she does not fake, serves zeros for the rest (saving
    /// exactly the faked fraction of the work) and commits.
    async fn mallory_cheats(&mut self) -> Result<()> {
        let mallory = self.operators[MALLORY].insecure_clone();
        let hers: Vec<usize> = (0..self.jobs.len())
            .filter(|&i| self.jobs[i].provider == MALLORY)
            .collect();
        for i in hers {
            let key = self.jobs[i].key;
            self.chain
                .send(&[self.d.claim_job(&mallory.pubkey(), &key)], &[&mallory])
                .await?;
            let job = &mut self.jobs[i];
            let n = job.bundle.manifest.n_chunks();
            let chunk_bytes = job.bundle.manifest.chunk_bytes() as usize;
            let honest: Vec<u32> = (0..n).filter(|c| !job.faked.contains(c)).collect();
            let partial = self.gpu.prepare(&job.bundle)?.run_chunks(&honest)?;
            let mut data = vec![0u8; n as usize * chunk_bytes];
            for (c, bytes) in partial.iter() {
                data[c as usize * chunk_bytes..(c as usize + 1) * chunk_bytes]
                    .copy_from_slice(bytes);
            }
            let mut outputs = ChunkOutputs::from_parts((0..n).collect(), chunk_bytes, data)
                .context("output layout")?;
            outputs.wall_time = partial.wall_time;
            outputs.gpu_time = partial.gpu_time;
            job.provider_time = outputs.gpu_time.unwrap_or(outputs.wall_time);
            let commitment = Commitment::build(&key.to_bytes(), &job.bundle.manifest, &outputs)?;
            let uri = publish(&self.store, None, &key.to_bytes(), &outputs, &commitment)?;
            job.outputs = Some(outputs);
            self.chain
                .send(
                    &[self
                        .d
                        .commit_result(&mallory.pubkey(), &key, commitment.root(), uri)],
                    &[&mallory],
                )
                .await?;
        }
        self.absorb(&[], &[])?;
        self.say("mallory claimed her two jobs, faked part of each and committed".into());
        Ok(())
    }

    /// The market runs itself until every job has closed: ada runs the provider worker
    /// (`assay provider run`), vera, victor and wanda the verifier daemon
    /// (`assay-verifier`), each a turn per step of a few slots. They claim, run and commit,
    /// crank the draws, audit and attest or report, sit on the committee and relay its
    /// votes, slash the unanswered faults and close the passes. Mallory only contests her
    /// first fault.
    async fn market_runs(&mut self) -> Result<()> {
        let (provider_tx, provider_rx) = std::sync::mpsc::channel();
        let mut ada_chain = self.chain.clone();
        let mut ada = Worker::new(
            &mut ada_chain,
            self.operators[ADA].insecure_clone(),
            self.gpu.clone(),
            BlobStore::local(self.out.join("blobs")).context("cannot open the blob store")?,
            None,
            move |event| {
                let _ = provider_tx.send(event);
            },
        );
        let bar = spinner("the market runs: ada's worker, three verifier daemons");
        let mut contested = false;
        for step in 0..MAX_STEPS {
            ada.pass().await?;
            for daemon in &mut self.daemons {
                daemon.tick().await?;
            }
            if !contested {
                contested = self.mallory_contests().await?;
            }
            let provider_events: Vec<ProviderEvent> = provider_rx.try_iter().collect();
            let daemon_events: Vec<(Pubkey, DaemonEvent)> = self.audits.try_iter().collect();
            for line in self.absorb(&provider_events, &daemon_events)? {
                if !self.json {
                    bar.suspend(|| println!("{line}"));
                }
            }
            let open = self.jobs.iter().filter(|j| j.closed.is_none()).count();
            bar.set_message(format!(
                "the market runs: {open} of {} jobs open, slot step {step}",
                self.jobs.len()
            ));
            if open == 0 {
                break;
            }
            self.chain.lock().await.warp(STEP_SLOTS).await?;
        }
        bar.finish_and_clear();
        let open: Vec<&str> = self
            .jobs
            .iter()
            .filter(|j| j.closed.is_none())
            .map(|j| j.name.as_str())
            .collect();
        ensure!(
            open.is_empty(),
            "jobs still open after {MAX_STEPS} steps: {open:?}"
        );
        self.say(
            "ada's worker ran her jobs through wgpu; the verifiers' daemons drew, audited, \
             voted and slashed; every job closed"
                .into(),
        );
        Ok(())
    }

    /// Mallory contests the first fault reported against her (a committee re-audits and
    /// votes; she loses); the others she leaves unanswered. Returns whether she contested.
    async fn mallory_contests(&mut self) -> Result<bool> {
        let mallory = self.operators[MALLORY].insecure_clone();
        for i in (0..self.jobs.len()).filter(|&i| self.jobs[i].provider == MALLORY) {
            let key = self.jobs[i].key;
            let Some(job) = self.chain.job(&key).await? else {
                continue;
            };
            if job.state == JobState::Disputed {
                let contest = self.d.contest_fault(&mallory.pubkey(), &key, &job);
                self.chain.send(&[contest], &[&mallory]).await?;
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Takes in what the roles did: the job events of every transaction landed, ada's
    /// commits (her outputs read back as a buyer reads them), the verifiers' audits.
    /// Returns the lines that tell the story of a fault.
    fn absorb(
        &mut self,
        provider: &[ProviderEvent],
        daemons: &[(Pubkey, DaemonEvent)],
    ) -> Result<Vec<String>> {
        let events = self.chain.take_events();
        record(&mut self.jobs, &events);
        let story = events.iter().filter_map(|e| self.tell(e)).collect();
        for event in provider {
            let ProviderEvent::Committed {
                job,
                root,
                output_uri,
                seconds,
            } = event
            else {
                continue;
            };
            let Some(j) = job_mut(&mut self.jobs, job) else {
                continue;
            };
            j.provider_time = Duration::from_secs_f64(*seconds);
            let data = fetch_checked_outputs(
                &Sources::own(&self.store),
                output_uri,
                &job.to_bytes(),
                root,
                |_| {},
            )?;
            let manifest = &j.bundle.manifest;
            let n = manifest.n_chunks();
            j.outputs = Some(
                ChunkOutputs::from_parts((0..n).collect(), manifest.chunk_bytes() as usize, data)
                    .context("output layout")?,
            );
        }
        for (verifier, event) in daemons {
            let DaemonEvent::Audited {
                job,
                vote: false,
                audit,
            } = event
            else {
                continue;
            };
            let Some(j) = job_mut(&mut self.jobs, job) else {
                continue;
            };
            j.verifier = Some(*verifier);
            j.recheck_time = audit.recheck_gpu_time.unwrap_or(audit.recheck_time);
            j.finding = match &audit.finding {
                Finding::Pass => format!("all {} sampled chunks correct", audit.sample.len()),
                Finding::Fault { index, reason, .. } => format!("fault at chunk {index}: {reason}"),
            };
        }
        Ok(story)
    }

    /// The line of the demo's story `event` makes, if any: faults, committees, verdicts.
    fn tell(&self, event: &AssayEvent) -> Option<String> {
        let job_name = |key: &Pubkey| {
            self.jobs
                .iter()
                .find(|j| j.key == *key)
                .map_or("?", |j| j.name.as_str())
        };
        Some(match event {
            AssayEvent::FaultReported(f) => format!(
                "{} reported a fault at chunk {} of '{}'",
                self.name_of(&f.verifier),
                f.chunk_index,
                job_name(&f.job)
            ),
            AssayEvent::FaultContested(c) => format!(
                "mallory contested the fault on '{}'; the others she leaves unanswered, to be slashed after the dispute window",
                job_name(&c.job)
            ),
            AssayEvent::CommitteeDrawn(c) => format!(
                "a committee of {} ({}) was drawn to re-audit '{}'; its daemons vote through the blob store",
                c.committee.len(),
                c.committee.iter().map(|k| self.name_of(k)).collect::<Vec<_>>().join(", "),
                job_name(&c.job)
            ),
            AssayEvent::ContestResolved(r) => format!(
                "the committee {} the fault on '{}' ({} to {})",
                if r.upheld { "upheld" } else { "overturned" },
                job_name(&r.job),
                r.votes_uphold.max(r.votes_overturn),
                r.votes_uphold.min(r.votes_overturn)
            ),
            _ => return None,
        })
    }

    /// A canary operator catches a lazy verifier.
    async fn canary(&mut self, seed: u64) -> Result<canary::CanaryReport> {
        let bar = spinner("carol runs canary jobs until larry, a lazy verifier, is drawn");
        let honest: Vec<(&'static str, Pubkey)> = self
            .actors
            .iter()
            .filter(|a| a.name.ends_with("(verifier)"))
            .map(|a| (a.name, a.key.pubkey()))
            .collect();
        let canary = canary::Scene {
            chain: self.chain.clone(),
            daemons: &mut self.daemons,
            gpu: &self.gpu,
            store: &self.store,
            honest: &honest,
            seed,
        }
        .run()
        .await?;
        bar.finish_and_clear();
        self.say(format!(
            "carol ran {} canary job(s); larry (lazy verifier) {}",
            canary.jobs.len(),
            if canary.lazy_verifier_caught {
                "was caught passing a planted fault and slashed"
            } else {
                "was not caught"
            }
        ));
        Ok(canary)
    }
}
