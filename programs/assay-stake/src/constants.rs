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
pub const MAX_VERIFIERS: usize = 10_240;
/// Longest unstake cooldown an admin may set, in slots (~46 days at 400 ms).
pub const MAX_UNSTAKE_COOLDOWN_SLOTS: u64 = 10_000_000;

/// Longest draw epoch, in slots (~4.6 days at 400 ms); stake changes wait at most this
/// long to reach the draws.
pub const MAX_EPOCH_SLOTS: u64 = 1_000_000;

/// Operator role bits.
pub const ROLE_PROVIDER: u8 = 1;
pub const ROLE_VERIFIER: u8 = 2;

/// The key of the public development deployer, whose secret is in the SDK
/// (`assay_client::keys::dev_deployer`). Used when a build sets no `ASSAY_DEPLOYER`, so
/// tests and `assay demo` can initialize; never deploy a build that uses it.
pub const DEV_DEPLOYER: &str = "3HJPGDwExqbek192EhK9iNUr9JnxmVP6ARuN6T6Rtder";

/// The only key that may initialize either program, fixed when the program is built
/// (`ASSAY_DEPLOYER=<base58> anchor build`). A build-time key rather than the program's
/// upgrade authority because the native test bank loads programs as builtins, which have
/// no ProgramData account to read the authority from; the same check then runs in every
/// mode. Whoever deploys sets it to the key that runs the initialization transactions.
pub const DEPLOYER: Pubkey = Pubkey::from_str_const(match option_env!("ASSAY_DEPLOYER") {
    Some(key) => key,
    None => DEV_DEPLOYER,
});
