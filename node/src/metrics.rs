//! Prometheus metrics of the daemon, and the `/metrics` HTTP endpoint (hyper 1).

use std::convert::Infallible;
use std::net::SocketAddr;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Request, Response, StatusCode};
use prometheus::{
    Encoder, Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};
use tokio::net::TcpListener;

/// Every metric the daemon exports (names prefixed `assay_verifier_`).
#[derive(Clone)]
pub struct Metrics {
    pub registry: Registry,
    /// Verdicts landed, by `verdict` (pass, fault).
    pub jobs_verified: IntCounterVec,
    /// Faults found by this verifier's audits (before submission).
    pub faults_found: IntCounter,
    /// Seconds of GPU re-execution per sampled chunk.
    pub chunk_reexec_seconds: Histogram,
    /// Assignments and committee seats waiting for this daemon.
    pub queue_depth: IntGauge,
    /// Chain (RPC) calls that failed, by `call`.
    pub rpc_errors: IntCounterVec,
    /// Audits that failed for the verifier's own reasons (retried with backoff), by `kind`.
    pub audit_errors: IntCounterVec,
    /// Permissionless cranks landed, by `instruction`.
    pub cranks: IntCounterVec,
    /// Committee votes this daemon signed and published.
    pub votes_published: IntCounter,
    /// resolve_contest transactions this daemon relayed successfully.
    pub contests_relayed: IntCounter,
    /// Other verifiers' passes re-checked (`--fisherman`), by `outcome` (held, challenged).
    pub passes_rechecked: IntCounterVec,
    /// Completed polling passes.
    pub ticks: IntCounter,
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new_custom(Some("assay_verifier".into()), None)
            .expect("static registry prefix");
        let counter_vec = |name: &str, help: &str, label: &str| {
            let m = IntCounterVec::new(Opts::new(name, help), &[label]).expect("static metric");
            registry.register(Box::new(m.clone())).expect("unique name");
            m
        };
        let counter = |name: &str, help: &str| {
            let m = IntCounter::new(name, help).expect("static metric");
            registry.register(Box::new(m.clone())).expect("unique name");
            m
        };
        let jobs_verified = counter_vec(
            "jobs_verified_total",
            "Verdicts landed on chain by this verifier",
            "verdict",
        );
        let faults_found = counter("faults_found_total", "Faults found by audits");
        let chunk_reexec_seconds = Histogram::with_opts(
            HistogramOpts::new(
                "chunk_reexec_seconds",
                "GPU re-execution time per sampled chunk",
            )
            .buckets(prometheus::exponential_buckets(0.0001, 2.0, 18).expect("static buckets")),
        )
        .expect("static metric");
        registry
            .register(Box::new(chunk_reexec_seconds.clone()))
            .expect("unique name");
        let queue_depth = IntGauge::new("queue_depth", "Assignments and committee seats pending")
            .expect("static metric");
        registry
            .register(Box::new(queue_depth.clone()))
            .expect("unique name");
        Self {
            jobs_verified,
            faults_found,
            chunk_reexec_seconds,
            queue_depth,
            rpc_errors: counter_vec("rpc_errors_total", "Chain calls that failed", "call"),
            audit_errors: counter_vec(
                "audit_errors_total",
                "Audits that failed for the verifier's own reasons",
                "kind",
            ),
            cranks: counter_vec(
                "cranks_total",
                "Permissionless cranks landed",
                "instruction",
            ),
            votes_published: counter("votes_published_total", "Committee votes published"),
            contests_relayed: counter("contests_relayed_total", "resolve_contest relayed"),
            passes_rechecked: counter_vec(
                "passes_rechecked_total",
                "Other verifiers' passes re-checked within their window",
                "outcome",
            ),
            ticks: counter("ticks_total", "Completed polling passes"),
            registry,
        }
    }

    /// The text exposition of every metric.
    pub fn render(&self) -> String {
        let mut buf = vec![];
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut buf)
            .expect("text encoding");
        String::from_utf8(buf).expect("utf-8 exposition")
    }

    /// Serves `GET /metrics` on `listener` until the runtime stops.
    pub fn serve(&self, listener: TcpListener) -> std::io::Result<SocketAddr> {
        let addr = listener.local_addr()?;
        let metrics = self.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let metrics = metrics.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req: Request<_>| {
                        let metrics = metrics.clone();
                        async move {
                            let (status, body) = if req.uri().path() == "/metrics" {
                                (StatusCode::OK, metrics.render())
                            } else {
                                (StatusCode::NOT_FOUND, "not found\n".to_string())
                            };
                            Ok::<_, Infallible>(
                                Response::builder()
                                    .status(status)
                                    .header("content-type", "text/plain; version=0.0.4")
                                    .body(Full::new(Bytes::from(body)))
                                    .expect("static response parts"),
                            )
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(addr)
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
