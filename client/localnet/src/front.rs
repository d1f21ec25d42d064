//! The JSON-RPC front `assay localnet` puts before Surfpool: it forwards every request
//! and corrects, on the way, what Surfpool 1.3.1 answers differently from a Solana
//! validator in ways web3.js users hit (docs/client.md, "Surfpool's RPC quirks"):
//!
//! - **Batches.** Surfpool refuses a JSON-RPC batch (`-32600 Only method calls are
//!   supported`), which breaks web3.js `getTransactions` and `getParsedTransactions`. The
//!   front sends each call of a batch on its own and answers the array of replies.
//! - **`getBlock` without an encoding.** Surfpool answers it in the `jsonParsed` shape
//!   (account keys as objects; web3.js `getBlock` throws). A validator's default is
//!   `json`, so the front asks for it when the request names none.
//!
//! Everything else passes through unchanged. The websocket is Surfpool's own: a
//! websocket quirk (`rootSubscribe` refused, notifications carrying the subscription's
//! slot) and `finalized` reads of unfinalized state are documented, not corrected.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{json, Value};
use tracing::{debug, warn};

/// Serves the front on `listener`, forwarding to `upstream`, on a thread of its own until
/// the process exits.
pub fn spawn(listener: std::net::TcpListener, upstream: String) -> std::io::Result<SocketAddr> {
    let addr = listener.local_addr()?;
    listener.set_nonblocking(true)?;
    std::thread::Builder::new()
        .name("rpc-front".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(e) => return warn!(error = %e, "rpc front: no runtime"),
            };
            runtime.block_on(serve(listener, upstream));
        })?;
    Ok(addr)
}

async fn serve(listener: std::net::TcpListener, upstream: String) {
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(listener) => listener,
        Err(e) => return warn!(error = %e, "rpc front: cannot listen"),
    };
    let front = Arc::new(Front {
        upstream,
        http: reqwest::Client::new(),
    });
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(conn) => conn,
            Err(e) => {
                warn!(error = %e, "rpc front: accept failed");
                continue;
            }
        };
        let front = Arc::clone(&front);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let front = Arc::clone(&front);
                async move { Ok::<_, Infallible>(front.handle(req).await) }
            });
            if let Err(e) = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await
            {
                debug!(error = %e, "rpc front: connection closed");
            }
        });
    }
}

struct Front {
    upstream: String,
    http: reqwest::Client,
}

impl Front {
    async fn handle(&self, req: Request<Incoming>) -> Response<Full<Bytes>> {
        if req.method() == Method::OPTIONS {
            // A browser's preflight: any origin may call a local development chain.
            return reply(StatusCode::NO_CONTENT, Bytes::new());
        }
        let body = match req.into_body().collect().await {
            Ok(body) => body.to_bytes(),
            Err(e) => return error_reply(StatusCode::BAD_REQUEST, &e.to_string()),
        };
        let Ok(request) = serde_json::from_slice::<Value>(&body) else {
            // Not JSON: Surfpool says what is wrong with it.
            return self.forward(body).await;
        };
        match request {
            Value::Array(calls) if calls.is_empty() => reply(
                StatusCode::OK,
                json!({"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid request: empty batch"}, "id": null}).to_string().into(),
            ),
            Value::Array(calls) => {
                let mut answers = Vec::with_capacity(calls.len());
                for call in calls {
                    let is_notification = call.get("id").is_none();
                    let answer = self.forward(corrected(call).to_string().into()).await;
                    let bytes = answer.into_body().collect().await.map(|b| b.to_bytes());
                    let value = bytes
                        .ok()
                        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
                        .unwrap_or_else(|| json!({"jsonrpc": "2.0", "error": {"code": -32603, "message": "upstream answered no JSON"}, "id": null}));
                    if !is_notification {
                        answers.push(value);
                    }
                }
                reply(StatusCode::OK, Value::Array(answers).to_string().into())
            }
            call => self.forward(corrected(call).to_string().into()).await,
        }
    }

    async fn forward(&self, body: Bytes) -> Response<Full<Bytes>> {
        let answer = self
            .http
            .post(&self.upstream)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await;
        match answer {
            Ok(answer) => {
                let status = StatusCode::from_u16(answer.status().as_u16())
                    .unwrap_or(StatusCode::BAD_GATEWAY);
                match answer.bytes().await {
                    Ok(bytes) => reply(status, bytes),
                    Err(e) => error_reply(StatusCode::BAD_GATEWAY, &format!("surfpool: {e}")),
                }
            }
            Err(e) => error_reply(StatusCode::BAD_GATEWAY, &format!("surfpool: {e}")),
        }
    }
}

/// `call` with what Surfpool answers differently from a validator corrected: a
/// `getBlock` naming no encoding asks for `json`, a validator's default.
pub fn corrected(mut call: Value) -> Value {
    if call.get("method").and_then(Value::as_str) != Some("getBlock") {
        return call;
    }
    let Some(params) = call.get_mut("params").and_then(Value::as_array_mut) else {
        return call;
    };
    match params.get_mut(1) {
        None => params.push(json!({"encoding": "json"})),
        Some(Value::Object(config)) => {
            config
                .entry("encoding")
                .or_insert_with(|| Value::String("json".into()));
        }
        // The old form names the encoding as a string; null means the defaults.
        Some(Value::Null) => params[1] = json!({"encoding": "json"}),
        Some(_) => {}
    }
    call
}

fn reply(status: StatusCode, body: Bytes) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("access-control-allow-origin", "*")
        .header(
            "access-control-allow-headers",
            "content-type, solana-client",
        )
        .header("access-control-allow-methods", "POST, OPTIONS")
        .body(Full::new(body))
        .expect("static response parts")
}

fn error_reply(status: StatusCode, message: &str) -> Response<Full<Bytes>> {
    reply(status, json!({ "error": message }).to_string().into())
}

#[cfg(test)]
mod tests {
    use super::corrected;
    use serde_json::json;

    #[test]
    fn get_block_without_an_encoding_asks_for_json_and_nothing_else_changes() {
        let cases = [
            (json!([5]), json!([5, {"encoding": "json"}])),
            (json!([5, null]), json!([5, {"encoding": "json"}])),
            (
                json!([5, {"maxSupportedTransactionVersion": 0}]),
                json!([5, {"maxSupportedTransactionVersion": 0, "encoding": "json"}]),
            ),
            (
                json!([5, {"encoding": "base64"}]),
                json!([5, {"encoding": "base64"}]),
            ),
            (json!([5, "jsonParsed"]), json!([5, "jsonParsed"])),
        ];
        for (params, expected) in cases {
            let call = json!({"jsonrpc": "2.0", "id": 1, "method": "getBlock", "params": params});
            assert_eq!(corrected(call)["params"], expected);
        }
        let other = json!({"jsonrpc": "2.0", "id": 1, "method": "getSlot"});
        assert_eq!(corrected(other.clone()), other);
    }
}
