use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::constants::{MARKET_AUTHORITY, REGISTRY, STAKE_CONFIG, STAKE_VAULT_SEED};
use crate::errors::StakeError;
use crate::events::StakeSlashed;
use crate::instructions::{transfer_from_vault, StakeAmountArgs};
use crate::state::{Operator, StakeConfig, VerifierRegistry};

/// Moves locked stake to `destination` (the market sends it to the job's escrow vault and
/// splits it from there). Only the market program's PDA signs this; only locked stake can go.
#[event_cpi]
#[derive(Accounts)]
pub struct SlashStake<'info> {
    #[account(address = MARKET_AUTHORITY)]
    pub market_authority: Signer<'info>,
    #[account(address = STAKE_CONFIG, has_one = mint @ StakeError::WrongMint)]
    pub config: Box<Account<'info, StakeConfig>>,
    /// Required when the operator is a verifier (`RegistryRequired`); a provider-only
    /// operator's stake changes no draw weight.
    #[account(mut, address = REGISTRY)]
    pub registry: Option<AccountLoader<'info, VerifierRegistry>>,
    #[account(mut)]
    pub operator: Box<Account<'info, Operator>>,
    #[account(mut, seeds = [STAKE_VAULT_SEED, operator.key().as_ref()], bump = operator.vault_bump)]
    pub vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mut, token::mint = mint, token::token_program = token_program)]
    pub destination: Box<InterfaceAccount<'info, TokenAccount>>,
    pub mint: Box<InterfaceAccount<'info, Mint>>,
    pub token_program: Interface<'info, TokenInterface>,
}

impl SlashStake<'_> {
    fn validate(&self, args: &StakeAmountArgs) -> Result<()> {
        require!(args.amount > 0, StakeError::ZeroAmount);
        require!(
            args.amount <= self.operator.locked,
            StakeError::InsufficientLockedStake
        );
        Ok(())
    }
}

#[access_control(ctx.accounts.validate(&args))]
pub fn process_slash_stake(ctx: Context<SlashStake>, args: StakeAmountArgs) -> Result<()> {
    let accounts = &ctx.accounts;
    transfer_from_vault(
        &accounts.operator,
        &accounts.vault,
        &accounts.destination,
        &accounts.mint,
        &accounts.token_program,
        args.amount,
    )?;
    let operator = &mut ctx.accounts.operator;
    operator.slash(args.amount)?;
    VerifierRegistry::sync_stake_change(
        ctx.accounts.registry.as_ref(),
        operator,
        ctx.accounts.config.min_verifier_stake,
    )?;
    emit_cpi!(StakeSlashed {
        operator: operator.key(),
        amount: args.amount,
        destination: ctx.accounts.destination.key(),
        deposited: operator.deposited,
    });
    Ok(())
}
