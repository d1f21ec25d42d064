//! A small market for daemon tests: a shared embedded chain, a blob store, a buyer,
//! providers that really run hash-mixer jobs on the GPU engine, and staked verifiers.

#![allow(dead_code)]

use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;

use anchor_lang::prelude::Pubkey;
use anchor_lang::Discriminator;
use assay_client::events::AssayEvent;
use assay_client::ix::Deployment;
use assay_client::{pda, Chain, ChainError};
use assay_gpu::kernels::hashmix::{self, HashMixParams};
use assay_gpu::publish;
use assay_gpu::{BlobStore, ChunkOutputs, Commitment, Gpu, JobBundle};
use assay_market::instructions::PostJobArgs;
use assay_market::state::{MarketParams, COMPARISON_EXACT};
use assay_node::journal::Journal;
use assay_node::metrics::Metrics;
use assay_node::{Auditor, Daemon, DaemonOptions};
use assay_stake::constants::{ROLE_PROVIDER, ROLE_VERIFIER};
use assay_testkit::embedded::{LocalChain, LocalSetup};
use solana_sdk::account::Account;
use solana_sdk::instruction::Instruction;
use solana_sdk::signature::{Keypair, Signature, Signer};
use solana_sdk::transaction::{Transaction, TransactionError};
use tokio::sync::Mutex;

pub const TOKENS: u64 = 1_000_000;
/// Price of every test job: one token, so that a verifier's bond (50 verifier fees) stays
/// well inside its stake at the shipped terms.
pub const PRICE: u64 = TOKENS;
/// Collateral of every test job: the shipped floor, 3.2 × the price.
pub const COLLATERAL: u64 = 3_200_000;
/// Chunks of every test job.
pub const CHUNKS: u32 = 16;
/// The largest sample a test job can pay for: every chunk but one (sampling all of them
/// would cost the whole price again, `AuditUnaffordable`). A [`Provider::Fake`] fakes two
/// chunks, so this sample always holds one.
pub const ALL_BUT_ONE: u8 = 15;
/// Stake each operator of the harness deposits: ten bonds of the largest test job.
pub const OPERATOR_DEPOSIT: u64 = 500 * TOKENS;

/// One embedded chain shared by several daemons and the test (the test kit's
/// [`assay_testkit::shared::SharedChain`]), counting the verdict instructions
/// (attest_pass / report_fault) it is asked to send.
#[derive(Clone)]
pub struct SharedChain {
    pub inner: assay_testkit::shared::SharedChain,
    pub verdicts_sent: Arc<AtomicU32>,
    pub verdicts_landed: Arc<AtomicU32>,
    signed_sent: Arc<Mutex<HashSet<Signature>>>,
    signed_landed: Arc<Mutex<HashSet<Signature>>>,
    /// Slots the bank advances after each transaction sent with `send` (0: none), as on a
    /// slow RPC node or a loaded machine, where every crank costs many slots.
    pub slots_per_send: Arc<AtomicU64>,
}

impl SharedChain {
    fn new(chain: LocalChain) -> Self {
        Self {
            inner: assay_testkit::shared::SharedChain::new(chain),
            verdicts_sent: Arc::default(),
            verdicts_landed: Arc::default(),
            signed_sent: Arc::default(),
            signed_landed: Arc::default(),
            slots_per_send: Arc::default(),
        }
    }
}

fn is_verdict(ix: &Instruction) -> bool {
    ix.program_id == assay_market::ID
        && (ix
            .data
            .starts_with(assay_market::instruction::AttestPass::DISCRIMINATOR)
            || ix
                .data
                .starts_with(assay_market::instruction::ReportFault::DISCRIMINATOR))
}

/// Sends are counted, everything else is the test kit's shared chain.
#[async_trait::async_trait]
impl Chain for SharedChain {
    fn deployment(&self) -> Deployment {
        self.inner.deployment()
    }
    fn fee_payer(&self) -> Pubkey {
        self.inner.fee_payer()
    }
    async fn send(
        &mut self,
        ixs: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<Signature, ChainError> {
        let verdict = ixs.iter().any(is_verdict);
        if verdict {
            self.verdicts_sent.fetch_add(1, Ordering::SeqCst);
        }
        let r = self.inner.send(ixs, signers).await;
        let slots = self.slots_per_send.load(Ordering::SeqCst);
        if slots > 0 {
            self.inner.lock().await.warp(slots).await?;
        }
        if verdict && r.is_ok() {
            self.verdicts_landed.fetch_add(1, Ordering::SeqCst);
        }
        r
    }
    async fn sign(
        &mut self,
        ixs: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<Transaction, ChainError> {
        self.inner.sign(ixs, signers).await
    }
    /// Counts each verdict transaction once however often its bytes are re-sent.
    async fn send_signed(&mut self, tx: &Transaction) -> Result<Option<Signature>, ChainError> {
        let verdict = tx.message.instructions.iter().any(|c| {
            is_verdict(&Instruction {
                program_id: tx.message.account_keys[usize::from(c.program_id_index)],
                accounts: vec![],
                data: c.data.clone(),
            })
        });
        let first_send = self.signed_sent.lock().await.insert(tx.signatures[0]);
        if verdict && first_send {
            self.verdicts_sent.fetch_add(1, Ordering::SeqCst);
        }
        let r = self.inner.send_signed(tx).await;
        if verdict
            && matches!(r, Ok(Some(_)))
            && self.signed_landed.lock().await.insert(tx.signatures[0])
        {
            self.verdicts_landed.fetch_add(1, Ordering::SeqCst);
        }
        r
    }
    async fn send_with_events(
        &mut self,
        ixs: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<Vec<AssayEvent>, ChainError> {
        self.inner.send_with_events(ixs, signers).await
    }
    async fn account(&mut self, key: &Pubkey) -> Result<Option<Account>, ChainError> {
        self.inner.account(key).await
    }
    async fn program_accounts(
        &mut self,
        program: &Pubkey,
        discriminator: &[u8],
    ) -> Result<Vec<(Pubkey, Account)>, ChainError> {
        self.inner.program_accounts(program, discriminator).await
    }
    async fn slot(&mut self) -> Result<u64, ChainError> {
        self.inner.slot().await
    }
    async fn signature_status(
        &mut self,
        signature: &Signature,
    ) -> Result<Option<Result<(), TransactionError>>, ChainError> {
        self.inner.signature_status(signature).await
    }
}

pub struct Market {
    pub chain: SharedChain,
    pub gpu: Arc<Gpu>,
    pub store: Arc<BlobStore>,
    pub dir: tempfile::TempDir,
    pub buyer: Keypair,
    pub providers: Vec<Keypair>,
    pub verifiers: Vec<Keypair>,
    pub next_job: u64,
}

/// What a provider does with its honest outputs before committing.
pub enum Provider {
    Honest,
    /// Flips a byte of chunks `i` and `i + 1` (mod the chunk count; then commits and
    /// serves the faked outputs): every sample of all chunks but one holds a faked one.
    Fake(u32),
    /// Commits the honest root but serves nothing.
    Withhold,
}

pub fn hashmix_bundle(chunks: u32, seed: u64) -> JobBundle {
    hashmix::job(&HashMixParams {
        chunks,
        elements_per_chunk: 256,
        rounds: 8,
        n_seeds: 64,
        seed,
    })
    .unwrap()
}

pub async fn stake(chain: &mut LocalChain, roles: u8) -> Keypair {
    let k = chain.new_user(1_000 * TOKENS).await.unwrap();
    register(chain, &k, roles).await;
    if roles & ROLE_VERIFIER != 0 {
        // Stake reaches the draws at the next epoch boundary.
        chain.next_epoch().await.unwrap();
    }
    k
}

/// Registers `k` as an operator with `roles` and deposits [`OPERATOR_DEPOSIT`].
pub async fn register<C: Chain + ?Sized>(chain: &mut C, k: &Keypair, roles: u8) {
    let d = chain.deployment();
    chain
        .send(
            &[
                d.register_operator(&k.pubkey(), roles),
                d.deposit(&k.pubkey(), OPERATOR_DEPOSIT),
            ],
            &[k],
        )
        .await
        .unwrap();
}

/// A new account funded by `chain`'s fee payer, which must be the deployment's admin
/// (mint authority), as on `assay localnet`: 1 SOL and `tokens` base units.
pub async fn new_user_from_admin<C: Chain + ?Sized>(chain: &mut C, tokens: u64) -> Keypair {
    let admin = chain.fee_payer();
    let user = Keypair::new();
    let mut ixs = vec![anchor_lang::solana_program::system_instruction::transfer(
        &admin,
        &user.pubkey(),
        1_000_000_000,
    )];
    ixs.extend(chain.deployment().mint_to(&admin, &user.pubkey(), tokens));
    chain.send(&ixs, &[]).await.unwrap();
    user
}

/// Draw epoch of the tests whose chain runs in real time behind a JSON-RPC endpoint
/// (25 ms slots, injected faults, processes killed mid-request): about 25 s, so the draw
/// window ([`REAL_TIME_DRAW_WINDOW_SLOTS`]) fits in it with room.
pub const REAL_TIME_EPOCH_SLOTS: u64 = 1_024;

/// Draw window of those tests: the most SlotHashes allows (about 13 s at 25 ms slots),
/// since a daemon killed mid-request or behind injected faults must still crank in it.
pub const REAL_TIME_DRAW_WINDOW_SLOTS: u64 = assay_protocol::MAX_DRAW_WINDOW_SLOTS;

/// A deployment for a real-time endpoint: `market` with the real-time draw window, and
/// [`REAL_TIME_EPOCH_SLOTS`].
pub fn real_time_setup(market: MarketParams) -> LocalSetup {
    LocalSetup {
        market: MarketParams {
            draw_window_slots: REAL_TIME_DRAW_WINDOW_SLOTS,
            ..market
        },
        ..LocalSetup::default()
    }
    .with_epoch_slots(REAL_TIME_EPOCH_SLOTS)
}

/// The terms of every test job: [`CHUNKS`] chunks, [`PRICE`], [`COLLATERAL`], windows that
/// never run out in a test.
pub fn job_args(job_id: u64, manifest_hash: [u8; 32], samples: u8) -> PostJobArgs {
    PostJobArgs {
        job_id,
        manifest_hash,
        input_root: [0; 32],
        n_chunks: CHUNKS,
        samples,
        comparison_rule: COMPARISON_EXACT,
        price: PRICE,
        collateral: COLLATERAL,
        claim_window_slots: 1_000_000,
        execution_window_slots: 1_000_000,
        needs: 0,
    }
}

/// Ticks `daemons` in turn, up to `rounds` times each, until `job`'s account has closed.
pub async fn tick_until_closed(
    m: &Market,
    daemons: &mut [Daemon<SharedChain>],
    job: &Pubkey,
    rounds: usize,
) {
    for _ in 0..rounds {
        for d in daemons.iter_mut() {
            d.tick().await.unwrap();
            if m.state(job).await.is_none() {
                return;
            }
        }
    }
}

/// Posts a 16-chunk hash-mixer job; the provider claims it, runs it on the GPU engine,
/// treats its outputs per `behaviour`, publishes and commits. Returns the job account.
#[allow(clippy::too_many_arguments)]
pub async fn run_job<C: Chain + ?Sized>(
    chain: &mut C,
    gpu: &Gpu,
    store: &BlobStore,
    buyer: &Keypair,
    provider: &Keypair,
    job_id: u64,
    samples: u8,
    behaviour: Provider,
) -> Pubkey {
    let d = chain.deployment();
    let bundle = hashmix_bundle(CHUNKS, job_id);
    bundle.store(store).unwrap();
    let manifest_hash = store
        .put(&bundle.manifest.canonical_bytes().unwrap())
        .unwrap();
    let args = job_args(job_id, manifest_hash, samples);
    chain
        .send(&[d.post_job(&buyer.pubkey(), args)], &[buyer])
        .await
        .unwrap();
    let job = pda::job(&buyer.pubkey(), job_id);
    chain
        .send(&[d.claim_job(&provider.pubkey(), &job)], &[provider])
        .await
        .unwrap();
    let mut outputs: ChunkOutputs = gpu.prepare(&bundle).unwrap().run_all().unwrap();
    if let Provider::Fake(i) = behaviour {
        for chunk in [i, (i + 1) % CHUNKS] {
            outputs.chunk_mut(chunk).unwrap()[0] ^= 0xff;
        }
    }
    let commitment = Commitment::build(&job.to_bytes(), &bundle.manifest, &outputs).unwrap();
    let uri = match behaviour {
        Provider::Withhold => format!("sha256:{}", "ab".repeat(32)),
        _ => publish(store, None, &job.to_bytes(), &outputs, &commitment).unwrap(),
    };
    chain
        .send(
            &[d.commit_result(&provider.pubkey(), &job, commitment.root(), uri)],
            &[provider],
        )
        .await
        .unwrap();
    job
}

impl Market {
    pub async fn new(setup: LocalSetup, providers: usize, verifiers: usize) -> Self {
        std::env::set_var("NODEVICE_SELECT", "1");
        let mut chain = LocalChain::start(setup).await.unwrap();
        let buyer = chain.new_user(10_000 * TOKENS).await.unwrap();
        let mut ps = vec![];
        for _ in 0..providers {
            ps.push(stake(&mut chain, ROLE_PROVIDER).await);
        }
        let mut vs = vec![];
        for _ in 0..verifiers {
            vs.push(stake(&mut chain, ROLE_VERIFIER).await);
        }
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(BlobStore::local(dir.path().join("store")).unwrap());
        let gpu =
            Arc::new(Gpu::new().expect("a wgpu adapter (lavapipe: ./scripts/install-deps.sh)"));
        Self {
            chain: SharedChain::new(chain),
            gpu,
            store,
            dir,
            buyer,
            providers: ps,
            verifiers: vs,
            next_job: 1,
        }
    }

    pub async fn job(&mut self, provider: usize, samples: u8, behaviour: Provider) -> Pubkey {
        let id = self.next_job;
        self.next_job += 1;
        let mut chain = self.chain.inner.lock().await;
        run_job(
            &mut *chain,
            &self.gpu,
            &self.store,
            &self.buyer,
            &self.providers[provider],
            id,
            samples,
            behaviour,
        )
        .await
    }

    /// Token balance (base units) of `owner`'s associated token account.
    pub async fn tokens_of(&self, owner: &Pubkey) -> u64 {
        self.chain
            .inner
            .lock()
            .await
            .balance_of(owner)
            .await
            .unwrap()
    }

    pub async fn warp(&self, slots: u64) {
        self.chain.inner.lock().await.warp(slots).await.unwrap();
    }

    pub fn journal_path(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join(format!("{name}.redb"))
    }

    pub fn options(&self) -> DaemonOptions {
        DaemonOptions {
            retry_backoff: std::time::Duration::from_millis(200),
            // A test that wants a fisherman asks for one: a random share of passes
            // re-checked would make scenes depend on the keys drawn.
            fisherman_rate: 0.0,
            ..DaemonOptions::default()
        }
    }

    /// A daemon for verifier `v` with the GPU engine and journal `<name>.redb`.
    pub fn daemon(&self, v: usize, name: &str) -> Daemon<SharedChain> {
        self.daemon_with(v, name, Box::new(Arc::clone(&self.gpu)), self.options())
    }

    pub fn daemon_with(
        &self,
        v: usize,
        name: &str,
        auditor: Box<dyn Auditor>,
        options: DaemonOptions,
    ) -> Daemon<SharedChain> {
        Daemon::new(
            self.chain.clone(),
            auditor,
            Arc::clone(&self.store),
            self.verifiers[v].insecure_clone(),
            Journal::open(&self.journal_path(name)).unwrap(),
            Metrics::new(),
            options,
        )
    }

    /// Draws the challenge directly (as any cranker would); returns the drawn verifier.
    pub async fn draw(&self, job: &Pubkey) -> Pubkey {
        let mut chain = self.chain.inner.lock().await;
        let drawn = chain.crank_draw(job).await.unwrap();
        drawn.expect("a verifier is eligible")
    }

    pub fn verifier_index(&self, key: &Pubkey) -> usize {
        self.verifiers
            .iter()
            .position(|k| k.pubkey() == *key)
            .expect("a market verifier")
    }

    pub async fn state(&self, job: &Pubkey) -> Option<assay_market::state::Job> {
        self.chain.inner.lock().await.job(job).await.unwrap()
    }
}

pub fn _unused(_: &Path) {}

/// A test-only lazy verifier: signs "pass" without re-executing anything (and lies about
/// having done so, which `Audit::require_reexecuted` cannot see).
pub struct LazyAuditor;

impl Auditor for LazyAuditor {
    fn audit(
        &self,
        _: &BlobStore,
        _: &Pubkey,
        job: &assay_market::state::Job,
    ) -> Result<assay_node::Audit, assay_node::AuditError> {
        let sample = assay_protocol::sample_indices(&job.seed, job.n_chunks, job.samples.into());
        Ok(assay_node::Audit {
            finding: assay_node::Finding::Pass,
            reexecuted: sample.clone(),
            sample,
            recheck_time: std::time::Duration::ZERO,
            recheck_gpu_time: None,
            total_time: std::time::Duration::ZERO,
        })
    }
}
