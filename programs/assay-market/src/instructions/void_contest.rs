use anchor_lang::prelude::*;
use assay_stake::constants::OPERATOR_SEED;
use assay_stake::state::Operator;

use crate::errors::MarketError;
use crate::escrow::*;
use crate::events::JobClosed;
use crate::stake_accounts::*;
use crate::state::JobState;

/// Anyone, once the vote window passed without a majority: nobody can be shown to be
/// wrong, so nobody is slashed. The buyer is refunded and both stakes unlock.
#[event_cpi]
#[derive(Accounts)]
pub struct VoidContest<'info> {
    pub escrow: TerminalEscrow<'info>,
    #[account(
        mut,
        seeds = [OPERATOR_SEED, provider_operator.authority.as_ref()],
        bump = provider_operator.bump,
        seeds::program = assay_stake::ID,
        constraint = escrow.job.provider == Some(provider_operator.authority) @ MarketError::WrongOperator,
    )]
    pub provider_operator: Box<Account<'info, Operator>>,
    #[account(
        mut,
        seeds = [OPERATOR_SEED, accuser_operator.authority.as_ref()],
        bump = accuser_operator.bump,
        seeds::program = assay_stake::ID,
        constraint = escrow.job.accuser == Some(accuser_operator.authority) @ MarketError::WrongOperator,
    )]
    pub accuser_operator: Box<Account<'info, Operator>>,
    pub stake: StakeAccounts<'info>,
}

impl VoidContest<'_> {
    fn validate(&self) -> Result<()> {
        self.escrow.job.require_state(JobState::Contested)?;
        require!(
            Clock::get()?.slot > self.escrow.job.step_deadline_slot,
            MarketError::DeadlineNotReached
        );
        Ok(())
    }
}

#[access_control(ctx.accounts.validate())]
pub fn process_void_contest(ctx: Context<VoidContest>) -> Result<()> {
    let slot = Clock::get()?.slot;
    let bump = ctx.bumps.stake.market_authority;
    let accounts = &ctx.accounts;
    let job = &accounts.escrow.job;
    let escrow = &accounts.escrow;
    escrow.pay(&accounts.escrow.buyer_token, job.price)?;
    let residue = escrow.close()?;
    accounts
        .stake
        .unlock(bump, &accounts.provider_operator, job.collateral)?;
    accounts
        .stake
        .unlock(bump, &accounts.accuser_operator, job.params.verifier_bond)?;

    let job_key = ctx.accounts.escrow.job.key();
    let refund = ctx.accounts.escrow.job.price;
    let changed = ctx
        .accounts
        .escrow
        .job
        .transition(job_key, JobState::Voided, slot);
    emit_cpi!(changed);
    emit_cpi!(JobClosed {
        job: job_key,
        state: JobState::Voided,
        provider_paid: 0,
        verifier_paid: 0,
        treasury_paid: 0,
        buyer_refund: refund,
        provider_slashed: 0,
        verifier_slashed: 0,
        residue,
    });
    Ok(())
}
