use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenAccount;
use assay_stake::constants::OPERATOR_SEED;
use assay_stake::state::Operator;

use crate::errors::MarketError;
use crate::escrow::*;
use crate::events::{JobClosed, SettledUnaudited, UnauditedReason, VerifierMissedWindow};
use crate::instructions::advance_round::penalize_missed_verifier;
use crate::stake_accounts::*;
use crate::state::JobState;

/// Anyone, once every verifier round has passed without a verdict (or no verifier was
/// eligible): settlement without an audit. The provider is paid (it did the work), the
/// unearned verifier fee returns to the buyer, a verifier that missed the last window
/// pays its penalty, and `SettledUnaudited` says so.
#[event_cpi]
#[derive(Accounts)]
pub struct Finalize<'info> {
    pub escrow: TerminalEscrow<'info>,
    #[account(
        mut,
        token::mint = escrow.mint,
        token::token_program = escrow.token_program,
        constraint = escrow.job.provider == Some(provider_token.owner) @ MarketError::WrongAccountOwner,
    )]
    pub provider_token: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mut, address = escrow.job.treasury @ MarketError::WrongTreasury)]
    pub treasury: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(
        mut,
        seeds = [OPERATOR_SEED, provider_operator.authority.as_ref()],
        bump = provider_operator.bump,
        seeds::program = assay_stake::ID,
        constraint = escrow.job.provider == Some(provider_operator.authority) @ MarketError::WrongOperator,
    )]
    pub provider_operator: Box<Account<'info, Operator>>,
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
        let job = &self.escrow.job;
        job.require_state(JobState::Challenged)?;
        require!(
            Clock::get()?.slot > job.step_deadline_slot,
            MarketError::DeadlineNotReached
        );
        let last_round = job.round.checked_add(1).ok_or(MarketError::Overflow)?
            >= job.params.max_verifier_rounds;
        require!(
            job.verifier.is_none() || last_round,
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
/// - the provider got price − verifier fee − protocol fee, the treasury the protocol fee,
///   and the buyer the verifier fee (plus any residue); the provider's collateral is
///   unlocked and the job closed Settled;
/// - a verifier that let the last round's window pass lost its miss penalty;
/// - `SettledUnaudited` says why no verdict exists, with the fee refunded.
#[access_control(ctx.accounts.validate())]
pub fn process_finalize(ctx: Context<Finalize>) -> Result<()> {
    let slot = Clock::get()?.slot;
    let bump = ctx.bumps.stake.market_authority;
    let accounts = &ctx.accounts;
    let job_key = accounts.escrow.job.key();
    let mut verifier_slashed = 0;
    if let (Some(operator), Some(vault)) =
        (&accounts.missed_operator, &accounts.missed_operator_vault)
    {
        verifier_slashed = penalize_missed_verifier(
            &accounts.escrow.job,
            &accounts.stake,
            bump,
            operator,
            vault,
            &accounts.treasury,
            &accounts.escrow.mint,
            &accounts.escrow.token_program,
        )?;
        emit_cpi!(VerifierMissedWindow {
            job: job_key,
            verifier: operator.authority,
            round: accounts.escrow.job.round,
            penalty: verifier_slashed,
        });
    }
    let payout = Payout::settle(&accounts.escrow.job, false)?;
    let escrow = &accounts.escrow;
    escrow.pay(&accounts.provider_token, payout.provider)?;
    escrow.pay(&accounts.escrow.buyer_token, payout.buyer)?;
    escrow.pay(&accounts.treasury, payout.treasury)?;
    let residue = escrow.close()?;
    let reason = if accounts.missed_operator.is_some() {
        UnauditedReason::EveryRoundMissed
    } else {
        UnauditedReason::NoEligibleVerifier
    };
    let verifier_fee_refunded = payout.buyer;
    accounts.stake.unlock(
        bump,
        &accounts.provider_operator,
        accounts.escrow.job.collateral,
    )?;

    let changed = ctx
        .accounts
        .escrow
        .job
        .transition(job_key, JobState::Settled, slot);
    emit_cpi!(changed);
    emit_cpi!(SettledUnaudited {
        job: job_key,
        reason,
        verifier_fee_refunded,
    });
    emit_cpi!(JobClosed {
        job: job_key,
        state: JobState::Settled,
        provider_paid: payout.provider,
        verifier_paid: 0,
        treasury_paid: payout.treasury,
        buyer_refund: payout.buyer,
        provider_slashed: 0,
        verifier_slashed,
        residue,
    });
    Ok(())
}
