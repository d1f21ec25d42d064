//! The connection flags every Assay binary takes (`assay`, `assay-verifier`): one
//! definition, flattened into each binary's own flags (feature `clap`).

use std::path::PathBuf;

use clap::Args;

use crate::keys::{default_store, Endpoint, KeyError};

/// Where the chain, the signer and the blob store are.
#[derive(Args, Clone, Debug, Default, PartialEq, Eq)]
pub struct ConnectionFlags {
    /// JSON-RPC URL or moniker (localhost, devnet, testnet, mainnet-beta). Default: the
    /// Solana CLI config's `json_rpc_url`, else http://127.0.0.1:8899 (`assay localnet`).
    #[arg(long, short = 'u', global = true, env = "ASSAY_URL")]
    pub url: Option<String>,
    /// Websocket URL: transactions confirm by signature subscription there (and the
    /// verifier daemon follows the market's accounts), polling when it cannot be reached.
    /// Default: the URL's port + 1 (Solana's convention: 8899 → 8900).
    #[arg(long, global = true, env = "ASSAY_WS_URL")]
    pub ws_url: Option<String>,
    /// Signer keypair file (Solana CLI JSON format); it also pays fees. Default: the
    /// Solana CLI config's `keypair_path`, else ~/.config/solana/id.json.
    #[arg(long, short = 'k', global = true, env = "ASSAY_KEYPAIR")]
    pub keypair: Option<PathBuf>,
    /// Blob store for manifests, inputs and outputs: a directory, file://, http(s):// or
    /// s3:// URL. Default: ~/.local/share/assay/blobs ($ASSAY_HOME/blobs).
    #[arg(long, alias = "blob-store", global = true, env = "ASSAY_STORE")]
    pub store: Option<String>,
    /// Priority fee added to every transaction, in micro-lamports per compute unit
    /// (ComputeBudget `SetComputeUnitPrice`; default 0: none). The compute-unit limit is
    /// always set from the programs' measured compute units.
    #[arg(long, global = true, env = "ASSAY_PRIORITY_FEE")]
    pub priority_fee: Option<u64>,
}

impl ConnectionFlags {
    /// The RPC URL and keypair path: these flags over `fallback` (a config file's) over
    /// the Solana CLI config and the defaults.
    pub fn endpoint_or(
        &self,
        fallback_url: Option<&str>,
        fallback_keypair: Option<&std::path::Path>,
    ) -> Result<Endpoint, KeyError> {
        Endpoint::resolve(
            self.url.as_deref().or(fallback_url),
            self.keypair.as_deref().or(fallback_keypair),
        )
    }

    /// The blob store's location: the flag, else `fallback`, else the default.
    pub fn store_or(&self, fallback: Option<String>) -> String {
        self.store
            .clone()
            .or(fallback)
            .unwrap_or_else(default_store)
    }
}
