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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embedded::LocalSetup;
    use assay_stake::constants::ROLE_PROVIDER;
    use solana_sdk::signature::Signer;

    /// What one role lands, every clone's log shows once: a re-send of the same signed
    /// transaction (a verifier's journaled verdict) lands nothing and logs nothing again.
    #[tokio::test]
    async fn every_clone_sees_each_landed_transactions_events_once() {
        let chain = LocalChain::start(LocalSetup::default()).await.unwrap();
        let mut worker = SharedChain::new(chain);
        let mut daemon = worker.clone();
        let user = worker.lock().await.new_user(1_000_000).await.unwrap();
        let d = worker.deployment();
        worker
            .send(
                &[d.register_operator(&user.pubkey(), ROLE_PROVIDER)],
                &[&user],
            )
            .await
            .unwrap();
        let logged = daemon.take_events();
        assert!(
            matches!(logged.as_slice(), [AssayEvent::OperatorRegistered(_)]),
            "{logged:?}"
        );
        let deposit = daemon
            .sign(&[d.deposit(&user.pubkey(), 1_000)], &[&user])
            .await
            .unwrap();
        let first = daemon.send_signed(&deposit).await.unwrap();
        let again = worker.send_signed(&deposit).await.unwrap();
        assert_eq!(first, Some(deposit.signatures[0]));
        assert_eq!(
            again, first,
            "a landed transaction reports its signature again"
        );
        let logged = worker.take_events();
        assert!(
            matches!(logged.as_slice(), [AssayEvent::StakeDeposited(_)]),
            "{logged:?}"
        );
        assert!(
            daemon.take_events().is_empty(),
            "the log is shared and taken"
        );
    }
}
