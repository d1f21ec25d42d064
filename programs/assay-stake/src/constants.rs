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

/// A program address and its bump, derived at compile time (no PDA search on chain: an
/// `address =` constraint on a singleton costs a comparison, where `seeds` and `bump`
/// cost a `create_program_address` or a `find_program_address` per account).
pub const fn program_address(seeds: &[&[u8]], program: &Pubkey) -> (Pubkey, u8) {
    let (address, bump) = anchor_lang::derive_program_address(seeds, &program.to_bytes());
    (Pubkey::new_from_array(address), bump)
}
/// The stake config PDA (`[STAKE_CONFIG_SEED]`).
pub const STAKE_CONFIG: Pubkey = program_address(&[STAKE_CONFIG_SEED], &crate::ID_CONST).0;
/// The verifier registry PDA (`[REGISTRY_SEED]`).
pub const REGISTRY: Pubkey = program_address(&[REGISTRY_SEED], &crate::ID_CONST).0;
/// The market program's stake authority (`[MARKET_AUTHORITY_SEED]` of the market program)
/// and its bump.
pub const MARKET_AUTHORITY_AND_BUMP: (Pubkey, u8) =
    program_address(&[MARKET_AUTHORITY_SEED], &MARKET_PROGRAM_ID);
/// The market program's stake authority.
pub const MARKET_AUTHORITY: Pubkey = MARKET_AUTHORITY_AND_BUMP.0;
/// Most verifiers the registry holds (fixed so the account size is fixed).
pub const MAX_VERIFIERS: usize = 10_240;
/// Longest unstake cooldown an admin may set, in slots (~46 days at 400 ms).
pub const MAX_UNSTAKE_COOLDOWN_SLOTS: u64 = 10_000_000;

/// Longest draw epoch, in slots (~4.6 days at 400 ms); stake changes wait at most this
/// long to reach the draws. The unstake cooldown is at least one epoch
/// (`CooldownShorterThanEpoch`), so stake that weighs in an epoch's draws is still in its
/// vault, lockable as a bond, until that epoch ends.
pub const MAX_EPOCH_SLOTS: u64 = 1_000_000;

/// Operator role bits.
pub const ROLE_PROVIDER: u8 = 1;
pub const ROLE_VERIFIER: u8 = 2;

/// The key of the public development deployer, whose secret is in the SDK
/// (`assay_client::keys::dev_deployer`). Accepted only by builds that opt in with the
/// `dev-deployer` feature (tests, `assay demo`, `assay localnet`); never deploy one.
pub const DEV_DEPLOYER: &str = "3HJPGDwExqbek192EhK9iNUr9JnxmVP6ARuN6T6Rtder";

/// The deployer a build accepts when `ASSAY_DEPLOYER` is unset: with `dev-deployer`, the
/// public development key; without it (a library build: a program build in that state
/// does not compile, see below), the System program's id, which no one can sign for, so
/// `initialize` refuses everyone.
#[cfg(feature = "dev-deployer")]
const UNSET_DEPLOYER: &str = DEV_DEPLOYER;
#[cfg(not(feature = "dev-deployer"))]
const UNSET_DEPLOYER: &str = "11111111111111111111111111111111";

/// The only key that may initialize either program, fixed when the program is built
/// (`ASSAY_DEPLOYER=<base58> anchor build`). A build-time key rather than the program's
/// upgrade authority because the native test bank loads programs as builtins, which have
/// no ProgramData account to read the authority from; the same check then runs in every
/// mode. Whoever deploys sets it to the key that runs the initialization transactions.
pub const DEPLOYER: Pubkey = Pubkey::from_str_const(match option_env!("ASSAY_DEPLOYER") {
    Some(key) => key,
    None => UNSET_DEPLOYER,
});

// A program build must name its deployer.
assay_protocol::require_deployer!("assay-stake");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compile_time_addresses_are_the_program_addresses_of_their_seeds() {
        for (address, seed, program) in [
            (STAKE_CONFIG, STAKE_CONFIG_SEED, crate::ID),
            (REGISTRY, REGISTRY_SEED, crate::ID),
            (MARKET_AUTHORITY, MARKET_AUTHORITY_SEED, MARKET_PROGRAM_ID),
        ] {
            assert_eq!(address, Pubkey::find_program_address(&[seed], &program).0);
        }
        assert_eq!(
            MARKET_AUTHORITY_AND_BUMP,
            Pubkey::find_program_address(&[MARKET_AUTHORITY_SEED], &MARKET_PROGRAM_ID)
        );
    }
}
