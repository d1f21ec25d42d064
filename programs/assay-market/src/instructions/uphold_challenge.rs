use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenAccount;
use assay_stake::state::Operator;

use crate::committee::{require_committee_sitting, Decision};
use crate::errors::MarketError;
use crate::escrow::*;
use crate::events::{ContestResolved, JobClosed};
use crate::pass_parties::*;
use crate::state::JobState;

/// Anyone (a relayer) submits the votes of a committee whose majority upholds a
/// challenge of a pass: the pass was wrong. The provider's collateral and the verifier's
/// bond are slashed; the challenger earns the finder share, the treasury its share, and
/// the buyer the rest and the verifier's unearned fee. For a chunk shown unavailable the
/// loss is the provider's alone: only its collateral is slashed, and the verifier is paid
/// its fee with its bond unlocked. The job closes as Slashed.
#[event_cpi]
#[derive(Accounts)]
pub struct UpholdChallenge<'info> {
    pub escrow: TerminalEscrow<'info>,
    #[account(mut, dup)] // may be the buyer's own account (one key, two roles)
    pub challenger_token: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mut, address = escrow.job.treasury @ MarketError::WrongTreasury)]
    pub treasury: Box<InterfaceAccount<'info, TokenAccount>>,
    /// Any token account of the attesting verifier, given exactly when it keeps its fee: a
    /// chunk shown unavailable after an attested pass is not the verifier's fault.
    #[account(mut, dup)] // may be the buyer's own account (one key, two roles)
    pub verifier_token: Option<Box<InterfaceAccount<'info, TokenAccount>>>,
    pub parties: PassParties<'info>,
    /// The provider's stake vault; its seeds are checked by the stake program's slash.
    #[account(mut)]
    pub provider_operator_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    /// The attesting verifier's stake vault (absent for an unaudited pass); its seeds are
    /// checked by the stake program's slash.
    #[account(mut)]
    pub verifier_operator_vault: Option<Box<InterfaceAccount<'info, TokenAccount>>>,
    #[account(
        mut,
        constraint = escrow.job.accuser == Some(challenger_operator.authority) @ MarketError::WrongOperator,
    )]
    pub challenger_operator: Box<Account<'info, Operator>>,
    /// CHECK: the instructions sysvar, pinned by address so it cannot be spoofed.
    #[account(address = solana_sdk_ids::sysvar::instructions::ID)]
    pub instructions_sysvar: UncheckedAccount<'info>,
}

impl UpholdChallenge<'_> {
    fn validate(&self) -> Result<()> {
        self.escrow
            .require_payee(&self.challenger_token, self.escrow.job.accuser)?;
        if let Some(payee) = &self.verifier_token {
            self.escrow.require_payee(payee, self.escrow.job.verifier)?;
        }
        let job = &self.escrow.job;
        job.require_state(JobState::PassChallenged)?;
        self.parties.belong_to(job)?;
        require!(
            self.parties.verifier_operator.is_some() == self.verifier_operator_vault.is_some(),
            MarketError::WrongOperator
        );
        require!(
            self.verifier_token.is_some() == job.verifier_keeps_fee(),
            MarketError::WrongAccountOwner
        );
        require_committee_sitting(job)
    }
}

/// Specification:
/// - a strict majority of the committee signed "uphold" for this instance, round and
///   evidence;
/// - `collateral + verifier_bond` left the provider's and verifier's stake (only the
///   collateral for an unaudited pass, or for a chunk shown unavailable); of it the
///   challenger holds the finder share more, the treasury its share; the buyer holds the
///   rest plus `verifier_fee` (and any residue) more — except after a chunk shown
///   unavailable with an attesting verifier, which holds `verifier_fee` more instead and
///   has its bond unlocked;
/// - the challenger's bond is unlocked; the job and vault are closed, state Slashed.
#[access_control(ctx.accounts.validate())]
pub fn process_uphold_challenge(ctx: Context<UpholdChallenge>) -> Result<()> {
    let slot = Clock::get()?.slot;
    let accounts = &ctx.accounts;
    let escrow = &accounts.escrow;
    let job = &escrow.job;
    let job_key = job.key();
    let decision = Decision::require(&job_key, job, &accounts.instructions_sysvar, true)?;
    let stake = &accounts.parties.stake;
    let (bond, challenger_bond) = (job.verifier_bond, job.challenger_bond());
    let mut slashes = vec![(
        &*accounts.parties.provider_operator,
        &*accounts.provider_operator_vault,
        job.collateral,
    )];
    let verifier_slashed = match (
        &accounts.parties.verifier_operator,
        &accounts.verifier_operator_vault,
    ) {
        (Some(operator), _) if job.verifier_keeps_fee() => {
            stake.unlock(operator, bond)?;
            0
        }
        (Some(operator), Some(vault)) => {
            slashes.push((&**operator, &**vault, bond));
            bond
        }
        _ => 0,
    };
    for (operator, vault, amount) in slashes {
        stake.slash(
            operator,
            vault,
            &escrow.vault,
            &escrow.mint,
            &escrow.token_program,
            amount,
        )?;
    }
    let payout = Payout::uphold_challenge(job)?;
    escrow.pay(&accounts.challenger_token, payout.verifier)?;
    escrow.pay(&accounts.treasury, payout.treasury)?;
    escrow.pay(&escrow.buyer_token, payout.buyer)?;
    let verifier_paid = match &accounts.verifier_token {
        Some(verifier) => {
            escrow.pay(verifier, job.verifier_fee)?;
            job.verifier_fee
        }
        None => 0,
    };
    let residue = escrow.close()?;
    stake.unlock(&accounts.challenger_operator, challenger_bond)?;

    let closed = JobClosed {
        job: job_key,
        state: JobState::Slashed,
        provider_paid: job.provider_payout()?,
        verifier_paid: payout
            .verifier
            .checked_add(verifier_paid)
            .ok_or(MarketError::Overflow)?,
        treasury_paid: job
            .protocol_fee
            .checked_add(payout.treasury)
            .ok_or(MarketError::Overflow)?,
        buyer_refund: payout.buyer,
        provider_slashed: job.collateral,
        verifier_slashed,
        residue,
    };
    emit_cpi!(ContestResolved {
        job: job_key,
        upheld: true,
        votes_uphold: decision.uphold,
        votes_overturn: decision.overturn,
    });
    let changed = ctx
        .accounts
        .escrow
        .job
        .transition(job_key, JobState::Slashed, slot)?;
    emit_cpi!(changed);
    emit_cpi!(closed);
    Ok(())
}
