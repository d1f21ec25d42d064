use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};
use assay_stake::constants::OPERATOR_SEED;
use assay_stake::state::Operator;

use crate::constants::{JOB_SEED, JOB_VAULT_SEED};
use crate::errors::MarketError;
use crate::escrow::{Escrow, Payout};
use crate::events::{JobClosed, VerifierMissedWindow};
use crate::instructions::advance_round::penalize_missed_verifier;
use crate::stake_accounts::*;
use crate::state::{Job, JobState};

/// Anyone, once every verifier round has passed without a verdict (or no verifier was
/// eligible): optimistic settlement. The provider is paid, the unearned verifier fee
/// returns to the buyer, and a verifier that missed the last window pays its penalty.
#[event_cpi]
#[derive(Accounts)]
pub struct Finalize<'info> {
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
        token::mint = mint,
        token::token_program = token_program,
        constraint = job.provider == Some(provider_token.owner) @ MarketError::WrongAccountOwner,
    )]
    pub provider_token: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mut, address = job.treasury @ MarketError::WrongTreasury)]
    pub treasury: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(
        mut,
        seeds = [OPERATOR_SEED, provider_operator.authority.as_ref()],
        bump = provider_operator.bump,
        seeds::program = assay_stake::ID,
        constraint = job.provider == Some(provider_operator.authority) @ MarketError::WrongOperator,
    )]
    pub provider_operator: Box<Account<'info, Operator>>,
    /// The verifier that missed the last round (required when the job has one); its
    /// vault's seeds are checked by the stake program's slash.
    #[account(mut, constraint = job.verifier == Some(missed_operator.authority) @ MarketError::WrongOperator)]
    pub missed_operator: Option<Box<Account<'info, Operator>>>,
    #[account(mut)]
    pub missed_operator_vault: Option<Box<InterfaceAccount<'info, TokenAccount>>>,
    pub stake: StakeAccounts<'info>,
    #[account(address = vault.mint @ MarketError::WrongMint)]
    pub mint: Box<InterfaceAccount<'info, Mint>>,
    pub token_program: Interface<'info, TokenInterface>,
}

impl Finalize<'_> {
    fn validate(&self) -> Result<()> {
        let job = &self.job;
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

#[access_control(ctx.accounts.validate())]
pub fn process_finalize(ctx: Context<Finalize>) -> Result<()> {
    let slot = Clock::get()?.slot;
    let bump = ctx.bumps.stake.market_authority;
    let accounts = &ctx.accounts;
    let job_key = accounts.job.key();
    let mut verifier_slashed = 0;
    if let (Some(operator), Some(vault)) =
        (&accounts.missed_operator, &accounts.missed_operator_vault)
    {
        verifier_slashed = penalize_missed_verifier(
            &accounts.job,
            &accounts.stake,
            bump,
            operator,
            vault,
            &accounts.treasury,
            &accounts.mint,
            &accounts.token_program,
        )?;
        emit_cpi!(VerifierMissedWindow {
            job: job_key,
            verifier: operator.authority,
            round: accounts.job.round,
            penalty: verifier_slashed,
        });
    }
    let payout = Payout::settle(&accounts.job, false)?;
    let escrow = Escrow {
        job: &accounts.job,
        vault: &accounts.vault,
        mint: &accounts.mint,
        token_program: &accounts.token_program,
    };
    escrow.pay(&accounts.provider_token, payout.provider)?;
    escrow.pay(&accounts.buyer_token, payout.buyer)?;
    escrow.pay(&accounts.treasury, payout.treasury)?;
    let residue = escrow.close(&accounts.buyer_token, &accounts.buyer.to_account_info())?;
    accounts
        .stake
        .unlock(bump, &accounts.provider_operator, accounts.job.collateral)?;

    let changed = ctx
        .accounts
        .job
        .transition(job_key, JobState::Settled, slot);
    emit_cpi!(changed);
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
