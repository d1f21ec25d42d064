//! Rust clients use Surfpool's websocket: the SDK's RPC backend confirms its sends by
//! signature subscription where the endpoint serves one, and by polling where it does not
//! (the embedded bank's endpoint). (The verifier daemon's follower is tested beside it, in
//! verifier/tests/follow.rs.)

use std::time::{Duration, Instant};

use assay_client::rpc::{websocket_url, Confirmations, RpcChain, RpcOptions};
use assay_client::Chain;
use assay_localnet::{Surfnet, SurfnetOptions};
use assay_testkit::embedded::{LocalChain, LocalSetup};
use assay_testkit::localnet::{Localnet, LocalnetOptions};
use solana_sdk::instruction::Instruction;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{Keypair, Signer};

/// Three one-lamport transfers from `payer` to fresh addresses, each a send of its own.
async fn send_three_transfers(chain: &mut RpcChain, payer: &Keypair) {
    for _ in 0..3 {
        let ix: Instruction = anchor_lang::solana_program::system_instruction::transfer(
            &payer.pubkey(),
            &Pubkey::new_unique(),
            1_000_000,
        );
        chain.send(&[ix], &[]).await.expect("the transfer lands");
    }
}

/// Surfpool with Assay deployed, on free ports.
async fn surfpool() -> Surfnet {
    Surfnet::start(SurfnetOptions::on_free_ports())
        .await
        .expect("surfpool starts (SBF programs: ./scripts/sbf/build.sh)")
}

/// The notifications arrive on their own tasks: waits (at most 30 s) until `n` have.
async fn wait_for_notifications(chain: &RpcChain, n: u64) -> Confirmations {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let seen = chain.confirmations();
        if seen.notified >= n || Instant::now() > deadline {
            return seen;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_are_confirmed_by_signature_notifications_from_surfpool() {
    let net = surfpool().await;
    let options = RpcOptions {
        ws_url: Some(net.ws_url.clone()),
        ..RpcOptions::default()
    };
    let mut chain = RpcChain::connect(&net.rpc_url, net.admin.insecure_clone(), options)
        .await
        .unwrap();
    send_three_transfers(&mut chain, &net.admin).await;
    let seen = wait_for_notifications(&chain, 3).await;
    assert_eq!(
        seen,
        Confirmations {
            subscribed: 3,
            notified: 3
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_websocket_sends_are_confirmed_by_polling() {
    let chain = LocalChain::start(LocalSetup::default()).await.unwrap();
    let admin = chain.payer().insecure_clone();
    let net = Localnet::serve(
        chain,
        tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
        LocalnetOptions {
            slot_ms: 50,
            ..LocalnetOptions::default()
        },
    )
    .await
    .unwrap();
    // Port + 1 serves nothing: a listener bound and dropped.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let ws_url = format!("ws://{}", closed.local_addr().unwrap());
    drop(closed);
    let options = RpcOptions {
        ws_url: Some(ws_url),
        ..RpcOptions::default()
    };
    let mut chain = RpcChain::connect(&net.url(), admin.insecure_clone(), options)
        .await
        .unwrap();
    send_three_transfers(&mut chain, &admin).await;
    assert_eq!(chain.confirmations(), Confirmations::default());
}

#[test]
fn the_websocket_is_the_http_port_plus_one_by_solanas_convention() {
    for (http, ws) in [
        ("http://127.0.0.1:8899", Some("ws://127.0.0.1:8900/")),
        (
            "https://api.devnet.solana.com",
            Some("wss://api.devnet.solana.com/"),
        ),
        ("http://localhost:65535", None),
        ("not a url", None),
    ] {
        assert_eq!(websocket_url(http).as_deref(), ws, "{http}");
    }
}
