//! What the binary-level suites share: an `assay localnet` child, users funded from its
//! faucet, RPC connections, in-process verifier daemons and worker processes.
#![allow(dead_code)] // each test binary uses its own subset

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use assert_cmd::prelude::*;
use predicates::prelude::*;
use serde_json::Value;

/// A running `assay localnet` child, killed on drop.
pub struct Localnet {
    child: Child,
    pub url: String,
    pub dir: tempfile::TempDir,
}

impl Drop for Localnet {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Localnet {
    /// `assay localnet`: Surfpool with both programs as SBF.
    pub fn start() -> Self {
        Self::start_with_slot_ms(40)
    }

    /// A localnet whose slots last `slot_ms` (the windows are counted in slots).
    pub fn start_with_slot_ms(slot_ms: u64) -> Self {
        Self::spawn(slot_ms)
    }

    pub fn spawn(slot_ms: u64) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::cargo_bin("assay")
            .unwrap()
            .arg("localnet")
            .args([
                "--port",
                "0",
                "--slot-ms",
                &slot_ms.to_string(),
                "--json",
                "--ledger",
            ])
            .arg(dir.path().join("ledger"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let v: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
        let url = v["url"].as_str().unwrap().to_string();
        Self { child, url, dir }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `assay` with this localnet, the shared blob store, a private ASSAY_HOME and no
    /// Solana CLI config.
    pub fn assay(&self, keypair: Option<&Path>) -> Command {
        let mut cmd = Command::cargo_bin("assay").unwrap();
        cmd.env("ASSAY_URL", &self.url)
            .env("ASSAY_STORE", self.path("blobs"))
            .env("ASSAY_HOME", self.path("home"))
            .env("SOLANA_CONFIG", self.path("no-solana-config.yml"))
            .env("NODEVICE_SELECT", "1")
            .env_remove("ASSAY_KEYPAIR");
        if let Some(k) = keypair {
            cmd.arg("--keypair").arg(k);
        }
        cmd
    }

    pub fn json(&self, keypair: Option<&Path>, args: &[&str]) -> Value {
        json_of(self.assay(keypair), args)
    }

    /// A new keypair funded with `tokens` and 1 SOL.
    pub fn user(&self, name: &str, tokens: &str) -> PathBuf {
        let path = self.path(&format!("{name}.json"));
        let v = self.json(None, &["keygen", path.to_str().unwrap()]);
        let pubkey = v["pubkey"].as_str().unwrap().to_string();
        let authority = self.path("ledger/admin.json");
        self.json(
            None,
            &[
                "faucet",
                &pubkey,
                "--tokens",
                tokens,
                "--authority",
                authority.to_str().unwrap(),
            ],
        );
        path
    }

    /// A staked verifier declaring no optional capability (and running no daemon): the
    /// market refuses jobs nobody could audit, so a test that posts needs one. It stakes
    /// 200 tokens: at the shipped terms a job bonds 50 verifier fees from its verifier
    /// (87.5 tokens for a 10-token job sampling 8 of 64 chunks), and `job post` refuses a
    /// job no capable verifier could bond.
    pub fn auditor(&self) -> PathBuf {
        let key = self.user("auditor", "300");
        self.json(
            Some(&key),
            &["stake", "deposit", "200", "--roles", "verifier"],
        );
        key
    }

    /// Runs `assay args` as `keypair` and expects a failure whose stderr says `message`.
    pub fn fails(&self, keypair: &Path, args: &[&str], message: &str) {
        self.assay(Some(keypair))
            .args(args)
            .assert()
            .failure()
            .stderr(predicate::str::contains(message));
    }

    /// One pass of the provider worker as `provider` (`provider run --once`); its last JSON
    /// line (the commit it made).
    pub fn provider_once(&self, provider: &Path) -> Value {
        self.json(Some(provider), &["provider", "run", "--once"])
    }

    pub fn tokens(&self, keypair: &Path) -> u64 {
        self.json(Some(keypair), &["balance"])["tokens"]
            .as_u64()
            .unwrap()
    }
}

/// Runs `cmd` with `args` and `--json`; the last line of its output, parsed.
pub fn json_of(mut cmd: Command, args: &[&str]) -> Value {
    let out = cmd.args(args).arg("--json").output().unwrap();
    assert!(
        out.status.success(),
        "assay {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    serde_json::from_str(text.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}: {text}"))
}

pub fn new_job(net: &Localnet) -> PathBuf {
    let dir = net.path("job");
    net.json(
        None,
        &["job", "new", "hashmix", "--out", dir.to_str().unwrap()],
    );
    dir.join("manifest.json")
}

/// An RPC connection to `net` paying with the keypair at `payer`.
pub async fn rpc(net: &Localnet, payer: &Path) -> assay_client::rpc::RpcChain {
    let key = assay_client::keys::read_keypair(payer).unwrap();
    assay_client::rpc::RpcChain::connect(&net.url, key, assay_client::rpc::RpcOptions::default())
        .await
        .unwrap()
}

/// Waits until every verifier in `verifiers` has weight in the current draw epoch (stake
/// reaches the draws at the next epoch boundary).
pub async fn wait_drawable(net: &Localnet, verifiers: &[&Path]) {
    use assay_client::Chain;
    use solana_sdk::signature::Signer;
    let mut chain = rpc(net, verifiers[0]).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    for path in verifiers {
        let who = assay_client::keys::read_keypair(path).unwrap().pubkey();
        loop {
            let registry = chain.registry().await.unwrap();
            let slot = chain.slot().await.unwrap();
            let operator = chain.operator(&who).await.unwrap().unwrap();
            let weighted = registry
                .weights_at(registry.epoch_of(slot), 0)
                .zip(registry.slot_of(&operator))
                .is_some_and(|(weights, at)| {
                    assay_protocol::sumtree::Weights::value(&weights, at) > 0
                });
            if weighted {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{who} never became drawable"
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
}

/// Cranks `job`'s challenge draw once its seed slot has a hash (as any cranker would),
/// paying with the keypair at `payer`; returns the verifier drawn.
pub async fn draw_challenge(
    net: &Localnet,
    payer: &Path,
    job: &assay_client::Pubkey,
) -> assay_client::Pubkey {
    use assay_client::{Chain, DrawOutcome};
    let mut chain = rpc(net, payer).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let account = chain.job(job).await.unwrap().expect("the job is open");
        let outcome = chain.draw_outcome(job).await.unwrap();
        if outcome != DrawOutcome::Wait {
            let ix = chain
                .deployment()
                .draw_challenge(job, &account, outcome.verifier().as_ref());
            chain.send(&[ix], &[]).await.unwrap();
            if let Some(drawn) = chain.job(job).await.unwrap().and_then(|j| j.verifier) {
                return drawn;
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the draw was never made"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// An in-process verifier daemon for the keypair at `key` against `net`, its journal
/// beside the ledger, committee votes through the shared blob store.
pub async fn verifier_daemon(
    net: &Localnet,
    key: &Path,
) -> assay_node::Daemon<assay_client::rpc::RpcChain> {
    verifier_daemon_with(net, key, assay_node::DaemonOptions::default()).await
}

/// [`verifier_daemon`] with its `options`.
pub async fn verifier_daemon_with(
    net: &Localnet,
    key: &Path,
    options: assay_node::DaemonOptions,
) -> assay_node::Daemon<assay_client::rpc::RpcChain> {
    let name = key.file_stem().unwrap().to_str().unwrap();
    assay_node::Daemon::new(
        rpc(net, key).await,
        Box::new(assay_gpu::Gpu::new().unwrap()),
        std::sync::Arc::new(assay_gpu::BlobStore::local(net.path("blobs")).unwrap()),
        assay_client::keys::read_keypair(key).unwrap(),
        assay_node::journal::Journal::open(&net.path(&format!("{name}.redb"))).unwrap(),
        assay_node::metrics::Metrics::new(),
        options,
    )
}

/// A buyer with 100 tokens, a provider with 200 of its 500 staked, a verifier with 200 of
/// its 300 staked (not yet drawable: see [`wait_drawable`]).
pub fn buyer_provider_verifier(net: &Localnet) -> (PathBuf, PathBuf, PathBuf) {
    let buyer = net.user("buyer", "100");
    let provider = net.user("provider", "500");
    let verifier = net.user("verifier", "300");
    for (who, role) in [(&provider, "provider"), (&verifier, "verifier")] {
        net.json(Some(who), &["stake", "deposit", "200", "--roles", role]);
    }
    (buyer, provider, verifier)
}

/// Ticks a verifier daemon for the keypair at `verifier` until `job` has closed (its
/// audit, its attestation, and after the pass window its own close); returns the passes
/// it attested. Fails after `timeout_s`.
pub async fn settle_with_daemon(
    net: &Localnet,
    verifier: &Path,
    job: &assay_client::Pubkey,
    timeout_s: u64,
) -> u32 {
    use assay_client::Chain;
    let mut daemon = verifier_daemon(net, verifier).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(timeout_s);
    let mut passes = 0;
    loop {
        passes += daemon.tick().await.unwrap().passes;
        if daemon.chain_mut().job(job).await.unwrap().is_none() {
            return passes;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "job {job} did not settle"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// A running `assay provider run` child, killed on drop.
pub struct Worker(pub std::process::Child);

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A market's cast on `net`: a buyer with 100 tokens, a provider with 200 staked, four
/// verifiers with 200 staked each (drawable when this returns).
pub struct Cast {
    pub buyer: PathBuf,
    pub provider: PathBuf,
    pub verifiers: Vec<PathBuf>,
}

impl Cast {
    pub fn staked(net: &Localnet, runtime: &tokio::runtime::Runtime) -> Self {
        let buyer = net.user("buyer", "100");
        let provider = net.user("provider", "500");
        let verifiers: Vec<PathBuf> = (0..4)
            .map(|i| net.user(&format!("verifier{i}"), "300"))
            .collect();
        net.json(
            Some(&provider),
            &["stake", "deposit", "200", "--roles", "provider"],
        );
        for v in &verifiers {
            net.json(Some(v), &["stake", "deposit", "200", "--roles", "verifier"]);
        }
        runtime.block_on(wait_drawable(net, &Self::paths(&verifiers)));
        Self {
            buyer,
            provider,
            verifiers,
        }
    }

    fn paths(keys: &[PathBuf]) -> Vec<&Path> {
        keys.iter().map(PathBuf::as_path).collect()
    }

    pub fn verifier_paths(&self) -> Vec<&Path> {
        Self::paths(&self.verifiers)
    }

    /// The buyer posts the hash-mixer example as job `job_id`: 10 tokens, 8 of 64 chunks
    /// sampled. Returns the job's address.
    pub fn post_hashmix(&self, net: &Localnet, job_id: u64) -> assay_client::Pubkey {
        let manifest = new_job(net);
        let posted = net.json(
            Some(&self.buyer),
            &[
                "job",
                "post",
                manifest.to_str().unwrap(),
                "--price",
                "10",
                "--samples",
                "8",
                "--job-id",
                &job_id.to_string(),
            ],
        );
        posted["job"].as_str().unwrap().parse().unwrap()
    }
}
