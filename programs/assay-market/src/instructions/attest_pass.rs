use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};
use assay_stake::constants::OPERATOR_SEED;
use assay_stake::state::Operator;

use crate::constants::{JOB_SEED, JOB_VAULT_SEED};
use crate::errors::MarketError;
use crate::escrow::{Escrow, Payout};
use crate::events::JobClosed;
use crate::stake_accounts::*;
use crate::state::{Job, JobState};

/// The assigned verifier re-executed every sampled chunk and found them correct: the
/// provider is paid, the verifier earns its fee, both stakes unlock, the job closes.
#[event_cpi]
#[derive(Accounts)]
pub struct AttestPass<'info> {
    pub verifier: Signer<'info>,
    #[account(
        mut,
        close = buyer,
        seeds = [JOB_SEED, job.buyer.as_ref(), &job.job_id.to_le_bytes()],
        bump = job.bump,
        constraint = job.verifier == Some(verifier.key()) @ MarketError::NotAssignedVerifier,
    )]
    pub job: Box<Account<'info, Job>>,
    /// CHECK: receives the rent of the job and its vault; pinned to the job's buyer.
    #[account(mut, address = job.buyer @ MarketError::NotBuyer)]
    pub buyer: UncheckedAccount<'info>,
    #[account(mut, seeds = [JOB_VAULT_SEED, job.key().as_ref()], bump = job.vault_bump)]
    pub vault: Box<InterfaceAccount<'info, TokenAccount>>,
    /// Receives any residue of the vault (tokens sent to it unasked).
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
    #[account(
        mut,
        token::mint = mint,
        token::authority = verifier,
        token::token_program = token_program,
    )]
    pub verifier_token: Box<InterfaceAccount<'info, TokenAccount>>,
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
    #[account(
        mut,
        seeds = [OPERATOR_SEED, verifier.key().as_ref()],
        bump = verifier_operator.bump,
        seeds::program = assay_stake::ID,
    )]
    pub verifier_operator: Box<Account<'info, Operator>>,
    pub stake: StakeAccounts<'info>,
    #[account(address = vault.mint @ MarketError::WrongMint)]
    pub mint: Box<InterfaceAccount<'info, Mint>>,
    pub token_program: Interface<'info, TokenInterface>,
}

impl AttestPass<'_> {
    fn validate(&self) -> Result<()> {
        self.job.require_state(JobState::Challenged)?;
        require!(
            Clock::get()?.slot <= self.job.step_deadline_slot,
            MarketError::DeadlinePassed
        );
        Ok(())
    }
}

#[access_control(ctx.accounts.validate())]
pub fn process_attest_pass(ctx: Context<AttestPass>) -> Result<()> {
    let slot = Clock::get()?.slot;
    let accounts = &ctx.accounts;
    let bump = ctx.bumps.stake.market_authority;
    let payout = Payout::settle(&accounts.job, true)?;
    let escrow = Escrow {
        job: &accounts.job,
        vault: &accounts.vault,
        mint: &accounts.mint,
        token_program: &accounts.token_program,
    };
    escrow.pay(&accounts.provider_token, payout.provider)?;
    escrow.pay(&accounts.verifier_token, payout.verifier)?;
    escrow.pay(&accounts.treasury, payout.treasury)?;
    let residue = escrow.close(&accounts.buyer_token, &accounts.buyer.to_account_info())?;
    accounts
        .stake
        .unlock(bump, &accounts.provider_operator, accounts.job.collateral)?;
    accounts.stake.unlock(
        bump,
        &accounts.verifier_operator,
        accounts.job.params.verifier_bond,
    )?;

    let job_key = ctx.accounts.job.key();
    let changed = ctx
        .accounts
        .job
        .transition(job_key, JobState::Settled, slot);
    emit_cpi!(changed);
    emit_cpi!(JobClosed {
        job: job_key,
        state: JobState::Settled,
        provider_paid: payout.provider,
        verifier_paid: payout.verifier,
        treasury_paid: payout.treasury,
        buyer_refund: payout.buyer,
        provider_slashed: 0,
        verifier_slashed: 0,
        residue,
    });
    Ok(())
}
