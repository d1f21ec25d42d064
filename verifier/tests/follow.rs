//! The verifier daemon's follower: `assay-verifier` ticks when a market account changes on
//! Surfpool's websocket instead of at its next poll.

use std::time::Duration;

use assay_client::deploy::LocalSetup;
use assay_client::rpc::{RpcChain, RpcOptions};
use assay_client::Chain;
use assay_localnet::{Surfnet, SurfnetOptions};
use solana_sdk::signature::Signer;

/// `assay-verifier` ticks when a market account changes instead of at its next poll: its
/// follower wakes it once subscribed, then when the market config changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_verifier_daemon_is_woken_when_a_market_account_changes() {
    let net = Surfnet::start(SurfnetOptions::on_free_ports())
        .await
        .expect("surfpool starts (SBF programs: ./scripts/sbf/build.sh)");
    let wake = std::sync::Arc::new(tokio::sync::Notify::new());
    tokio::spawn(assay_node::follow::follow_market(
        net.ws_url.clone(),
        std::sync::Arc::clone(&wake),
        Duration::from_secs(1),
    ));
    let woken = async |what: &str| {
        tokio::time::timeout(Duration::from_secs(30), wake.notified())
            .await
            .unwrap_or_else(|_| panic!("no wake-up: {what}"))
    };
    woken("subscribed").await;
    let mut chain = RpcChain::connect(
        &net.rpc_url,
        net.admin.insecure_clone(),
        RpcOptions::default(),
    )
    .await
    .unwrap();
    // The admin changes a market parameter: the config account changes.
    let params = assay_market::state::MarketParams {
        pass_window_slots: 77,
        ..LocalSetup::default().market
    };
    let update = chain
        .deployment()
        .update_config(&net.admin.pubkey(), params);
    chain.send(&[update], &[]).await.unwrap();
    woken("the market config changed").await;
}
