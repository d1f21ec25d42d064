//! One interface to a chain running the Assay programs, whatever carries it.
//!
//! Two backends implement [`Chain`]: `assay_testkit::embedded::LocalChain` (an in-process bank,
//! zero setup) and [`crate::rpc::RpcChain`] (any Solana JSON-RPC endpoint). Everything
//! above this trait — the CLI, the provider worker, the verifier daemon — is written once
//! against it.

use std::collections::BTreeMap;

use anchor_lang::prelude::Pubkey;
use anchor_lang::Discriminator;
use assay_market::state::{DrawSeed, Job, MarketConfig};
use assay_stake::state::{Operator, VerifierRegistry};
use async_trait::async_trait;
use solana_sdk::account::Account;
use solana_sdk::instruction::{Instruction, InstructionError};
use solana_sdk::signature::{Keypair, Signature, Signer};
use solana_sdk::transaction::{Transaction, TransactionError};

use crate::events::AssayEvent;
use crate::ix::Deployment;
use crate::{decode_account, pda};

/// Why a chain call did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// The transaction reached the runtime and failed there (nothing changed on chain).
    #[error("transaction failed: {0}")]
    Transaction(TransactionError),
    #[error("cannot sign: {0}")]
    Signing(String),
    /// The bank or RPC node could not be reached or answered with an error; the call may
    /// be retried.
    #[error("chain client error: {0}")]
    Client(String),
    /// The endpoint refused the transaction as over Solana's 1,232-byte packet limit.
    #[error("transaction too large: {0}")]
    TooLarge(String),
    #[error("account {0} not found")]
    MissingAccount(Pubkey),
    #[error("account {0} could not be decoded: {1}")]
    Decode(Pubkey, String),
    /// The instruction could not be built from the job as read: it lacks a party.
    #[error(transparent)]
    MissingParty(#[from] crate::ix::MissingParty),
}

impl ChainError {
    /// The program's custom error code (Anchor: 6000 + variant), if that is what failed.
    pub fn custom_code(&self) -> Option<u32> {
        match self {
            ChainError::Transaction(TransactionError::InstructionError(
                _,
                InstructionError::Custom(code),
            )) => Some(*code),
            _ => None,
        }
    }

    /// True when the failure is the transport's, not the transaction's: retrying the same
    /// call may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, ChainError::Client(_))
    }

    /// A one-line explanation that names `program`'s error (from its IDL) when the
    /// transaction failed with one of its codes.
    pub fn explain(&self, program: &Pubkey) -> String {
        match self
            .custom_code()
            .and_then(|code| crate::idl::program_error(program, code))
        {
            Some(e) => format!("{} ({}: {})", self, e.name, e.msg),
            None => self.to_string(),
        }
    }
}

/// A chain with both Assay programs deployed.
#[async_trait]
pub trait Chain: Send {
    /// Mint, token program and treasury of this deployment.
    fn deployment(&self) -> Deployment;

    /// The account that pays transaction fees.
    fn fee_payer(&self) -> Pubkey;

    /// Sends `ixs` in one transaction paid by [`fee_payer`](Self::fee_payer) and signed
    /// also by those of `signers` the instructions need; returns once it has landed.
    async fn send(
        &mut self,
        ixs: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<Signature, ChainError>;

    /// Signs `ixs` into one transaction under a fresh blockhash, as [`send`](Self::send)
    /// would, without sending it: a caller can record the transaction (and so its
    /// signature) before it can land.
    async fn sign(
        &mut self,
        ixs: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<Transaction, ChainError>;

    /// Sends this exact transaction until its fate is known; never signs anew, so calling
    /// it again with the same transaction (after a lost reply or a restart) cannot land
    /// it twice. `Ok(Some(signature))`: it landed (now or earlier). `Ok(None)`: its
    /// blockhash expired before the chain saw it, so it can never land.
    async fn send_signed(&mut self, tx: &Transaction) -> Result<Option<Signature>, ChainError>;

    /// Like [`send`](Self::send), returning the events the transaction emitted.
    async fn send_with_events(
        &mut self,
        ixs: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<Vec<AssayEvent>, ChainError>;

    async fn account(&mut self, key: &Pubkey) -> Result<Option<Account>, ChainError>;

    /// Every account owned by `program` whose data starts with `discriminator`.
    async fn program_accounts(
        &mut self,
        program: &Pubkey,
        discriminator: &[u8],
    ) -> Result<Vec<(Pubkey, Account)>, ChainError>;

    /// The current slot.
    async fn slot(&mut self) -> Result<u64, ChainError>;

    /// `None` if the chain has not seen the transaction (it may still land while its
    /// blockhash is valid); `Some(result)` once it has been processed.
    async fn signature_status(
        &mut self,
        signature: &Signature,
    ) -> Result<Option<Result<(), TransactionError>>, ChainError>;

    /// The job account, or `None` once it has closed (every terminal state closes it).
    async fn job(&mut self, key: &Pubkey) -> Result<Option<Job>, ChainError> {
        decoded(self.account(key).await?, key)
    }

    /// Every live job, sorted by address.
    async fn jobs(&mut self) -> Result<Vec<(Pubkey, Job)>, ChainError> {
        let mut jobs = vec![];
        for (key, account) in self
            .program_accounts(&assay_market::ID, Job::DISCRIMINATOR)
            .await?
        {
            if let Some(job) = decoded(Some(account), &key)? {
                jobs.push((key, job));
            }
        }
        jobs.sort_by_key(|(key, _)| *key);
        Ok(jobs)
    }

    async fn operator(&mut self, authority: &Pubkey) -> Result<Option<Operator>, ChainError> {
        let key = pda::operator(authority);
        decoded(self.account(&key).await?, &key)
    }

    /// The verifier registry (zero-copy: about 269 KB, so boxed).
    async fn registry(&mut self) -> Result<Box<VerifierRegistry>, ChainError> {
        let key = pda::verifier_registry();
        let account = self
            .account(&key)
            .await?
            .ok_or(ChainError::MissingAccount(key))?;
        crate::decode_registry(&account.data).map_err(|e| ChainError::Decode(key, e))
    }

    /// Every Operator account of the stake program.
    async fn operators(&mut self) -> Result<Vec<Operator>, ChainError> {
        let mut operators = vec![];
        for (key, account) in self
            .program_accounts(&assay_stake::ID, Operator::DISCRIMINATOR)
            .await?
        {
            operators.extend(decoded::<Operator>(Some(account), &key)?);
        }
        Ok(operators)
    }

    /// The authority holding each busy slot of `registry` (the registry keeps a binding
    /// tag per slot, the Operator accounts the keys: [`VerifierRegistry::holders`]).
    async fn slot_holders(
        &mut self,
        registry: &VerifierRegistry,
    ) -> Result<BTreeMap<usize, Pubkey>, ChainError> {
        Ok(registry.holders(&self.operators().await?))
    }

    /// The registry slots a draw of `job` excludes (`authorities`' slots, read from their
    /// Operator accounts as the program reads them).
    async fn excluded_slots(
        &mut self,
        registry: &VerifierRegistry,
        authorities: &[Pubkey],
    ) -> Result<Vec<usize>, ChainError> {
        let mut slots = vec![];
        for authority in authorities {
            if let Some(operator) = self.operator(authority).await? {
                slots.extend(registry.slot_of(&operator));
            }
        }
        Ok(slots)
    }

    async fn stake_config(&mut self) -> Result<assay_stake::state::StakeConfig, ChainError> {
        let key = pda::stake_config();
        decoded(self.account(&key).await?, &key)?.ok_or(ChainError::MissingAccount(key))
    }

    async fn market_config(&mut self) -> Result<MarketConfig, ChainError> {
        let key = pda::market_config();
        decoded(self.account(&key).await?, &key)?.ok_or(ChainError::MissingAccount(key))
    }

    /// Token balance of a token account in base units (0 if it does not exist).
    async fn token_balance(&mut self, token_account: &Pubkey) -> Result<u64, ChainError> {
        Ok(match self.account(token_account).await? {
            Some(account) if account.data.len() >= 72 => {
                u64::from_le_bytes(account.data[64..72].try_into().expect("8 bytes"))
            }
            _ => 0,
        })
    }

    /// Balance of `owner`'s associated token account for the deployment's mint.
    async fn balance_of(&mut self, owner: &Pubkey) -> Result<u64, ChainError> {
        let account = self.deployment().token_account(owner);
        self.token_balance(&account).await
    }

    /// The payment mint's decimals.
    async fn mint_decimals(&mut self) -> Result<u8, ChainError> {
        let mint = self.deployment().mint;
        let account = self
            .account(&mint)
            .await?
            .ok_or(ChainError::MissingAccount(mint))?;
        account
            .data
            .get(44)
            .copied()
            .ok_or_else(|| ChainError::Decode(mint, "mint account too short".into()))
    }

    /// Lamports held by `key` (0 if the account does not exist).
    async fn lamports(&mut self, key: &Pubkey) -> Result<u64, ChainError> {
        Ok(self.account(key).await?.map_or(0, |a| a.lamports))
    }

    /// `job_key`'s pending draw (a round's verifier, or the committee) as a crank landing in
    /// the current slot sees it.
    async fn pending_draw(&mut self, job_key: &Pubkey) -> Result<PendingDraw, ChainError> {
        let job = self
            .job(job_key)
            .await?
            .ok_or(ChainError::MissingAccount(*job_key))?;
        let registry = self.registry().await?;
        let slot = self.slot().await?;
        let data = self.slot_hashes().await?;
        let seed = job.draw_seed(&data, slot);
        Ok(PendingDraw {
            job,
            registry,
            slot,
            seed,
        })
    }

    /// What `draw_challenge` does for `job_key` if it lands in the current slot, computed
    /// with the market program's own functions ([`Job::draw_seed`], [`Job::draw_verifier`])
    /// over the live SlotHashes and registry.
    async fn draw_outcome(&mut self, job_key: &Pubkey) -> Result<DrawOutcome, ChainError> {
        let snapshot = self.draw_snapshot().await?;
        let job = self
            .job(job_key)
            .await?
            .ok_or(ChainError::MissingAccount(*job_key))?;
        self.draw_outcome_in(job_key, job, &snapshot).await
    }

    /// The registry (with who holds its slots), SlotHashes and slot a crank landing now
    /// sees: one read serves the draw predictions of every job (the registry is 269 KB).
    async fn draw_snapshot(&mut self) -> Result<DrawSnapshot, ChainError> {
        let registry = self.registry().await?;
        Ok(DrawSnapshot {
            holders: self.slot_holders(&registry).await?,
            registry,
            slot_hashes: self.slot_hashes().await?,
            slot: self.slot().await?,
        })
    }

    /// [`draw_outcome`](Self::draw_outcome) of `job` (read at `job_key`) over `snapshot`.
    async fn draw_outcome_in(
        &mut self,
        job_key: &Pubkey,
        mut job: Job,
        snapshot: &DrawSnapshot,
    ) -> Result<DrawOutcome, ChainError> {
        Ok(match job.draw_seed(&snapshot.slot_hashes, snapshot.slot) {
            DrawSeed::Wait => DrawOutcome::Wait,
            DrawSeed::Lapsed => DrawOutcome::Lapsed,
            DrawSeed::Ready(hash) => {
                job.seed =
                    assay_protocol::challenge_seed(&job_key.to_bytes(), &hash, &job.result_root);
                let registry = &snapshot.registry;
                let excluded = self
                    .excluded_slots(registry, &job.verifier_draw_excludes())
                    .await?;
                match job.draw_verifier(registry, job.draw_epoch(), &excluded) {
                    Some((slot, _)) => DrawOutcome::Drawn(Some(holder(&snapshot.holders, slot)?)),
                    None => DrawOutcome::Drawn(None),
                }
            }
        })
    }

    /// The operator `draw_challenge` must name for `job_key` if it lands in the current
    /// slot (none when nobody is drawn, or the draw waits or lapsed).
    async fn predict_draw(&mut self, job_key: &Pubkey) -> Result<Option<Pubkey>, ChainError> {
        Ok(self.draw_outcome(job_key).await?.verifier())
    }

    /// The committee `draw_committee` draws for a contested `job_key` if it lands in the
    /// current slot; `None` when it would wait or the draw lapsed.
    async fn predict_committee(
        &mut self,
        job_key: &Pubkey,
    ) -> Result<Option<Vec<Pubkey>>, ChainError> {
        let snapshot = self.draw_snapshot().await?;
        let job = self
            .job(job_key)
            .await?
            .ok_or(ChainError::MissingAccount(*job_key))?;
        self.committee_in(job_key, &job, &snapshot).await
    }

    /// [`predict_committee`](Self::predict_committee) of `job` (read at `job_key`) over
    /// `snapshot`: the seats' authorities, in seat order.
    async fn committee_in(
        &mut self,
        job_key: &Pubkey,
        job: &Job,
        snapshot: &DrawSnapshot,
    ) -> Result<Option<Vec<Pubkey>>, ChainError> {
        let DrawSeed::Ready(hash) = job.draw_seed(&snapshot.slot_hashes, snapshot.slot) else {
            return Ok(None);
        };
        let seed = assay_protocol::committee_seed(&job_key.to_bytes(), &hash, &job.fault_evidence);
        let registry = &snapshot.registry;
        let excluded = self
            .excluded_slots(registry, &job.committee_draw_excludes())
            .await?;
        let seats = job.draw_committee(registry, job.draw_epoch(), &seed, &excluded);
        let seats = seats
            .into_iter()
            .map(|slot| holder(&snapshot.holders, slot))
            .collect::<Result<_, _>>()?;
        Ok(Some(seats))
    }

    /// The SlotHashes sysvar's data.
    async fn slot_hashes(&mut self) -> Result<Vec<u8>, ChainError> {
        let key = solana_sdk::sysvar::slot_hashes::ID;
        Ok(self
            .account(&key)
            .await?
            .ok_or(ChainError::MissingAccount(key))?
            .data)
    }
}

/// The authority holding registry `slot`, per `holders` ([`Chain::slot_holders`]).
fn holder(holders: &BTreeMap<usize, Pubkey>, slot: usize) -> Result<Pubkey, ChainError> {
    holders.get(&slot).copied().ok_or_else(|| {
        ChainError::Client(format!(
            "no Operator account holds registry slot {slot} (the draw picked it)"
        ))
    })
}

/// What every draw prediction of one moment reads ([`Chain::draw_snapshot`]).
pub struct DrawSnapshot {
    pub registry: Box<VerifierRegistry>,
    /// The authority holding each busy slot ([`Chain::slot_holders`]).
    pub holders: BTreeMap<usize, Pubkey>,
    /// The SlotHashes sysvar's data.
    pub slot_hashes: Vec<u8>,
    pub slot: u64,
}

/// A job's pending draw as a crank landing now sees it ([`Chain::pending_draw`]).
pub struct PendingDraw {
    pub job: Job,
    pub registry: Box<VerifierRegistry>,
    /// The current slot.
    pub slot: u64,
    /// Whether the draw is made now, waits, or lapsed.
    pub seed: DrawSeed,
}

/// What a `draw_challenge` landing now would do ([`Chain::draw_outcome`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DrawOutcome {
    /// The seed slot's hash does not exist yet: crank later.
    Wait,
    /// The draw window passed without the draw: `lapse_draw` ends the job.
    Lapsed,
    /// The draw is made: the verifier drawn (it forfeits if it cannot cover the bond),
    /// or none eligible.
    Drawn(Option<Pubkey>),
}

impl DrawOutcome {
    /// The operator a `draw_challenge` must name.
    pub fn verifier(&self) -> Option<Pubkey> {
        match self {
            Self::Drawn(verifier) => *verifier,
            Self::Wait | Self::Lapsed => None,
        }
    }
}

pub(crate) const MEMO_PROGRAM_ID: Pubkey =
    anchor_lang::pubkey!("MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr");

/// A transaction of `ixs` paid by `payer` and signed by those of `signers` the message
/// needs (others are ignored; a missing one is an error). It starts with ComputeBudget
/// instructions: a unit limit from the programs' measured compute units
/// ([`compute::unit_limit`](crate::compute::unit_limit)) and, when `priority_fee` (micro-lamports per
/// unit) is not 0, a unit price. With `nonce`, a memo carrying it follows, so identical
/// instruction lists get distinct signatures.
pub fn build_transaction(
    ixs: &[Instruction],
    payer: &Keypair,
    signers: &[&Keypair],
    blockhash: solana_sdk::hash::Hash,
    nonce: Option<u64>,
    priority_fee: u64,
) -> Result<Transaction, ChainError> {
    let mut body = vec![];
    if let Some(nonce) = nonce {
        body.push(Instruction {
            program_id: MEMO_PROGRAM_ID,
            accounts: vec![],
            data: nonce.to_string().into_bytes(),
        });
    }
    body.extend_from_slice(ixs);
    let mut all = crate::compute::budget_instructions(&body, priority_fee);
    all.extend(body);
    let mut tx = Transaction::new_with_payer(&all, Some(&payer.pubkey()));
    let keys = required_signers(
        &tx.message.account_keys[..usize::from(tx.message.header.num_required_signatures)],
        payer,
        signers,
    );
    tx.try_sign(&keys, blockhash)
        .map_err(|e| ChainError::Signing(e.to_string()))?;
    Ok(tx)
}

/// [`build_transaction`] (without a nonce) as a v0 transaction that names the accounts
/// `tables` hold through them: one byte each instead of 32, for transactions over the
/// 1,232-byte packet limit as legacy ones ([`crate::lookup`]).
pub(crate) fn build_v0_transaction(
    ixs: &[Instruction],
    payer: &Keypair,
    signers: &[&Keypair],
    blockhash: solana_sdk::hash::Hash,
    priority_fee: u64,
    tables: &[solana_sdk::message::AddressLookupTableAccount],
) -> Result<solana_sdk::transaction::VersionedTransaction, ChainError> {
    let mut all = crate::compute::budget_instructions(ixs, priority_fee);
    all.extend_from_slice(ixs);
    let message =
        solana_sdk::message::v0::Message::try_compile(&payer.pubkey(), &all, tables, blockhash)
            .map_err(|e| ChainError::Signing(format!("compiling a v0 message: {e}")))?;
    let required = &message.account_keys[..usize::from(message.header.num_required_signatures)];
    let keys = required_signers(required, payer, signers);
    solana_sdk::transaction::VersionedTransaction::try_new(
        solana_sdk::message::VersionedMessage::V0(message),
        &keys,
    )
    .map_err(|e| ChainError::Signing(e.to_string()))
}

/// `payer`, then those of `signers` the message requires (others are ignored).
fn required_signers<'a>(
    required: &[Pubkey],
    payer: &'a Keypair,
    signers: &[&'a Keypair],
) -> Vec<&'a Keypair> {
    let mut keys: Vec<&Keypair> = vec![payer];
    keys.extend(
        signers
            .iter()
            .copied()
            .filter(|k| required.contains(&k.pubkey()) && k.pubkey() != payer.pubkey()),
    );
    keys
}

/// Decodes an Anchor account read from the chain, naming the address on failure.
fn decoded<T: anchor_lang::AccountDeserialize>(
    account: Option<Account>,
    key: &Pubkey,
) -> Result<Option<T>, ChainError> {
    match account {
        // Lamports anyone sent to the address before the account existed or after it
        // closed: a system account, not ours, so "absent".
        Some(account) if account.owner == solana_sdk_ids::system_program::ID => Ok(None),
        Some(account) => decode_account(&account.data)
            .map(Some)
            .map_err(|e| ChainError::Decode(*key, e.to_string())),
        None => Ok(None),
    }
}

/// The deployment a chain's market config describes: its mint (and the token program
/// that owns it) and treasury.
pub async fn discover_deployment(chain: &mut dyn Chain) -> Result<Deployment, ChainError> {
    let config = chain.market_config().await?;
    let mint = chain
        .account(&config.mint)
        .await?
        .ok_or(ChainError::MissingAccount(config.mint))?;
    Ok(Deployment {
        mint: config.mint,
        token_program: mint.owner,
        treasury: config.treasury,
    })
}
