use crate::constants::{MARKET_CONFIG, TREASURY};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{self, Mint, TokenAccount, TokenInterface, TransferChecked};

use crate::constants::MARKET_CONFIG_SEED;
use crate::errors::MarketError;
use crate::events::TreasuryWithdrawn;
use crate::state::MarketConfig;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct WithdrawTreasuryArgs {
    /// Base units to move out of the treasury vault.
    pub amount: u64,
}

/// The admin moves protocol revenue out of the treasury vault to any token account of
/// the mint. No job ever pays an account the admin controls, so whatever the admin does
/// to its own accounts (close, freeze, lose) no exit is affected.
#[event_cpi]
#[derive(Accounts)]
pub struct WithdrawTreasury<'info> {
    pub admin: Signer<'info>,
    #[account(address = MARKET_CONFIG, has_one = admin @ MarketError::NotAdmin)]
    pub config: Box<Account<'info, MarketConfig>>,
    #[account(mut, address = TREASURY)]
    pub treasury: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mut, token::mint = mint, token::token_program = token_program)]
    pub destination: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(address = config.mint @ MarketError::WrongMint)]
    pub mint: Box<InterfaceAccount<'info, Mint>>,
    pub token_program: Interface<'info, TokenInterface>,
}

impl WithdrawTreasury<'_> {
    fn validate(&self, args: &WithdrawTreasuryArgs) -> Result<()> {
        require!(args.amount > 0, MarketError::ZeroAmount);
        require!(
            args.amount <= self.treasury.amount,
            MarketError::TreasuryTooLow
        );
        Ok(())
    }
}

/// Specification:
/// - the treasury falls by `amount` and `destination` rises by it; nothing else moves.
#[access_control(ctx.accounts.validate(&args))]
pub fn process_withdraw_treasury(
    ctx: Context<WithdrawTreasury>,
    args: WithdrawTreasuryArgs,
) -> Result<()> {
    let accounts = &ctx.accounts;
    let bump = [accounts.config.bump];
    let seeds: &[&[u8]] = &[MARKET_CONFIG_SEED, &bump];
    token_interface::transfer_checked(
        CpiContext::new_with_signer(
            accounts.token_program.key(),
            TransferChecked {
                from: accounts.treasury.to_account_info(),
                mint: accounts.mint.to_account_info(),
                to: accounts.destination.to_account_info(),
                authority: accounts.config.to_account_info(),
            },
            &[seeds],
        ),
        args.amount,
        accounts.mint.decimals,
    )?;
    emit_cpi!(TreasuryWithdrawn {
        destination: accounts.destination.key(),
        amount: args.amount,
    });
    Ok(())
}
