use anchor_lang::prelude::*;

use crate::constants::{OPERATOR_SEED, REGISTRY, STAKE_CONFIG};
use crate::errors::StakeError;
use crate::events::UnstakeRequested;
use crate::state::{Operator, StakeConfig, VerifierRegistry};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct RequestUnstakeArgs {
    /// Base units to add to the pending request; the cooldown restarts.
    pub amount: u64,
}

#[event_cpi]
#[derive(Accounts)]
pub struct RequestUnstake<'info> {
    pub authority: Signer<'info>,
    #[account(address = STAKE_CONFIG)]
    pub config: Box<Account<'info, StakeConfig>>,
    #[account(mut, address = REGISTRY)]
    pub registry: AccountLoader<'info, VerifierRegistry>,
    #[account(mut, seeds = [OPERATOR_SEED, authority.key().as_ref()], bump = operator.bump, has_one = authority)]
    pub operator: Box<Account<'info, Operator>>,
}

impl RequestUnstake<'_> {
    fn validate(&self, args: &RequestUnstakeArgs) -> Result<()> {
        require!(args.amount > 0, StakeError::ZeroAmount);
        require!(
            args.amount <= self.operator.available(),
            StakeError::InsufficientAvailableStake
        );
        Ok(())
    }
}

#[access_control(ctx.accounts.validate(&args))]
pub fn process_request_unstake(
    ctx: Context<RequestUnstake>,
    args: RequestUnstakeArgs,
) -> Result<()> {
    let now = Clock::get()?.slot;
    let cooldown = ctx.accounts.config.unstake_cooldown_slots;
    let operator = &mut ctx.accounts.operator;
    operator.unstaking = operator
        .unstaking
        .checked_add(args.amount)
        .ok_or(StakeError::Overflow)?;
    operator.unstake_ready_slot = now.checked_add(cooldown).ok_or(StakeError::Overflow)?;
    ctx.accounts.registry.load_mut()?.sync(
        operator,
        ctx.accounts.config.min_verifier_stake,
        Clock::get()?.slot,
    );
    emit_cpi!(UnstakeRequested {
        operator: operator.key(),
        amount: args.amount,
        ready_slot: operator.unstake_ready_slot,
    });
    Ok(())
}
