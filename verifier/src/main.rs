//! `assay-verifier`: the verifier daemon (see docs/verifier.md).

mod config;

use std::sync::Arc;
use std::time::Duration;

use crate::config::{Capabilities, Config, Flags};
use anyhow::{Context, Result};
use assay_client::rpc::{RpcChain, RpcOptions};
use assay_gpu::{BlobStore, Gpu};
use assay_node::daemon::ShutdownHandle;
use assay_node::journal::Journal;
use assay_node::metrics::Metrics;
use assay_node::{CachedGpu, Daemon, DaemonOptions};
use clap::Parser;
use tracing::{info, warn};

fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    // Mesa's device-select layer warns on every start under lavapipe.
    if std::env::var_os("NODEVICE_SELECT").is_none() {
        std::env::set_var("NODEVICE_SELECT", "1");
    }
    let config = Config::from_flags(&Flags::parse())?;
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?
        .block_on(run(config))
}

async fn run(config: Config) -> Result<()> {
    // Signals first: a SIGTERM during start-up must also stop the daemon cleanly.
    let stop = ShutdownHandle::new();
    let on_signal = stop.clone();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("SIGTERM handler")?;
    tokio::spawn(async move {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => info!("SIGINT: finishing the item in flight, then stopping"),
            _ = term.recv() => info!("SIGTERM: finishing the item in flight, then stopping"),
        }
        on_signal.request();
    });
    let key = assay_client::keys::read_keypair(&config.keypair)?;
    let metrics = Metrics::new();
    if let Some(addr) = config.metrics_addr {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        let bound = metrics.serve(listener)?;
        info!(%bound, "metrics at http://{bound}/metrics");
    }
    let store = Arc::new(
        BlobStore::open(&config.store)
            .with_context(|| format!("cannot open the blob store {}", config.store))?,
    );
    let journal = Journal::open(&config.journal)?;
    let gpu = Gpu::new().context("no GPU adapter")?;
    let capabilities = match config.capabilities {
        Capabilities::Auto => gpu.capabilities(),
        Capabilities::Declared(bits) => bits,
    };
    if capabilities & !gpu.capabilities() != 0 {
        warn!(
            declared = capabilities,
            adapter = gpu.capabilities(),
            "declaring capabilities this adapter lacks: jobs that need them will miss their windows"
        );
    }
    info!(adapter = %gpu.adapter_info().name, capabilities, "GPU engine ready");
    let options = RpcOptions {
        timeout: config.rpc_timeout,
        attempts: config.rpc_attempts,
        priority_fee: config.priority_fee,
        ws_url: config.ws_url.clone(),
        ..RpcOptions::default()
    };
    // The endpoint may be down or flaky at start: keep trying with backoff.
    let mut delay = Duration::from_millis(200);
    let chain = loop {
        if stop.requested() {
            info!("stopped before connecting");
            return Ok(());
        }
        match RpcChain::connect(&config.url, key.insecure_clone(), options.clone()).await {
            Ok(chain) => break chain,
            Err(e) => {
                metrics.rpc_errors.with_label_values(&["connect"]).inc();
                warn!(url = %config.url, error = %e, retry_in = ?delay, "cannot reach the chain");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(config.max_backoff);
            }
        }
    };
    let mut daemon = Daemon::new(
        chain,
        // Bundles and compiled pipelines of the last 32 manifests are reused.
        Box::new(CachedGpu::new(gpu, 32)),
        store,
        key,
        journal,
        metrics,
        DaemonOptions {
            crank: config.crank,
            retry_backoff: config.audit_retry,
            max_retry_backoff: config.max_backoff,
            committee: config.committee,
            fisherman_rate: config.fisherman_rate,
        },
    );
    daemon.use_shutdown(stop);
    match config
        .ws_url
        .clone()
        .or_else(|| assay_client::rpc::websocket_url(&config.url))
    {
        Some(ws_url) => {
            tokio::spawn(assay_node::follow::follow_market(
                ws_url,
                daemon.waker(),
                config.max_backoff,
            ));
        }
        None => info!(url = %config.url, "no websocket URL: polling only"),
    }
    if let Err(e) = daemon.declare_capabilities(capabilities).await {
        warn!(error = %e, "cannot declare capabilities now; the chain keeps the old ones");
    }
    info!(verifier = %daemon.me(), url = %config.url, crank = config.crank, fisherman_rate = config.fisherman_rate, "assay-verifier running");
    daemon.run(config.poll_interval, config.max_backoff).await;
    Ok(())
}
