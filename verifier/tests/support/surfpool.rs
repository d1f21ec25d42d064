//! A market on Surfpool (`assay localnet`: both programs as SBF, a real validator's
//! JSON-RPC and websocket) for daemon tests, and its participants.

use std::time::{Duration, Instant};

use assay_client::rpc::{RpcChain, RpcOptions};
use assay_client::Chain;
use assay_localnet::{Surfnet, SurfnetOptions};
use assay_testkit::embedded::LocalSetup;
use solana_sdk::signature::Keypair;

use crate::common::{new_user_from_admin, register, TOKENS};

/// Surfpool on free ports with `setup`, slots of `slot_ms`, and a client paying from the
/// deployment's admin (mint authority and faucet), confirming by websocket.
pub async fn start(setup: LocalSetup, slot_ms: u64) -> (Surfnet, RpcChain) {
    let net = Surfnet::start(SurfnetOptions {
        slot_ms,
        setup,
        ..SurfnetOptions::on_free_ports()
    })
    .await
    .expect("surfpool starts (SBF programs: ./scripts/sbf/build.sh)");
    let options = RpcOptions {
        ws_url: Some(net.ws_url.clone()),
        ..RpcOptions::default()
    };
    let chain = RpcChain::connect(&net.rpc_url, net.admin.insecure_clone(), options)
        .await
        .unwrap();
    (net, chain)
}

/// A new operator with `roles`, 1,000 tokens and 100 of them staked. Verifier stake counts
/// in draws from the next draw epoch ([`next_draw_epoch`]).
pub async fn operator(chain: &mut RpcChain, roles: u8) -> Keypair {
    let k = new_user_from_admin(chain, 1_000 * TOKENS).await;
    register(chain, &k, roles).await;
    k
}

/// Waits (in real time) until the chain enters the next draw epoch: stake deposited now is
/// counted by the draws from then on.
pub async fn next_draw_epoch<C: Chain + ?Sized>(chain: &mut C) {
    let epoch_slots = chain.registry().await.unwrap().epoch_slots;
    let start = chain.slot().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while chain.slot().await.unwrap() <= start + epoch_slots {
        assert!(Instant::now() < deadline, "no new draw epoch in 120 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
