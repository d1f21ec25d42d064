//! The daemon over JSON-RPC with injected faults (503s, timeouts, lost replies) and a
//! corrupted manifest blob: it keeps running, retries with backoff, reports through its
//! metrics (served over HTTP), and still lands exactly one verdict. The chain is Surfpool
//! (`assay localnet`, programs as SBF); the faults come from a proxy in front of it.

mod common;
#[path = "support/surfpool.rs"]
mod surfpool;

use std::io::{BufRead, Read, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use assay_client::rpc::{RpcChain, RpcOptions};
use assay_client::Chain;
use assay_gpu::{BlobStore, Gpu};
use assay_market::state::MarketParams;
use assay_node::journal::Journal;
use assay_node::metrics::Metrics;
use assay_node::{Daemon, DaemonOptions};
use assay_stake::constants::{ROLE_PROVIDER, ROLE_VERIFIER};
use assay_testkit::embedded::LocalSetup;
use assay_testkit::faults::{FaultInjection, FaultProxy};
use common::{new_user_from_admin, run_job, Provider};
use solana_sdk::signature::Signer;

fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(name))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .fold(0.0, |a, b| a + b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daemon_rides_out_rpc_faults_and_a_corrupt_manifest() {
    std::env::set_var("NODEVICE_SELECT", "1");
    let dir = tempfile::tempdir().unwrap();
    let setup = common::real_time_setup(MarketParams {
        verdict_window_slots: 4_000,
        ..LocalSetup::default().market
    });
    let (net, mut chain) = surfpool::start(setup, 25).await;
    let buyer = new_user_from_admin(&mut chain, 1_000 * common::TOKENS).await;
    let provider = surfpool::operator(&mut chain, ROLE_PROVIDER).await;
    let verifier = surfpool::operator(&mut chain, ROLE_VERIFIER).await;
    surfpool::next_draw_epoch(&mut chain).await;
    let store = Arc::new(BlobStore::local(dir.path().join("store")).unwrap());
    let gpu = Arc::new(Gpu::new().expect("a wgpu adapter"));
    let job = run_job(
        &mut chain,
        &gpu,
        &store,
        &buyer,
        &provider,
        1,
        8,
        Provider::Honest,
    )
    .await;
    let tx_log = dir.path().join("tx.jsonl");
    let proxy = FaultProxy::serve(
        &net.rpc_url,
        tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
        FaultInjection {
            rate: 0.3,
            delay: Duration::from_millis(400),
            seed: 3,
        },
        Some(tx_log.clone()),
    )
    .await
    .unwrap();

    // The buyer's manifest blob is corrupted on disk: the verifier's own problem.
    let manifest_hash = chain.job(&job).await.unwrap().unwrap().manifest_hash;
    let manifest_path = dir
        .path()
        .join("store/blobs")
        .join(hex::encode(manifest_hash));
    let manifest = std::fs::read(&manifest_path).unwrap();
    std::fs::write(&manifest_path, b"garbage").unwrap();

    let options = RpcOptions {
        timeout: Duration::from_millis(200),
        // One attempt: every injected fault reaches the daemon.
        attempts: 1,
        backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(100),
        confirm_poll: Duration::from_millis(50),
        ws_url: Some(net.ws_url.clone()),
        ..RpcOptions::default()
    };
    let rpc = loop {
        match RpcChain::connect(&proxy.url(), verifier.insecure_clone(), options.clone()).await {
            Ok(c) => break c,
            Err(e) => eprintln!("connect: {e}"),
        }
    };
    let metrics = Metrics::new();
    let addr = metrics
        .serve(tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap())
        .unwrap();
    let mut d = Daemon::new(
        rpc,
        Box::new(Arc::clone(&gpu)),
        Arc::clone(&store),
        verifier.insecure_clone(),
        Journal::open(&dir.path().join("j.redb")).unwrap(),
        metrics,
        DaemonOptions {
            retry_backoff: Duration::from_millis(100),
            ..DaemonOptions::default()
        },
    );
    let deadline = Instant::now() + Duration::from_secs(120);
    let (mut ticks, mut failed_ticks, mut restored) = (0, 0, false);
    let mut last_state = None;
    loop {
        assert!(
            Instant::now() < deadline,
            "job never settled: last seen {last_state:?}; {ticks} ticks ok, {failed_ticks} failed; metrics:\n{}",
            d.metrics().render()
        );
        match d.tick().await {
            Ok(_) => ticks += 1,
            Err(e) => {
                failed_ticks += 1;
                eprintln!("tick failed (retried): {e}");
            }
        }
        let text = d.metrics().render();
        if !restored && metric(&text, "assay_verifier_audit_errors_total") >= 2.0 {
            std::fs::write(&manifest_path, &manifest).unwrap();
            restored = true;
        }
        let state = chain.job(&job).await.unwrap();
        let open = state.is_some();
        last_state = state.map(|j| (j.state, j.round, j.step_deadline_slot));
        if !open && ticks + failed_ticks >= 20 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(restored, "the corrupt manifest was retried, not judged");

    // Metrics over HTTP.
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut body = String::new();
    stream.read_to_string(&mut body).unwrap();
    assert!(body.starts_with("HTTP/1.1 200"), "{body}");
    let audit_errors = metric(
        &body,
        "assay_verifier_audit_errors_total{kind=\"job_data\"}",
    );
    let rpc_errors = metric(&body, "assay_verifier_rpc_errors_total");
    eprintln!(
        "ticks ok {ticks}, failed {failed_ticks}; audit errors {audit_errors}; rpc errors {rpc_errors}"
    );
    assert!(audit_errors >= 2.0);
    assert!(
        failed_ticks > 0 && rpc_errors > 0.0,
        "faults reached the daemon"
    );
    assert_eq!(
        metric(
            &body,
            "assay_verifier_jobs_verified_total{verdict=\"pass\"}"
        ),
        1.0
    );
    assert_eq!(metric(&body, "assay_verifier_faults_found_total"), 0.0);
    for name in [
        "assay_verifier_chunk_reexec_seconds_bucket",
        "assay_verifier_queue_depth",
        "assay_verifier_ticks_total",
    ] {
        assert!(body.contains(name), "{name} exported");
    }

    // Exactly one verdict transaction landed, none failed.
    let me = verifier.pubkey().to_string();
    let mut landed = std::collections::BTreeSet::new();
    for line in std::io::BufReader::new(std::fs::File::open(&tx_log).unwrap()).lines() {
        let v: serde_json::Value = serde_json::from_str(&line.unwrap()).unwrap();
        if v["duplicate"].as_bool() == Some(true) {
            // The same bytes again after a lost reply: the first send is accounted for.
            continue;
        }
        let verdict = v["instructions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|ix| ix["name"] == "attest_pass" || ix["name"] == "report_fault");
        if verdict {
            assert!(v["error"].is_null(), "{v}");
            assert_eq!(v["signers"][0], me.as_str());
            landed.insert(v["signature"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(landed.len(), 1, "{landed:?}");
}
