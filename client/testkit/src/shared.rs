//! One embedded chain shared by several roles at once — a provider worker, verifier
//! daemons, a scripted adversary — each holding a clone of [`SharedChain`]. Every
//! transaction any of them lands is logged with its events, so a script can tell what the
//! roles did without driving them (`assay demo`).

use std::sync::Arc;

use anchor_lang::prelude::Pubkey;
use assay_client::events::AssayEvent;
use assay_client::ix::Deployment;
use assay_client::{Chain, ChainError};
use async_trait::async_trait;
use solana_sdk::account::Account;
use solana_sdk::instruction::Instruction;
use solana_sdk::signature::{Keypair, Signature};
use solana_sdk::transaction::{Transaction, TransactionError};
use tokio::sync::{Mutex, MutexGuard};

use crate::embedded::LocalChain;

/// Times [`SharedChain`]'s `send` signs anew a transaction that expired unseen.
const RESIGNS: usize = 3;

/// A handle on one [`LocalChain`]; clones share the chain and the event log.
#[derive(Clone)]
pub struct SharedChain {
    inner: Arc<Mutex<LocalChain>>,
    deployment: Deployment,
    payer: Pubkey,
    /// The events of every transaction landed through any clone, in landing order.
    events: Arc<std::sync::Mutex<Vec<AssayEvent>>>,
}

impl SharedChain {
    pub fn new(chain: LocalChain) -> Self {
        Self {
            deployment: chain.deployment,
            payer: chain.fee_payer(),
            inner: Arc::new(Mutex::new(chain)),
            events: Arc::default(),
        }
    }

    /// The chain itself, for what only the embedded bank can do (warp, fund, inspect);
    /// transactions sent through the guard are not logged.
    pub async fn lock(&self) -> MutexGuard<'_, LocalChain> {
        self.inner.lock().await
    }

    /// The events logged since the last call, in landing order.
    pub fn take_events(&self) -> Vec<AssayEvent> {
        std::mem::take(&mut *self.log())
    }

    fn log(&self) -> std::sync::MutexGuard<'_, Vec<AssayEvent>> {
        // A panic elsewhere cannot leave a half-pushed event: the log stays usable.
        self.events
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait]
impl Chain for SharedChain {
    fn deployment(&self) -> Deployment {
        self.deployment
    }

    fn fee_payer(&self) -> Pubkey {
        self.payer
    }

    async fn send(
        &mut self,
        ixs: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<Signature, ChainError> {
        let mut chain = self.inner.lock().await;
        // Signed and sent under one lock, a transaction expires only if the bank moved on
        // meanwhile (a warp): signed anew, as `LocalChain::send` does.
        for _ in 0..RESIGNS {
            let tx = chain.sign(ixs, signers).await?;
            if let Some((signature, events)) = chain.send_signed_with_events(&tx).await? {
                self.log().extend(events);
                return Ok(signature);
            }
        }
        Err(ChainError::Transaction(TransactionError::BlockhashNotFound))
    }

    async fn sign(
        &mut self,
        ixs: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<Transaction, ChainError> {
        self.inner.lock().await.sign(ixs, signers).await
    }

    async fn send_signed(&mut self, tx: &Transaction) -> Result<Option<Signature>, ChainError> {
        let landed = self.inner.lock().await.send_signed_with_events(tx).await?;
        Ok(landed.map(|(signature, events)| {
            self.log().extend(events);
            signature
        }))
    }

    async fn send_with_events(
        &mut self,
        ixs: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<Vec<AssayEvent>, ChainError> {
        let events = self
            .inner
            .lock()
            .await
            .send_with_events(ixs, signers)
            .await?;
        self.log().extend(events.iter().cloned());
        Ok(events)
    }

    async fn account(&mut self, key: &Pubkey) -> Result<Option<Account>, ChainError> {
        self.inner.lock().await.account(key).await
    }

    async fn program_accounts(
        &mut self,
        program: &Pubkey,
        discriminator: &[u8],
    ) -> Result<Vec<(Pubkey, Account)>, ChainError> {
        self.inner
            .lock()
            .await
            .program_accounts(program, discriminator)
            .await
    }

    async fn slot(&mut self) -> Result<u64, ChainError> {
        self.inner.lock().await.slot().await
    }

    async fn signature_status(
        &mut self,
        signature: &Signature,
    ) -> Result<Option<Result<(), TransactionError>>, ChainError> {
        self.inner.lock().await.signature_status(signature).await
    }
}
