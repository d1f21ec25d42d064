use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenAccount;
use assay_stake::state::Operator;

use crate::errors::MarketError;
use crate::escrow::*;
use crate::events::{PassRecorded, VerifierMissedWindow};
use crate::stake_accounts::*;
use crate::state::JobState;

/// Anyone, once every verifier round has passed without a verdict (or no verifier was
/// eligible): an unaudited pass. The provider is paid (it did the work) and the treasury
/// its fee, but nobody checked the outputs, so a pass window opens with no verifier: the
/// provider's collateral stays locked and anyone may still challenge a sampled chunk,
/// exactly as after an attested pass. The verifier fee waits in the vault and returns to
/// the buyer when the window closes. A verifier that missed the last round pays its
/// penalty.
#[event_cpi]
#[derive(Accounts)]
pub struct Finalize<'info> {
    pub escrow: OpenEscrow<'info>,
    #[account(mut, dup)] // may be the buyer's own account (one key, two roles)
    pub provider_token: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mut, address = escrow.job.treasury @ MarketError::WrongTreasury)]
    pub treasury: Box<InterfaceAccount<'info, TokenAccount>>,
    /// The verifier that missed the last round (required when the job has one); its
    /// vault's seeds are checked by the stake program's slash.
    #[account(mut, constraint = escrow.job.verifier == Some(missed_operator.authority) @ MarketError::WrongOperator)]
    pub missed_operator: Option<Box<Account<'info, Operator>>>,
    #[account(mut)]
    pub missed_operator_vault: Option<Box<InterfaceAccount<'info, TokenAccount>>>,
    pub stake: StakeAccounts<'info>,
}

impl Finalize<'_> {
    fn validate(&self) -> Result<()> {
        self.escrow
            .require_payee(&self.provider_token, self.escrow.job.provider)?;
        let job = &self.escrow.job;
        job.require_state(JobState::Challenged)?;
        require!(
            Clock::get()?.slot > job.step_deadline_slot,
            MarketError::DeadlineNotReached
        );
        require!(
            job.verifier.is_none() || !job.rounds_remain(),
            MarketError::RoundsRemain
        );
        if job.verifier.is_some() {
            require!(
                self.missed_operator.is_some() && self.missed_operator_vault.is_some(),
                MarketError::WrongOperator
            );
        }
        Ok(())
    }
}

/// Specification:
/// - the provider holds price − verifier fee − protocol fee more, the treasury the
///   protocol fee; the vault keeps the verifier fee; the provider's collateral stays
///   locked;
/// - a verifier that let the last round's window pass lost its miss penalty, the rest of
///   its bond is unlocked, and it is no longer the job's verifier;
/// - the job is Passed with no verifier until `pass_window_slots` after this slot: any
///   staked operator but the provider may challenge a sampled chunk, and the provider's
///   collateral answers for it (`close_pass` then settles it unaudited).
#[access_control(ctx.accounts.validate())]
pub fn process_finalize(ctx: Context<Finalize>) -> Result<()> {
    let slot = Clock::get()?.slot;
    let accounts = &ctx.accounts;
    let job = &accounts.escrow.job;
    let job_key = job.key();
    if let (Some(operator), Some(vault)) =
        (&accounts.missed_operator, &accounts.missed_operator_vault)
    {
        let penalty = accounts.stake.release_with_penalty(
            operator,
            vault,
            &accounts.treasury,
            &accounts.escrow.mint,
            &accounts.escrow.token_program,
            job.verifier_bond,
            job.params.verifier_miss_penalty,
        )?;
        emit_cpi!(VerifierMissedWindow {
            job: job_key,
            verifier: operator.authority,
            round: job.round,
            penalty,
        });
    }
    let provider_paid = job.provider_payout()?;
    let treasury_paid = job.protocol_fee;
    accounts
        .escrow
        .pay(&accounts.provider_token, provider_paid)?;
    accounts.escrow.pay(&accounts.treasury, treasury_paid)?;

    let job = &mut ctx.accounts.escrow.job;
    if let Some(missed) = job.verifier.take() {
        job.past_verifiers.push(missed);
    }
    job.step_deadline_slot = slot
        .checked_add(job.params.pass_window_slots)
        .ok_or(MarketError::Overflow)?;
    let window_end_slot = job.step_deadline_slot;
    let changed = job.transition(job_key, JobState::Passed, slot)?;
    emit_cpi!(changed);
    emit_cpi!(PassRecorded {
        job: job_key,
        verifier: None,
        provider_paid,
        treasury_paid,
        window_end_slot,
    });
    Ok(())
}
