use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::constants::{JOB_SEED, JOB_VAULT_SEED};
use crate::errors::MarketError;
use crate::escrow::Escrow;
use crate::events::JobClosed;
use crate::state::{Job, JobState};

/// The buyer takes its job back before any provider claimed it: full refund, rent returned.
#[event_cpi]
#[derive(Accounts)]
pub struct CancelJob<'info> {
    #[account(mut)]
    pub buyer: Signer<'info>,
    #[account(
        mut,
        close = buyer,
        seeds = [JOB_SEED, job.buyer.as_ref(), &job.job_id.to_le_bytes()],
        bump = job.bump,
        has_one = buyer @ MarketError::NotBuyer,
    )]
    pub job: Box<Account<'info, Job>>,
    #[account(mut, seeds = [JOB_VAULT_SEED, job.key().as_ref()], bump = job.vault_bump)]
    pub vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(
        mut,
        token::mint = mint,
        token::authority = buyer,
        token::token_program = token_program,
    )]
    pub buyer_token: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(address = vault.mint @ MarketError::WrongMint)]
    pub mint: Box<InterfaceAccount<'info, Mint>>,
    pub token_program: Interface<'info, TokenInterface>,
}

impl CancelJob<'_> {
    fn validate(&self) -> Result<()> {
        self.job.require_state(JobState::Open)
    }
}

#[access_control(ctx.accounts.validate())]
pub fn process_cancel_job(ctx: Context<CancelJob>) -> Result<()> {
    let slot = Clock::get()?.slot;
    let escrow = Escrow {
        job: &ctx.accounts.job,
        vault: &ctx.accounts.vault,
        mint: &ctx.accounts.mint,
        token_program: &ctx.accounts.token_program,
    };
    let refund = ctx.accounts.job.price;
    escrow.pay(&ctx.accounts.buyer_token, refund)?;
    let residue = escrow.close(
        &ctx.accounts.buyer_token,
        &ctx.accounts.buyer.to_account_info(),
    )?;
    let job_key = ctx.accounts.job.key();
    let changed = ctx
        .accounts
        .job
        .transition(job_key, JobState::Cancelled, slot);
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
