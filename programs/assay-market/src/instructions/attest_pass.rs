use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenAccount;
use assay_stake::constants::OPERATOR_SEED;
use assay_stake::state::Operator;

use crate::errors::MarketError;
use crate::escrow::*;
use crate::events::JobClosed;
use crate::stake_accounts::*;
use crate::state::JobState;

/// The assigned verifier re-executed every sampled chunk and found them correct: the
/// provider is paid, the verifier earns its fee, both stakes unlock, the job closes.
#[event_cpi]
#[derive(Accounts)]
pub struct AttestPass<'info> {
    #[account(
        constraint = escrow.job.verifier == Some(verifier.key()) @ MarketError::NotAssignedVerifier,
    )]
    pub verifier: Signer<'info>,
    pub escrow: TerminalEscrow<'info>,
    #[account(
        mut,
        token::mint = escrow.mint,
        token::token_program = escrow.token_program,
        constraint = escrow.job.provider == Some(provider_token.owner) @ MarketError::WrongAccountOwner,
    )]
    pub provider_token: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(
        mut,
        token::mint = escrow.mint,
        token::authority = verifier,
        token::token_program = escrow.token_program,
    )]
    pub verifier_token: Box<InterfaceAccount<'info, TokenAccount>>,
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
    #[account(
        mut,
        seeds = [OPERATOR_SEED, verifier.key().as_ref()],
        bump = verifier_operator.bump,
        seeds::program = assay_stake::ID,
    )]
    pub verifier_operator: Box<Account<'info, Operator>>,
    pub stake: StakeAccounts<'info>,
}

impl AttestPass<'_> {
    fn validate(&self) -> Result<()> {
        self.escrow.job.require_state(JobState::Challenged)?;
        require!(
            Clock::get()?.slot <= self.escrow.job.step_deadline_slot,
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
    let payout = Payout::settle(&accounts.escrow.job, true)?;
    let escrow = &accounts.escrow;
    escrow.pay(&accounts.provider_token, payout.provider)?;
    escrow.pay(&accounts.verifier_token, payout.verifier)?;
    escrow.pay(&accounts.treasury, payout.treasury)?;
    let residue = escrow.close()?;
    accounts.stake.unlock(
        bump,
        &accounts.provider_operator,
        accounts.escrow.job.collateral,
    )?;
    accounts.stake.unlock(
        bump,
        &accounts.verifier_operator,
        accounts.escrow.job.params.verifier_bond,
    )?;

    let job_key = ctx.accounts.escrow.job.key();
    let changed = ctx
        .accounts
        .escrow
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
