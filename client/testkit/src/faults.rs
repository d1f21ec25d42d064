//! RPC faults for testing clients, injected by the embedded endpoint ([`crate::localnet`])
//! or by [`FaultProxy`] in front of any JSON-RPC endpoint (Surfpool, a test validator):
//! a fraction of requests answered 503, answered late, or — for `sendTransaction` —
//! processed with the reply lost; and a log of every transaction sent.

use std::collections::HashSet;
use std::convert::Infallible;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use solana_sdk::signature::Signature;
use solana_sdk::transaction::Transaction;
use tokio::net::TcpListener;
use tokio::sync::Mutex;
use tracing::{debug, info, warn};

/// Faults to inject, for testing clients.
#[derive(Debug, Clone, Default)]
pub struct FaultInjection {
    /// Fraction of requests (0..=1) that fail one of the ways below, chosen at random.
    pub rate: f64,
    /// A late answer waits this long (make it longer than the client's timeout to turn
    /// it into a timeout).
    pub delay: Duration,
    pub seed: u64,
}

/// What happens to one request.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Fault {
    /// Answered 503 without being processed.
    Unavailable,
    /// Processed after [`FaultInjection::delay`].
    Late,
    /// Processed (a `sendTransaction` lands), then answered 503.
    LostReply,
}

/// Draws the fault, if any, of each request (seeded: the same run draws the same faults).
pub(crate) struct FaultDice {
    faults: FaultInjection,
    rng: Mutex<rand::rngs::StdRng>,
}

impl FaultDice {
    pub(crate) fn new(faults: FaultInjection) -> Self {
        let rng = rand::rngs::StdRng::seed_from_u64(faults.seed);
        Self {
            faults,
            rng: Mutex::new(rng),
        }
    }

    async fn roll(&self, method: &str) -> Option<Fault> {
        let rate = self.faults.rate;
        let mut rng = self.rng.lock().await;
        (rate > 0.0 && rng.gen_bool(rate.min(1.0))).then(|| match rng.gen_range(0..3) {
            0 => Fault::Unavailable,
            1 => Fault::Late,
            _ if method == "sendTransaction" => Fault::LostReply,
            _ => Fault::Unavailable,
        })
    }

    /// Draws the fault of a `method` request before it is served: a 503 reply to send
    /// instead (`Err`), or the fault to finish with after a late answer has waited out
    /// its delay (`Ok`: `LostReply` is the caller's to apply once it has processed).
    pub(crate) async fn before(
        &self,
        method: &str,
    ) -> Result<Option<Fault>, Response<Full<Bytes>>> {
        let fault = self.roll(method).await;
        match fault {
            Some(Fault::Unavailable) => {
                debug!(%method, "injected fault: 503");
                return Err(injected_503());
            }
            Some(Fault::Late) => {
                debug!(%method, "injected fault: late answer");
                tokio::time::sleep(self.faults.delay).await;
            }
            _ => {}
        }
        Ok(fault)
    }
}

/// The reply to a request failed by an injected fault.
pub(crate) fn injected_503() -> Response<Full<Bytes>> {
    json_reply(
        StatusCode::SERVICE_UNAVAILABLE,
        json!({"error": "injected fault"}),
    )
}

pub(crate) fn json_reply(status: StatusCode, body: Value) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("static response parts")
}

/// One JSON line per `sendTransaction`: signature, signers, each instruction's program,
/// name (from the IDLs) and accounts, whether the same signature was sent before, and the
/// error the endpoint answered (`null` when it accepted the transaction).
pub(crate) struct TxLog(std::sync::Mutex<std::fs::File>);

impl TxLog {
    pub(crate) fn open(path: &Path) -> std::io::Result<Self> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        Ok(Self(std::sync::Mutex::new(file)))
    }

    pub(crate) fn write(&self, tx: &Transaction, duplicate: bool, result: &Result<(), String>) {
        let keys = &tx.message.account_keys;
        let signers: Vec<String> = keys[..usize::from(tx.message.header.num_required_signatures)]
            .iter()
            .map(ToString::to_string)
            .collect();
        let instructions: Vec<Value> = tx
            .message
            .instructions
            .iter()
            .map(|ix| {
                let program = keys[usize::from(ix.program_id_index)];
                json!({
                    "program": program.to_string(),
                    "name": assay_client::idl::instruction_name(&program, &ix.data),
                    "accounts": ix.accounts.iter().map(|&a| keys[usize::from(a)].to_string()).collect::<Vec<_>>(),
                })
            })
            .collect();
        let line = json!({
            "signature": tx.signatures[0].to_string(),
            "signers": signers,
            "instructions": instructions,
            "duplicate": duplicate,
            "error": result.as_ref().err(),
        });
        if let Ok(mut f) = self.0.lock() {
            let _ = writeln!(f, "{line}");
        }
    }
}

/// A JSON-RPC proxy in front of `upstream` that injects [`FaultInjection`]'s faults and
/// logs every `sendTransaction` with the upstream's answer. A request it forwards is
/// finished even when the client hangs up mid-request (as a validator would finish a
/// transaction it had received), so a killed client's last send still lands and is
/// logged. Dropping it does not stop it; it runs until the runtime ends.
pub struct FaultProxy {
    pub addr: SocketAddr,
}

struct ProxyShared {
    upstream: String,
    http: reqwest::Client,
    dice: FaultDice,
    tx_log: Option<TxLog>,
    /// Signatures of the transactions forwarded so far (a re-send is a duplicate).
    sent: Mutex<HashSet<Signature>>,
}

impl FaultProxy {
    /// Forwards what arrives on `listener` to `upstream` (an `http://` URL).
    pub async fn serve(
        upstream: &str,
        listener: TcpListener,
        faults: FaultInjection,
        tx_log: Option<PathBuf>,
    ) -> std::io::Result<Self> {
        let addr = listener.local_addr()?;
        let shared = Arc::new(ProxyShared {
            upstream: upstream.to_string(),
            http: reqwest::Client::new(),
            dice: FaultDice::new(faults),
            tx_log: tx_log.as_deref().map(TxLog::open).transpose()?,
            sent: Mutex::new(HashSet::new()),
        });
        spawn_http_server(listener, shared, forward);
        info!(%addr, upstream, "fault-injecting JSON-RPC proxy listening");
        Ok(Self { addr })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// Serves HTTP/1 on `listener` until the runtime stops, each request answered by
/// `handle` with `shared`.
pub(crate) fn spawn_http_server<S, F, Fut>(listener: TcpListener, shared: Arc<S>, handle: F)
where
    S: Send + Sync + 'static,
    F: Fn(Arc<S>, Request<Incoming>) -> Fut + Copy + Send + Sync + 'static,
    Fut: std::future::Future<Output = Response<Full<Bytes>>> + Send + 'static,
{
    tokio::spawn(async move {
        loop {
            let (stream, _) = match listener.accept().await {
                Ok(conn) => conn,
                Err(e) => {
                    warn!(error = %e, "accept failed");
                    continue;
                }
            };
            let shared = Arc::clone(&shared);
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| {
                    let shared = Arc::clone(&shared);
                    async move { Ok::<_, Infallible>(handle(shared, req).await) }
                });
                if let Err(e) = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await
                {
                    debug!(error = %e, "connection closed");
                }
            });
        }
    });
}

async fn forward(shared: Arc<ProxyShared>, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let body = match req.into_body().collect().await {
        Ok(body) => body.to_bytes(),
        Err(e) => return json_reply(StatusCode::BAD_REQUEST, json!({ "error": e.to_string() })),
    };
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let method = request
        .get("method")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let fault = match shared.dice.before(&method).await {
        Ok(fault) => fault,
        Err(unavailable) => return unavailable,
    };
    // In its own task: a client that hangs up must not cancel a send on its way.
    let upstream = {
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            let answer = shared
                .http
                .post(&shared.upstream)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await?;
            let status = answer.status();
            let bytes = answer.bytes().await?;
            if method == "sendTransaction" {
                log_send(&shared, &request, &bytes).await;
            }
            Ok::<_, reqwest::Error>((status, bytes))
        })
        .await
    };
    let (status, bytes) = match upstream {
        Ok(Ok(answer)) => answer,
        Ok(Err(e)) => {
            return json_reply(
                StatusCode::BAD_GATEWAY,
                json!({ "error": format!("upstream: {e}") }),
            )
        }
        Err(e) => {
            return json_reply(
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({ "error": format!("proxy task: {e}") }),
            )
        }
    };
    if let Some(Fault::LostReply) = fault {
        debug!("injected fault: sent upstream, reply lost");
        return injected_503();
    }
    Response::builder()
        .status(status.as_u16())
        .header("content-type", "application/json")
        .body(Full::new(bytes))
        .expect("upstream response parts")
}

/// Logs a forwarded `sendTransaction` with the upstream's answer.
async fn log_send(shared: &ProxyShared, request: &Value, answer: &[u8]) {
    let Some(log) = &shared.tx_log else { return };
    let Ok(tx) = crate::localnet::decode_transaction(&request["params"]) else {
        return;
    };
    let duplicate = !shared.sent.lock().await.insert(tx.signatures[0]);
    let answer: Value = serde_json::from_slice(answer).unwrap_or(Value::Null);
    let result = match answer.get("error") {
        Some(error) => Err(error["message"]
            .as_str()
            .map_or_else(|| error.to_string(), str::to_string)),
        None => Ok(()),
    };
    log.write(&tx, duplicate, &result);
}
