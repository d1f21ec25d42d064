use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenAccount;
use assay_stake::state::Operator;

use crate::errors::MarketError;
use crate::escrow::*;
use crate::events::JobClosed;
use crate::stake_accounts::*;
use crate::state::JobState;

/// Anyone, once the vote window passed without a majority: nobody can be shown to be
/// wrong, but the contest did not stand either. The buyer is refunded, the accuser's bond
/// unlocks, and the provider, who asked for the committee, pays the miss penalty out of
/// its collateral to the treasury (a contest left to void is never a free retry for a
/// caught provider) and gets the rest back.
#[event_cpi]
#[derive(Accounts)]
pub struct VoidContest<'info> {
    pub escrow: TerminalEscrow<'info>,
    #[account(constraint = escrow.job.provider == Some(provider.operator.authority) @ MarketError::WrongOperator)]
    pub provider: StakedParty<'info>,
    #[account(mut, address = escrow.job.treasury @ MarketError::WrongTreasury)]
    pub treasury: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(
        mut,
        constraint = escrow.job.accuser == Some(accuser_operator.authority) @ MarketError::WrongOperator,
    )]
    pub accuser_operator: Box<Account<'info, Operator>>,
    pub stake: StakeAccounts<'info>,
}

impl VoidContest<'_> {
    fn validate(&self) -> Result<()> {
        self.escrow.job.require_state(JobState::Contested)?;
        // An undrawn committee is not voided: its draw lapses (`lapse_draw`).
        require!(!self.escrow.job.draw_pending(), MarketError::DrawPending);
        require!(
            Clock::get()?.slot > self.escrow.job.step_deadline_slot,
            MarketError::DeadlineNotReached
        );
        Ok(())
    }
}

/// Specification:
/// - the buyer holds `price` (and any residue) more; the provider lost
///   `verifier_miss_penalty` of its collateral to the treasury and the rest is unlocked;
///   the accuser's bond is unlocked;
/// - the job and vault are closed, state Voided.
#[access_control(ctx.accounts.validate())]
pub fn process_void_contest(ctx: Context<VoidContest>) -> Result<()> {
    let slot = Clock::get()?.slot;
    let accounts = &ctx.accounts;
    let job = &accounts.escrow.job;
    let escrow = &accounts.escrow;
    escrow.pay(&accounts.escrow.buyer_token, job.price)?;
    let residue = escrow.close()?;
    let penalty = accounts.stake.release_with_penalty(
        &accounts.provider.operator,
        &accounts.provider.vault,
        &accounts.treasury,
        &escrow.mint,
        &escrow.token_program,
        job.collateral,
        job.params.verifier_miss_penalty,
    )?;
    accounts
        .stake
        .unlock(&accounts.accuser_operator, job.verifier_bond)?;

    let job_key = ctx.accounts.escrow.job.key();
    let refund = ctx.accounts.escrow.job.price;
    let changed = ctx
        .accounts
        .escrow
        .job
        .transition(job_key, JobState::Voided, slot)?;
    emit_cpi!(changed);
    emit_cpi!(JobClosed {
        job: job_key,
        state: JobState::Voided,
        provider_paid: 0,
        verifier_paid: 0,
        treasury_paid: penalty,
        buyer_refund: refund,
        provider_slashed: penalty,
        verifier_slashed: 0,
        residue,
    });
    Ok(())
}
