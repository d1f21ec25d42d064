use anchor_lang::prelude::*;
use anchor_spl::token_interface::{self, Mint, TokenAccount, TokenInterface, TransferChecked};

use crate::constants::{OPERATOR_SEED, REGISTRY, STAKE_CONFIG, STAKE_VAULT_SEED};
use crate::errors::StakeError;
use crate::events::StakeDeposited;
use crate::state::{Operator, StakeConfig, VerifierRegistry};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct DepositArgs {
    /// Token base units moved from `source` into the vault.
    pub amount: u64,
}

#[event_cpi]
#[derive(Accounts)]
pub struct Deposit<'info> {
    pub authority: Signer<'info>,
    #[account(address = STAKE_CONFIG, has_one = mint @ StakeError::WrongMint)]
    pub config: Box<Account<'info, StakeConfig>>,
    #[account(mut, address = REGISTRY)]
    pub registry: AccountLoader<'info, VerifierRegistry>,
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
    pub source: Box<InterfaceAccount<'info, TokenAccount>>,
    pub mint: Box<InterfaceAccount<'info, Mint>>,
    pub token_program: Interface<'info, TokenInterface>,
}

impl Deposit<'_> {
    fn validate(&self, args: &DepositArgs) -> Result<()> {
        require!(args.amount > 0, StakeError::ZeroAmount);
        Ok(())
    }
}

#[access_control(ctx.accounts.validate(&args))]
pub fn process_deposit(ctx: Context<Deposit>, args: DepositArgs) -> Result<()> {
    let accounts = &ctx.accounts;
    token_interface::transfer_checked(
        CpiContext::new(
            accounts.token_program.key(),
            TransferChecked {
                from: accounts.source.to_account_info(),
                mint: accounts.mint.to_account_info(),
                to: accounts.vault.to_account_info(),
                authority: accounts.authority.to_account_info(),
            },
        ),
        args.amount,
        accounts.mint.decimals,
    )?;
    let operator = &mut ctx.accounts.operator;
    operator.deposited = operator
        .deposited
        .checked_add(args.amount)
        .ok_or(StakeError::Overflow)?;
    ctx.accounts.registry.load_mut()?.sync(
        operator,
        ctx.accounts.config.min_verifier_stake,
        Clock::get()?.slot,
    );
    emit_cpi!(StakeDeposited {
        operator: operator.key(),
        amount: args.amount,
        deposited: operator.deposited,
    });
    Ok(())
}
