use anchor_lang::prelude::*;

#[constant]
pub const STAKE_CONFIG_SEED: &[u8] = b"stake-config";
#[constant]
pub const OPERATOR_SEED: &[u8] = b"operator";
#[constant]
pub const STAKE_VAULT_SEED: &[u8] = b"stake-vault";
#[constant]
pub const REGISTRY_SEED: &[u8] = b"verifier-registry";
/// Seed of the market program's PDA that alone may lock, unlock and slash stake.
#[constant]
pub const MARKET_AUTHORITY_SEED: &[u8] = b"market-authority";

/// The assay-market program id. Fixed at compile time so no admin can redirect the
/// lock/unlock/slash authority (a test checks it equals `assay_market::ID`).
pub const MARKET_PROGRAM_ID: Pubkey = pubkey!("HSiQBrB45HYJckuWVQUAHojZ7CNpdJdataqKnGNksAju");

/// Most verifiers the registry holds (fixed so the account size is fixed).
pub const MAX_VERIFIERS: usize = 64;
/// Longest unstake cooldown an admin may set, in slots (~46 days at 400 ms).
pub const MAX_UNSTAKE_COOLDOWN_SLOTS: u64 = 10_000_000;

/// Operator role bits.
pub const ROLE_PROVIDER: u8 = 1;
pub const ROLE_VERIFIER: u8 = 2;
