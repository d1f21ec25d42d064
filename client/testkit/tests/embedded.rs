//! The embedded bank: what the demo, the protocol tests and `assay localnet` stand on.

use std::time::Duration;

use assay_client::Chain;
use assay_testkit::embedded::{LocalChain, LocalSetup};
use solana_sdk::signature::Signer;

/// The harness registers a new blockhash every 6.4 ms of wall time without advancing
/// block height, so a blockhash fetched at the last warp is too old after about a
/// second (150 blockhashes). A chain that sat idle for two seconds still sends.
#[tokio::test]
async fn a_chain_left_idle_for_two_seconds_still_sends() {
    let mut chain = LocalChain::start(LocalSetup::default())
        .await
        .expect("bank");
    let user = chain.new_user(1_000_000).await.expect("user");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let d = chain.deployment;
    chain
        .send(
            &d.mint_to(&chain.admin.pubkey(), &user.pubkey(), 5),
            &[&chain.admin.insecure_clone()],
        )
        .await
        .expect("a send after an idle spell");
    assert_eq!(chain.balance_of(&user.pubkey()).await.unwrap(), 1_000_005);
}
