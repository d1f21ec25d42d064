use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenAccount;

use crate::errors::MarketError;
use crate::escrow::*;
use crate::events::{JobClosed, SettledUnaudited, UnauditedReason};
use crate::pass_parties::*;
use crate::state::JobState;

/// Anyone, once a pass window has ended unchallenged: the verifier is paid its fee (for
/// an unaudited pass, the buyer gets it back), the provider's collateral and the
/// verifier's bond unlock, and the job closes as Settled.
#[event_cpi]
#[derive(Accounts)]
pub struct ClosePass<'info> {
    pub escrow: TerminalEscrow<'info>,
    /// Any token account of the attesting verifier (anyone can create one); absent for an
    /// unaudited pass.
    #[account(mut, dup)] // may be the buyer's own account (one key, two roles)
    pub verifier_token: Option<Box<InterfaceAccount<'info, TokenAccount>>>,
    pub parties: PassParties<'info>,
}

impl ClosePass<'_> {
    fn validate(&self) -> Result<()> {
        if let Some(payee) = &self.verifier_token {
            self.escrow.require_payee(payee, self.escrow.job.verifier)?;
        }
        self.escrow.job.require_state(JobState::Passed)?;
        self.parties.belong_to(&self.escrow.job)?;
        require!(
            self.escrow.job.verifier.is_some() == self.verifier_token.is_some(),
            MarketError::WrongAccountOwner
        );
        require!(
            Clock::get()?.slot > self.escrow.job.step_deadline_slot,
            MarketError::DeadlineNotReached
        );
        Ok(())
    }
}

/// Specification:
/// - the verifier holds `verifier_fee` more (an unaudited pass: the buyer does, and
///   `SettledUnaudited` says why no verdict exists), the buyer whatever else the vault
///   held;
/// - the provider's collateral and the verifier's bond are unlocked;
/// - the job and its vault are closed (rent to the buyer), state Settled.
#[access_control(ctx.accounts.validate())]
pub fn process_close_pass(ctx: Context<ClosePass>) -> Result<()> {
    let slot = Clock::get()?.slot;
    let accounts = &ctx.accounts;
    let job = &accounts.escrow.job;
    let (fee_to, verifier_paid, buyer_refund) = match &accounts.verifier_token {
        Some(verifier) => (verifier, job.verifier_fee, 0),
        None => (&accounts.escrow.buyer_token, 0, job.verifier_fee),
    };
    accounts.escrow.pay(fee_to, job.verifier_fee)?;
    let residue = accounts.escrow.close()?;
    accounts.parties.unlock_both(job)?;
    let unaudited = job.verifier.is_none().then(|| SettledUnaudited {
        job: job.key(),
        reason: if job.past_verifiers.is_empty() {
            UnauditedReason::NoEligibleVerifier
        } else {
            UnauditedReason::EveryRoundMissed
        },
        verifier_fee_refunded: buyer_refund,
    });

    let job_key = job.key();
    let closed = JobClosed {
        job: job_key,
        state: JobState::Settled,
        provider_paid: job.provider_payout()?,
        verifier_paid,
        treasury_paid: job.protocol_fee,
        buyer_refund,
        provider_slashed: 0,
        verifier_slashed: 0,
        residue,
    };
    let changed = ctx
        .accounts
        .escrow
        .job
        .transition(job_key, JobState::Settled, slot)?;
    emit_cpi!(changed);
    if let Some(unaudited) = unaudited {
        emit_cpi!(unaudited);
    }
    emit_cpi!(closed);
    Ok(())
}
