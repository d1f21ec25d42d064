use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};
use assay_stake::constants::OPERATOR_SEED;
use assay_stake::state::Operator;

use crate::constants::{JOB_SEED, JOB_VAULT_SEED};
use crate::errors::MarketError;
use crate::escrow::Escrow;
use crate::events::JobClosed;
use crate::stake_accounts::*;
use crate::state::{Job, JobState};

/// Anyone, once the vote window passed without a majority: nobody can be shown to be
/// wrong, so nobody is slashed. The buyer is refunded and both stakes unlock.
#[event_cpi]
#[derive(Accounts)]
pub struct VoidContest<'info> {
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
    #[account(
        mut,
        seeds = [OPERATOR_SEED, provider_operator.authority.as_ref()],
        bump = provider_operator.bump,
        seeds::program = assay_stake::ID,
        constraint = job.provider == Some(provider_operator.authority) @ MarketError::WrongOperator,
    )]
    pub provider_operator: Box<Account<'info, Operator>>,
    #[account(
        mut,
        seeds = [OPERATOR_SEED, accuser_operator.authority.as_ref()],
        bump = accuser_operator.bump,
        seeds::program = assay_stake::ID,
        constraint = job.accuser == Some(accuser_operator.authority) @ MarketError::WrongOperator,
    )]
    pub accuser_operator: Box<Account<'info, Operator>>,
    pub stake: StakeAccounts<'info>,
    #[account(address = vault.mint @ MarketError::WrongMint)]
    pub mint: Box<InterfaceAccount<'info, Mint>>,
    pub token_program: Interface<'info, TokenInterface>,
}

impl VoidContest<'_> {
    fn validate(&self) -> Result<()> {
        self.job.require_state(JobState::Contested)?;
        require!(
            Clock::get()?.slot > self.job.step_deadline_slot,
            MarketError::DeadlineNotReached
        );
        Ok(())
    }
}

#[access_control(ctx.accounts.validate())]
pub fn process_void_contest(ctx: Context<VoidContest>) -> Result<()> {
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
    escrow.pay(&accounts.buyer_token, job.price)?;
    let residue = escrow.close(&accounts.buyer_token, &accounts.buyer.to_account_info())?;
    accounts
        .stake
        .unlock(bump, &accounts.provider_operator, job.collateral)?;
    accounts
        .stake
        .unlock(bump, &accounts.accuser_operator, job.params.verifier_bond)?;

    let job_key = ctx.accounts.job.key();
    let refund = ctx.accounts.job.price;
    let changed = ctx.accounts.job.transition(job_key, JobState::Voided, slot);
    emit_cpi!(changed);
    emit_cpi!(JobClosed {
        job: job_key,
        state: JobState::Voided,
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
