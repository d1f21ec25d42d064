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
/// This program's PDA that signs stake locks, unlocks and slashes (seed; the address and
/// bump, derived at compile time, are `MARKET_AUTHORITY_AND_BUMP`).
pub use assay_stake::constants::{
    program_address, MARKET_AUTHORITY, MARKET_AUTHORITY_AND_BUMP, MARKET_AUTHORITY_SEED,
};
/// The market config PDA (`[MARKET_CONFIG_SEED]`), derived at compile time.
pub const MARKET_CONFIG: Pubkey = program_address(&[MARKET_CONFIG_SEED], &crate::ID_CONST).0;
/// The treasury PDA (`[TREASURY_SEED]`), derived at compile time.
pub const TREASURY: Pubkey = program_address(&[TREASURY_SEED], &crate::ID_CONST).0;

/// Basis-point denominator: 10_000 bps = 100 %.
pub const BPS_DENOMINATOR: u64 = 10_000;
/// Most chunks one job sample may check (bounds on-chain hashing).
pub const MAX_SAMPLES: u8 = 64;
/// Most verifier rounds a job may be configured for.
pub const MAX_VERIFIER_ROUNDS: u8 = 4;
/// Most seats in a contest committee.
pub const MAX_COMMITTEE: usize = 7;
/// Longest output location string, bytes (defined with the publication format it bounds).
pub use assay_protocol::MAX_OUTPUT_URI_LEN;
/// Deepest Merkle proof (trees of up to 2^32 leaves).
pub const MAX_PROOF_LEN: usize = 32;
/// Highest collateral floor a config may set, bps of the price (100 times the price).
pub const MAX_COLLATERAL_BPS: u32 = 1_000_000;

// The economic floors every parameter set must meet (docs/economics.md, "Floors every
// deployment meets"). Each makes one strategy lose at every accepted term set, under the
// assumptions stated there.

/// Least `sample_fee_bps`: a sampled chunk pays the verifier at least what a chunk costs
/// the buyer, so re-executing the sample is paid whenever compute costs the provider less
/// than it is paid.
pub const MIN_SAMPLE_FEE_BPS: u16 = 10_000;
/// Least `bond_fee_multiple`: a blind pass risks 50 fees, so with canaries at 2 % of jobs
/// whose samples hold a planted chunk 9 times in 10 (0.018 × 50 = 0.9), laziness loses
/// whenever re-execution costs at most 90 % of the fee.
pub const MIN_BOND_FEE_MULTIPLE: u16 = 50;
/// Least `min_collateral_bps`: collateral of at least 3.2 × the price, so faking any
/// share of a job loses when a quarter of passes is re-checked by a fisherman (0.25 × 3.2
/// = 0.8, the compute share the economics assume), even with the drawn verifier lazy or
/// bribed.
pub const MIN_COLLATERAL_FLOOR_BPS: u32 = 32_000;
/// Longest challenge delay, verdict, dispute or vote window, slots (~46 days).
pub const MAX_STEP_WINDOW_SLOTS: u64 = 10_000_000;
/// Longest pass window, slots (about two days of 400 ms slots): stake it keeps locked
/// must come back in bounded time.
pub const MAX_PASS_WINDOW_SLOTS: u64 = 432_000;

// A program build must name its deployer (`assay_stake::constants::DEPLOYER`).
assay_protocol::require_deployer!("assay-market");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compile_time_addresses_are_the_program_addresses_of_their_seeds() {
        for (address, seed) in [
            (MARKET_CONFIG, MARKET_CONFIG_SEED),
            (TREASURY, TREASURY_SEED),
        ] {
            assert_eq!(address, Pubkey::find_program_address(&[seed], &crate::ID).0);
        }
        assert_eq!(
            MARKET_AUTHORITY_AND_BUMP,
            Pubkey::find_program_address(&[MARKET_AUTHORITY_SEED], &crate::ID)
        );
    }
}
