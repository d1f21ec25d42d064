//! A local Solana JSON-RPC endpoint backed by the embedded bank (`assay localnet`).
//!
//! It speaks the methods the Assay client uses, in the wire format of a real validator
//! (types from the `solana-rpc-client-*` crates), so [`assay_client::rpc::RpcChain`] and any
//! Solana tool that sticks to these methods can drive it: `getLatestBlockhash`,
//! `isBlockhashValid`, `sendTransaction` (with preflight), `simulateTransaction` (with
//! inner instructions), `getSignatureStatuses`, `getAccountInfo`, `getMultipleAccounts`,
//! `getProgramAccounts` (memcmp and dataSize filters), `getBalance`, `getSlot`,
//! `getBlockHeight`, `getMinimumBalanceForRentExemption`, `requestAirdrop`, `getHealth`,
//! `getVersion`, `getGenesisHash`.
//!
//! Slots advance on a timer like a validator's. For tests it can inject faults and write a
//! log of every transaction it was sent ([`crate::faults`]).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anchor_lang::prelude::Pubkey;
use base64::Engine;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use serde_json::{json, Value};
use solana_account_decoder_client_types::{UiAccount, UiAccountData, UiAccountEncoding};
use solana_rpc_client_api::filter::RpcFilterType;
use solana_rpc_client_api::response::RpcSimulateTransactionResult;
use solana_sdk::account::Account;
use solana_sdk::hash::Hash;
use solana_sdk::signature::Signature;
use solana_sdk::transaction::{Transaction, TransactionError};
use solana_transaction_status_client_types::{
    UiCompiledInstruction, UiInnerInstructions, UiInstruction, UiTransactionError,
};
use tokio::net::TcpListener;
use tokio::sync::Mutex;
use tracing::{debug, info, warn};

use crate::embedded::LocalChain;
pub use crate::faults::FaultInjection;
use crate::faults::{injected_503, json_reply, spawn_http_server, Fault, FaultDice, TxLog};
use assay_client::chain::{Chain, ChainError};

/// How many slots a blockhash stays usable, as on mainnet.
pub const BLOCKHASH_VALID_SLOTS: u64 = 150;

/// How the local endpoint behaves.
#[derive(Debug, Clone)]
pub struct LocalnetOptions {
    /// Wall-clock milliseconds per slot; 0 stops the clock (slots then advance only on
    /// `requestAirdrop`-free calls to [`Localnet::warp`]).
    pub slot_ms: u64,
    pub faults: FaultInjection,
    /// Append one JSON line per `sendTransaction` here.
    pub tx_log: Option<PathBuf>,
}

impl Default for LocalnetOptions {
    fn default() -> Self {
        Self {
            slot_ms: 400,
            faults: FaultInjection::default(),
            tx_log: None,
        }
    }
}

struct Shared {
    chain: Mutex<LocalChain>,
    /// Fate of every transaction processed, by signature: slot and error.
    statuses: Mutex<HashMap<Signature, (u64, Option<TransactionError>)>>,
    /// Slot at which each blockhash was first handed out.
    blockhashes: Mutex<HashMap<Hash, u64>>,
    dice: FaultDice,
    options: LocalnetOptions,
    tx_log: Option<TxLog>,
}

/// A running endpoint. Dropping it does not stop the server; it runs until the runtime
/// ends.
pub struct Localnet {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
}

impl Localnet {
    /// Serves `chain` on `listener` until the runtime stops.
    pub async fn serve(
        chain: LocalChain,
        listener: TcpListener,
        options: LocalnetOptions,
    ) -> std::io::Result<Self> {
        let addr = listener.local_addr()?;
        let tx_log = options.tx_log.as_deref().map(TxLog::open).transpose()?;
        let shared = Arc::new(Shared {
            chain: Mutex::new(chain),
            statuses: Mutex::new(HashMap::new()),
            blockhashes: Mutex::new(HashMap::new()),
            dice: FaultDice::new(options.faults.clone()),
            options,
            tx_log,
        });
        if shared.options.slot_ms > 0 {
            let clock = Arc::clone(&shared);
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_millis(clock.options.slot_ms));
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
                loop {
                    tick.tick().await;
                    if let Err(e) = clock.chain.lock().await.warp(1).await {
                        warn!(error = %e, "slot clock could not advance");
                    }
                }
            });
        }
        spawn_http_server(listener, Arc::clone(&shared), handle);
        info!(%addr, "local JSON-RPC endpoint listening");
        Ok(Self { addr, shared })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Runs `f` with the bank (to fund accounts, read state, advance slots).
    pub async fn with_chain<R>(&self, f: impl AsyncFnOnce(&mut LocalChain) -> R) -> R {
        let mut chain = self.shared.chain.lock().await;
        f(&mut chain).await
    }
}

async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let body = match req.into_body().collect().await {
        Ok(body) => body.to_bytes(),
        Err(e) => return json_reply(StatusCode::BAD_REQUEST, json!({ "error": e.to_string() })),
    };
    let request: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return json_reply(
                StatusCode::OK,
                json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32700, "message": format!("parse error: {e}")}}),
            )
        }
    };
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    let method = request
        .get("method")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let params = request.get("params").cloned().unwrap_or(Value::Null);

    let fault = match shared.dice.before(&method).await {
        Ok(fault) => fault,
        Err(unavailable) => return unavailable,
    };
    // The bank work runs in its own task: a client that hangs up mid-request must not
    // cancel it. A cancelled `process` would release the bank's lock while the bank still
    // executes the transaction (the slot clock's warp then races it and the bank
    // deadlocks), and the transaction would land with no status recorded and no log line.
    let outcome = {
        let shared = Arc::clone(&shared);
        let method = method.clone();
        tokio::spawn(async move { dispatch(&shared, &method, &params).await })
            .await
            .unwrap_or_else(|e| Err(rpc_error(-32603, format!("request handler failed: {e}"))))
    };
    if let Some(Fault::LostReply) = fault {
        debug!(%method, "injected fault: processed, reply lost");
        return injected_503();
    }
    let body = match outcome {
        Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
        Err(error) => json!({"jsonrpc": "2.0", "id": id, "error": error}),
    };
    json_reply(StatusCode::OK, body)
}

/// A JSON-RPC error object.
fn rpc_error(code: i64, message: impl Into<String>) -> Value {
    json!({"code": code, "message": message.into()})
}

fn invalid_params(message: impl Into<String>) -> Value {
    rpc_error(-32602, message)
}

fn internal(err: ChainError) -> Value {
    rpc_error(-32603, err.to_string())
}

fn param(params: &Value, index: usize) -> Result<&Value, Value> {
    params
        .get(index)
        .ok_or_else(|| invalid_params(format!("missing parameter {index}")))
}

fn pubkey_param(params: &Value, index: usize) -> Result<Pubkey, Value> {
    param(params, index)?
        .as_str()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| invalid_params(format!("parameter {index} is not a public key")))
}

fn with_context(slot: u64, value: Value) -> Value {
    json!({"context": {"slot": slot, "apiVersion": "3.1.12"}, "value": value})
}

/// The account encoding a request's config (parameter `index`) asks for: base64+zstd, or
/// base64 for anything else.
fn requested_encoding(params: &Value, index: usize) -> UiAccountEncoding {
    match params
        .get(index)
        .and_then(|c| c.get("encoding"))
        .and_then(Value::as_str)
    {
        Some("base64+zstd") => UiAccountEncoding::Base64Zstd,
        _ => UiAccountEncoding::Base64,
    }
}

fn ui_account(account: Account, encoding: UiAccountEncoding) -> Value {
    let space = account.data.len() as u64;
    let data = match encoding {
        UiAccountEncoding::Base64Zstd => {
            zstd::encode_all(account.data.as_slice(), 0).expect("zstd compresses into memory")
        }
        _ => account.data,
    };
    let ui = UiAccount {
        lamports: account.lamports,
        data: UiAccountData::Binary(
            base64::engine::general_purpose::STANDARD.encode(&data),
            encoding,
        ),
        owner: account.owner.to_string(),
        executable: account.executable,
        rent_epoch: account.rent_epoch,
        space: Some(space),
    };
    serde_json::to_value(ui).expect("UiAccount serializes")
}

pub(crate) fn decode_transaction(params: &Value) -> Result<Transaction, Value> {
    let encoded = param(params, 0)?
        .as_str()
        .ok_or_else(|| invalid_params("transaction must be a string"))?;
    let encoding = params
        .get(1)
        .and_then(|c| c.get("encoding"))
        .and_then(Value::as_str)
        .unwrap_or("base58");
    let bytes = match encoding {
        "base64" => base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|e| invalid_params(format!("bad base64: {e}")))?,
        _ => bs58::decode(encoded)
            .into_vec()
            .map_err(|e| invalid_params(format!("bad base58: {e}")))?,
    };
    bincode::deserialize(&bytes).map_err(|e| invalid_params(format!("bad transaction: {e}")))
}

async fn simulate(shared: &Shared, tx: Transaction) -> Result<RpcSimulateTransactionResult, Value> {
    let simulated = shared
        .chain
        .lock()
        .await
        .simulate(tx)
        .await
        .map_err(internal)?;
    let err = match simulated.result {
        Some(Err(err)) => Some(UiTransactionError::from(err)),
        _ => None,
    };
    let details = simulated.simulation_details;
    let inner_instructions = details
        .as_ref()
        .and_then(|d| d.inner_instructions.clone())
        .map(|all| {
            all.into_iter()
                .enumerate()
                .map(|(index, inner)| UiInnerInstructions {
                    index: index as u8,
                    instructions: inner
                        .into_iter()
                        .map(|i| {
                            UiInstruction::Compiled(UiCompiledInstruction::from(
                                &i.instruction,
                                Some(u32::from(i.stack_height)),
                            ))
                        })
                        .collect(),
                })
                .collect()
        });
    Ok(RpcSimulateTransactionResult {
        err,
        logs: details.as_ref().map(|d| d.logs.clone()),
        accounts: None,
        units_consumed: details.as_ref().map(|d| d.units_consumed),
        loaded_accounts_data_size: details.as_ref().map(|d| d.loaded_accounts_data_size),
        return_data: None,
        inner_instructions,
        replacement_blockhash: None,
        fee: None,
        pre_balances: None,
        post_balances: None,
        pre_token_balances: None,
        post_token_balances: None,
        loaded_addresses: None,
    })
}

/// Logs a transaction this endpoint was sent, when it keeps a log.
fn log_transaction(
    shared: &Shared,
    tx: &Transaction,
    duplicate: bool,
    result: &Result<(), String>,
) {
    if let Some(log) = &shared.tx_log {
        log.write(tx, duplicate, result);
    }
}

async fn dispatch(shared: &Shared, method: &str, params: &Value) -> Result<Value, Value> {
    let slot = shared.chain.lock().await.slot().await.map_err(internal)?;
    match method {
        "getHealth" => Ok(json!("ok")),
        "getVersion" => Ok(json!({"solana-core": "3.1.12", "feature-set": 0})),
        "getSlot" | "getBlockHeight" => Ok(json!(slot)),
        "getGenesisHash" => Ok(json!(Hash::default().to_string())),
        "getLatestBlockhash" => {
            let hash = shared
                .chain
                .lock()
                .await
                .latest_blockhash()
                .await
                .map_err(internal)?;
            let first = *shared.blockhashes.lock().await.entry(hash).or_insert(slot);
            Ok(with_context(
                slot,
                json!({"blockhash": hash.to_string(), "lastValidBlockHeight": first + BLOCKHASH_VALID_SLOTS}),
            ))
        }
        "isBlockhashValid" => {
            let hash: Hash = param(params, 0)?
                .as_str()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| invalid_params("not a blockhash"))?;
            let valid = shared
                .blockhashes
                .lock()
                .await
                .get(&hash)
                .is_some_and(|&first| slot <= first + BLOCKHASH_VALID_SLOTS);
            Ok(with_context(slot, json!(valid)))
        }
        "getMinimumBalanceForRentExemption"
        | "getAccountInfo"
        | "getBalance"
        | "getMultipleAccounts"
        | "getProgramAccounts" => read_accounts(shared, method, params, slot).await,
        "getSignatureStatuses" | "simulateTransaction" | "sendTransaction" | "requestAirdrop" => {
            transactions(shared, method, params, slot).await
        }
        other => Err(rpc_error(-32601, format!("Method not found: {other}"))),
    }
}

/// The account reads of [`dispatch`], answered at `slot`.
async fn read_accounts(
    shared: &Shared,
    method: &str,
    params: &Value,
    slot: u64,
) -> Result<Value, Value> {
    match method {
        "getMinimumBalanceForRentExemption" => {
            let len = param(params, 0)?
                .as_u64()
                .ok_or_else(|| invalid_params("length must be a number"))?;
            let lamports = shared
                .chain
                .lock()
                .await
                .rent_exempt_minimum(len as usize)
                .await
                .map_err(internal)?;
            Ok(json!(lamports))
        }
        "getAccountInfo" => {
            let key = pubkey_param(params, 0)?;
            let account = shared
                .chain
                .lock()
                .await
                .account(&key)
                .await
                .map_err(internal)?;
            let encoding = requested_encoding(params, 1);
            Ok(with_context(
                slot,
                account.map_or(Value::Null, |a| ui_account(a, encoding)),
            ))
        }
        "getBalance" => {
            let key = pubkey_param(params, 0)?;
            let lamports = shared
                .chain
                .lock()
                .await
                .lamports(&key)
                .await
                .map_err(internal)?;
            Ok(with_context(slot, json!(lamports)))
        }
        "getMultipleAccounts" => {
            let keys = param(params, 0)?
                .as_array()
                .ok_or_else(|| invalid_params("expected an array of keys"))?;
            let encoding = requested_encoding(params, 1);
            let mut chain = shared.chain.lock().await;
            let mut out = vec![];
            for key in keys {
                let key: Pubkey = key
                    .as_str()
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| invalid_params("not a public key"))?;
                out.push(
                    chain
                        .account(&key)
                        .await
                        .map_err(internal)?
                        .map_or(Value::Null, |a| ui_account(a, encoding)),
                );
            }
            Ok(with_context(slot, Value::Array(out)))
        }
        "getProgramAccounts" => {
            let program = pubkey_param(params, 0)?;
            let config = params.get(1);
            let encoding = requested_encoding(params, 1);
            let filters: Vec<RpcFilterType> = match config.and_then(|c| c.get("filters")) {
                Some(f) if !f.is_null() => serde_json::from_value(f.clone())
                    .map_err(|e| invalid_params(format!("bad filters: {e}")))?,
                _ => vec![],
            };
            let accounts = shared
                .chain
                .lock()
                .await
                .program_accounts(&program, &[])
                .await
                .map_err(internal)?;
            let matching: Vec<Value> = accounts
                .into_iter()
                .filter(|(_, account)| {
                    filters.iter().all(|filter| match filter {
                        RpcFilterType::DataSize(size) => account.data.len() as u64 == *size,
                        RpcFilterType::Memcmp(m) => m.bytes_match(&account.data),
                        RpcFilterType::TokenAccountState => false,
                    })
                })
                .map(|(key, account)| json!({"pubkey": key.to_string(), "account": ui_account(account, encoding)}))
                .collect();
            let with_ctx = config
                .and_then(|c| c.get("withContext"))
                .and_then(Value::as_bool)
                .unwrap_or(false);
            Ok(if with_ctx {
                with_context(slot, Value::Array(matching))
            } else {
                Value::Array(matching)
            })
        }
        other => Err(rpc_error(-32601, format!("Method not found: {other}"))),
    }
}

/// Transactions for [`dispatch`]: sent, simulated, their statuses, airdrops, at `slot`.
async fn transactions(
    shared: &Shared,
    method: &str,
    params: &Value,
    slot: u64,
) -> Result<Value, Value> {
    match method {
        "getSignatureStatuses" => {
            let signatures = param(params, 0)?
                .as_array()
                .ok_or_else(|| invalid_params("expected an array of signatures"))?;
            let statuses = shared.statuses.lock().await;
            let mut out = vec![];
            for s in signatures {
                let signature: Signature = s
                    .as_str()
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| invalid_params("not a signature"))?;
                out.push(match statuses.get(&signature) {
                    Some((landed, err)) => json!({
                        "slot": landed,
                        "confirmations": null,
                        "status": match err { Some(e) => json!({"Err": e}), None => json!({"Ok": null}) },
                        "err": err,
                        "confirmationStatus": "finalized",
                    }),
                    None => Value::Null,
                });
            }
            Ok(with_context(slot, Value::Array(out)))
        }
        "simulateTransaction" => {
            let tx = decode_transaction(params)?;
            let result = simulate(shared, tx).await?;
            Ok(with_context(
                slot,
                serde_json::to_value(result).expect("serializes"),
            ))
        }
        "sendTransaction" => {
            let tx = decode_transaction(params)?;
            let signature = tx.signatures[0];
            if shared.statuses.lock().await.contains_key(&signature) {
                log_transaction(shared, &tx, true, &Ok(()));
                return Ok(json!(signature.to_string()));
            }
            let known = shared
                .blockhashes
                .lock()
                .await
                .get(&tx.message.recent_blockhash)
                .is_some_and(|&first| slot <= first + BLOCKHASH_VALID_SLOTS);
            if !known {
                return Err(preflight_failure(TransactionError::BlockhashNotFound, None));
            }
            let skip_preflight = params
                .get(1)
                .and_then(|c| c.get("skipPreflight"))
                .and_then(Value::as_bool)
                .unwrap_or(false);
            if !skip_preflight {
                let simulated = simulate(shared, tx.clone()).await?;
                if let Some(err) = simulated.err.clone() {
                    let err: TransactionError = err.into();
                    log_transaction(shared, &tx, false, &Err(format!("preflight: {err}")));
                    return Err(preflight_failure(err, Some(simulated)));
                }
            }
            let result = shared.chain.lock().await.process(tx.clone()).await;
            let err = match result {
                Ok(()) => None,
                Err(ChainError::Transaction(err)) => Some(err),
                Err(other) => return Err(internal(other)),
            };
            log_transaction(
                shared,
                &tx,
                false,
                &err.as_ref().map_or(Ok(()), |e| Err(e.to_string())),
            );
            shared.statuses.lock().await.insert(signature, (slot, err));
            Ok(json!(signature.to_string()))
        }
        "requestAirdrop" => {
            let key = pubkey_param(params, 0)?;
            let lamports = param(params, 1)?
                .as_u64()
                .ok_or_else(|| invalid_params("lamports must be a number"))?;
            let mut chain = shared.chain.lock().await;
            let signature = chain.airdrop(&key, lamports).await.map_err(internal)?;
            shared.statuses.lock().await.insert(signature, (slot, None));
            Ok(json!(signature.to_string()))
        }
        other => Err(rpc_error(-32601, format!("Method not found: {other}"))),
    }
}

/// The error a validator returns when preflight simulation fails.
fn preflight_failure(
    err: TransactionError,
    simulated: Option<RpcSimulateTransactionResult>,
) -> Value {
    let message = format!("Transaction simulation failed: {err}");
    let mut data = simulated.map_or_else(
        || json!({"err": null, "logs": [], "accounts": null, "unitsConsumed": 0}),
        |s| serde_json::to_value(s).expect("serializes"),
    );
    data["err"] = serde_json::to_value(UiTransactionError::from(err)).expect("serializes");
    json!({"code": -32002, "message": message, "data": data})
}
