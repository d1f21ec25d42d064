//! Following the market program over the endpoint's websocket: every change to one of its
//! accounts (a job posted, committed, drawn, closed) wakes the daemon for a tick at once,
//! instead of at its next poll. Polling stays the fallback: while the websocket is down
//! the daemon ticks every poll interval, and this task reconnects with backoff.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use solana_account_decoder_client_types::{UiAccountEncoding, UiDataSliceConfig};
use solana_commitment_config::CommitmentConfig;
use solana_pubsub_client::nonblocking::pubsub_client::PubsubClient;
use solana_rpc_client_api::config::{RpcAccountInfoConfig, RpcProgramAccountsConfig};
use tokio::sync::Notify;
use tracing::{debug, info, warn};

/// Subscribes to the market program's accounts at `ws_url` (`programSubscribe`, confirmed,
/// no data: only the fact of a change is used) and calls `wake.notify_one()` once
/// subscribed (to catch up on what changed while it was not) and on every notification.
/// Runs until the process ends, reconnecting after `max_backoff` at most.
pub async fn follow_market(ws_url: String, wake: Arc<Notify>, max_backoff: Duration) {
    let config = RpcProgramAccountsConfig {
        account_config: RpcAccountInfoConfig {
            encoding: Some(UiAccountEncoding::Base64),
            data_slice: Some(UiDataSliceConfig {
                offset: 0,
                length: 0,
            }),
            commitment: Some(CommitmentConfig::confirmed()),
            min_context_slot: None,
        },
        ..RpcProgramAccountsConfig::default()
    };
    let mut backoff = Duration::from_millis(500);
    loop {
        match PubsubClient::new(ws_url.as_str()).await {
            Ok(client) => match client
                .program_subscribe(&assay_market::ID, Some(config.clone()))
                .await
            {
                Ok((mut changes, _unsubscribe)) => {
                    info!(%ws_url, "following the market program's accounts");
                    backoff = Duration::from_millis(500);
                    wake.notify_one();
                    while changes.next().await.is_some() {
                        wake.notify_one();
                    }
                    warn!(%ws_url, "program subscription ended; polling until it is back");
                }
                Err(e) => debug!(%ws_url, error = %e, "programSubscribe refused; polling"),
            },
            Err(e) => debug!(%ws_url, error = %e, "no websocket; polling"),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(max_backoff.max(Duration::from_secs(1)));
    }
}
