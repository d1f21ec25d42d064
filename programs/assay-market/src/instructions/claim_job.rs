use anchor_lang::prelude::*;
use assay_stake::state::Operator;

use crate::errors::MarketError;
use crate::events::{JobClaimed, JobStateChanged};
use crate::stake_accounts::*;
use crate::state::{Job, JobState};

/// A staked provider takes an open job and locks the job's collateral from its stake.
#[event_cpi]
#[derive(Accounts)]
pub struct ClaimJob<'info> {
    pub provider: Signer<'info>,
    #[account(mut)]
    pub job: Box<Account<'info, Job>>,
    #[account(
        mut,
        constraint = provider_operator.authority == provider.key() @ MarketError::WrongOperator,
        constraint = provider_operator.is_provider() @ MarketError::NotAProvider,
    )]
    pub provider_operator: Box<Account<'info, Operator>>,
    pub stake: StakeAccounts<'info>,
}

impl ClaimJob<'_> {
    fn validate(&self) -> Result<()> {
        self.job.require_state(JobState::Open)?;
        require!(
            Clock::get()?.slot <= self.job.claim_deadline_slot,
            MarketError::DeadlinePassed
        );
        Ok(())
    }
}

#[access_control(ctx.accounts.validate())]
pub fn process_claim_job(ctx: Context<ClaimJob>) -> Result<()> {
    let slot = Clock::get()?.slot;
    ctx.accounts
        .stake
        .lock(&ctx.accounts.provider_operator, ctx.accounts.job.collateral)?;
    let job_key = ctx.accounts.job.key();
    let provider = ctx.accounts.provider.key();
    let job = &mut ctx.accounts.job;
    job.provider = Some(provider);
    job.commit_deadline_slot = slot
        .checked_add(job.execution_window_slots)
        .ok_or(MarketError::Overflow)?;
    let commit_deadline_slot = job.commit_deadline_slot;
    let changed: JobStateChanged = job.transition(job_key, JobState::Claimed, slot)?;
    emit_cpi!(changed);
    emit_cpi!(JobClaimed {
        job: job_key,
        provider,
        commit_deadline_slot,
    });
    Ok(())
}
