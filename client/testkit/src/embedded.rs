//! An embedded Solana bank with both Assay programs, for the demo, tests and local use.
//!
//! The bank is real (solana-program-test): accounts, rent, signatures, PDAs and CPIs are
//! checked by the runtime, System, SPL Token, Token-2022 and Associated Token are the real
//! programs (the SPL ones as shipped SBF binaries). Our two programs run either natively
//! (their entrypoints compiled into this binary: the default, no build step) or as the SBF
//! shared objects `scripts/sbf/build.sh` builds, loaded by the BPF loader and executed by
//! the SBF virtual machine with compute-unit metering and the 4 KiB stack frame
//! ([`ProgramMode`]; `ASSAY_PROGRAMS=sbf` selects it).

// solana-program-test 3.1 marks its API "unstable" (deprecated) ahead of 4.0; it is the
// supported way to host a bank in-process.
#![allow(deprecated)]

use anchor_lang::prelude::{AccountInfo, Pubkey};
use anchor_lang::solana_program::entrypoint::ProgramResult;
use assay_market::state::DrawSeed;
use solana_program_binaries::bpf_loader_upgradeable_program_accounts;
use solana_program_test::{processor, BanksClientError, ProgramTest, ProgramTestContext};
use solana_sdk::account::Account;
use solana_sdk::instruction::Instruction;
use solana_sdk::rent::Rent;
use solana_sdk::signature::{Keypair, Signer};
use solana_sdk::transaction::{Transaction, TransactionError};

use std::collections::BTreeSet;

use async_trait::async_trait;
use solana_sdk::hash::Hash;
use solana_sdk::signature::Signature;

use assay_client::chain::{build_transaction, Chain};
use assay_client::events::{decode_event, AssayEvent};
use assay_client::ix::Deployment;

/// Most cranks [`LocalChain::ready_draw`] and [`LocalChain::crank_committee`] send before
/// giving up (each re-arm starts a fresh seed slot).
const MAX_DRAW_CRANKS: usize = 8;

/// Most times [`Chain::send`] re-signs a transaction whose blockhash expired unprocessed.
const MAX_EXPIRED_RESIGNS: usize = 3;

/// How often a transaction the bank refused with `AccountInUse` is tried again. The bank
/// server commits a sent transaction on its own thread and reports it processed before
/// that thread releases its account locks, so a transaction sent right after one on the
/// same accounts can, rarely, find them still locked (seen once in the compute-unit
/// bench). A refused transaction was not executed: trying it again is safe.
const ACCOUNT_IN_USE_RETRIES: u32 = 50;

/// The bank's answer to `attempt` (a transaction sent or simulated), tried again after a
/// pause while its result (read by `result`) is `AccountInUse`, up to
/// [`ACCOUNT_IN_USE_RETRIES`] times.
async fn unless_account_in_use<T, F, Fut>(
    mut attempt: F,
    result: impl Fn(&T) -> Option<&Result<(), TransactionError>>,
) -> Result<T, ChainError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, BanksClientError>>,
{
    for _ in 0..ACCOUNT_IN_USE_RETRIES {
        let answer = attempt().await.map_err(bank_error)?;
        if !matches!(result(&answer), Some(Err(TransactionError::AccountInUse))) {
            return Ok(answer);
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    attempt().await.map_err(bank_error)
}

/// Bridges Anchor's `entry` (one `'info` lifetime for everything) to the harness's
/// processor signature. The bank keeps the account slice alive for the whole call.
fn stake_entry(program_id: &Pubkey, accounts: &[AccountInfo], data: &[u8]) -> ProgramResult {
    // SAFETY: only lifetimes change; the slice outlives this call.
    let accounts: &[AccountInfo] = unsafe { std::mem::transmute(accounts) };
    assay_stake::entry(program_id, accounts, data)
}

fn market_entry(program_id: &Pubkey, accounts: &[AccountInfo], data: &[u8]) -> ProgramResult {
    // SAFETY: as above.
    let accounts: &[AccountInfo] = unsafe { std::mem::transmute(accounts) };
    assay_market::entry(program_id, accounts, data)
}

/// A `ProgramTest` with both programs registered as `mode` says.
pub fn program_test(mode: &ProgramMode) -> Result<ProgramTest, ChainError> {
    let mut test = ProgramTest::default();
    match mode {
        ProgramMode::Native => {
            test.prefer_bpf(false);
            test.add_program("assay_stake", assay_stake::ID, processor!(stake_entry));
            test.add_program("assay_market", assay_market::ID, processor!(market_entry));
        }
        ProgramMode::Sbf(dir) => {
            for (name, id) in [
                ("assay_stake", assay_stake::ID),
                ("assay_market", assay_market::ID),
            ] {
                let path = dir.join(format!("{name}.so"));
                let elf = std::fs::read(&path).map_err(|e| {
                    ChainError::Client(format!(
                        "{}=sbf: cannot read {} ({e}); build it with scripts/sbf/build.sh",
                        ProgramMode::VAR,
                        path.display()
                    ))
                })?;
                // As a cluster holds a deployed program: the upgradeable loader's small
                // program account and its ProgramData. (The loader v2 kept the whole ELF in
                // the program account, and a CPI that names a program among its accounts
                // pays for its data: 2,801 units for every stake CPI's event `program`.)
                for (address, account) in
                    bpf_loader_upgradeable_program_accounts(&id, &elf, &Rent::default())
                {
                    test.add_genesis_account(address, account);
                }
            }
        }
    }
    Ok(test)
}

pub use assay_client::chain::ChainError;
pub use assay_client::deploy::{
    LocalSetup, ProgramMode, TokenFlavor, DEFAULT_DRAW_WINDOW_SLOTS, DEFAULT_EPOCH_SLOTS,
};

/// The bank's error as the SDK's [`ChainError`].
pub fn bank_error(err: BanksClientError) -> ChainError {
    match err {
        BanksClientError::TransactionError(e) => ChainError::Transaction(e),
        BanksClientError::SimulationError { err, .. } => ChainError::Transaction(err),
        other => ChainError::Client(other.to_string()),
    }
}

/// A running local deployment: bank, mint, treasury, both programs configured.
pub struct LocalChain {
    ctx: ProgramTestContext,
    pub deployment: Deployment,
    /// Admin of both configs and mint authority of the payment mint.
    pub admin: Keypair,
    nonce: u64,
    /// How the bank runs the two programs.
    pub programs: ProgramMode,
    /// Every address any transaction has named: the bank has no index by owner, so
    /// [`Chain::program_accounts`] looks among these.
    seen: BTreeSet<Pubkey>,
}

impl LocalChain {
    /// Starts a bank, creates the mint, and initializes both programs (which creates the
    /// treasury vault) as the development deployer.
    pub async fn start(setup: LocalSetup) -> Result<Self, ChainError> {
        let mut chain = Self::boot(&setup).await?;
        chain.initialize(&setup).await?;
        Ok(chain)
    }

    /// A bank with both programs loaded and the payment mint created (the development
    /// deployer, [`assay_client::keys::dev_deployer`], is its authority and holds SOL and a
    /// token account), but neither program initialized.
    pub async fn boot(setup: &LocalSetup) -> Result<Self, ChainError> {
        let programs = match &setup.programs {
            Some(mode) => mode.clone(),
            None => ProgramMode::from_env()?,
        };
        let ctx = program_test(&programs)?.start_with_context().await;
        let admin = assay_client::keys::dev_deployer();
        let mint = Keypair::new();
        let token_program = setup.flavor.program_id();
        let deployment = Deployment {
            mint: mint.pubkey(),
            token_program,
            treasury: assay_client::pda::treasury(),
        };
        let mut chain = Self {
            ctx,
            deployment,
            admin,
            nonce: 0,
            programs,
            seen: BTreeSet::new(),
        };
        let admin_key = chain.admin.pubkey();
        // The registry alone needs ~1.9 SOL of rent.
        chain.airdrop(&admin_key, 100_000_000_000).await?;
        chain
            .create_mint(&mint, token_program, setup.decimals)
            .await?;
        chain.mint_to(&admin_key, 0).await?;
        Ok(chain)
    }

    /// Initializes both programs with `setup`'s parameters, signed by the admin.
    pub async fn initialize(&mut self, setup: &LocalSetup) -> Result<(), ChainError> {
        let admin = self.admin.insecure_clone();
        assay_client::deploy::initialize_programs(self, &admin, setup).await
    }

    pub fn payer(&self) -> &Keypair {
        &self.ctx.payer
    }

    /// How many instructions [`send`](Chain::send) puts in front of the caller's: the
    /// ComputeBudget unit limit and the memo nonce. The caller's first instruction has
    /// this index in the transaction.
    pub const PREPENDED_INSTRUCTIONS: u16 = 2;

    /// Builds and signs a transaction paid by the bank's payer. Keypairs in `signers`
    /// that no instruction needs are ignored; a missing signature is an error.
    ///
    /// The blockhash is the bank's newest: the harness registers a new one every 6.4 ms
    /// of wall time without advancing block height, so a blockhash kept from the last
    /// warp expires after about a second of work (and, in the bank's age arithmetic,
    /// overflows) — on a slow or loaded machine, mid-test.
    async fn transaction(
        &mut self,
        ixs: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<Transaction, ChainError> {
        let blockhash = self
            .ctx
            .banks_client
            .get_latest_blockhash()
            .await
            .map_err(bank_error)?;
        // A memo with a fresh nonce keeps identical instruction lists from colliding with
        // an earlier transaction's signature under the same blockhash.
        self.nonce += 1;
        build_transaction(
            ixs,
            &self.ctx.payer,
            signers,
            blockhash,
            Some(self.nonce),
            0,
        )
    }

    pub async fn airdrop(&mut self, to: &Pubkey, lamports: u64) -> Result<Signature, ChainError> {
        let payer = self.ctx.payer.pubkey();
        let ix = anchor_lang::solana_program::system_instruction::transfer(&payer, to, lamports);
        self.send(&[ix], &[]).await
    }

    /// A new funded user: SOL for fees and rent, a token account holding `tokens`.
    pub async fn new_user(&mut self, tokens: u64) -> Result<Keypair, ChainError> {
        let user = Keypair::new();
        self.airdrop(&user.pubkey(), 1_000_000_000).await?;
        self.mint_to(&user.pubkey(), tokens).await?;
        Ok(user)
    }

    /// Creates and initializes `mint` under `token_program`, with the admin as mint and
    /// freeze authority (as the issuer of USDC holds both).
    pub async fn create_mint(
        &mut self,
        mint: &Keypair,
        token_program: Pubkey,
        decimals: u8,
    ) -> Result<(), ChainError> {
        let admin = self.admin.insecure_clone();
        assay_client::deploy::create_mint(self, &admin, mint, token_program, decimals).await
    }

    /// Mints `amount` of any admin-controlled `mint` to `owner`'s associated token
    /// account, creating the account if needed.
    pub async fn mint_tokens(
        &mut self,
        mint: &Pubkey,
        token_program: &Pubkey,
        owner: &Pubkey,
        amount: u64,
    ) -> Result<(), ChainError> {
        let admin = self.admin.insecure_clone();
        assay_client::deploy::mint_tokens(self, &admin, mint, token_program, owner, amount).await
    }

    /// Mints `amount` of the payment mint to `owner`, creating its token account if needed.
    pub async fn mint_to(&mut self, owner: &Pubkey, amount: u64) -> Result<(), ChainError> {
        let d = self.deployment;
        self.mint_tokens(&d.mint, &d.token_program, owner, amount)
            .await
    }

    /// Advances the bank by `slots` (at least 1).
    pub async fn warp(&mut self, slots: u64) -> Result<(), ChainError> {
        let target = self.slot().await? + slots.max(1);
        self.ctx
            .warp_to_slot(target)
            .map_err(|e| ChainError::Client(format!("{e:?}")))?;
        Ok(())
    }

    /// Overwrites the data of the program account `key` (tests only: a state no sequence
    /// of instructions reaches in reasonable time, such as a counter at its limit).
    pub async fn set_account_data(
        &mut self,
        key: &Pubkey,
        data: Vec<u8>,
    ) -> Result<(), ChainError> {
        let mut account = self
            .account(key)
            .await?
            .ok_or(ChainError::MissingAccount(*key))?;
        account.data = data;
        self.ctx.set_account(key, &account.into());
        Ok(())
    }

    /// Advances the bank to the first slot of the next draw epoch, where every stake
    /// change made so far has reached the draws.
    pub async fn next_epoch(&mut self) -> Result<(), ChainError> {
        let registry = self.registry().await?;
        let slot = self.slot().await?;
        let start = registry.epoch_start(registry.epoch_of(slot) + 1);
        self.warp(start - slot).await
    }

    /// Cranks `job`'s pending verifier draw: waits out the seed slot and sends the
    /// `draw_challenge` naming the predicted verifier. Returns the outcome (the verifier
    /// drawn, or none eligible).
    pub async fn crank_draw(&mut self, job: &Pubkey) -> Result<Option<Pubkey>, ChainError> {
        let ix = self.ready_draw(job).await?;
        let drawn = self.draw_outcome(job).await?.verifier();
        self.send(&[ix], &[]).await?;
        Ok(drawn)
    }

    /// Advances to the first slot where `job`'s pending draw (a round's verifier, or a
    /// committee) can be made: past its seed slot, with a block at or after it. Fails if
    /// the draw window has already passed (the draw lapsed).
    async fn await_draw(
        &mut self,
        job: &Pubkey,
    ) -> Result<assay_client::chain::PendingDraw, ChainError> {
        for _ in 0..MAX_DRAW_CRANKS {
            let state = self.job_account(job).await?;
            let slot = self.slot().await?;
            if slot <= state.seed_slot + 1 {
                self.warp(state.seed_slot + 2 - slot).await?;
            }
            let pending = self.pending_draw(job).await?;
            match pending.seed {
                DrawSeed::Ready(_) => return Ok(pending),
                DrawSeed::Lapsed => {
                    return Err(ChainError::Client(format!(
                        "the draw of {job} lapsed (its window ended at slot {}); send lapse_draw",
                        pending.job.draw_deadline_slot
                    )))
                }
                DrawSeed::Wait => self.warp(1).await?,
            }
        }
        Err(ChainError::Client(format!(
            "no slot hash for the draw of {job} after {MAX_DRAW_CRANKS} slots"
        )))
    }

    /// Advances until `job`'s pending verifier draw can be made in the current slot;
    /// returns the `draw_challenge` that makes it.
    pub async fn ready_draw(&mut self, job: &Pubkey) -> Result<Instruction, ChainError> {
        let state = self.await_draw(job).await?.job;
        let drawn = self.draw_outcome(job).await?.verifier();
        Ok(self.deployment.draw_challenge(job, &state, drawn.as_ref()))
    }

    /// Cranks a contested `job`'s committee draw; returns the committee.
    pub async fn crank_committee(&mut self, job: &Pubkey) -> Result<Vec<Pubkey>, ChainError> {
        let ix = self.ready_committee(job).await?;
        self.send(&[ix], &[]).await?;
        Ok(self.job_account(job).await?.committee)
    }

    /// Advances until a contested `job`'s committee draw can be made in the current slot;
    /// returns the `draw_committee` that makes it.
    pub async fn ready_committee(&mut self, job: &Pubkey) -> Result<Instruction, ChainError> {
        let state = self.await_draw(job).await?.job;
        let seats = self.predict_committee(job).await?.unwrap_or_default();
        Ok(self.deployment.draw_committee(job, &state, &seats))
    }

    /// Advances past `job`'s draw window without drawing and sends `lapse_draw`.
    pub async fn crank_lapse(&mut self, job: &Pubkey) -> Result<(), ChainError> {
        let state = self.job_account(job).await?;
        let slot = self.slot().await?;
        if slot <= state.draw_deadline_slot {
            self.warp(state.draw_deadline_slot + 1 - slot).await?;
        }
        self.send(&[self.deployment.lapse_draw(job, &state)?], &[])
            .await
            .map(drop)
    }

    /// Advances past a Passed `job`'s window and closes it (`close_pass`): the verifier
    /// is paid its fee and both stakes unlock.
    pub async fn crank_close_pass(&mut self, job: &Pubkey) -> Result<(), ChainError> {
        let state = self.job_account(job).await?;
        let slot = self.slot().await?;
        if slot <= state.step_deadline_slot {
            self.warp(state.step_deadline_slot + 1 - slot).await?;
        }
        self.send(&[self.deployment.close_pass(job, &state)?], &[])
            .await?;
        Ok(())
    }

    async fn job_account(&mut self, job: &Pubkey) -> Result<assay_market::state::Job, ChainError> {
        self.job(job).await?.ok_or(ChainError::MissingAccount(*job))
    }

    /// The bank's current blockhash.
    pub async fn latest_blockhash(&mut self) -> Result<Hash, ChainError> {
        self.ctx
            .banks_client
            .get_latest_blockhash()
            .await
            .map_err(bank_error)
    }

    /// Whether `tx` never landed because its blockhash left the bank's queue (the harness
    /// ticks blockhashes on wall time, so a stalled machine can expire a transaction
    /// between signing and processing). Such a transaction can never land later, so
    /// re-signing it with a fresh blockhash cannot apply it twice.
    async fn expired(&mut self, tx: &Transaction) -> Result<bool, ChainError> {
        if self.signature_status(&tx.signatures[0]).await?.is_some() {
            return Ok(false);
        }
        let simulated = self.simulate(tx.clone()).await?;
        Ok(matches!(
            simulated.result,
            Some(Err(TransactionError::BlockhashNotFound))
        ))
    }

    /// Processes `tx`, the `tries`-th signing of its instructions: `Ok(false)` when its
    /// blockhash expired before the bank processed it and it may be signed again (fewer
    /// than [`MAX_EXPIRED_RESIGNS`] re-signs so far); any other failure is the error.
    async fn process_unless_expired(
        &mut self,
        tx: &Transaction,
        tries: usize,
    ) -> Result<bool, ChainError> {
        match self.process(tx.clone()).await {
            Ok(()) => Ok(true),
            Err(err) if tries < MAX_EXPIRED_RESIGNS && self.expired(tx).await? => {
                tracing::debug!(%err, "blockhash expired before processing; re-signing");
                Ok(false)
            }
            Err(err) => Err(err),
        }
    }

    /// Processes a transaction signed elsewhere (the JSON-RPC server's `sendTransaction`).
    pub async fn process(&mut self, tx: Transaction) -> Result<(), ChainError> {
        self.seen.extend(tx.message.account_keys.iter().copied());
        self.ctx
            .banks_client
            .process_transaction(tx)
            .await
            .map_err(bank_error)
    }

    /// Sends `ixs` like [`Chain::send`] and returns the compute units each top-level
    /// instruction consumed (its CPIs included), read from the runtime's
    /// "Program … consumed N of M compute units" log lines. Meaningful for programs that
    /// run as SBF ([`ProgramMode::Sbf`]): natively run programs are not metered. With
    /// `ASSAY_CU_LOG` set, prints the transaction's program log to stderr.
    pub async fn send_metered(
        &mut self,
        ixs: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<Vec<(Pubkey, u64)>, ChainError> {
        let tx = self.transaction(ixs, signers).await?;
        self.seen.extend(tx.message.account_keys.iter().copied());
        let client = &self.ctx.banks_client;
        let processed = unless_account_in_use(
            || {
                let (client, tx) = (client.clone(), tx.clone());
                async move { client.process_transaction_with_metadata(tx).await }
            },
            |processed| Some(&processed.result),
        )
        .await?;
        processed.result.map_err(ChainError::Transaction)?;
        let logs = processed
            .metadata
            .map(|m| m.log_messages)
            .unwrap_or_default();
        if std::env::var_os("ASSAY_CU_LOG").is_some() {
            // Profiling aid: the program log, with any `sol_log_compute_units` lines.
            eprintln!("{}", logs.join("\n"));
        }
        Ok(top_level_compute_units(&logs))
    }

    /// [`Chain::send_signed`], returning also the events the transaction emitted (none when
    /// it had landed before this call).
    pub async fn send_signed_with_events(
        &mut self,
        tx: &Transaction,
    ) -> Result<Option<(Signature, Vec<AssayEvent>)>, ChainError> {
        let signature = tx.signatures[0];
        if let Some(status) = self.signature_status(&signature).await? {
            return status
                .map(|()| Some((signature, vec![])))
                .map_err(ChainError::Transaction);
        }
        // The bank client reports an expired blockhash only as a generic error on
        // processing; a simulation names it (and gives the events: the bank client returns
        // no inner instructions for processed transactions).
        let simulated = self.simulate(tx.clone()).await?;
        match simulated.result.clone() {
            Some(Err(TransactionError::BlockhashNotFound)) => Ok(None),
            Some(Err(e)) => Err(ChainError::Transaction(e)),
            _ => {
                let events = simulated_events(&tx.message, simulated);
                self.process(tx.clone()).await?;
                Ok(Some((signature, events)))
            }
        }
    }

    /// Simulates a transaction signed elsewhere against the current bank.
    pub async fn simulate(
        &mut self,
        tx: Transaction,
    ) -> Result<solana_banks_interface::BanksTransactionResultWithSimulation, ChainError> {
        let client = &self.ctx.banks_client;
        unless_account_in_use(
            || {
                let (client, tx) = (client.clone(), tx.clone());
                async move { client.simulate_transaction(tx).await }
            },
            |simulated| simulated.result.as_ref(),
        )
        .await
    }

    /// Minimum lamports for a rent-exempt account of `len` bytes.
    pub async fn rent_exempt_minimum(&mut self, len: usize) -> Result<u64, ChainError> {
        Ok(self
            .ctx
            .banks_client
            .get_rent()
            .await
            .map_err(bank_error)?
            .minimum_balance(len))
    }
}

/// `(program, units)` for each top-level instruction, from a transaction's log: the
/// "consumed" line printed at invoke depth 1.
pub fn top_level_compute_units(logs: &[String]) -> Vec<(Pubkey, u64)> {
    let mut depth = 0usize;
    let mut out = vec![];
    for line in logs {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Program", _, "invoke", _] => depth += 1,
            ["Program", _, "success"] | ["Program", _, "failed:", ..] => {
                depth = depth.saturating_sub(1)
            }
            ["Program", program, "consumed", units, "of", _, "compute", "units"] if depth == 1 => {
                if let (Ok(program), Ok(units)) = (program.parse(), units.parse()) {
                    out.push((program, units));
                }
            }
            _ => {}
        }
    }
    out
}

/// The events among a simulated transaction's inner instructions.
fn simulated_events(
    message: &solana_sdk::message::Message,
    simulated: solana_banks_interface::BanksTransactionResultWithSimulation,
) -> Vec<AssayEvent> {
    simulated
        .simulation_details
        .and_then(|d| d.inner_instructions)
        .unwrap_or_default()
        .into_iter()
        .flatten()
        .filter_map(|inner| {
            let program_id = message
                .account_keys
                .get(usize::from(inner.instruction.program_id_index))?;
            decode_event(program_id, &inner.instruction.data)
        })
        .collect()
}

#[async_trait]
impl Chain for LocalChain {
    fn deployment(&self) -> Deployment {
        self.deployment
    }

    fn fee_payer(&self) -> Pubkey {
        self.ctx.payer.pubkey()
    }

    async fn send(
        &mut self,
        ixs: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<Signature, ChainError> {
        for tries in 0.. {
            let tx = self.transaction(ixs, signers).await?;
            if self.process_unless_expired(&tx, tries).await? {
                return Ok(tx.signatures[0]);
            }
        }
        unreachable!("process_unless_expired gives up after MAX_EXPIRED_RESIGNS")
    }

    async fn sign(
        &mut self,
        ixs: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<Transaction, ChainError> {
        self.transaction(ixs, signers).await
    }

    async fn send_signed(&mut self, tx: &Transaction) -> Result<Option<Signature>, ChainError> {
        Ok(self
            .send_signed_with_events(tx)
            .await?
            .map(|(signature, _)| signature))
    }

    /// Events are read from a simulation of the same transaction just before it is
    /// processed (the bank client returns no inner instructions for processed ones).
    async fn send_with_events(
        &mut self,
        ixs: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<Vec<AssayEvent>, ChainError> {
        for tries in 0.. {
            let tx = self.transaction(ixs, signers).await?;
            let simulated = self.simulate(tx.clone()).await?;
            match simulated.result {
                Some(Err(TransactionError::BlockhashNotFound)) if tries < MAX_EXPIRED_RESIGNS => {
                    continue
                }
                Some(Err(err)) => return Err(ChainError::Transaction(err)),
                _ => {}
            }
            let events = simulated_events(&tx.message, simulated);
            if self.process_unless_expired(&tx, tries).await? {
                return Ok(events);
            }
        }
        unreachable!("process_unless_expired gives up after MAX_EXPIRED_RESIGNS")
    }

    async fn account(&mut self, key: &Pubkey) -> Result<Option<Account>, ChainError> {
        Ok(self
            .ctx
            .banks_client
            .get_account(*key)
            .await
            .map_err(bank_error)?)
    }

    async fn program_accounts(
        &mut self,
        program: &Pubkey,
        discriminator: &[u8],
    ) -> Result<Vec<(Pubkey, Account)>, ChainError> {
        let mut found = vec![];
        for key in self.seen.clone() {
            if let Some(account) = self.account(&key).await? {
                if account.owner == *program && account.data.starts_with(discriminator) {
                    found.push((key, account));
                }
            }
        }
        Ok(found)
    }

    async fn slot(&mut self) -> Result<u64, ChainError> {
        Ok(self
            .ctx
            .banks_client
            .get_root_slot()
            .await
            .map_err(bank_error)?)
    }

    async fn signature_status(
        &mut self,
        signature: &Signature,
    ) -> Result<Option<Result<(), TransactionError>>, ChainError> {
        Ok(self
            .ctx
            .banks_client
            .get_transaction_status(*signature)
            .await
            .map_err(bank_error)?
            .map(|status| match status.err {
                Some(err) => Err(err),
                None => Ok(()),
            }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn program_mode_is_native_by_default_and_bad_values_are_named() {
        assert_eq!(ProgramMode::parse(None, None).unwrap(), ProgramMode::Native);
        assert_eq!(
            ProgramMode::parse(Some("sbf"), Some("/x".into())).unwrap(),
            ProgramMode::Sbf("/x".into())
        );
        let err = ProgramMode::parse(Some("bpf"), None).unwrap_err();
        assert!(err
            .to_string()
            .contains("ASSAY_PROGRAMS=bpf: expected `native` or `sbf`"));
        let missing = ProgramMode::Sbf("/nonexistent/assay-sbf".into());
        let err = program_test(&missing).map(drop).unwrap_err().to_string();
        assert!(
            err.contains("/nonexistent/assay-sbf/assay_stake.so")
                && err.contains("scripts/sbf/build.sh"),
            "{err}"
        );
    }

    #[test]
    fn compute_units_are_read_at_depth_one_only() {
        let market = assay_market::ID;
        let stake = assay_stake::ID;
        let budget = solana_sdk_ids::compute_budget::ID;
        let logs: Vec<String> = [
            format!("Program {budget} invoke [1]"),
            format!("Program {budget} success"),
            format!("Program {market} invoke [1]"),
            "Program log: Instruction: AttestPass".into(),
            format!("Program {stake} invoke [2]"),
            format!("Program {stake} consumed 9000 of 180000 compute units"),
            format!("Program {stake} success"),
            format!("Program {market} consumed 42000 of 200000 compute units"),
            format!("Program {market} success"),
            format!("Program {stake} invoke [1]"),
            format!("Program {stake} consumed 700 of 158000 compute units"),
            format!("Program {stake} failed: custom program error: 0x1770"),
        ]
        .into();
        assert_eq!(
            top_level_compute_units(&logs),
            vec![(market, 42_000), (stake, 700)]
        );
    }
}
