use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::errors::MarketError;
use crate::events::PassWindowReopened;
use crate::stake_accounts::*;
use crate::state::{Job, JobState};

/// Anyone, once a challenge's vote window passed without a majority: nobody is shown
/// wrong, but the challenge did not stand either. The challenger, who asked for the
/// committee, pays the miss penalty to the treasury (so a challenge left to void is never
/// free), the rest of its bond unlocks, and the pass window runs again for the slots it
/// had left.
#[event_cpi]
#[derive(Accounts)]
pub struct VoidChallenge<'info> {
    #[account(mut)]
    pub job: Box<Account<'info, Job>>,
    #[account(constraint = job.accuser == Some(challenger.operator.authority) @ MarketError::WrongOperator)]
    pub challenger: StakedParty<'info>,
    #[account(mut, address = job.treasury @ MarketError::WrongTreasury)]
    pub treasury: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(address = treasury.mint @ MarketError::WrongMint)]
    pub mint: Box<InterfaceAccount<'info, Mint>>,
    pub token_program: Interface<'info, TokenInterface>,
    pub stake: StakeAccounts<'info>,
}

impl VoidChallenge<'_> {
    fn validate(&self) -> Result<()> {
        self.job.require_state(JobState::PassChallenged)?;
        // An undrawn committee is not voided: its draw lapses (`lapse_draw`).
        require!(!self.job.draw_pending(), MarketError::DrawPending);
        require!(
            Clock::get()?.slot > self.job.step_deadline_slot,
            MarketError::DeadlineNotReached
        );
        Ok(())
    }
}

/// Specification:
/// - the challenger lost `verifier_miss_penalty` to the treasury and the rest of its bond
///   is unlocked;
/// - the job is Passed again until this slot plus the window slots left at the challenge.
#[access_control(ctx.accounts.validate())]
pub fn process_void_challenge(ctx: Context<VoidChallenge>) -> Result<()> {
    let slot = Clock::get()?.slot;
    let job_key = ctx.accounts.job.key();
    let accounts = &ctx.accounts;
    let params = &accounts.job.params;
    let penalty = accounts.stake.release_with_penalty(
        &accounts.challenger.operator,
        &accounts.challenger.vault,
        &accounts.treasury,
        &accounts.mint,
        &accounts.token_program,
        accounts.job.challenger_bond(),
        params.verifier_miss_penalty,
    )?;
    let challenger = ctx.accounts.challenger.operator.authority;
    let job = &mut ctx.accounts.job;
    let window_end_slot = job.reopen_pass(slot)?;
    let changed = job.transition(job_key, JobState::Passed, slot)?;
    emit_cpi!(changed);
    emit_cpi!(PassWindowReopened {
        job: job_key,
        challenger,
        challenger_slashed: penalty,
        window_end_slot,
    });
    Ok(())
}
