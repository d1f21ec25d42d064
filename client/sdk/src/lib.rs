//! Assay client SDK.
//!
//! - [`pda`]: every program-derived address of both programs.
//! - [`ix`]: typed instruction builders, built from the programs' own generated account
//!   and instruction types (no hand-copied layouts).
//! - [`events`]: decoding `emit_cpi!` events from inner instructions.
//! - [`chain`]: the [`Chain`] trait everything above it is written against; [`rpc`] is its
//!   backend for any Solana JSON-RPC endpoint. (The in-process bank that also implements
//!   it, for tests and the demo, lives in the `assay-testkit` crate: the SDK carries no
//!   bank, no server and no proxy.)
//! - [`compute`]: the ComputeBudget instructions every transaction starts with (unit
//!   limit from the programs' measured compute units, optional priority fee).
//! - [`deploy`]: the payment mint and both programs' configs on any chain, the settings a
//!   fresh deployment ships with ([`deploy::LocalSetup`]), where the SBF programs are.
//! - [`canary`], [`economics`]: canary planting and the terms' economics.
//! - [`lookup`]: address lookup tables for transactions over the packet limit.
//! - [`keys`]: Solana CLI keypair files and config.
//! - [`idl`]: error and instruction names from the programs' IDLs.

pub mod canary;
pub mod chain;
pub mod compute;
pub mod deploy;
pub mod economics;
pub mod events;
#[cfg(feature = "clap")]
pub mod flags;
pub mod idl;
pub mod ix;
pub mod keys;
pub mod lookup;
pub mod pda;
pub mod rpc;

pub use chain::{Chain, ChainError, DrawOutcome};

pub use anchor_lang::prelude::Pubkey;
pub use assay_market::state::{Job, JobState, MarketConfig, MarketParams};
pub use assay_stake::state::{Operator, StakeConfig, VerifierRegistry};

/// Decodes an Anchor account (discriminator checked) from raw account data.
/// Decodes the zero-copy verifier registry from its account data (copied into an aligned
/// box).
pub fn decode_registry(data: &[u8]) -> Result<Box<VerifierRegistry>, String> {
    use anchor_lang::Discriminator;
    let size = core::mem::size_of::<VerifierRegistry>();
    let body = data
        .strip_prefix(VerifierRegistry::DISCRIMINATOR)
        .and_then(|rest| rest.get(..size))
        .ok_or_else(|| {
            format!(
                "not a full-size verifier registry ({} of {} bytes; run grow_registry)",
                data.len(),
                VerifierRegistry::SIZE
            )
        })?;
    let mut registry: Box<VerifierRegistry> = bytemuck::zeroed_box();
    bytemuck::bytes_of_mut(&mut *registry).copy_from_slice(body);
    Ok(registry)
}

pub fn decode_account<T: anchor_lang::AccountDeserialize>(
    data: &[u8],
) -> Result<T, anchor_lang::error::Error> {
    let mut slice = data;
    T::try_deserialize(&mut slice)
}
