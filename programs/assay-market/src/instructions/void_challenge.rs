use anchor_lang::prelude::*;
use assay_stake::constants::OPERATOR_SEED;
use assay_stake::state::Operator;

use crate::constants::JOB_SEED;
use crate::errors::MarketError;
use crate::events::PassWindowReopened;
use crate::stake_accounts::*;
use crate::state::{Job, JobState};

/// Anyone, once a challenge's vote window passed without a majority: nobody is shown
/// wrong, so nobody is slashed. The challenger's bond unlocks and the pass window runs
/// again for the slots it had left.
#[event_cpi]
#[derive(Accounts)]
pub struct VoidChallenge<'info> {
    #[account(
        mut,
        seeds = [JOB_SEED, job.buyer.as_ref(), &job.job_id.to_le_bytes()],
        bump = job.bump,
    )]
    pub job: Box<Account<'info, Job>>,
    #[account(
        mut,
        seeds = [OPERATOR_SEED, challenger_operator.authority.as_ref()],
        bump = challenger_operator.bump,
        seeds::program = assay_stake::ID,
        constraint = job.accuser == Some(challenger_operator.authority) @ MarketError::WrongOperator,
    )]
    pub challenger_operator: Box<Account<'info, Operator>>,
    pub stake: StakeAccounts<'info>,
}

impl VoidChallenge<'_> {
    fn validate(&self) -> Result<()> {
        self.job.require_state(JobState::PassChallenged)?;
        require!(
            Clock::get()?.slot > self.job.step_deadline_slot,
            MarketError::DeadlineNotReached
        );
        Ok(())
    }
}

/// Specification:
/// - the challenger's bond is unlocked; no tokens move;
/// - the job is Passed again until this slot plus the window slots left at the challenge.
#[access_control(ctx.accounts.validate())]
pub fn process_void_challenge(ctx: Context<VoidChallenge>) -> Result<()> {
    let slot = Clock::get()?.slot;
    let job_key = ctx.accounts.job.key();
    ctx.accounts.stake.unlock(
        ctx.bumps.stake.market_authority,
        &ctx.accounts.challenger_operator,
        ctx.accounts.job.params.verifier_bond,
    )?;
    let challenger = ctx.accounts.challenger_operator.authority;
    let job = &mut ctx.accounts.job;
    let window_end_slot = job.reopen_pass(slot)?;
    let changed = job.transition(job_key, JobState::Passed, slot);
    emit_cpi!(changed);
    emit_cpi!(PassWindowReopened {
        job: job_key,
        challenger,
        challenger_slashed: 0,
        window_end_slot,
    });
    Ok(())
}
