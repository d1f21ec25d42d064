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
/// Longest challenge delay, verdict, dispute or vote window, slots (~46 days).
pub const MAX_STEP_WINDOW_SLOTS: u64 = 10_000_000;
/// Longest pass window, slots (about two days of 400 ms slots): stake it keeps locked
/// must come back in bounded time.
pub const MAX_PASS_WINDOW_SLOTS: u64 = 432_000;

/// A program build (with its entrypoint: what `anchor build` deploys) must name its
/// deployer: `ASSAY_DEPLOYER=<base58 key>`, or the `dev-deployer` feature for a local
/// build that accepts the public development key (`assay_stake::constants::DEPLOYER`).
#[cfg(all(
    not(feature = "no-entrypoint"),
    not(feature = "dev-deployer"),
    not(feature = "idl-build")
))]
const _: () = assert!(
    option_env!("ASSAY_DEPLOYER").is_some(),
    "set ASSAY_DEPLOYER=<base58 public key of the key that will initialize the programs> \
     to build assay-market for deployment (or build with --features dev-deployer for a \
     local chain that accepts the public development key; never deploy that build)"
);
