use crate::constants::MARKET_CONFIG;
use anchor_lang::prelude::*;
use assay_stake::constants::{REGISTRY, STAKE_CONFIG};
use assay_stake::state::StakeConfig;

use crate::errors::MarketError;
use crate::events::ConfigChanged;
use crate::instructions::{validate_params, ConfigArgs};
use crate::state::MarketConfig;

/// Changes parameters for jobs posted from now on. Jobs already posted keep their
/// snapshot, and no instruction lets the admin move escrow or stake.
#[event_cpi]
#[derive(Accounts)]
pub struct UpdateConfig<'info> {
    pub admin: Signer<'info>,
    #[account(mut, address = MARKET_CONFIG, has_one = admin @ MarketError::NotAdmin)]
    pub config: Box<Account<'info, MarketConfig>>,
    #[account(address = STAKE_CONFIG)]
    pub stake_config: Box<Account<'info, StakeConfig>>,
    /// CHECK: the verifier registry (seeds; owner and discriminator checked where its
    /// header is read): read for the draw epoch length the parameters must fit, before
    /// the registry need be grown to full size.
    #[account(address = REGISTRY)]
    pub registry: UncheckedAccount<'info>,
}

impl UpdateConfig<'_> {
    fn validate(&self, args: &ConfigArgs) -> Result<()> {
        validate_params(
            &args.params,
            &self.stake_config,
            &self.registry.to_account_info(),
        )
    }
}

#[access_control(ctx.accounts.validate(&args))]
pub fn process_update_config(ctx: Context<UpdateConfig>, args: ConfigArgs) -> Result<()> {
    let config = &mut ctx.accounts.config;
    config.params = args.params;
    emit_cpi!(ConfigChanged {
        admin: config.admin,
        treasury: config.treasury,
        params: config.params.clone(),
    });
    Ok(())
}
