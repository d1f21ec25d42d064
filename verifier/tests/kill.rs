//! Crash safety and fault tolerance of the real `assay-verifier` binary: it runs as a
//! child process against a JSON-RPC endpoint that injects 503s, late answers (client
//! timeouts) and lost replies; it is SIGKILLed at random points while providers keep
//! committing jobs, restarted each time, and at the end stopped with SIGTERM. The
//! endpoint's transaction log must show exactly one landed verdict transaction per job,
//! and no failed one.
//!
//! Twice: against the embedded bank over HTTP (`Localnet`, programs native, 50 kills),
//! and against `assay localnet`'s validator (Surfpool, programs as SBF, websocket
//! confirmations and program subscription) behind a fault-injecting proxy (`FaultProxy`),
//! where the chain's own transaction history must also show one verdict per job.

mod common;
#[path = "support/surfpool.rs"]
mod surfpool;

use std::collections::{BTreeMap, BTreeSet};
use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anchor_lang::prelude::Pubkey;
use assay_client::events::AssayEvent;
use assay_client::rpc::RpcChain;
use assay_client::Chain;
use assay_gpu::{BlobStore, Gpu};
use assay_localnet::Surfnet;
use assay_market::state::MarketParams;
use assay_stake::constants::{ROLE_PROVIDER, ROLE_VERIFIER};
use assay_testkit::embedded::{LocalChain, LocalSetup};
use assay_testkit::faults::FaultProxy;
use assay_testkit::localnet::{FaultInjection, Localnet, LocalnetOptions};
use common::{new_user_from_admin, run_job, stake, Provider};
use rand::{Rng, SeedableRng};
use solana_sdk::signature::Signer;

/// Jobs posted, one per kill cycle, and SIGKILLs: on the embedded bank, and on Surfpool
/// (whose every transaction runs the SBF programs; fewer, to keep CI time).
const EMBEDDED: Scale = Scale {
    jobs: 16,
    kills: 50,
};
const SURFPOOL: Scale = Scale { jobs: 8, kills: 20 };

#[derive(Clone, Copy)]
struct Scale {
    jobs: u64,
    kills: usize,
}
/// The whole test normally takes under a minute; past this it is stuck, and the
/// watchdog ends the process with the daemon's log rather than hanging the run.
const WATCHDOG: Duration = Duration::from_secs(420);

/// Kills the current daemon and the test process if the test outlives [`WATCHDOG`].
fn start_watchdog(daemon_pid: Arc<AtomicU32>, log: std::path::PathBuf) {
    std::thread::spawn(move || {
        std::thread::sleep(WATCHDOG);
        let pid = daemon_pid.load(Ordering::SeqCst);
        if pid != 0 {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
        let log = std::fs::read_to_string(&log).unwrap_or_default();
        let tail: String = log
            .lines()
            .rev()
            .take(80)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("\n");
        eprintln!("kill test stuck after {WATCHDOG:?}; last daemon log lines:\n{tail}");
        std::process::exit(101);
    });
}

struct Paths {
    url: String,
    /// The endpoint's websocket, where it has one.
    ws_url: Option<String>,
    keypair: std::path::PathBuf,
    store: std::path::PathBuf,
    journal: std::path::PathBuf,
    log: std::path::PathBuf,
}

fn spawn(p: &Paths, pid: &AtomicU32) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&p.log)
        .unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_assay-verifier"));
    if let Some(ws_url) = &p.ws_url {
        command.args(["--ws-url", ws_url]);
    }
    command
        .args(["--url", &p.url])
        .arg("--keypair")
        .arg(&p.keypair)
        .arg("--store")
        .arg(&p.store)
        .arg("--journal")
        .arg(&p.journal)
        .args([
            "--poll-interval-ms",
            "100",
            "--max-backoff-ms",
            "1000",
            "--rpc-timeout-ms",
            "400",
            "--rpc-attempts",
            "6",
            "--audit-retry-ms",
            "200",
        ])
        .env("RUST_LOG", "assay_node=info,assay_verifier=info,warn")
        .env("NODEVICE_SELECT", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .inspect(|child| pid.store(child.id(), Ordering::SeqCst))
        .expect("assay-verifier binary")
}

/// Where the market runs: the endpoint the daemon is pointed at (faults injected), and the
/// test's own fault-free access to the same chain.
enum Market {
    /// The embedded bank served over HTTP, faults injected by the endpoint itself.
    Embedded(Localnet),
    /// Surfpool with the SBF programs; the daemon talks to `proxy`, the test to `chain`.
    Surfpool {
        net: Box<Surfnet>,
        proxy: FaultProxy,
        chain: Box<RpcChain>,
    },
}

/// The two tests run one at a time: each alone loads both cores, and each has a watchdog
/// that ends the process.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

impl Market {
    fn url(&self) -> String {
        match self {
            Market::Embedded(net) => net.url(),
            Market::Surfpool { proxy, .. } => proxy.url(),
        }
    }

    fn ws_url(&self) -> Option<String> {
        match self {
            Market::Embedded(_) => None,
            Market::Surfpool { net, .. } => Some(net.ws_url.clone()),
        }
    }

    /// Runs `f` on the chain, bypassing the injected faults.
    async fn with_chain<R>(&mut self, f: impl AsyncFnOnce(&mut dyn Chain) -> R) -> R {
        match self {
            Market::Embedded(net) => net.with_chain(async |c| f(c).await).await,
            Market::Surfpool { chain, .. } => f(chain.as_mut()).await,
        }
    }

    async fn is_open(&mut self, job: &Pubkey) -> bool {
        self.with_chain(async |c| c.job(job).await.unwrap())
            .await
            .is_some()
    }
}

/// Makes `job`'s draw as any keeper on the network would (draws are permissionless), so
/// that whether a job is audited does not hang on the killed daemon being up inside the
/// draw window: a daemon restarted every second or so on a loaded machine can miss it, the
/// draw lapses and the job ends with no verdict to check. What this test checks is the
/// verdict's crash safety, from the draw on.
async fn draw_as_keeper(market: &mut Market, job: &Pubkey) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let drawn = market
            .with_chain(async |c| {
                let Some(state) = c.job(job).await.unwrap() else {
                    return true;
                };
                if state.state != assay_market::state::JobState::Committed {
                    return true;
                }
                match c.draw_outcome(job).await {
                    Ok(assay_client::DrawOutcome::Drawn(verifier)) => {
                        let ix = c
                            .deployment()
                            .draw_challenge(job, &state, verifier.as_ref());
                        c.send(&[ix], &[]).await.is_ok()
                    }
                    Ok(assay_client::DrawOutcome::Lapsed) => {
                        panic!("the draw of {job} lapsed before the keeper made it")
                    }
                    _ => false,
                }
            })
            .await;
        if drawn {
            return;
        }
        assert!(Instant::now() < deadline, "nobody could draw {job}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The participants: a buyer, a provider, and the verifier whose daemon is killed.
struct Parties {
    buyer: solana_sdk::signature::Keypair,
    provider: solana_sdk::signature::Keypair,
    verifier: solana_sdk::signature::Keypair,
}

/// One request in ten fails: answered 503, answered 800 ms late (twice the daemon's RPC
/// timeout), or — a send — processed with its reply lost.
fn faults() -> FaultInjection {
    FaultInjection {
        rate: 0.1,
        delay: Duration::from_millis(800),
        seed: 11,
    }
}

fn setup() -> LocalSetup {
    common::real_time_setup(MarketParams {
        verdict_window_slots: 4_000,
        dispute_window_slots: 40,
        ..LocalSetup::default().market
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkilled_daemon_never_submits_twice_and_finishes_every_job() {
    let _alone = ONE_AT_A_TIME.lock().await;
    std::env::set_var("NODEVICE_SELECT", "1");
    let dir = tempfile::tempdir().unwrap();
    let mut chain = LocalChain::start(setup()).await.unwrap();
    let parties = Parties {
        buyer: chain.new_user(10_000 * common::TOKENS).await.unwrap(),
        provider: stake(&mut chain, ROLE_PROVIDER).await,
        verifier: stake(&mut chain, ROLE_VERIFIER).await,
    };
    let tx_log = dir.path().join("tx.jsonl");
    let net = Localnet::serve(
        chain,
        tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
        LocalnetOptions {
            slot_ms: 25,
            faults: faults(),
            tx_log: Some(tx_log.clone()),
        },
    )
    .await
    .unwrap();
    let mut market = Market::Embedded(net);
    kill_and_restart(&mut market, &parties, dir.path(), EMBEDDED).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkilled_daemon_on_surfpool_never_submits_twice_and_finishes_every_job() {
    let _alone = ONE_AT_A_TIME.lock().await;
    std::env::set_var("NODEVICE_SELECT", "1");
    let dir = tempfile::tempdir().unwrap();
    let (net, mut chain) = surfpool::start(setup(), SURFPOOL_SLOT_MS).await;
    let parties = Parties {
        buyer: new_user_from_admin(&mut chain, 10_000 * common::TOKENS).await,
        provider: surfpool::operator(&mut chain, ROLE_PROVIDER).await,
        verifier: surfpool::operator(&mut chain, ROLE_VERIFIER).await,
    };
    surfpool::next_draw_epoch(&mut chain).await;
    let proxy = FaultProxy::serve(
        &net.rpc_url,
        tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
        faults(),
        Some(dir.path().join("tx.jsonl")),
    )
    .await
    .unwrap();
    let mut market = Market::Surfpool {
        net: Box::new(net),
        proxy,
        chain: Box::new(chain),
    };
    let jobs = kill_and_restart(&mut market, &parties, dir.path(), SURFPOOL).await;
    let Market::Surfpool { chain, .. } = market else {
        unreachable!("built as Surfpool above")
    };
    // The chain's own history: one verdict event per job, no failed transaction.
    let me = parties.verifier.pubkey();
    for job in &jobs {
        let history = chain.history(job, 100).await.unwrap();
        let failed: Vec<_> = history.iter().filter(|e| e.failed).collect();
        assert!(
            failed.is_empty(),
            "job {job}: failed transactions {failed:?}"
        );
        let verdicts = history
            .iter()
            .flat_map(|e| &e.events)
            .filter(|e| match e {
                AssayEvent::PassRecorded(p) => p.verifier == Some(me),
                AssayEvent::FaultReported(f) => f.verifier == me,
                _ => false,
            })
            .count();
        assert_eq!(verdicts, 1, "job {job}: verdict events in its history");
    }
}

/// Surfpool's slot time in the kill test: the draw epoch (1,024 slots) must outlast a
/// draw's round trips, and the stake of a new verifier waits one epoch to be drawn.
const SURFPOOL_SLOT_MS: u64 = 25;

/// The scenario: a job per cycle while the daemon is SIGKILLed at random points, then one
/// last daemon until every job has closed, stopped with SIGTERM; the endpoint's transaction
/// log and the daemon's journal must show exactly one verdict per job. Returns the jobs.
async fn kill_and_restart(
    market: &mut Market,
    parties: &Parties,
    dir: &std::path::Path,
    scale: Scale,
) -> Vec<Pubkey> {
    let started = Instant::now();
    let paths = Paths {
        url: market.url(),
        ws_url: market.ws_url(),
        keypair: dir.join("verifier.json"),
        store: dir.join("store"),
        journal: dir.join("journal.redb"),
        log: dir.join("daemon.log"),
    };
    let tx_log = dir.join("tx.jsonl");
    assay_client::keys::write_keypair(&paths.keypair, &parties.verifier).unwrap();
    let daemon_pid = Arc::new(AtomicU32::new(0));
    start_watchdog(Arc::clone(&daemon_pid), paths.log.clone());
    let store = BlobStore::local(&paths.store).unwrap();
    let gpu = Gpu::new().expect("a wgpu adapter");
    let mut rng = rand::rngs::StdRng::seed_from_u64(5);
    let mut jobs: Vec<Pubkey> = vec![];
    let mut kills = 0;
    for cycle in 0..scale.kills {
        let mut child = spawn(&paths, &daemon_pid);
        if (cycle as u64) < scale.jobs {
            let id = cycle as u64 + 1;
            // Every fourth provider fakes two chunks (all but one sampled: always caught).
            let behaviour = if id.is_multiple_of(4) {
                Provider::Fake(7)
            } else {
                Provider::Honest
            };
            let samples = if id.is_multiple_of(4) {
                common::ALL_BUT_ONE
            } else {
                4
            };
            let (buyer, provider) = (&parties.buyer, &parties.provider);
            let job = market
                .with_chain(async |c| {
                    run_job(c, &gpu, &store, buyer, provider, id, samples, behaviour).await
                })
                .await;
            draw_as_keeper(market, &job).await;
            jobs.push(job);
        }
        tokio::time::sleep(Duration::from_millis(rng.gen_range(100..1_200))).await;
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        kills += 1;
    }
    // A last run without kills until every job is terminal (its account closed).
    let starts = || {
        std::fs::read_to_string(&paths.log)
            .unwrap_or_default()
            .matches("assay-verifier running")
            .count()
    };
    let starts_before = starts();
    let mut child = spawn(&paths, &daemon_pid);
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let mut open = 0;
        for job in &jobs {
            if market.is_open(job).await {
                open += 1;
            }
        }
        if open == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{open} jobs still open; daemon log:\n{}",
            std::fs::read_to_string(&paths.log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    // Graceful stop, once the last daemon is in its loop.
    while starts() == starts_before {
        assert!(Instant::now() < deadline, "the last daemon never started");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let stop_deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < stop_deadline, "no exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "exit after SIGTERM: {status}");

    // Count verdict transactions per job in the endpoint's log.
    let me = parties.verifier.pubkey().to_string();
    let mut landed: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut failed: Vec<String> = vec![];
    let (mut lines, mut duplicates, mut expired) = (0, 0, 0);
    for line in std::io::BufReader::new(std::fs::File::open(&tx_log).unwrap()).lines() {
        let v: serde_json::Value = serde_json::from_str(&line.unwrap()).unwrap();
        lines += 1;
        if v["duplicate"].as_bool() == Some(true) {
            // The same bytes again (after a lost reply): the first send is accounted for.
            duplicates += 1;
            continue;
        }
        for ix in v["instructions"].as_array().unwrap() {
            let name = ix["name"].as_str().unwrap_or_default();
            if name != "attest_pass" && name != "report_fault" {
                continue;
            }
            assert_eq!(ix["accounts"][0].as_str(), Some(me.as_str()));
            let job = ix["accounts"][1].as_str().unwrap().to_string();
            let signature = v["signature"].as_str().unwrap().to_string();
            let error = v["error"].as_str();
            if error.is_none() {
                landed.entry(job).or_default().insert(signature);
            } else if error.is_some_and(|e| e.contains("Blockhash not found")) {
                // Refused before it ran: its blockhash expired on the way (the embedded
                // bank ages blockhashes by wall time, about a second on a loaded machine).
                // It never landed, and the daemon signs the verdict anew, as it must on a
                // cluster; the checks below still demand exactly one landed verdict.
                expired += 1;
            } else {
                failed.push(format!("{job}: {}", v["error"]));
            }
        }
    }
    let restarts = starts();
    let log = std::fs::read_to_string(&paths.log).unwrap_or_default();
    assert!(
        log.contains("verifier daemon stopped"),
        "graceful stop logged"
    );
    let count = |needle: &str| log.matches(needle).count();
    eprintln!(
        "kills: {kills}, daemon starts that reached the loop: {restarts}, jobs: {}, tx log lines: {lines} ({duplicates} duplicate re-sends, \
         {expired} refused for an expired blockhash), \
         verdicts landed (logged): {}, pending verdicts re-sent as the same bytes: {}, found landed after a restart: {}, \
         signed anew after expiring unseen: {}, RPC retries logged: {}, failed passes: {}, wall {:.1} s",
        jobs.len(),
        count("verdict landed"),
        count("re-sending the pending verdict"),
        count("pending verdict found landed"),
        count("signing it anew"),
        count("retrying") + count("resending the same transaction"),
        count("tick failed"),
        started.elapsed().as_secs_f64()
    );
    assert!(failed.is_empty(), "failed verdict transactions: {failed:?}");
    // No job has two verdict transactions.
    for (job, sigs) in &landed {
        assert_eq!(sigs.len(), 1, "job {job}: {sigs:?}");
    }
    // The journal holds a done verdict for every job.
    let journal = assay_node::journal::Journal::open(&paths.journal).unwrap();
    let journaled: BTreeMap<String, _> = journal
        .verdicts()
        .unwrap()
        .into_iter()
        .map(|(at, e)| (at.job.to_string(), (at.round, e)))
        .collect();
    for job in &jobs {
        let Some((round, entry)) = journaled.get(&job.to_string()) else {
            // Seen once in a loaded run (2026-12-06): keep what explains it.
            panic!(
                "job {job} has no journaled verdict (landed: {:?}); daemon log:\n{log}",
                landed.get(&job.to_string())
            );
        };
        assert_eq!(*round, 0);
        assert_eq!(
            entry.status,
            assay_node::journal::VerdictStatus::Done,
            "{job}"
        );
    }
    // Every verdict that landed is in the endpoint's log: the endpoint finishes (and logs)
    // a transaction even when the daemon that sent it is killed mid-request.
    let unlogged: Vec<&Pubkey> = jobs
        .iter()
        .filter(|j| !landed.contains_key(&j.to_string()))
        .collect();
    assert!(
        unlogged.is_empty(),
        "verdicts missing from the tx log: {unlogged:?}"
    );
    jobs
}
