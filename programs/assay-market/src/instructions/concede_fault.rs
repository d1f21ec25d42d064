use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenAccount;
use assay_stake::state::Operator;

use crate::errors::MarketError;
use crate::escrow::*;
use crate::events::JobClosed;
use crate::stake_accounts::*;
use crate::state::JobState;

/// The fault stands: the provider concedes, or anyone calls this once the dispute window
/// has passed without a contest. The provider's collateral is slashed; the buyer gets its
/// price back plus compensation, the accusing verifier its finder fee.
#[event_cpi]
#[derive(Accounts)]
pub struct ConcedeFault<'info> {
    /// The provider (any time in the dispute window) or anyone (after it).
    pub caller: Signer<'info>,
    pub escrow: TerminalEscrow<'info>,
    #[account(mut, dup)] // may be the buyer's own account (one key, two roles)
    pub accuser_token: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mut, address = escrow.job.treasury @ MarketError::WrongTreasury)]
    pub treasury: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(constraint = escrow.job.provider == Some(provider.operator.authority) @ MarketError::WrongOperator)]
    pub provider: StakedParty<'info>,
    #[account(
        mut,
        constraint = escrow.job.accuser == Some(accuser_operator.authority) @ MarketError::WrongOperator,
    )]
    pub accuser_operator: Box<Account<'info, Operator>>,
    pub stake: StakeAccounts<'info>,
}

impl ConcedeFault<'_> {
    fn validate(&self) -> Result<()> {
        self.escrow
            .require_payee(&self.accuser_token, self.escrow.job.accuser)?;
        let job = &self.escrow.job;
        job.require_state(JobState::Disputed)?;
        let by_provider = job.provider == Some(self.caller.key());
        require!(
            by_provider || Clock::get()?.slot > job.step_deadline_slot,
            MarketError::DeadlineNotReached
        );
        Ok(())
    }
}

#[access_control(ctx.accounts.validate())]
pub fn process_concede_fault(ctx: Context<ConcedeFault>) -> Result<()> {
    let slot = Clock::get()?.slot;
    let accounts = &ctx.accounts;
    let escrow = &accounts.escrow;
    let payout = escrow.slash_provider_and_refund(
        &accounts.stake,
        &accounts.provider.operator,
        &accounts.provider.vault,
        Some(&accounts.accuser_token),
        &accounts.treasury,
    )?;
    let residue = escrow.close()?;
    accounts.stake.unlock(
        &accounts.accuser_operator,
        accounts.escrow.job.verifier_bond,
    )?;

    let job_key = ctx.accounts.escrow.job.key();
    let provider_slashed = ctx.accounts.escrow.job.collateral;
    let changed = ctx
        .accounts
        .escrow
        .job
        .transition(job_key, JobState::Slashed, slot)?;
    emit_cpi!(changed);
    emit_cpi!(JobClosed {
        job: job_key,
        state: JobState::Slashed,
        provider_paid: 0,
        verifier_paid: payout.verifier,
        treasury_paid: payout.treasury,
        buyer_refund: payout.buyer,
        provider_slashed,
        verifier_slashed: 0,
        residue,
    });
    Ok(())
}
