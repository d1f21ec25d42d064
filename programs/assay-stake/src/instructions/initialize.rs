use anchor_lang::prelude::*;
use anchor_spl::token_interface::Mint;

use crate::constants::{
    DEPLOYER, MAX_EPOCH_SLOTS, MAX_UNSTAKE_COOLDOWN_SLOTS, REGISTRY_SEED, STAKE_CONFIG_SEED,
};
use crate::create::{create_account, write_account};
use crate::errors::StakeError;
use crate::events::StakeConfigInitialized;
use crate::mint_policy::check_payment_mint;
use crate::state::{StakeConfig, VerifierRegistry};
use anchor_lang::solana_program::entrypoint::MAX_PERMITTED_DATA_INCREASE;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct InitializeArgs {
    /// Slots between an unstake request and its withdrawal.
    pub unstake_cooldown_slots: u64,
    /// Least available stake (base units) a verifier needs to be drawn.
    pub min_verifier_stake: u64,
    /// Slots per draw epoch: stake changes reach the draws at the next epoch boundary.
    pub epoch_slots: u64,
}

#[event_cpi]
#[derive(Accounts)]
pub struct Initialize<'info> {
    /// Must be the build-time [`DEPLOYER`]; becomes the config admin.
    #[account(mut, address = DEPLOYER @ StakeError::NotDeployer)]
    pub admin: Signer<'info>,
    pub mint: Box<InterfaceAccount<'info, Mint>>,
    /// CHECK: created here (pre-funding tolerated); the seeds pin the address.
    #[account(mut, seeds = [STAKE_CONFIG_SEED], bump)]
    pub config: UncheckedAccount<'info>,
    /// CHECK: created here (pre-funding tolerated); the seeds pin the address.
    #[account(mut, seeds = [REGISTRY_SEED], bump)]
    pub registry: UncheckedAccount<'info>,
    pub system_program: Program<'info, System>,
}

impl Initialize<'_> {
    fn validate(&self, args: &InitializeArgs) -> Result<()> {
        require!(
            args.unstake_cooldown_slots <= MAX_UNSTAKE_COOLDOWN_SLOTS,
            StakeError::CooldownTooLong
        );
        require!(
            (1..=MAX_EPOCH_SLOTS).contains(&args.epoch_slots),
            StakeError::InvalidEpochLength
        );
        require!(
            args.unstake_cooldown_slots >= args.epoch_slots,
            StakeError::CooldownShorterThanEpoch
        );
        check_payment_mint(&self.mint.to_account_info())
    }
}

/// Specification:
/// - only the build-time deployer gets here, and only once (a second call finds the
///   accounts allocated and System refuses);
/// - the mint is one [`check_payment_mint`] accepts;
/// - the config and an empty registry header exist, however many lamports their addresses
///   held; the registry is usable once `grow_registry` has taken it to full size.
#[access_control(ctx.accounts.validate(&args))]
pub fn process_initialize(ctx: Context<Initialize>, args: InitializeArgs) -> Result<()> {
    let accounts = &ctx.accounts;
    let (admin, system) = (
        accounts.admin.to_account_info(),
        accounts.system_program.to_account_info(),
    );
    let config = StakeConfig {
        admin: accounts.admin.key(),
        mint: accounts.mint.key(),
        unstake_cooldown_slots: args.unstake_cooldown_slots,
        min_verifier_stake: args.min_verifier_stake,
        bump: ctx.bumps.config,
    };
    let config_info = accounts.config.to_account_info();
    let seeds: &[&[u8]] = &[STAKE_CONFIG_SEED, &[ctx.bumps.config]];
    create_account(
        &admin,
        &config_info,
        &system,
        &crate::ID,
        StakeConfig::SIZE,
        seeds,
    )?;
    write_account(&config_info, &config)?;
    let registry_info = accounts.registry.to_account_info();
    let seeds: &[&[u8]] = &[REGISTRY_SEED, &[ctx.bumps.registry]];
    // A PDA can be given at most 10 KiB per instruction: `grow_registry` takes it to its
    // full size. The header is written now; every slot starts empty (zero).
    create_account(
        &admin,
        &registry_info,
        &system,
        &crate::ID,
        MAX_PERMITTED_DATA_INCREASE.min(VerifierRegistry::SIZE),
        seeds,
    )?;
    let epoch = Clock::get()?.slot / args.epoch_slots;
    let mut data = registry_info.try_borrow_mut_data()?;
    data[..8].copy_from_slice(VerifierRegistry::DISCRIMINATOR);
    data[8..16].copy_from_slice(&args.epoch_slots.to_le_bytes());
    data[16..24].copy_from_slice(&epoch.to_le_bytes());
    data[24] = ctx.bumps.registry;
    drop(data);
    emit_cpi!(StakeConfigInitialized {
        admin: config.admin,
        mint: config.mint,
        unstake_cooldown_slots: args.unstake_cooldown_slots,
        min_verifier_stake: args.min_verifier_stake,
        epoch_slots: args.epoch_slots,
    });
    Ok(())
}
