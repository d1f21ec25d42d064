//! The JSON-RPC backend against a real JSON-RPC server: `Localnet` serves the embedded
//! bank over HTTP in the wire format of a validator, and `RpcChain` (solana-rpc-client
//! underneath) drives it. Nothing of the client is mocked.

use std::time::Duration;

use assay_client::events::AssayEvent;
use assay_client::rpc::{RpcChain, RpcOptions};
use assay_client::{pda, Chain, JobState};
use assay_market::instructions::PostJobArgs;
use assay_market::state::COMPARISON_EXACT;
use assay_stake::constants::{ROLE_PROVIDER, ROLE_VERIFIER};
use assay_testkit::embedded::{LocalChain, LocalSetup};
use assay_testkit::localnet::{FaultInjection, Localnet, LocalnetOptions};
use solana_sdk::signature::{Keypair, Signer};

const TOKENS: u64 = 1_000_000;

/// A local chain served over JSON-RPC, with one staked verifier (the market refuses jobs
/// nobody could audit).
async fn localnet(options: LocalnetOptions) -> Localnet {
    let mut chain = LocalChain::start(LocalSetup::default())
        .await
        .expect("bank");
    let verifier = chain.new_user(100 * TOKENS).await.expect("fund");
    let d = chain.deployment;
    chain
        .send(
            &[
                d.register_operator(&verifier.pubkey(), ROLE_VERIFIER),
                d.deposit(&verifier.pubkey(), 10 * TOKENS),
            ],
            &[&verifier],
        )
        .await
        .expect("stake a verifier");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("port");
    Localnet::serve(chain, listener, options)
        .await
        .expect("serve")
}

async fn funded_user(net: &Localnet) -> Keypair {
    net.with_chain(async |c| c.new_user(1_000 * TOKENS).await.expect("fund"))
        .await
}

/// `provider` on its own connection, registered as a provider with 100 tokens staked.
async fn staked_provider(net: &Localnet, provider: &Keypair, options: RpcOptions) -> RpcChain {
    let mut chain = RpcChain::connect(&net.url(), provider.insecure_clone(), options)
        .await
        .expect("connect");
    let d = chain.deployment();
    chain
        .send(
            &[
                d.register_operator(&provider.pubkey(), ROLE_PROVIDER),
                d.deposit(&provider.pubkey(), 100 * TOKENS),
            ],
            &[provider],
        )
        .await
        .expect("stake");
    chain
}

fn job_args(job_id: u64) -> PostJobArgs {
    PostJobArgs {
        job_id,
        manifest_hash: [1; 32],
        input_root: [2; 32],
        n_chunks: 8,
        samples: 3,
        comparison_rule: COMPARISON_EXACT,
        price: 10 * TOKENS,
        // The shipped floor: 3.2 × the price.
        collateral: 32 * TOKENS,
        claim_window_slots: 1_000,
        execution_window_slots: 1_000,
        needs: 0,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rpc_backend_posts_stakes_and_reads_state_like_the_embedded_one() {
    let net = localnet(LocalnetOptions {
        slot_ms: 50,
        ..LocalnetOptions::default()
    })
    .await;
    let buyer = funded_user(&net).await;
    let provider = funded_user(&net).await;
    let expected = net.with_chain(async |c| c.deployment).await;

    let mut chain = RpcChain::connect(&net.url(), buyer.insecure_clone(), RpcOptions::default())
        .await
        .expect("connect");
    assert_eq!(
        chain.deployment(),
        expected,
        "deployment read from the market config"
    );
    let d = chain.deployment();

    // Events come back through simulateTransaction's inner instructions.
    let events = chain
        .send_with_events(&[d.post_job(&buyer.pubkey(), job_args(1))], &[&buyer])
        .await
        .expect("post");
    let job_key = pda::job(&buyer.pubkey(), 1);
    assert!(events
        .iter()
        .any(|e| matches!(e, AssayEvent::JobPosted(p) if p.job == job_key)));
    assert_eq!(
        chain.balance_of(&buyer.pubkey()).await.unwrap(),
        990 * TOKENS
    );

    // getProgramAccounts with a discriminator filter finds the job.
    let jobs = chain.jobs().await.expect("jobs");
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].0, job_key);
    assert_eq!(jobs[0].1.state, JobState::Open);

    // A provider on its own connection registers, stakes and claims.
    let mut as_provider = staked_provider(&net, &provider, RpcOptions::default()).await;
    as_provider
        .send(&[d.claim_job(&provider.pubkey(), &job_key)], &[&provider])
        .await
        .expect("claim");
    let job = chain.job(&job_key).await.unwrap().expect("job");
    assert_eq!(job.state, JobState::Claimed);
    assert_eq!(job.provider, Some(provider.pubkey()));
    let operator = chain
        .operator(&provider.pubkey())
        .await
        .unwrap()
        .expect("operator");
    assert_eq!(operator.locked, 32 * TOKENS);

    // A failing transaction surfaces the program's error code through preflight.
    let err = as_provider
        .send(&[d.claim_job(&provider.pubkey(), &job_key)], &[&provider])
        .await
        .expect_err("second claim");
    let code = err.custom_code().expect("program error");
    let name = assay_client::idl::program_error(&assay_market::ID, code).map(|e| e.name.as_str());
    assert_eq!(
        name,
        Some("WrongJobState"),
        "{}",
        err.explain(&assay_market::ID)
    );

    // Slots advance on the server's clock; signatures are reported.
    let s0 = chain.slot().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(chain.slot().await.unwrap() > s0);
    let sig = chain
        .send(&[d.cancel_job(&buyer.pubkey(), 1)], &[&buyer])
        .await
        .expect_err("claimed jobs cannot be cancelled");
    assert!(sig.custom_code().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rpc_backend_lands_each_transaction_once_through_injected_faults() {
    let log = tempfile::NamedTempFile::new().unwrap();
    let net = localnet(LocalnetOptions {
        slot_ms: 50,
        faults: FaultInjection {
            rate: 0.3,
            delay: Duration::from_millis(700),
            seed: 7,
        },
        tx_log: Some(log.path().to_path_buf()),
    })
    .await;
    let buyer = funded_user(&net).await;
    let options = RpcOptions {
        timeout: Duration::from_millis(500),
        attempts: 20,
        backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(200),
        confirm_poll: Duration::from_millis(50),
        ..RpcOptions::default()
    };
    let mut chain = RpcChain::connect(&net.url(), buyer.insecure_clone(), options)
        .await
        .expect("connect despite faults");
    let d = chain.deployment();
    for job_id in 1..=12 {
        chain
            .send(&[d.post_job(&buyer.pubkey(), job_args(job_id))], &[&buyer])
            .await
            .expect("post despite faults");
    }
    // Each post escrowed exactly once: 12 × 10 tokens, no more.
    assert_eq!(
        chain.balance_of(&buyer.pubkey()).await.unwrap(),
        (1_000 - 120) * TOKENS
    );
    assert_eq!(chain.jobs().await.unwrap().len(), 12);
    // The server saw every post processed once; re-sends were recognised as duplicates.
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(log.path())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let processed = lines
        .iter()
        .filter(|l| l["duplicate"] == false && l["error"].is_null())
        .count();
    assert_eq!(processed, 12, "{lines:#?}");
}

/// Sending the same instructions twice is two sends, never one landing reported twice.
/// Back to back, the second `send` of a claim is signed under the same blockhash as the
/// first whenever the chain has not moved on (a release build is fast enough for that):
/// byte for byte the landed transaction. The SDK then waits for a newer blockhash and
/// sends a new transaction, which fails on chain as a second claim must; if no newer
/// blockhash came it would report `AlreadyProcessed` (unit test
/// `an_identical_transaction_that_already_landed_is_not_a_new_success` in rpc.rs). Either
/// way, never `Ok`. Re-sending an explicitly signed transaction (what the verifier's
/// journal does) stays exactly-once and reports its one landing each time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_instructions_sent_twice_are_two_sends_never_one_landing_reported_twice() {
    let net = localnet(LocalnetOptions {
        slot_ms: 0,
        ..LocalnetOptions::default()
    })
    .await;
    let buyer = funded_user(&net).await;
    let provider = funded_user(&net).await;
    let options = RpcOptions {
        confirm_poll: Duration::from_millis(20),
        ..RpcOptions::default()
    };
    let mut as_buyer = RpcChain::connect(&net.url(), buyer.insecure_clone(), options.clone())
        .await
        .expect("connect");
    let d = as_buyer.deployment();
    as_buyer
        .send(&[d.post_job(&buyer.pubkey(), job_args(1))], &[&buyer])
        .await
        .expect("post");
    let mut as_provider = staked_provider(&net, &provider, options).await;
    let job_key = pda::job(&buyer.pubkey(), 1);
    let claim = [d.claim_job(&provider.pubkey(), &job_key)];
    as_provider.send(&claim, &[&provider]).await.expect("claim");
    for _ in 0..3 {
        let err = as_provider
            .send(&claim, &[&provider])
            .await
            .expect_err("a second claim is never a success");
        let name = err
            .custom_code()
            .and_then(|code| assay_client::idl::program_error(&assay_market::ID, code))
            .map(|e| e.name.as_str());
        let already = matches!(
            err,
            assay_client::ChainError::Transaction(
                solana_sdk::transaction::TransactionError::AlreadyProcessed
            )
        );
        assert!(name == Some("WrongJobState") || already, "{err}");
    }

    // An explicitly signed transaction re-sent: one landing, reported each time.
    let cancel = as_buyer
        .sign(&[d.cancel_job(&buyer.pubkey(), 2)], &[&buyer])
        .await
        .expect("sign");
    as_buyer
        .send(&[d.post_job(&buyer.pubkey(), job_args(2))], &[&buyer])
        .await
        .expect("post job 2");
    let first = as_buyer.send_signed(&cancel).await.expect("cancel");
    let again = as_buyer.send_signed(&cancel).await.expect("re-send");
    assert_eq!(first, Some(cancel.signatures[0]));
    assert_eq!(again, first);
    assert!(as_buyer
        .job(&pda::job(&buyer.pubkey(), 2))
        .await
        .unwrap()
        .is_none());
}
