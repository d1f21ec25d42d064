use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::constants::{OPERATOR_SEED, STAKE_CONFIG, STAKE_VAULT_SEED};
use crate::errors::StakeError;
use crate::events::StakeWithdrawn;
use crate::instructions::transfer_from_vault;
use crate::state::{Operator, StakeConfig};

/// Pays out the whole pending unstake request once its cooldown has passed, plus any
/// tokens someone sent to the vault unasked. Locked stake is never part of a request, so
/// it can never be withdrawn.
#[event_cpi]
#[derive(Accounts)]
pub struct Withdraw<'info> {
    pub authority: Signer<'info>,
    #[account(address = STAKE_CONFIG, has_one = mint @ StakeError::WrongMint)]
    pub config: Box<Account<'info, StakeConfig>>,
    #[account(mut, seeds = [OPERATOR_SEED, authority.key().as_ref()], bump = operator.bump, has_one = authority)]
    pub operator: Box<Account<'info, Operator>>,
    #[account(mut, seeds = [STAKE_VAULT_SEED, operator.key().as_ref()], bump = operator.vault_bump)]
    pub vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(
        mut,
        token::mint = mint,
        token::authority = authority,
        token::token_program = token_program,
    )]
    pub destination: Box<InterfaceAccount<'info, TokenAccount>>,
    pub mint: Box<InterfaceAccount<'info, Mint>>,
    pub token_program: Interface<'info, TokenInterface>,
}

impl Withdraw<'_> {
    fn validate(&self) -> Result<()> {
        require!(self.operator.unstaking > 0, StakeError::NothingToWithdraw);
        require!(
            Clock::get()?.slot >= self.operator.unstake_ready_slot,
            StakeError::CooldownNotOver
        );
        Ok(())
    }
}

/// Specification:
/// - the destination receives `unstaking` plus the vault's residue (balance above
///   `deposited`, i.e. donations), so afterwards the vault holds exactly `deposited`;
/// - `deposited` falls by `unstaking`, and `unstaking` is 0.
#[access_control(ctx.accounts.validate())]
pub fn process_withdraw(ctx: Context<Withdraw>) -> Result<()> {
    let amount = ctx.accounts.operator.unstaking;
    let accounts = &ctx.accounts;
    let residue = accounts
        .vault
        .amount
        .saturating_sub(accounts.operator.deposited);
    transfer_from_vault(
        &accounts.operator,
        &accounts.vault,
        &accounts.destination,
        &accounts.mint,
        &accounts.token_program,
        amount.checked_add(residue).ok_or(StakeError::Overflow)?,
    )?;
    let operator = &mut ctx.accounts.operator;
    operator.unstaking = 0;
    operator.deposited = operator
        .deposited
        .checked_sub(amount)
        .ok_or(StakeError::Overflow)?;
    emit_cpi!(StakeWithdrawn {
        operator: operator.key(),
        amount,
        residue,
        deposited: operator.deposited,
    });
    Ok(())
}
