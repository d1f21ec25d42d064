use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount};
use assay_stake::constants::STAKE_CONFIG_SEED;
use assay_stake::state::StakeConfig;

use crate::constants::MARKET_CONFIG_SEED;
use crate::errors::MarketError;
use crate::events::ConfigChanged;
use crate::state::{MarketConfig, MarketParams};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct ConfigArgs {
    pub params: MarketParams,
}

#[event_cpi]
#[derive(Accounts)]
pub struct InitializeConfig<'info> {
    #[account(mut)]
    pub admin: Signer<'info>,
    #[account(init, payer = admin, space = MarketConfig::SIZE, seeds = [MARKET_CONFIG_SEED], bump)]
    pub config: Box<Account<'info, MarketConfig>>,
    /// Payments and stake share one mint.
    #[account(address = stake_config.mint @ MarketError::WrongMint)]
    pub mint: Box<InterfaceAccount<'info, Mint>>,
    #[account(token::mint = mint)]
    pub treasury: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(seeds = [STAKE_CONFIG_SEED], bump = stake_config.bump, seeds::program = assay_stake::ID)]
    pub stake_config: Box<Account<'info, StakeConfig>>,
    pub system_program: Program<'info, System>,
}

/// Rules shared by initialize and update.
pub fn validate_params(params: &MarketParams, stake_config: &StakeConfig) -> Result<()> {
    params.validate()?;
    // A drawn verifier always has at least min_verifier_stake available, so its bond lock
    // can never fail and stall a job.
    require!(
        params.verifier_bond <= stake_config.min_verifier_stake,
        MarketError::BondAboveVerifierMinimum
    );
    Ok(())
}

impl InitializeConfig<'_> {
    fn validate(&self, args: &ConfigArgs) -> Result<()> {
        validate_params(&args.params, &self.stake_config)
    }
}

#[access_control(ctx.accounts.validate(&args))]
pub fn process_initialize_config(ctx: Context<InitializeConfig>, args: ConfigArgs) -> Result<()> {
    let config = &mut ctx.accounts.config;
    config.admin = ctx.accounts.admin.key();
    config.mint = ctx.accounts.mint.key();
    config.treasury = ctx.accounts.treasury.key();
    config.params = args.params;
    config.bump = ctx.bumps.config;
    emit_cpi!(ConfigChanged {
        admin: config.admin,
        treasury: config.treasury,
        params: config.params.clone(),
    });
    Ok(())
}
