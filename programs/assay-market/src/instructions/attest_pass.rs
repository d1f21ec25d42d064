use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenAccount;

use crate::errors::MarketError;
use crate::escrow::*;
use crate::events::PassRecorded;
use crate::state::JobState;

/// The assigned verifier re-executed every sampled chunk and found them correct: the
/// provider is paid at once and the treasury its fee, and the pass window opens. The
/// verifier's fee, its bond and the provider's collateral stay in escrow until the window
/// ends (`close_pass`), so a pass signed without re-executing can still be challenged.
#[event_cpi]
#[derive(Accounts)]
pub struct AttestPass<'info> {
    #[account(
        constraint = escrow.job.verifier == Some(verifier.key()) @ MarketError::NotAssignedVerifier,
    )]
    pub verifier: Signer<'info>,
    pub escrow: OpenEscrow<'info>,
    #[account(mut, dup)] // may be the buyer's own account (one key, two roles)
    pub provider_token: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mut, address = escrow.job.treasury @ MarketError::WrongTreasury)]
    pub treasury: Box<InterfaceAccount<'info, TokenAccount>>,
}

impl AttestPass<'_> {
    fn validate(&self) -> Result<()> {
        self.escrow
            .require_payee(&self.provider_token, self.escrow.job.provider)?;
        self.escrow.job.require_state(JobState::Challenged)?;
        require!(
            Clock::get()?.slot <= self.escrow.job.step_deadline_slot,
            MarketError::DeadlinePassed
        );
        Ok(())
    }
}

/// Specification:
/// - the provider holds `price − verifier_fee − protocol_fee` more, the treasury
///   `protocol_fee` more; the vault keeps `verifier_fee` (plus anything donated);
/// - the provider's collateral and the verifier's bond stay locked;
/// - the job is Passed until `pass_window_slots` after this slot.
#[access_control(ctx.accounts.validate())]
pub fn process_attest_pass(ctx: Context<AttestPass>) -> Result<()> {
    let slot = Clock::get()?.slot;
    let accounts = &ctx.accounts;
    let job = &accounts.escrow.job;
    let provider_paid = job.provider_payout()?;
    let treasury_paid = job.protocol_fee;
    accounts
        .escrow
        .pay(&accounts.provider_token, provider_paid)?;
    accounts.escrow.pay(&accounts.treasury, treasury_paid)?;

    let job_key = ctx.accounts.escrow.job.key();
    let job = &mut ctx.accounts.escrow.job;
    job.step_deadline_slot = slot
        .checked_add(job.params.pass_window_slots)
        .ok_or(MarketError::Overflow)?;
    let verifier = job.verifier_key()?;
    let window_end_slot = job.step_deadline_slot;
    let changed = job.transition(job_key, JobState::Passed, slot)?;
    emit_cpi!(changed);
    emit_cpi!(PassRecorded {
        job: job_key,
        verifier: Some(verifier),
        provider_paid,
        treasury_paid,
        window_end_slot,
    });
    Ok(())
}
