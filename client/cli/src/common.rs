//! What every chain-facing command shares: endpoint and keypair resolution, the blob
//! store, token amounts, and error wording.

use std::path::PathBuf;

use anyhow::{anyhow, bail, ensure, Context, Result};
use assay_client::flags::ConnectionFlags;
use assay_client::keys::{read_keypair, Endpoint};
use assay_client::rpc::{RpcChain, RpcOptions};
use assay_client::{Chain, ChainError, Pubkey};
use assay_gpu::BlobStore;
use assay_gpu::{CompareRule, JobBundle};
use assay_market::instructions::PostJobArgs;
use assay_market::state::{COMPARISON_EXACT, COMPARISON_FLOAT};
use clap::Args;
use solana_sdk::signature::Keypair;

/// This machine's GPU adapter (Mesa lavapipe where there is no GPU).
pub fn gpu() -> Result<assay_gpu::Gpu> {
    assay_gpu::Gpu::new().context(
        "no GPU adapter (on a machine without a GPU, run ./scripts/install-deps.sh for Mesa lavapipe)",
    )
}

/// Flags of every command that talks to a chain: the connection flags every Assay binary
/// shares (`assay_client::flags`, also `assay-verifier`'s).
#[derive(Args, Clone, Debug, Default)]
pub struct Net {
    #[command(flatten)]
    pub connection: ConnectionFlags,
}

impl Net {
    pub fn endpoint(&self) -> Result<Endpoint> {
        Ok(self.connection.endpoint_or(None, None)?)
    }

    pub fn signer(&self) -> Result<Keypair> {
        let endpoint = self.endpoint()?;
        Ok(read_keypair(&endpoint.keypair_path)?)
    }

    /// Reads the signer and connects; the deployment is discovered from the chain.
    pub async fn connect(&self) -> Result<(RpcChain, Keypair)> {
        let endpoint = self.endpoint()?;
        let signer = read_keypair(&endpoint.keypair_path)?;
        let chain = self.connect_paying(&signer).await?;
        Ok((chain, signer))
    }

    /// Connects with `payer` paying the transaction fees.
    pub async fn connect_paying(&self, payer: &Keypair) -> Result<RpcChain> {
        let endpoint = self.endpoint()?;
        let signer = payer.insecure_clone();
        let options = RpcOptions {
            attempts: 4,
            priority_fee: self.connection.priority_fee.unwrap_or(0),
            ws_url: self.connection.ws_url.clone(),
            ..RpcOptions::default()
        };
        let chain = RpcChain::connect(&endpoint.url, signer.insecure_clone(), options)
            .await
            .map_err(|e| match e {
                ChainError::MissingAccount(_) => anyhow!(
                    "{} answers, but no Assay market is deployed there (start one with `assay localnet`)",
                    endpoint.url
                ),
                other => anyhow!(
                    "cannot reach an Assay deployment at {}: {other} (start one with `assay localnet`, or pass --url)",
                    endpoint.url
                ),
            })?;
        Ok(chain)
    }

    pub fn store(&self) -> Result<BlobStore> {
        let location = self.connection.store_or(None);
        BlobStore::open(&location).with_context(|| format!("cannot open the blob store {location}"))
    }

    /// Where the CLI keeps what it has seen of the buyer's jobs (their committed roots
    /// outlive the on-chain accounts, which close when the job ends).
    pub fn jobs_dir(&self) -> PathBuf {
        assay_client::keys::data_dir().join("jobs")
    }
}

/// What the buyer offers for a job, in token base units and slots.
pub struct Offer {
    pub samples: u8,
    pub price: u64,
    pub collateral: u64,
    pub claim_window_slots: u64,
    pub execution_window_slots: u64,
}

/// The `post_job` arguments for `bundle` under `offer` (nothing is uploaded).
pub fn post_args(bundle: &JobBundle, job_id: u64, offer: &Offer) -> Result<PostJobArgs> {
    Ok(PostJobArgs {
        job_id,
        manifest_hash: bundle.manifest.manifest_hash()?,
        input_root: bundle.manifest.input_root(),
        n_chunks: bundle.manifest.n_chunks(),
        samples: offer.samples,
        comparison_rule: match bundle.manifest.compare {
            CompareRule::Exact => COMPARISON_EXACT,
            CompareRule::Float { .. } => COMPARISON_FLOAT,
        },
        price: offer.price,
        collateral: offer.collateral,
        claim_window_slots: offer.claim_window_slots,
        execution_window_slots: offer.execution_window_slots,
        needs: bundle.manifest.needs(),
    })
}

/// Uploads the kernel, inputs and manifest that `args` name.
pub fn upload_job(store: &BlobStore, bundle: &JobBundle, args: &PostJobArgs) -> Result<()> {
    bundle
        .store(store)
        .context("cannot upload the kernel and inputs")?;
    let manifest_hash = store
        .put(&bundle.manifest.canonical_bytes()?)
        .context("cannot upload the manifest")?;
    ensure!(
        manifest_hash == args.manifest_hash,
        "the stored manifest's hash differs from the manifest hash"
    );
    Ok(())
}

/// The payment mint's decimals.
pub async fn decimals(chain: &mut dyn Chain) -> Result<u8> {
    let mint = chain.deployment().mint;
    let account = chain
        .account(&mint)
        .await?
        .with_context(|| format!("payment mint {mint} not found"))?;
    account
        .data
        .get(44)
        .copied()
        .context("payment mint account is malformed")
}

/// Parses a token amount like `12`, `12.5` into base units.
pub fn parse_amount(text: &str, decimals: u8) -> Result<u64> {
    let bad = || anyhow!("{text:?} is not a token amount (examples: 10, 2.5)");
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() && frac.is_empty() {
        return Err(bad());
    }
    if !whole.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    if frac.len() > usize::from(decimals) {
        bail!("{text} has more than {decimals} decimal places");
    }
    let scale = 10u64.pow(u32::from(decimals));
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| bad())?
    };
    let frac_units: u64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<width$}", width = usize::from(decimals))
            .parse()
            .map_err(|_| bad())?
    };
    whole
        .checked_mul(scale)
        .and_then(|w| w.checked_add(frac_units))
        .with_context(|| format!("{text} is too large"))
}

/// Formats base units as a decimal token amount.
pub fn format_amount(units: u64, decimals: u8) -> String {
    let scale = 10u64.pow(u32::from(decimals));
    let frac = units % scale;
    if frac == 0 {
        format!("{}", units / scale)
    } else {
        let s = format!("{frac:0>width$}", width = usize::from(decimals));
        format!("{}.{}", units / scale, s.trim_end_matches('0'))
    }
}

/// A chain error worded for a person, naming `program`'s error from its IDL.
pub fn explain(err: ChainError, program: &Pubkey) -> anyhow::Error {
    anyhow!(err.explain(program))
}

/// Parses a base58 address.
pub fn parse_pubkey(text: &str) -> Result<Pubkey> {
    text.parse()
        .map_err(|_| anyhow!("{text:?} is not a valid address (base58 public key)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_amounts_parse_and_format_exactly() {
        assert_eq!(parse_amount("12", 6).unwrap(), 12_000_000);
        assert_eq!(parse_amount("2.5", 6).unwrap(), 2_500_000);
        assert_eq!(parse_amount("0.000001", 6).unwrap(), 1);
        assert!(parse_amount("0.0000001", 6).is_err());
        assert!(parse_amount("-1", 6).is_err());
        assert!(parse_amount("1e3", 6).is_err());
        assert!(parse_amount("", 6).is_err());
        assert!(parse_amount("99999999999999999999", 6).is_err());
        assert_eq!(format_amount(2_500_000, 6), "2.5");
        assert_eq!(format_amount(12_000_000, 6), "12");
        assert_eq!(format_amount(1, 6), "0.000001");
    }
}
