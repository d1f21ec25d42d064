//! Issue #15: a verifier fleet that shares nothing but the chain and an S3 bucket. Three
//! real `assay-verifier` processes, each with its own working directory, journal and key,
//! run against Surfpool (`assay localnet`: programs as SBF, the 1,232-byte packet limit
//! enforced) and one bucket on moto's S3 server; the provider and buyer publish into the same bucket. An
//! honest job settles, a cheating job is caught and its contest is decided by committee
//! votes that travel through the bucket, and a committee member killed mid-contest does
//! not stop the rest from ending the job.

mod common;
#[path = "support/moto.rs"]
mod moto;
#[path = "support/surfpool.rs"]
mod surfpool;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anchor_lang::prelude::Pubkey;
use assay_client::rpc::RpcChain;
use assay_client::Chain;
use assay_gpu::{BlobStore, Gpu};
use assay_localnet::Surfnet;
use assay_market::state::{Job, JobState, MarketParams};
use assay_stake::constants::{ROLE_PROVIDER, ROLE_VERIFIER};
use assay_testkit::embedded::LocalSetup;
use common::{new_user_from_admin, run_job, Provider, COLLATERAL};
use moto::Moto;
use solana_sdk::signature::{Keypair, Signer};

const BUCKET: &str = "assay-fleet";
/// Every wait of this test; a step that takes longer is a failure, not a hang.
const STEP: Duration = Duration::from_secs(120);

struct Daemon {
    key: Pubkey,
    child: Child,
    log: std::path::PathBuf,
}

struct Fleet {
    /// Kept alive for the daemons (killed on drop).
    _moto: Moto,
    /// The test's own client to Surfpool (the admin's key); Surfpool itself runs on its
    /// own threads until the test process ends.
    chain: tokio::sync::Mutex<RpcChain>,
    store: BlobStore,
    gpu: Gpu,
    buyer: Keypair,
    provider: Keypair,
    daemons: Vec<Daemon>,
    _dirs: Vec<tempfile::TempDir>,
}

impl Fleet {
    async fn start() -> Self {
        std::env::set_var("NODEVICE_SELECT", "1");
        let moto = Moto::start();
        moto.create_bucket(BUCKET);
        // 25 ms slots: verdicts within 50 s, contests within 30 s, passes close after 1 s.
        let setup = common::real_time_setup(MarketParams {
            verdict_window_slots: 2_000,
            dispute_window_slots: 1_200,
            vote_window_slots: 1_200,
            pass_window_slots: 40,
            ..LocalSetup::default().market
        });
        let (net, mut chain) = surfpool::start(setup, 25).await;
        let buyer = new_user_from_admin(&mut chain, 10_000 * common::TOKENS).await;
        let provider = surfpool::operator(&mut chain, ROLE_PROVIDER).await;
        let mut verifiers = vec![];
        for _ in 0..3 {
            verifiers.push(surfpool::operator(&mut chain, ROLE_VERIFIER).await);
        }
        surfpool::next_draw_epoch(&mut chain).await;
        let mut daemons = vec![];
        let mut dirs = vec![];
        for key in &verifiers {
            let dir = tempfile::tempdir().unwrap();
            daemons.push(spawn_verifier(&net, &moto, key, dir.path()));
            dirs.push(dir);
        }
        Self {
            store: moto.store(BUCKET),
            _moto: moto,
            chain: tokio::sync::Mutex::new(chain),
            gpu: Gpu::new().expect("a wgpu adapter (lavapipe: ./scripts/install-deps.sh)"),
            buyer,
            provider,
            daemons,
            _dirs: dirs,
        }
    }

    async fn job(&self, job: &Pubkey) -> Option<Job> {
        self.chain.lock().await.job(job).await.unwrap()
    }

    /// Tokens in the verifiers' wallets together.
    async fn verifiers_tokens(&self) -> u64 {
        let keys: Vec<Pubkey> = self.daemons.iter().map(|d| d.key).collect();
        let mut chain = self.chain.lock().await;
        let mut total = 0;
        for key in &keys {
            total += chain.balance_of(key).await.unwrap();
        }
        total
    }

    async fn deposited(&self, who: &Pubkey) -> u64 {
        let mut chain = self.chain.lock().await;
        chain.operator(who).await.unwrap().unwrap().deposited
    }

    /// Waits until `done` holds of `job`'s account (`None` once closed).
    async fn wait(
        &self,
        job: &Pubkey,
        what: &str,
        done: impl Fn(Option<&Job>) -> bool,
    ) -> Option<Job> {
        let deadline = Instant::now() + STEP;
        loop {
            let state = self.job(job).await;
            if done(state.as_ref()) {
                return state;
            }
            assert!(
                Instant::now() < deadline,
                "{what}: job is {:?}\n{}",
                state.map(|j| j.state),
                self.logs()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn post(&self, id: u64, samples: u8, behaviour: Provider) -> Pubkey {
        run_job(
            &mut *self.chain.lock().await,
            &self.gpu,
            &self.store,
            &self.buyer,
            &self.provider,
            id,
            samples,
            behaviour,
        )
        .await
    }

    /// The provider contests the fault reported against `job`.
    async fn contest(&self, job: &Pubkey) {
        let disputed = self
            .wait(job, "fault reported", |j| {
                j.is_some_and(|j| j.state == JobState::Disputed)
            })
            .await
            .unwrap();
        let p = self.provider.insecure_clone();
        let mut chain = self.chain.lock().await;
        let ix = chain
            .deployment()
            .contest_fault(&p.pubkey(), job, &disputed);
        chain.send(&[ix], &[&p]).await.unwrap();
    }

    /// A faked job (two chunks faked, all but one sampled: always caught) whose provider
    /// contests the fault; returns it once its committee is seated.
    async fn contested_cheat(&self, id: u64) -> (Pubkey, Job) {
        let job = self.post(id, common::ALL_BUT_ONE, Provider::Fake(7)).await;
        self.contest(&job).await;
        let seated = self
            .wait(&job, "committee drawn", |j| {
                j.is_none_or(|j| !j.committee.is_empty())
            })
            .await
            .expect("the contest was still open when its committee was drawn");
        (job, seated)
    }

    /// The tail of every daemon's log, for a failure message.
    fn logs(&self) -> String {
        self.daemons
            .iter()
            .map(|d| {
                let log = std::fs::read_to_string(&d.log).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(15).collect();
                format!(
                    "--- {}:\n{}",
                    d.key,
                    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        for d in &mut self.daemons {
            let _ = d.child.kill();
            let _ = d.child.wait();
        }
    }
}

/// One `assay-verifier` process in its own directory (key, journal, log), its store the
/// bucket: nothing on disk is shared with another process.
fn spawn_verifier(net: &Surfnet, moto: &Moto, key: &Keypair, dir: &std::path::Path) -> Daemon {
    let keypair = dir.join("verifier.json");
    assay_client::keys::write_keypair(&keypair, key).unwrap();
    let log = dir.join("daemon.log");
    let child = Command::new(env!("CARGO_BIN_EXE_assay-verifier"))
        .current_dir(dir)
        .args(["--url", &net.rpc_url, "--ws-url", &net.ws_url])
        .args(["--store", &Moto::url(BUCKET)])
        .arg("--keypair")
        .arg(&keypair)
        .arg("--journal")
        .arg(dir.join("journal.redb"))
        .args([
            "--poll-interval-ms",
            "100",
            "--audit-retry-ms",
            "200",
            "--max-backoff-ms",
            "1000",
        ])
        .envs(moto.env())
        .env("RUST_LOG", "assay_node=info,assay_verifier=info,warn")
        .env("NODEVICE_SELECT", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("assay-verifier binary");
    Daemon {
        key: key.pubkey(),
        child,
        log,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_verifier_processes_share_only_the_chain_and_an_s3_bucket() {
    let mut fleet = Fleet::start().await;
    an_honest_job_settles(&fleet).await;
    a_cheater_is_caught_and_its_contest_decided_by_votes_in_the_bucket(&fleet).await;
    a_committee_member_killed_mid_contest_does_not_stop_the_rest(&mut fleet).await;
}

/// Audited (a verifier earns the fee: a job settled unaudited would refund it), passed,
/// and closed after the pass window: the provider keeps its stake.
async fn an_honest_job_settles(fleet: &Fleet) {
    let provider = fleet.provider.pubkey();
    let before = (
        fleet.deposited(&provider).await,
        fleet.verifiers_tokens().await,
    );
    let job = fleet.post(1, 4, Provider::Honest).await;
    let fee = fleet.job(&job).await.unwrap().verifier_fee;
    fleet.wait(&job, "honest job closed", |j| j.is_none()).await;
    assert_eq!(
        (
            fleet.deposited(&provider).await,
            fleet.verifiers_tokens().await
        ),
        (before.0, before.1 + fee),
        "nothing slashed; the auditing verifier paid its fee"
    );
}

/// The drawn verifier reports the faked chunk; the provider contests anyway; the other
/// two verifiers, seated on the committee, re-audit and vote through the bucket, and one
/// of them relays the quorum: the provider loses its collateral.
async fn a_cheater_is_caught_and_its_contest_decided_by_votes_in_the_bucket(fleet: &Fleet) {
    let provider = fleet.provider.pubkey();
    let before = fleet.deposited(&provider).await;
    let (job, seated) = fleet.contested_cheat(2).await;
    assert_eq!(seated.state, JobState::Contested);
    fleet.wait(&job, "contest resolved", |j| j.is_none()).await;
    assert_eq!(
        fleet.deposited(&provider).await,
        before - COLLATERAL,
        "slashed"
    );
    let (name, instance, contest) = (
        job.to_string(),
        seated.instance.to_string(),
        seated.contests.to_string(),
    );
    let votes = fleet
        .store
        .records(&["votes", &name, &instance, &contest])
        .unwrap();
    assert!(
        votes.len() >= 2,
        "a majority's votes are in the bucket: {}",
        votes.len()
    );
}

/// A member of the next contest's committee is SIGKILLed as soon as it is seated. The
/// others still end the job (by a quorum if the killed member had voted, else by voiding
/// the contest once its vote window closes): no job is stranded by a dead verifier.
async fn a_committee_member_killed_mid_contest_does_not_stop_the_rest(fleet: &mut Fleet) {
    let (job, seated) = fleet.contested_cheat(3).await;
    let victim = fleet
        .daemons
        .iter_mut()
        .find(|d| seated.committee.contains(&d.key))
        .expect("a committee member runs in this fleet");
    victim.child.kill().unwrap();
    victim.child.wait().unwrap();
    fleet
        .wait(&job, "job ended without the killed member", |j| j.is_none())
        .await;
}
