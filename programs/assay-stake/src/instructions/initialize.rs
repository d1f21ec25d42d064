use anchor_lang::prelude::*;
use anchor_spl::token_interface::Mint;

use crate::constants::{MAX_UNSTAKE_COOLDOWN_SLOTS, REGISTRY_SEED, STAKE_CONFIG_SEED};
use crate::errors::StakeError;
use crate::events::StakeConfigInitialized;
use crate::state::{StakeConfig, VerifierRegistry};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct InitializeArgs {
    /// Slots between an unstake request and its withdrawal.
    pub unstake_cooldown_slots: u64,
    /// Least available stake (base units) a verifier needs to be drawn.
    pub min_verifier_stake: u64,
}

#[event_cpi]
#[derive(Accounts)]
pub struct Initialize<'info> {
    #[account(mut)]
    pub admin: Signer<'info>,
    pub mint: Box<InterfaceAccount<'info, Mint>>,
    #[account(init, payer = admin, space = StakeConfig::SIZE, seeds = [STAKE_CONFIG_SEED], bump)]
    pub config: Box<Account<'info, StakeConfig>>,
    #[account(init, payer = admin, space = VerifierRegistry::SIZE, seeds = [REGISTRY_SEED], bump)]
    pub registry: Box<Account<'info, VerifierRegistry>>,
    pub system_program: Program<'info, System>,
}

impl Initialize<'_> {
    fn validate(&self, args: &InitializeArgs) -> Result<()> {
        require!(
            args.unstake_cooldown_slots <= MAX_UNSTAKE_COOLDOWN_SLOTS,
            StakeError::CooldownTooLong
        );
        Ok(())
    }
}

#[access_control(ctx.accounts.validate(&args))]
pub fn process_initialize(ctx: Context<Initialize>, args: InitializeArgs) -> Result<()> {
    let config = &mut ctx.accounts.config;
    config.admin = ctx.accounts.admin.key();
    config.mint = ctx.accounts.mint.key();
    config.unstake_cooldown_slots = args.unstake_cooldown_slots;
    config.min_verifier_stake = args.min_verifier_stake;
    config.bump = ctx.bumps.config;
    ctx.accounts.registry.bump = ctx.bumps.registry;
    emit_cpi!(StakeConfigInitialized {
        admin: config.admin,
        mint: config.mint,
        unstake_cooldown_slots: args.unstake_cooldown_slots,
        min_verifier_stake: args.min_verifier_stake,
    });
    Ok(())
}
