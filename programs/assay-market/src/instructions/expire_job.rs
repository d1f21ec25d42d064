use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};
use assay_stake::state::Operator;

use crate::constants::{JOB_SEED, JOB_VAULT_SEED};
use crate::errors::MarketError;
use crate::escrow::{Escrow, Payout};
use crate::events::JobClosed;
use crate::instructions::concede_fault::slash_provider_and_refund;
use crate::stake_accounts::*;
use crate::state::{Job, JobState};

/// Anyone, after a deadline passed: an unclaimed job refunds the buyer; a claimed job
/// whose provider never committed refunds the buyer and slashes the no-show's collateral.
#[event_cpi]
#[derive(Accounts)]
pub struct ExpireJob<'info> {
    #[account(
        mut,
        close = buyer,
        seeds = [JOB_SEED, job.buyer.as_ref(), &job.job_id.to_le_bytes()],
        bump = job.bump,
    )]
    pub job: Box<Account<'info, Job>>,
    /// CHECK: receives the rent of the job and its vault; pinned to the job's buyer.
    #[account(mut, address = job.buyer @ MarketError::NotBuyer)]
    pub buyer: UncheckedAccount<'info>,
    #[account(mut, seeds = [JOB_VAULT_SEED, job.key().as_ref()], bump = job.vault_bump)]
    pub vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(
        mut,
        token::mint = mint,
        token::authority = job.buyer,
        token::token_program = token_program,
    )]
    pub buyer_token: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mut, address = job.treasury @ MarketError::WrongTreasury)]
    pub treasury: Box<InterfaceAccount<'info, TokenAccount>>,
    /// The no-show provider (required for a claimed job); its vault's seeds are checked
    /// by the stake program's slash.
    #[account(mut, constraint = job.provider == Some(provider_operator.authority) @ MarketError::WrongOperator)]
    pub provider_operator: Option<Box<Account<'info, Operator>>>,
    #[account(mut)]
    pub provider_operator_vault: Option<Box<InterfaceAccount<'info, TokenAccount>>>,
    pub stake: StakeAccounts<'info>,
    #[account(address = vault.mint @ MarketError::WrongMint)]
    pub mint: Box<InterfaceAccount<'info, Mint>>,
    pub token_program: Interface<'info, TokenInterface>,
}

impl ExpireJob<'_> {
    fn validate(&self) -> Result<()> {
        let job = &self.job;
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
    let bump = ctx.bumps.stake.market_authority;
    let accounts = &ctx.accounts;
    let job = &accounts.job;
    let escrow = Escrow {
        job,
        vault: &accounts.vault,
        mint: &accounts.mint,
        token_program: &accounts.token_program,
    };
    let (payout, provider_slashed) = match (
        &accounts.provider_operator,
        &accounts.provider_operator_vault,
    ) {
        (Some(operator), Some(vault)) if job.state == JobState::Claimed => {
            let payout = slash_provider_and_refund(
                &escrow,
                &accounts.stake,
                bump,
                operator,
                vault,
                &accounts.buyer_token,
                None,
                &accounts.treasury,
            )?;
            (payout, job.collateral)
        }
        _ => {
            escrow.pay(&accounts.buyer_token, job.price)?;
            (
                Payout {
                    buyer: job.price,
                    ..Payout::default()
                },
                0,
            )
        }
    };
    let residue = escrow.close(&accounts.buyer_token, &accounts.buyer.to_account_info())?;

    let job_key = ctx.accounts.job.key();
    let changed = ctx
        .accounts
        .job
        .transition(job_key, JobState::Expired, slot);
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
