use anchor_lang::prelude::*;

use crate::constants::{MARKET_AUTHORITY, REGISTRY, STAKE_CONFIG};
use crate::errors::StakeError;
use crate::events::{StakeLocked, StakeUnlocked};
use crate::state::{Operator, StakeConfig, VerifierRegistry};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct StakeAmountArgs {
    /// Token base units.
    pub amount: u64,
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct LockStakeArgs {
    /// Token base units.
    pub amount: u64,
    /// Take what available stake lacks from the pending unstake (a drawn verifier's bond,
    /// or the penalty of one that forfeits): its stake weighs in the epoch's draws until
    /// the epoch ends, and an unstake request cannot take it out of them.
    pub reclaim_unstaking: bool,
}

/// Lock or unlock part of an operator's stake. Only the market program's PDA signs this.
#[event_cpi]
#[derive(Accounts)]
pub struct LockStake<'info> {
    #[account(address = MARKET_AUTHORITY)]
    pub market_authority: Signer<'info>,
    #[account(address = STAKE_CONFIG)]
    pub config: Box<Account<'info, StakeConfig>>,
    /// Required when the operator is a verifier (`RegistryRequired`); a provider-only
    /// operator's stake changes no draw weight.
    #[account(mut, address = REGISTRY)]
    pub registry: Option<AccountLoader<'info, VerifierRegistry>>,
    #[account(mut)]
    pub operator: Box<Account<'info, Operator>>,
}

impl LockStake<'_> {
    fn validate(&self, amount: u64) -> Result<()> {
        require!(amount > 0, StakeError::ZeroAmount);
        Ok(())
    }
}

/// Specification:
/// - `locked` grew by `amount`, taken from available stake, or (with
///   `reclaim_unstaking`) from available stake and then the pending unstake;
///   `InsufficientAvailableStake` otherwise; `locked + unstaking <= deposited` holds;
/// - the operator's next registry weight is its new available stake.
#[access_control(ctx.accounts.validate(args.amount))]
pub fn process_lock_stake(ctx: Context<LockStake>, args: LockStakeArgs) -> Result<()> {
    let operator = &mut ctx.accounts.operator;
    if args.reclaim_unstaking {
        operator.lock_reclaiming(args.amount)?;
    } else {
        operator.lock(args.amount)?;
    }
    VerifierRegistry::sync_stake_change(
        ctx.accounts.registry.as_ref(),
        operator,
        ctx.accounts.config.min_verifier_stake,
    )?;
    emit_cpi!(StakeLocked {
        operator: operator.key(),
        amount: args.amount,
        locked: operator.locked,
    });
    Ok(())
}

#[access_control(ctx.accounts.validate(args.amount))]
pub fn process_unlock_stake(ctx: Context<LockStake>, args: StakeAmountArgs) -> Result<()> {
    let operator = &mut ctx.accounts.operator;
    operator.unlock(args.amount)?;
    VerifierRegistry::sync_stake_change(
        ctx.accounts.registry.as_ref(),
        operator,
        ctx.accounts.config.min_verifier_stake,
    )?;
    emit_cpi!(StakeUnlocked {
        operator: operator.key(),
        amount: args.amount,
        locked: operator.locked,
    });
    Ok(())
}
