//! [`Chain`] over any Solana JSON-RPC endpoint (`--url`).
//!
//! Transport failures (connection refused, timeouts, 5xx, "node is behind") are retried
//! with exponential backoff. A transaction is signed once and the *same bytes* are resent
//! until its status is known, so a reply lost in transit can never make it land twice; only
//! when its blockhash has expired unseen is a new one built. Conversely, a new send is never
//! byte for byte a transaction that already landed (same instructions under the same
//! blockhash): that is signed again under a newer blockhash, or reported as
//! `AlreadyProcessed` (`RpcChain::fresh`).
//!
//! Confirmation: where the endpoint serves a websocket (by Solana's convention the HTTP
//! port + 1, `RpcOptions::ws_url` to name another), each send first subscribes to its
//! signature (`signatureSubscribe`, confirmed) and is woken by the notification; status
//! polls continue at a slower pace as a fallback. Without a websocket it polls.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anchor_lang::prelude::Pubkey;
use async_trait::async_trait;
use futures_util::StreamExt;
use solana_account_decoder_client_types::UiAccount;
use solana_commitment_config::CommitmentConfig;
use solana_pubsub_client::nonblocking::pubsub_client::PubsubClient;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_rpc_client_api::client_error::{Error as ClientError, ErrorKind as ClientErrorKind};
use solana_rpc_client_api::config::{
    RpcAccountInfoConfig, RpcProgramAccountsConfig, RpcSendTransactionConfig,
    RpcSignatureSubscribeConfig, RpcSimulateTransactionConfig,
};
use solana_rpc_client_api::filter::{Memcmp, RpcFilterType};
use solana_rpc_client_api::request::RpcError;
use solana_rpc_client_api::request::RpcRequest;
use solana_rpc_client_api::response::Response;
use solana_sdk::account::Account;
use solana_sdk::instruction::Instruction;
use solana_sdk::message::AddressLookupTableAccount;
use solana_sdk::signature::{Keypair, Signature, Signer};
use solana_sdk::transaction::{Transaction, TransactionError, VersionedTransaction};
use solana_transaction_status_client_types::UiInstruction;
use tracing::{debug, warn};

use crate::chain::{
    build_transaction, build_v0_transaction, discover_deployment, Chain, ChainError,
};
use crate::events::{decode_event, AssayEvent};
use crate::ix::Deployment;
use crate::lookup;

/// How many times `RpcChain::fresh` waits `confirm_poll` for a blockhash under which
/// a new send is not identical to a processed transaction (20 × 150 ms: several slots).
const FRESH_BLOCKHASH_POLLS: u32 = 20;

/// How patient the client is.
#[derive(Debug, Clone)]
pub struct RpcOptions {
    /// Per-request HTTP timeout.
    pub timeout: Duration,
    /// Attempts per read or send before giving up on transport errors.
    pub attempts: u32,
    /// First backoff; doubles per attempt up to `max_backoff`.
    pub backoff: Duration,
    pub max_backoff: Duration,
    /// How long to wait for a sent transaction to be seen before re-checking its blockhash.
    pub confirm_poll: Duration,
    /// Priority fee on every transaction, micro-lamports per compute unit (0: none).
    pub priority_fee: u64,
    /// The endpoint's websocket; `None`: the HTTP URL's port + 1 ([`websocket_url`]).
    /// Sends confirm by signature subscription there, falling back to polling when it
    /// cannot be reached.
    pub ws_url: Option<String>,
}

/// How many `confirm_poll`s a send that is subscribed to its signature waits between
/// status polls (the notification wakes it earlier).
const SUBSCRIBED_POLL_FACTOR: u32 = 10;
/// How long a signature subscription waits for its notification (a blockhash lives about
/// a minute on a cluster).
const SIGNATURE_WATCH: Duration = Duration::from_secs(90);

/// The websocket URL of a Solana JSON-RPC endpoint by the convention of Solana's CLI and
/// validators: same host, `ws`/`wss` for `http`/`https`, port + 1 when a port is given.
pub fn websocket_url(http_url: &str) -> Option<String> {
    let mut url = url::Url::parse(http_url).ok()?;
    let scheme = match url.scheme() {
        "http" => "ws",
        "https" => "wss",
        _ => return None,
    };
    url.set_scheme(scheme).ok()?;
    if let Some(port) = url.port() {
        url.set_port(Some(port.checked_add(1)?)).ok()?;
    }
    Some(url.to_string())
}

/// How this client has been confirming its sends.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Confirmations {
    /// Sends subscribed to their signature before they went out.
    pub subscribed: u64,
    /// Signature notifications received (each wakes the send waiting for it).
    pub notified: u64,
}

impl Default for RpcOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            attempts: 8,
            backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(3),
            confirm_poll: Duration::from_millis(150),
            priority_fee: 0,
            ws_url: None,
        }
    }
}

/// A chain reached over JSON-RPC, paying fees from `payer`.
pub struct RpcChain {
    client: RpcClient,
    payer: Keypair,
    deployment: Deployment,
    options: RpcOptions,
    /// The websocket client, connected at the first send (`None` inside: unreachable, so
    /// this client polls).
    pubsub: tokio::sync::OnceCell<Option<Arc<PubsubClient>>>,
    subscribed: AtomicU64,
    notified: Arc<AtomicU64>,
    /// The payer's lookup table of the deployment's fixed accounts, once found or made
    /// (for transactions over the packet limit, [`crate::lookup`]).
    lookup_table: tokio::sync::Mutex<Option<AddressLookupTableAccount>>,
}

fn client_error(err: ClientError) -> ChainError {
    if let Some(tx) = err.get_transaction_error() {
        return ChainError::Transaction(tx);
    }
    // A validator's answer to a transaction over the packet limit ("base64 encoded …
    // too large: 1401 bytes (max: encoded/raw 1644/1232)"): sending it again cannot help.
    if let ClientErrorKind::RpcError(RpcError::RpcResponseError { message, .. }) = err.kind() {
        if message.contains("too large") {
            return ChainError::TooLarge(message.clone());
        }
    }
    // The whole cause chain ("error sending request …: tcp connect error: Connection
    // refused"), not only its first line.
    let mut text = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        let line = cause.to_string();
        if !text.contains(&line) {
            text = format!("{text}: {line}");
        }
        source = cause.source();
    }
    ChainError::Client(text)
}

impl RpcChain {
    /// Connects to `url`, reading the deployment (mint, token program, treasury) from the
    /// market config on chain.
    pub async fn connect(
        url: &str,
        payer: Keypair,
        options: RpcOptions,
    ) -> Result<Self, ChainError> {
        let unknown = Deployment {
            mint: Pubkey::default(),
            token_program: Pubkey::default(),
            treasury: Pubkey::default(),
        };
        let mut chain = Self::with_deployment(url, payer, options, unknown);
        chain.deployment = discover_deployment(&mut chain).await?;
        Ok(chain)
    }

    /// A client for `url` that takes `deployment` as given instead of reading it from the
    /// market config (which does not exist yet while a deployment is being set up).
    pub fn with_deployment(
        url: &str,
        payer: Keypair,
        options: RpcOptions,
        deployment: Deployment,
    ) -> Self {
        let client = RpcClient::new_with_timeout_and_commitment(
            url.to_string(),
            options.timeout,
            CommitmentConfig::confirmed(),
        );
        Self::from_client(client, payer, options, deployment)
    }

    fn from_client(
        client: RpcClient,
        payer: Keypair,
        options: RpcOptions,
        deployment: Deployment,
    ) -> Self {
        Self {
            client,
            payer,
            deployment,
            options,
            pubsub: tokio::sync::OnceCell::new(),
            subscribed: AtomicU64::new(0),
            notified: Arc::default(),
            lookup_table: tokio::sync::Mutex::new(None),
        }
    }

    /// How the transactions this client landed were confirmed.
    pub fn confirmations(&self) -> Confirmations {
        Confirmations {
            subscribed: self.subscribed.load(Ordering::Relaxed),
            notified: self.notified.load(Ordering::Relaxed),
        }
    }

    /// The websocket client, connecting at the first call.
    async fn pubsub(&self) -> Option<Arc<PubsubClient>> {
        self.pubsub
            .get_or_init(|| async {
                let url = self
                    .options
                    .ws_url
                    .clone()
                    .or_else(|| websocket_url(&self.client.url()))?;
                match tokio::time::timeout(self.options.timeout, PubsubClient::new(url.as_str()))
                    .await
                {
                    Ok(Ok(client)) => {
                        debug!(%url, "confirming by websocket signature subscriptions");
                        Some(Arc::new(client))
                    }
                    Ok(Err(e)) => {
                        debug!(%url, error = %e, "no websocket; confirming by polling");
                        None
                    }
                    Err(_) => {
                        debug!(%url, "websocket connect timed out; confirming by polling");
                        None
                    }
                }
            })
            .await
            .clone()
    }

    /// Subscribes to `signature`'s confirmation before it is sent; the receiver fires
    /// when the notification arrives. `None`: no websocket, or the subscription failed.
    async fn watch(&self, signature: &Signature) -> Option<tokio::sync::oneshot::Receiver<()>> {
        let pubsub = self.pubsub().await?;
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        let (done_tx, done_rx) = tokio::sync::oneshot::channel();
        let signature = *signature;
        let notified = Arc::clone(&self.notified);
        tokio::spawn(async move {
            let config = RpcSignatureSubscribeConfig {
                commitment: Some(CommitmentConfig::confirmed()),
                enable_received_notification: Some(false),
            };
            let (mut stream, unsubscribe) =
                match pubsub.signature_subscribe(&signature, Some(config)).await {
                    Ok(subscription) => subscription,
                    Err(e) => {
                        debug!(%signature, error = %e, "signature subscription failed; polling");
                        let _ = ready_tx.send(false);
                        return;
                    }
                };
            let _ = ready_tx.send(true);
            if let Ok(Some(_)) = tokio::time::timeout(SIGNATURE_WATCH, stream.next()).await {
                notified.fetch_add(1, Ordering::Relaxed);
                let _ = done_tx.send(());
            }
            drop(stream);
            unsubscribe().await;
        });
        match tokio::time::timeout(self.options.timeout, ready_rx).await {
            Ok(Ok(true)) => {
                self.subscribed.fetch_add(1, Ordering::Relaxed);
                Some(done_rx)
            }
            _ => None,
        }
    }

    pub fn url(&self) -> String {
        self.client.url()
    }

    /// The landed transactions that named `address` (at most the newest `limit`), oldest
    /// first, each with the Assay events it emitted: the story of an account, readable
    /// after it has closed (`getSignaturesForAddress` + `getTransaction`; the endpoint must
    /// keep transaction history, as validators and `assay localnet` do).
    pub async fn history(
        &self,
        address: &Pubkey,
        limit: usize,
    ) -> Result<Vec<HistoryEntry>, ChainError> {
        let params = serde_json::json!([
            address.to_string(),
            {"limit": limit.clamp(1, 1000), "commitment": "confirmed"}
        ]);
        let listed: Vec<serde_json::Value> = self
            .retry("getSignaturesForAddress", || {
                self.client
                    .send(RpcRequest::GetSignaturesForAddress, params.clone())
            })
            .await?;
        let mut entries = Vec::with_capacity(listed.len());
        // Newest first on the wire.
        for item in listed.iter().rev() {
            let Some(signature) = item["signature"].as_str() else {
                continue;
            };
            let params = serde_json::json!([
                signature,
                {"encoding": "json", "commitment": "confirmed", "maxSupportedTransactionVersion": 0}
            ]);
            let tx: serde_json::Value = self
                .retry("getTransaction", || {
                    self.client.send(RpcRequest::GetTransaction, params.clone())
                })
                .await?;
            if tx.is_null() {
                continue;
            }
            entries.push(HistoryEntry {
                signature: signature
                    .parse()
                    .map_err(|e| ChainError::Client(format!("signature {signature}: {e}")))?,
                slot: tx["slot"].as_u64().unwrap_or_default(),
                failed: !tx["meta"]["err"].is_null(),
                events: transaction_events(&tx),
                commit: committed_result(&tx),
            });
        }
        Ok(entries)
    }

    pub fn payer(&self) -> &Keypair {
        &self.payer
    }

    /// Runs `call` until it succeeds, fails for a reason that retrying cannot fix, or the
    /// attempts run out.
    async fn retry<T, F, Fut>(&self, what: &str, mut call: F) -> Result<T, ChainError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, ClientError>>,
    {
        let mut backoff = self.options.backoff;
        let mut attempt = 1;
        loop {
            match call().await.map_err(client_error) {
                Err(err) if err.is_transient() && attempt < self.options.attempts => {
                    warn!(%what, attempt, error = %err, "RPC call failed; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(self.options.max_backoff);
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// Sends a signed transaction until its fate is known. `Ok(None)`: its blockhash
    /// expired before anyone saw it, so it can never land and may be signed anew.
    async fn submit(&self, tx: &VersionedTransaction) -> Result<Option<Signature>, ChainError> {
        /// `confirm_poll`s between re-sends of the same bytes (a node may drop a
        /// transaction).
        const POLLS_PER_SEND: u32 = 20;
        let signature = tx.signatures[0];
        let config = RpcSendTransactionConfig {
            preflight_commitment: Some(CommitmentConfig::processed().commitment),
            ..RpcSendTransactionConfig::default()
        };
        let mut notification = self.watch(&signature).await;
        let mut backoff = self.options.backoff;
        let mut failures = 0;
        loop {
            match self
                .client
                .send_transaction_with_config(tx, config)
                .await
                .map_err(client_error)
            {
                Ok(_) | Err(ChainError::Transaction(TransactionError::AlreadyProcessed)) => {}
                Err(ChainError::Transaction(TransactionError::BlockhashNotFound)) => {
                    return self.settled(&signature).await
                }
                Err(err @ (ChainError::Transaction(_) | ChainError::TooLarge(_))) => {
                    return Err(err)
                }
                Err(err) => {
                    // The node may have taken it before the reply was lost: the same
                    // bytes go again, which cannot land twice.
                    failures += 1;
                    if failures >= self.options.attempts {
                        return Err(err);
                    }
                    warn!(%signature, error = %err, "sending failed; resending the same transaction");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(self.options.max_backoff);
                    continue;
                }
            }
            let resend_at = Instant::now() + self.options.confirm_poll * POLLS_PER_SEND;
            loop {
                match self.status(&signature).await {
                    Ok(Some(Ok(()))) => return Ok(Some(signature)),
                    Ok(Some(Err(err))) => return Err(ChainError::Transaction(err)),
                    Ok(None) => {}
                    Err(err) => debug!(%signature, error = %err, "status unknown"),
                }
                let valid = self
                    .client
                    .is_blockhash_valid(
                        tx.message.recent_blockhash(),
                        CommitmentConfig::processed(),
                    )
                    .await;
                if let Ok(false) = valid {
                    return self.settled(&signature).await;
                }
                let now = Instant::now();
                if now >= resend_at {
                    break;
                }
                match notification.as_mut() {
                    Some(notified) => {
                        let wait = (self.options.confirm_poll * SUBSCRIBED_POLL_FACTOR)
                            .min(resend_at - now);
                        if tokio::time::timeout(wait, notified).await.is_ok() {
                            // Fired, or the watch ended without a notification: either
                            // way, poll at the normal pace from now on.
                            notification = None;
                        }
                    }
                    None => tokio::time::sleep(self.options.confirm_poll).await,
                }
            }
        }
    }

    /// The fate of a transaction whose blockhash has expired: landed, failed, or never
    /// seen (`Ok(None)`).
    async fn settled(&self, signature: &Signature) -> Result<Option<Signature>, ChainError> {
        match self.status_retried(signature).await? {
            Some(Ok(())) => Ok(Some(*signature)),
            Some(Err(err)) => Err(ChainError::Transaction(err)),
            None => Ok(None),
        }
    }

    /// [`status`](Self::status), retried on transport errors.
    async fn status_retried(
        &self,
        signature: &Signature,
    ) -> Result<Option<Result<(), TransactionError>>, ChainError> {
        let mut last = None;
        for _ in 0..self.options.attempts {
            match self.status(signature).await {
                Err(err) if err.is_transient() => {
                    last = Some(err);
                    tokio::time::sleep(self.options.backoff).await;
                }
                other => return other,
            }
        }
        Err(last.unwrap_or_else(|| ChainError::Client("no attempts".into())))
    }

    async fn status(
        &self,
        signature: &Signature,
    ) -> Result<Option<Result<(), TransactionError>>, ChainError> {
        let statuses = self
            .client
            .get_signature_statuses(std::slice::from_ref(signature))
            .await
            .map_err(client_error)?;
        Ok(statuses
            .value
            .into_iter()
            .next()
            .flatten()
            .map(|s| match s.err {
                Some(err) => Err(err),
                None => Ok(()),
            }))
    }

    async fn signed(
        &self,
        ixs: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<Transaction, ChainError> {
        let blockhash = self
            .retry("getLatestBlockhash", || self.client.get_latest_blockhash())
            .await?;
        build_transaction(
            ixs,
            &self.payer,
            signers,
            blockhash,
            None,
            self.options.priority_fee,
        )
    }

    /// Signs `ixs` for a *new* send. The same instructions and signers under the same
    /// blockhash are byte for byte a transaction the chain may already have processed;
    /// sending that would report the earlier landing as this call's success. So when the
    /// signature already has a status, this waits for a newer blockhash (up to
    /// [`FRESH_BLOCKHASH_POLLS`] × `confirm_poll`) and, if none comes, reports
    /// `AlreadyProcessed` instead of a success that did not happen.
    async fn fresh(
        &self,
        ixs: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<Transaction, ChainError> {
        for _ in 0..FRESH_BLOCKHASH_POLLS {
            let tx = self.signed(ixs, signers).await?;
            if self.status_retried(&tx.signatures[0]).await?.is_none() {
                return Ok(tx);
            }
            debug!(signature = %tx.signatures[0], "identical transaction already processed; waiting for a new blockhash");
            tokio::time::sleep(self.options.confirm_poll).await;
        }
        Err(ChainError::Transaction(TransactionError::AlreadyProcessed))
    }

    /// Submits `first`, signing anew (through `table` when given: a v0 transaction) each
    /// time the previous one expired unseen.
    async fn submit_resigning(
        &self,
        ixs: &[Instruction],
        signers: &[&Keypair],
        first: VersionedTransaction,
        table: Option<&AddressLookupTableAccount>,
    ) -> Result<Signature, ChainError> {
        let mut tx = first;
        for _ in 0..self.options.attempts {
            if let Some(signature) = self.submit(&tx).await? {
                return Ok(signature);
            }
            warn!(signature = %tx.signatures[0], "blockhash expired before the transaction landed; signing again");
            tx = match table {
                None => self.signed(ixs, signers).await?.into(),
                Some(table) => self.signed_v0(ixs, signers, table).await?,
            };
        }
        Err(ChainError::Client(
            "transaction kept expiring unseen".into(),
        ))
    }

    /// Every account owned by `program` whose data holds `bytes` at `offset`.
    async fn program_accounts_matching(
        &self,
        program: &Pubkey,
        offset: usize,
        bytes: &[u8],
    ) -> Result<Vec<(Pubkey, Account)>, ChainError> {
        let config = RpcProgramAccountsConfig {
            filters: Some(vec![RpcFilterType::Memcmp(Memcmp::new_raw_bytes(
                offset,
                bytes.to_vec(),
            ))]),
            account_config: RpcAccountInfoConfig {
                encoding: Some(solana_account_decoder_client_types::UiAccountEncoding::Base64Zstd),
                commitment: Some(CommitmentConfig::confirmed()),
                ..RpcAccountInfoConfig::default()
            },
            ..RpcProgramAccountsConfig::default()
        };
        let accounts = self
            .retry("getProgramAccounts", || {
                self.client
                    .get_program_ui_accounts_with_config(program, config.clone())
            })
            .await?;
        accounts
            .into_iter()
            .map(|(key, ui)| {
                ui.decode::<Account>()
                    .map(|account| (key, account))
                    .ok_or_else(|| ChainError::Decode(key, "undecodable account encoding".into()))
            })
            .collect()
    }

    /// `ixs` as a v0 transaction naming the deployment's fixed accounts through `table`.
    async fn signed_v0(
        &self,
        ixs: &[Instruction],
        signers: &[&Keypair],
        table: &AddressLookupTableAccount,
    ) -> Result<VersionedTransaction, ChainError> {
        let blockhash = self
            .retry("getLatestBlockhash", || self.client.get_latest_blockhash())
            .await?;
        build_v0_transaction(
            ixs,
            &self.payer,
            signers,
            blockhash,
            self.options.priority_fee,
            std::slice::from_ref(table),
        )
    }

    /// Sends `ixs`, which the endpoint refused as a legacy transaction for its size, as a
    /// v0 transaction through the payer's lookup table.
    async fn send_compact(
        &self,
        ixs: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<Signature, ChainError> {
        let table = self.lookup_table().await?;
        let tx = self.signed_v0(ixs, signers, &table).await?;
        debug!(signature = %tx.signatures[0], table = %table.key, "sending as v0 through the lookup table");
        self.submit_resigning(ixs, signers, tx, Some(&table)).await
    }

    /// The payer's lookup table holding [`lookup::deployment_addresses`]: cached, else
    /// found on chain (one made by an earlier run), else created and extended in one
    /// transaction, returned once its addresses resolve (the slot after).
    async fn lookup_table(&self) -> Result<AddressLookupTableAccount, ChainError> {
        let mut cached = self.lookup_table.lock().await;
        if let Some(table) = &*cached {
            return Ok(table.clone());
        }
        let wanted = lookup::deployment_addresses(&self.deployment);
        let owned = self
            .program_accounts_matching(
                &lookup::LOOKUP_TABLE_PROGRAM_ID,
                lookup::AUTHORITY_OFFSET,
                self.payer.pubkey().as_ref(),
            )
            .await?;
        let found = owned
            .into_iter()
            .find_map(|(key, account)| lookup::table_holding(key, &account.data, &wanted));
        let table = match found {
            Some(table) => table,
            None => self.create_lookup_table(&wanted).await?,
        };
        *cached = Some(table.clone());
        Ok(table)
    }

    async fn create_lookup_table(
        &self,
        wanted: &[Pubkey],
    ) -> Result<AddressLookupTableAccount, ChainError> {
        use solana_address_lookup_table_interface::instruction as alt;
        let payer = self.payer.pubkey();
        // The table's address derives from a slot the SlotHashes sysvar holds.
        let recent_slot = self.newest_slot_hash().await?;
        let (create, key) = alt::create_lookup_table(payer, payer, recent_slot);
        let extend = alt::extend_lookup_table(key, payer, Some(payer), wanted.to_vec());
        let tx = self.signed(&[create.clone(), extend.clone()], &[]).await?;
        self.submit_resigning(&[create, extend], &[], tx.into(), None)
            .await?;
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let account = self
                .retry("getAccountInfo", || self.client.get_account(&key))
                .await?;
            let extended = lookup::last_extended_slot(&account.data)
                .ok_or_else(|| ChainError::Decode(key, "not a lookup table".into()))?;
            if self.newest_slot_hash().await? >= extended {
                tracing::info!(table = %key, addresses = wanted.len(), "created the payer's lookup table of the deployment's accounts");
                return lookup::table_holding(key, &account.data, wanted).ok_or_else(|| {
                    ChainError::Decode(key, "lookup table lacks the addresses just added".into())
                });
            }
            if Instant::now() > deadline {
                return Err(ChainError::Client(format!(
                    "lookup table {key} not usable after 60 s"
                )));
            }
            tokio::time::sleep(self.options.confirm_poll).await;
        }
    }

    /// The newest slot in the SlotHashes sysvar: the slot before the current one, as the
    /// programs see it (Surfpool's getSlot counts from a different origin).
    async fn newest_slot_hash(&self) -> Result<u64, ChainError> {
        let key = solana_sdk::sysvar::slot_hashes::ID;
        let account = self
            .retry("getAccountInfo", || self.client.get_account(&key))
            .await?;
        // A bincode Vec<(Slot, Hash)>, newest first: length (u64), then the first slot.
        account
            .data
            .get(8..16)
            .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
            .ok_or_else(|| ChainError::Decode(key, "empty SlotHashes".into()))
    }
}

#[async_trait]
impl Chain for RpcChain {
    fn deployment(&self) -> Deployment {
        self.deployment
    }

    fn fee_payer(&self) -> Pubkey {
        self.payer.pubkey()
    }

    async fn send(
        &mut self,
        ixs: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<Signature, ChainError> {
        let tx = self.fresh(ixs, signers).await?;
        match self.submit_resigning(ixs, signers, tx.into(), None).await {
            Err(ChainError::TooLarge(why)) => {
                debug!(%why, "refused as a legacy transaction for its size");
                self.send_compact(ixs, signers).await
            }
            other => other,
        }
    }

    async fn sign(
        &mut self,
        ixs: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<Transaction, ChainError> {
        self.fresh(ixs, signers).await
    }

    async fn send_signed(&mut self, tx: &Transaction) -> Result<Option<Signature>, ChainError> {
        self.submit(&tx.clone().into()).await
    }

    /// Events come from simulating the transaction (with inner instructions) just before
    /// sending it.
    async fn send_with_events(
        &mut self,
        ixs: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<Vec<AssayEvent>, ChainError> {
        let tx = self.fresh(ixs, signers).await?;
        let config = RpcSimulateTransactionConfig {
            commitment: Some(CommitmentConfig::processed()),
            inner_instructions: true,
            ..RpcSimulateTransactionConfig::default()
        };
        let simulated = self
            .retry("simulateTransaction", || {
                self.client
                    .simulate_transaction_with_config(&tx, config.clone())
            })
            .await?
            .value;
        if let Some(err) = simulated.err {
            return Err(ChainError::Transaction(err.into()));
        }
        let keys = &tx.message.account_keys;
        let events = simulated
            .inner_instructions
            .unwrap_or_default()
            .into_iter()
            .flat_map(|inner| inner.instructions)
            .filter_map(|ix| match ix {
                UiInstruction::Compiled(c) => {
                    let program = keys.get(usize::from(c.program_id_index))?;
                    let data = bs58::decode(&c.data).into_vec().ok()?;
                    decode_event(program, &data)
                }
                UiInstruction::Parsed(_) => None,
            })
            .collect();
        self.submit_resigning(ixs, signers, tx.into(), None).await?;
        Ok(events)
    }

    /// A plain `getAccountInfo` request: the client's own account helpers report every
    /// failure, a refused connection included, as "AccountNotFound" and drop its cause.
    /// Accounts travel as base64+zstd: the 269 KB verifier registry, mostly zeros, is a
    /// few KB on the wire.
    async fn account(&mut self, key: &Pubkey) -> Result<Option<Account>, ChainError> {
        let params = serde_json::json!([
            key.to_string(),
            {"encoding": "base64+zstd", "commitment": "confirmed"}
        ]);
        let response: Response<Option<UiAccount>> = self
            .retry("getAccountInfo", || {
                self.client.send(RpcRequest::GetAccountInfo, params.clone())
            })
            .await?;
        response
            .value
            .map(|ui| {
                ui.decode::<Account>()
                    .ok_or_else(|| ChainError::Decode(*key, "undecodable account encoding".into()))
            })
            .transpose()
    }

    async fn program_accounts(
        &mut self,
        program: &Pubkey,
        discriminator: &[u8],
    ) -> Result<Vec<(Pubkey, Account)>, ChainError> {
        self.program_accounts_matching(program, 0, discriminator)
            .await
    }

    async fn slot(&mut self) -> Result<u64, ChainError> {
        self.retry("getSlot", || self.client.get_slot()).await
    }

    async fn signature_status(
        &mut self,
        signature: &Signature,
    ) -> Result<Option<Result<(), TransactionError>>, ChainError> {
        self.status_retried(signature).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// solana-rpc-client's mock "succeeds" endpoint hands out one blockhash forever and
    /// reports every signature as landed: exactly a chain on which the transaction `send`
    /// would build has already been processed and no newer blockhash comes. `send` must
    /// not call that earlier landing its own success.
    #[tokio::test]
    async fn an_identical_transaction_that_already_landed_is_not_a_new_success() {
        let payer = Keypair::new();
        let mut chain = RpcChain::from_client(
            RpcClient::new_mock("succeeds".to_string()),
            payer.insecure_clone(),
            RpcOptions {
                confirm_poll: Duration::from_millis(1),
                ..RpcOptions::default()
            },
            Deployment {
                mint: Pubkey::new_unique(),
                token_program: anchor_spl::token::ID,
                treasury: Pubkey::new_unique(),
            },
        );
        let ix = anchor_lang::solana_program::system_instruction::transfer(
            &payer.pubkey(),
            &Pubkey::new_unique(),
            1,
        );
        let err = chain
            .send(std::slice::from_ref(&ix), &[])
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                ChainError::Transaction(TransactionError::AlreadyProcessed)
            ),
            "{err}"
        );
        let err = chain.sign(&[ix], &[]).await.unwrap_err();
        assert!(matches!(
            err,
            ChainError::Transaction(TransactionError::AlreadyProcessed)
        ));
    }
}

/// One landed transaction in an account's history.
#[derive(Debug, Clone)]
pub struct HistoryEntry {
    pub signature: Signature,
    pub slot: u64,
    /// It landed with an error (fees paid, nothing else changed).
    pub failed: bool,
    /// The Assay events its inner instructions carry (`emit_cpi!`), in order.
    pub events: Vec<AssayEvent>,
    /// The arguments of a `commit_result` among its instructions: the committed root
    /// and the `output_uri`, which no event carries.
    pub commit: Option<assay_market::instructions::CommitResultArgs>,
}

/// The account keys a `getTransaction` result (JSON encoding) indexes: the static keys,
/// then (v0) the lookup tables' writable and read-only addresses.
fn transaction_keys(tx: &serde_json::Value) -> Vec<String> {
    let text_list = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|k| k.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut keys = text_list(&tx["transaction"]["message"]["accountKeys"]);
    keys.extend(text_list(&tx["meta"]["loadedAddresses"]["writable"]));
    keys.extend(text_list(&tx["meta"]["loadedAddresses"]["readonly"]));
    keys
}

/// An instruction of a `getTransaction` result (JSON encoding): its program and data.
fn program_and_data(keys: &[String], ix: &serde_json::Value) -> Option<(Pubkey, Vec<u8>)> {
    let index = usize::try_from(ix["programIdIndex"].as_u64()?).ok()?;
    let program: Pubkey = keys.get(index)?.parse().ok()?;
    let data = bs58::decode(ix["data"].as_str()?).into_vec().ok()?;
    Some((program, data))
}

/// The arguments of the first market `commit_result` among the transaction's top-level
/// instructions.
fn committed_result(
    tx: &serde_json::Value,
) -> Option<assay_market::instructions::CommitResultArgs> {
    use anchor_lang::{AnchorDeserialize, Discriminator};
    let discriminator = assay_market::instruction::CommitResult::DISCRIMINATOR;
    let keys = transaction_keys(tx);
    tx["transaction"]["message"]["instructions"]
        .as_array()?
        .iter()
        .filter_map(|ix| program_and_data(&keys, ix))
        .find(|(program, data)| *program == assay_market::ID && data.starts_with(discriminator))
        .and_then(|(_, data)| {
            assay_market::instruction::CommitResult::try_from_slice(&data[discriminator.len()..])
                .ok()
        })
        .map(|ix| ix.args)
}

/// The Assay events in a `getTransaction` result (JSON encoding): inner instructions whose
/// program is one of ours and whose data is an event.
fn transaction_events(tx: &serde_json::Value) -> Vec<AssayEvent> {
    let keys = transaction_keys(tx);
    let inner = tx["meta"]["innerInstructions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    inner
        .iter()
        .flat_map(|set| set["instructions"].as_array().cloned().unwrap_or_default())
        .filter_map(|ix| {
            let (program, data) = program_and_data(&keys, &ix)?;
            decode_event(&program, &data)
        })
        .collect()
}
