use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenAccount;
use assay_stake::state::Operator;

use crate::errors::MarketError;
use crate::escrow::*;
use crate::events::JobClosed;
use crate::stake_accounts::*;
use crate::state::JobState;

/// Anyone, after a deadline passed: an unclaimed job refunds the buyer; a claimed job
/// whose provider never committed refunds the buyer and slashes the no-show's collateral.
#[event_cpi]
#[derive(Accounts)]
pub struct ExpireJob<'info> {
    pub escrow: TerminalEscrow<'info>,
    #[account(mut, address = escrow.job.treasury @ MarketError::WrongTreasury)]
    pub treasury: Box<InterfaceAccount<'info, TokenAccount>>,
    /// The no-show provider (required for a claimed job); its vault's seeds are checked
    /// by the stake program's slash.
    #[account(mut, constraint = escrow.job.provider == Some(provider_operator.authority) @ MarketError::WrongOperator)]
    pub provider_operator: Option<Box<Account<'info, Operator>>>,
    #[account(mut)]
    pub provider_operator_vault: Option<Box<InterfaceAccount<'info, TokenAccount>>>,
    pub stake: StakeAccounts<'info>,
}

impl ExpireJob<'_> {
    fn validate(&self) -> Result<()> {
        let job = &self.escrow.job;
        let slot = Clock::get()?.slot;
        match job.state {
            JobState::Open => require!(
                slot > job.claim_deadline_slot,
                MarketError::DeadlineNotReached
            ),
            JobState::Claimed => {
                require!(
                    slot > job.commit_deadline_slot,
                    MarketError::DeadlineNotReached
                );
                require!(
                    self.provider_operator.is_some() && self.provider_operator_vault.is_some(),
                    MarketError::WrongOperator
                );
            }
            _ => return err!(MarketError::WrongJobState),
        }
        Ok(())
    }
}

#[access_control(ctx.accounts.validate())]
pub fn process_expire_job(ctx: Context<ExpireJob>) -> Result<()> {
    let slot = Clock::get()?.slot;
    let accounts = &ctx.accounts;
    let job = &accounts.escrow.job;
    let escrow = &accounts.escrow;
    let (payout, provider_slashed) = match (
        &accounts.provider_operator,
        &accounts.provider_operator_vault,
    ) {
        (Some(operator), Some(vault)) if job.state == JobState::Claimed => {
            let payout = escrow.slash_provider_and_refund(
                &accounts.stake,
                operator,
                vault,
                None,
                &accounts.treasury,
            )?;
            (payout, job.collateral)
        }
        _ => {
            escrow.pay(&accounts.escrow.buyer_token, job.price)?;
            (
                Payout {
                    buyer: job.price,
                    ..Payout::default()
                },
                0,
            )
        }
    };
    let residue = escrow.close()?;

    let job_key = ctx.accounts.escrow.job.key();
    let changed = ctx
        .accounts
        .escrow
        .job
        .transition(job_key, JobState::Expired, slot)?;
    emit_cpi!(changed);
    emit_cpi!(JobClosed {
        job: job_key,
        state: JobState::Expired,
        provider_paid: 0,
        verifier_paid: 0,
        treasury_paid: payout.treasury,
        buyer_refund: payout.buyer,
        provider_slashed,
        verifier_slashed: 0,
        residue,
    });
    Ok(())
}
