use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenInterface};
use assay_stake::constants::DEPLOYER;
use assay_stake::constants::{REGISTRY, STAKE_CONFIG};
use assay_stake::create::{create_account, create_token_account, write_account};
use assay_stake::state::{StakeConfig, VerifierRegistry};

use crate::constants::{MARKET_CONFIG_SEED, TREASURY_SEED};
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
    /// Must be the build-time deployer (the stake program's `DEPLOYER`); becomes admin.
    #[account(mut, address = DEPLOYER @ MarketError::NotDeployer)]
    pub admin: Signer<'info>,
    /// CHECK: created here (pre-funding tolerated); the seeds pin the address.
    #[account(mut, seeds = [MARKET_CONFIG_SEED], bump)]
    pub config: UncheckedAccount<'info>,
    /// CHECK: created here as a token account of `mint` owned by `config`.
    #[account(mut, seeds = [TREASURY_SEED], bump)]
    pub treasury: UncheckedAccount<'info>,
    /// Payments and stake share one mint (the stake program vetted it at its initialize).
    #[account(address = stake_config.mint @ MarketError::WrongMint)]
    pub mint: Box<InterfaceAccount<'info, Mint>>,
    #[account(address = STAKE_CONFIG)]
    pub stake_config: Box<Account<'info, StakeConfig>>,
    /// CHECK: the verifier registry (seeds; owner and discriminator checked where its
    /// header is read): read for the draw epoch length the parameters must fit, before
    /// the registry need be grown to full size.
    #[account(address = REGISTRY)]
    pub registry: UncheckedAccount<'info>,
    pub token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
}

/// Rules shared by initialize and update: [`MarketParams::validate`] under the stake
/// program's draw epochs, and the bond within the verifier minimum.
pub fn validate_params(
    params: &MarketParams,
    stake_config: &StakeConfig,
    registry: &AccountInfo,
) -> Result<()> {
    params.validate(VerifierRegistry::epoch_slots_of(registry)?)?;
    // Drawn verifiers have at least max(bond, current minimum) available (the draw
    // ignores lighter entries), so this is a sanity rule, not what keeps locks working.
    require!(
        params.verifier_bond <= stake_config.min_verifier_stake,
        MarketError::BondAboveVerifierMinimum
    );
    Ok(())
}

impl InitializeConfig<'_> {
    fn validate(&self, args: &ConfigArgs) -> Result<()> {
        validate_params(
            &args.params,
            &self.stake_config,
            &self.registry.to_account_info(),
        )
    }
}

/// Specification:
/// - only the build-time deployer gets here, and only once;
/// - the config exists with the stake program's mint, and the treasury vault PDA exists
///   as an empty token account of that mint owned by the config, however many lamports
///   either address held before.
#[access_control(ctx.accounts.validate(&args))]
pub fn process_initialize_config(ctx: Context<InitializeConfig>, args: ConfigArgs) -> Result<()> {
    let accounts = &ctx.accounts;
    let (admin, system) = (
        accounts.admin.to_account_info(),
        accounts.system_program.to_account_info(),
    );
    let config_info = accounts.config.to_account_info();
    let config_seeds: &[&[u8]] = &[MARKET_CONFIG_SEED, &[ctx.bumps.config]];
    create_account(
        &admin,
        &config_info,
        &system,
        &crate::ID,
        MarketConfig::SIZE,
        config_seeds,
    )?;
    let treasury_seeds: &[&[u8]] = &[TREASURY_SEED, &[ctx.bumps.treasury]];
    create_token_account(
        &admin,
        &accounts.treasury.to_account_info(),
        &system,
        &accounts.mint.to_account_info(),
        &config_info,
        &accounts.token_program.to_account_info(),
        treasury_seeds,
    )?;
    let config = MarketConfig {
        admin: accounts.admin.key(),
        mint: accounts.mint.key(),
        treasury: accounts.treasury.key(),
        params: args.params,
        jobs_posted: 0,
        bump: ctx.bumps.config,
        treasury_bump: ctx.bumps.treasury,
    };
    write_account(&config_info, &config)?;
    emit_cpi!(ConfigChanged {
        admin: config.admin,
        treasury: config.treasury,
        params: config.params,
    });
    Ok(())
}
