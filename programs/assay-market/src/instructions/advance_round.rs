use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::errors::MarketError;
use crate::events::{DrawRearmed, VerifierMissedWindow};
use crate::stake_accounts::*;
use crate::state::{Job, JobState};

/// Anyone, after the assigned verifier let its window pass with rounds left: the missing
/// verifier pays its miss penalty to the treasury and the next round's draw is armed with
/// a seed slot of its own (drawn by `draw_challenge`), never from the seed already public.
#[event_cpi]
#[derive(Accounts)]
pub struct AdvanceRound<'info> {
    #[account(mut)]
    pub job: Box<Account<'info, Job>>,
    #[account(constraint = job.verifier == Some(missed_verifier.operator.authority) @ MarketError::WrongOperator)]
    pub missed_verifier: StakedParty<'info>,
    #[account(mut, address = job.treasury @ MarketError::WrongTreasury)]
    pub treasury: Box<InterfaceAccount<'info, TokenAccount>>,
    pub stake: StakeAccounts<'info>,
    #[account(address = treasury.mint @ MarketError::WrongMint)]
    pub mint: Box<InterfaceAccount<'info, Mint>>,
    pub token_program: Interface<'info, TokenInterface>,
}

impl AdvanceRound<'_> {
    fn validate(&self) -> Result<()> {
        let job = &self.job;
        job.require_state(JobState::Challenged)?;
        require!(
            Clock::get()?.slot > job.step_deadline_slot,
            MarketError::DeadlineNotReached
        );
        require!(job.rounds_remain(), MarketError::NoRoundsRemain);
        Ok(())
    }
}

/// Specification:
/// - the missed verifier lost `verifier_miss_penalty` to the treasury, the rest of its
///   bond is unlocked, and it is never drawn again for this job;
/// - the job is Committed for round + 1 with a new seed slot after this slot and its own
///   draw window.
#[access_control(ctx.accounts.validate())]
pub fn process_advance_round(ctx: Context<AdvanceRound>) -> Result<()> {
    let slot = Clock::get()?.slot;
    let accounts = &ctx.accounts;
    let missed = accounts.missed_verifier.operator.authority;
    let params = &accounts.job.params;
    let penalty = accounts.stake.release_with_penalty(
        &accounts.missed_verifier.operator,
        &accounts.missed_verifier.vault,
        &accounts.treasury,
        &accounts.mint,
        &accounts.token_program,
        accounts.job.verifier_bond,
        params.verifier_miss_penalty,
    )?;

    let job_key = ctx.accounts.job.key();
    let job = &mut ctx.accounts.job;
    let missed_round = job.round;
    job.past_verifiers.push(missed);
    job.verifier = None;
    job.round = missed_round.checked_add(1).ok_or(MarketError::Overflow)?;
    let seed_slot = job.arm(slot)?;
    let round = job.round;
    let changed = job.transition(job_key, JobState::Committed, slot)?;
    emit_cpi!(VerifierMissedWindow {
        job: job_key,
        verifier: missed,
        round: missed_round,
        penalty,
    });
    emit_cpi!(changed);
    emit_cpi!(DrawRearmed {
        job: job_key,
        round,
        seed_slot,
        draw_deadline_slot: ctx.accounts.job.draw_deadline_slot,
    });
    Ok(())
}
