use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenAccount;

use crate::committee::{require_committee_sitting, Decision};
use crate::errors::MarketError;
use crate::escrow::*;
use crate::events::{ContestResolved, JobClosed};
use crate::stake_accounts::*;
use crate::state::JobState;

/// Anyone (a relayer) submits the committee's ed25519-signed votes, verified by the
/// Ed25519 instruction just before this one. A strict majority of the committee decides:
/// uphold → the provider is slashed as in `concede_fault`; overturn → the accusing
/// verifier's bond is slashed (to the provider and treasury) and the provider is paid — or,
/// for a chunk reported unavailable, only the miss penalty (what staying silent costs),
/// all to the treasury: unavailability cannot be disproven after the fact
/// (`SlashSplit::overturned`).
#[event_cpi]
#[derive(Accounts)]
pub struct ResolveContest<'info> {
    pub escrow: TerminalEscrow<'info>,
    #[account(mut, dup)] // may be the buyer's own account (one key, two roles)
    pub provider_token: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mut, dup)] // may be the buyer's own account (one key, two roles)
    pub accuser_token: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mut, address = escrow.job.treasury @ MarketError::WrongTreasury)]
    pub treasury: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(constraint = escrow.job.provider == Some(provider.operator.authority) @ MarketError::WrongOperator)]
    pub provider: StakedParty<'info>,
    #[account(constraint = escrow.job.accuser == Some(accuser.operator.authority) @ MarketError::WrongOperator)]
    pub accuser: StakedParty<'info>,
    pub stake: StakeAccounts<'info>,
    /// CHECK: the instructions sysvar, pinned by address so it cannot be spoofed.
    #[account(address = solana_sdk_ids::sysvar::instructions::ID)]
    pub instructions_sysvar: UncheckedAccount<'info>,
}

impl ResolveContest<'_> {
    fn validate(&self) -> Result<()> {
        self.escrow
            .require_payee(&self.provider_token, self.escrow.job.provider)?;
        self.escrow
            .require_payee(&self.accuser_token, self.escrow.job.accuser)?;
        self.escrow.job.require_state(JobState::Contested)?;
        require_committee_sitting(&self.escrow.job)
    }
}

#[access_control(ctx.accounts.validate())]
pub fn process_resolve_contest(ctx: Context<ResolveContest>) -> Result<()> {
    let slot = Clock::get()?.slot;
    let accounts = &ctx.accounts;
    let job = &accounts.escrow.job;
    let job_key = job.key();
    let Decision {
        upheld,
        uphold,
        overturn,
    } = Decision::of_votes(&job_key, job, &accounts.instructions_sysvar)?;

    let escrow = &accounts.escrow;
    let bond = job.verifier_bond;
    let (state, payout, provider_slashed, verifier_slashed) = if upheld {
        let payout = escrow.slash_provider_and_refund(
            &accounts.stake,
            &accounts.provider.operator,
            &accounts.provider.vault,
            Some(&accounts.accuser_token),
            &accounts.treasury,
        )?;
        accounts.stake.unlock(&accounts.accuser.operator, bond)?;
        (JobState::Slashed, payout, job.collateral, 0)
    } else {
        let (forfeit, split) = SlashSplit::overturned(job, bond)?;
        accounts.stake.slash(
            &accounts.accuser.operator,
            &accounts.accuser.vault,
            &accounts.escrow.vault,
            &accounts.escrow.mint,
            &accounts.escrow.token_program,
            forfeit,
        )?;
        accounts
            .stake
            .unlock(&accounts.accuser.operator, bond - forfeit)?;
        let mut payout = Payout::settle(job, false)?;
        payout.provider = payout
            .provider
            .checked_add(split.victim)
            .ok_or(MarketError::Overflow)?;
        payout.treasury = payout
            .treasury
            .checked_add(split.treasury)
            .ok_or(MarketError::Overflow)?;
        escrow.pay(&accounts.provider_token, payout.provider)?;
        escrow.pay(&accounts.escrow.buyer_token, payout.buyer)?;
        escrow.pay(&accounts.treasury, payout.treasury)?;
        accounts
            .stake
            .unlock(&accounts.provider.operator, job.collateral)?;
        (JobState::Settled, payout, 0, forfeit)
    };
    let residue = escrow.close()?;

    emit_cpi!(ContestResolved {
        job: job_key,
        upheld,
        votes_uphold: uphold,
        votes_overturn: overturn,
    });
    let changed = ctx.accounts.escrow.job.transition(job_key, state, slot)?;
    emit_cpi!(changed);
    emit_cpi!(JobClosed {
        job: job_key,
        state,
        provider_paid: payout.provider,
        verifier_paid: payout.verifier,
        treasury_paid: payout.treasury,
        buyer_refund: payout.buyer,
        provider_slashed,
        verifier_slashed,
        residue,
    });
    Ok(())
}
