use anchor_lang::prelude::*;

use crate::errors::MarketError;
use crate::escrow::*;
use crate::events::JobClosed;
use crate::state::JobState;

/// The buyer takes its job back before any provider claimed it: full refund, rent returned.
#[event_cpi]
#[derive(Accounts)]
pub struct CancelJob<'info> {
    pub escrow: TerminalEscrow<'info>,
    /// The buyer signs for itself (the escrow's `buyer` is the same key, as rent receiver).
    #[account(address = escrow.job.buyer @ MarketError::NotBuyer)]
    pub buyer: Signer<'info>,
}

impl CancelJob<'_> {
    fn validate(&self) -> Result<()> {
        self.escrow.job.require_state(JobState::Open)
    }
}

#[access_control(ctx.accounts.validate())]
pub fn process_cancel_job(ctx: Context<CancelJob>) -> Result<()> {
    let slot = Clock::get()?.slot;
    let escrow = &ctx.accounts.escrow;
    let refund = escrow.job.price;
    escrow.pay(&escrow.buyer_token, refund)?;
    let residue = escrow.close()?;
    let job_key = ctx.accounts.escrow.job.key();
    let changed = ctx
        .accounts
        .escrow
        .job
        .transition(job_key, JobState::Cancelled, slot)?;
    emit_cpi!(changed);
    emit_cpi!(JobClosed {
        job: job_key,
        state: JobState::Cancelled,
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
