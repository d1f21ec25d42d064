//! assay-stake: the operator registry. Providers and verifiers stake the payment mint here;
//! only the market program (through its PDA signer) can lock, unlock or slash stake.
#![allow(unexpected_cfgs)]

use anchor_lang::prelude::*;

pub mod constants;
pub mod create;
pub mod errors;
pub mod events;
pub mod instructions;
pub mod mint_policy;
pub mod state;

use instructions::*;

declare_id!("Gf9GbXzwqJbrV5aPHCsLYA2SstrSQuLcFKobpxAc1qWh");

#[program]
pub mod assay_stake {
    use super::*;

    /// Creates the stake config and the (zero-copy) verifier registry (the build's deployer
    /// only).
    pub fn initialize(ctx: Context<Initialize>, args: InitializeArgs) -> Result<()> {
        instructions::initialize::process_initialize(ctx, args)
    }

    /// Anyone, paying the rent: grows the verifier registry account by up to 10 KiB (it is
    /// too large to create at once).
    pub fn grow_registry(ctx: Context<GrowRegistry>) -> Result<()> {
        instructions::grow_registry::process_grow_registry(ctx)
    }

    /// Changes the unstake cooldown or the verifier minimum (admin only).
    pub fn update_config(ctx: Context<UpdateConfig>, args: UpdateConfigArgs) -> Result<()> {
        instructions::update_config::process_update_config(ctx, args)
    }

    /// Registers an operator (provider and/or verifier roles, capabilities) with its stake
    /// vault.
    pub fn register_operator(
        ctx: Context<RegisterOperator>,
        args: RegisterOperatorArgs,
    ) -> Result<()> {
        instructions::register_operator::process_register_operator(ctx, args)
    }

    /// Adds stake; a verifier's draw weight follows from the next draw epoch.
    pub fn deposit(ctx: Context<Deposit>, args: DepositArgs) -> Result<()> {
        instructions::deposit::process_deposit(ctx, args)
    }

    /// Starts the cooldown on unlocked stake.
    pub fn request_unstake(ctx: Context<RequestUnstake>, args: RequestUnstakeArgs) -> Result<()> {
        instructions::request_unstake::process_request_unstake(ctx, args)
    }

    /// Pays out stake whose cooldown has passed.
    pub fn withdraw(ctx: Context<Withdraw>) -> Result<()> {
        instructions::withdraw::process_withdraw(ctx)
    }

    /// Declares what the verifier's GPU can run; counted in draws from the next epoch.
    pub fn set_capabilities(
        ctx: Context<SetCapabilities>,
        args: SetCapabilitiesArgs,
    ) -> Result<()> {
        instructions::set_capabilities::process_set_capabilities(ctx, args)
    }

    /// Anyone: re-checks a verifier's registry entry against the minimum stake.
    pub fn sync_verifier(ctx: Context<SyncVerifier>) -> Result<()> {
        instructions::sync_verifier::process_sync_verifier(ctx)
    }

    /// The market's PDA locks stake (collateral, a verifier's bond), taking it from a
    /// pending unstake if need be.
    pub fn lock_stake(ctx: Context<LockStake>, args: LockStakeArgs) -> Result<()> {
        instructions::lock_stake::process_lock_stake(ctx, args)
    }

    /// The market's PDA releases locked stake.
    pub fn unlock_stake(ctx: Context<LockStake>, args: StakeAmountArgs) -> Result<()> {
        instructions::lock_stake::process_unlock_stake(ctx, args)
    }

    /// The market's PDA moves locked stake to a destination (the job's escrow vault).
    pub fn slash_stake(ctx: Context<SlashStake>, args: StakeAmountArgs) -> Result<()> {
        instructions::slash_stake::process_slash_stake(ctx, args)
    }
}
