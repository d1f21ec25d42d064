use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenAccount;

use crate::errors::MarketError;
use crate::escrow::*;
use crate::events::JobClosed;
use crate::pass_parties::*;
use crate::state::JobState;

/// Anyone, once a pass window has ended unchallenged: the verifier is paid its fee, the
/// provider's collateral and the verifier's bond unlock, and the job closes as Settled.
#[event_cpi]
#[derive(Accounts)]
pub struct ClosePass<'info> {
    pub escrow: TerminalEscrow<'info>,
    /// Any token account of the attesting verifier (anyone can create one).
    #[account(
        mut,
        token::mint = escrow.mint,
        token::token_program = escrow.token_program,
        constraint = escrow.job.verifier == Some(verifier_token.owner) @ MarketError::WrongAccountOwner,
    )]
    pub verifier_token: Box<InterfaceAccount<'info, TokenAccount>>,
    pub parties: PassParties<'info>,
}

impl ClosePass<'_> {
    fn validate(&self) -> Result<()> {
        self.escrow.job.require_state(JobState::Passed)?;
        self.parties.belong_to(&self.escrow.job)?;
        require!(
            Clock::get()?.slot > self.escrow.job.step_deadline_slot,
            MarketError::DeadlineNotReached
        );
        Ok(())
    }
}

/// Specification:
/// - the verifier holds `verifier_fee` more, the buyer whatever else the vault held;
/// - the provider's collateral and the verifier's bond are unlocked;
/// - the job and its vault are closed (rent to the buyer), state Settled.
#[access_control(ctx.accounts.validate())]
pub fn process_close_pass(ctx: Context<ClosePass>) -> Result<()> {
    let slot = Clock::get()?.slot;
    let accounts = &ctx.accounts;
    let job = &accounts.escrow.job;
    let bump = ctx.bumps.parties.stake.market_authority;
    accounts
        .escrow
        .pay(&accounts.verifier_token, job.verifier_fee)?;
    let residue = accounts.escrow.close()?;
    accounts.parties.unlock_both(bump, job)?;

    let job_key = job.key();
    let closed = JobClosed {
        job: job_key,
        state: JobState::Settled,
        provider_paid: job.provider_payout()?,
        verifier_paid: job.verifier_fee,
        treasury_paid: job.protocol_fee,
        buyer_refund: 0,
        provider_slashed: 0,
        verifier_slashed: 0,
        residue,
    };
    let changed = ctx
        .accounts
        .escrow
        .job
        .transition(job_key, JobState::Settled, slot);
    emit_cpi!(changed);
    emit_cpi!(closed);
    Ok(())
}
