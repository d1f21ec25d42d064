use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenAccount;
use assay_stake::state::Operator;

use crate::errors::MarketError;
use crate::escrow::*;
use crate::events::{DrawLapsed, JobClosed};
use crate::stake_accounts::*;
use crate::state::JobState;

/// Anyone, once a pending draw's window has passed without it (a verifier round's draw,
/// or a committee's): the draw can no longer be made from the seed everyone saw, and is
/// never made from another. The job ends giving every party of the draw its worst outcome
/// of it, so nobody who could have cranked in time gains by not cranking: the provider's
/// collateral, the accuser's bond and (for a challenged pass) the attesting verifier's
/// bond are slashed; the buyer gets back what the vault holds for it (the price, or after
/// a pass the verifier's fee) and the slashed stake but the treasury's share.
#[event_cpi]
#[derive(Accounts)]
pub struct LapseDraw<'info> {
    pub escrow: TerminalEscrow<'info>,
    #[account(mut, address = escrow.job.treasury @ MarketError::WrongTreasury)]
    pub treasury: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(constraint = escrow.job.provider == Some(provider.operator.authority) @ MarketError::WrongOperator)]
    pub provider: StakedParty<'info>,
    /// The accuser (the verifier that reported the fault, or the operator that challenged
    /// the pass): required for a committee's draw. Its vault's seeds are checked by the
    /// stake program's slash.
    #[account(mut, constraint = escrow.job.accuser == Some(accuser_operator.authority) @ MarketError::WrongOperator)]
    pub accuser_operator: Option<Box<Account<'info, Operator>>>,
    #[account(mut)]
    pub accuser_operator_vault: Option<Box<InterfaceAccount<'info, TokenAccount>>>,
    /// The verifier that attested a challenged pass: required when the pass had one.
    #[account(mut, constraint = escrow.job.verifier == Some(verifier_operator.authority) @ MarketError::WrongOperator)]
    pub verifier_operator: Option<Box<Account<'info, Operator>>>,
    #[account(mut)]
    pub verifier_operator_vault: Option<Box<InterfaceAccount<'info, TokenAccount>>>,
    pub stake: StakeAccounts<'info>,
}

impl LapseDraw<'_> {
    fn validate(&self) -> Result<()> {
        let job = &self.escrow.job;
        let committee = match job.state {
            JobState::Committed => false,
            JobState::Contested | JobState::PassChallenged => true,
            _ => return err!(MarketError::WrongJobState),
        };
        require!(job.draw_pending(), MarketError::NoDrawPending);
        require!(
            Clock::get()?.slot > job.draw_deadline_slot,
            MarketError::DeadlineNotReached
        );
        let given = |operator: bool, vault: bool| operator && vault;
        require!(
            !committee
                || given(
                    self.accuser_operator.is_some(),
                    self.accuser_operator_vault.is_some()
                ),
            MarketError::WrongOperator
        );
        // Only a challenged pass has an attesting verifier at stake besides the accuser
        // (a contested fault's accuser is its verifier: slashed once).
        let attested_pass = job.state == JobState::PassChallenged && job.verifier.is_some();
        require!(
            attested_pass
                == given(
                    self.verifier_operator.is_some(),
                    self.verifier_operator_vault.is_some()
                )
                && (attested_pass || self.verifier_operator.is_none()),
            MarketError::WrongOperator
        );
        Ok(())
    }
}

/// Specification (the draw of a job in state S lapsed: slot > `draw_deadline_slot`):
/// - the provider lost `collateral`; for S = Contested the accusing verifier lost the job's
///   `verifier_bond`, for S = PassChallenged the challenger its base `params.verifier_bond`
///   and the attesting verifier (if any) the job's `verifier_bond`: each party's worst
///   outcome of the draw it let lapse;
/// - of the slashed stake the treasury holds its `treasury_slash_bps` share more (there is
///   no finder), the buyer the rest plus what the vault held for it (the price before a
///   pass, the verifier's fee after one) and any residue;
/// - no lock of the job remains; the job and vault are closed, state Slashed.
#[access_control(ctx.accounts.validate())]
pub fn process_lapse_draw(ctx: Context<LapseDraw>) -> Result<()> {
    let slot = Clock::get()?.slot;
    let accounts = &ctx.accounts;
    let escrow = &accounts.escrow;
    let job = &escrow.job;
    let from = job.state;
    let bonds = [job.accuser_bond(), job.verifier_bond];
    let mut slashes = vec![(
        &accounts.provider.operator,
        &accounts.provider.vault,
        job.collateral,
    )];
    let pairs = [
        (&accounts.accuser_operator, &accounts.accuser_operator_vault),
        (
            &accounts.verifier_operator,
            &accounts.verifier_operator_vault,
        ),
    ];
    let mut party_slashed = [0u64; 2];
    for (i, (operator, vault)) in pairs.into_iter().enumerate() {
        if let (Some(operator), Some(vault)) = (operator, vault) {
            slashes.push((operator, vault, bonds[i]));
            party_slashed[i] = bonds[i];
        }
    }
    for (operator, vault, amount) in &slashes {
        accounts.stake.slash(
            operator,
            vault,
            &escrow.vault,
            &escrow.mint,
            &escrow.token_program,
            *amount,
        )?;
    }
    let payout = Payout::lapse(job, party_slashed[0] + party_slashed[1])?;
    escrow.pay(&escrow.buyer_token, payout.buyer)?;
    escrow.pay(&accounts.treasury, payout.treasury)?;
    let residue = escrow.close()?;

    let job_key = job.key();
    // After a pass the provider and the treasury were paid at the pass.
    let passed = from == JobState::PassChallenged;
    let (provider_paid, fee_paid) = if passed {
        (job.provider_payout()?, job.protocol_fee)
    } else {
        (0, 0)
    };
    let closed = JobClosed {
        job: job_key,
        state: JobState::Slashed,
        provider_paid,
        verifier_paid: 0,
        treasury_paid: payout
            .treasury
            .checked_add(fee_paid)
            .ok_or(MarketError::Overflow)?,
        buyer_refund: payout.buyer,
        provider_slashed: job.collateral,
        verifier_slashed: party_slashed[0] + party_slashed[1],
        residue,
    };
    emit_cpi!(DrawLapsed {
        job: job_key,
        from,
        provider_slashed: job.collateral,
        accuser_slashed: party_slashed[0],
        verifier_slashed: party_slashed[1],
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
