use anchor_lang::prelude::*;

#[constant]
pub const MARKET_CONFIG_SEED: &[u8] = b"market-config";
#[constant]
pub const JOB_SEED: &[u8] = b"job";
#[constant]
pub const JOB_VAULT_SEED: &[u8] = b"job-vault";
/// The protocol treasury: a token account PDA whose authority is the config PDA.
#[constant]
pub const TREASURY_SEED: &[u8] = b"treasury";
/// This program's PDA that signs stake locks, unlocks and slashes.
pub use assay_stake::constants::MARKET_AUTHORITY_SEED;

/// Basis-point denominator: 10_000 bps = 100 %.
pub const BPS_DENOMINATOR: u64 = 10_000;
/// Most chunks one job sample may check (bounds on-chain hashing).
pub const MAX_SAMPLES: u8 = 64;
/// Most verifier rounds a job may be configured for.
pub const MAX_VERIFIER_ROUNDS: u8 = 4;
/// Most seats in a contest committee.
pub const MAX_COMMITTEE: usize = 7;
/// Longest output location string, bytes.
pub const MAX_OUTPUT_URI_LEN: usize = 200;
/// Deepest Merkle proof (trees of up to 2^32 leaves).
pub const MAX_PROOF_LEN: usize = 32;
/// Longest pass window, slots (about two days of 400 ms slots): stake it keeps locked
/// must come back in bounded time.
pub const MAX_PASS_WINDOW_SLOTS: u64 = 432_000;
