use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenAccount;

use crate::committee::{require_committee_sitting, Decision};
use crate::errors::MarketError;
use crate::escrow::*;
use crate::events::{ContestResolved, PassWindowReopened};
use crate::stake_accounts::*;
use crate::state::JobState;

/// Anyone (a relayer) submits the votes of a committee whose majority overturns a
/// challenge of a pass: the pass stands. The challenger's bond is slashed (the treasury
/// share to the treasury, the rest to the party it wrongly accused: the attesting
/// verifier, or the provider of an unaudited pass) — for a chunk called unavailable, only
/// `min(bond, miss penalty)`, all to the treasury (`SlashSplit::overturned`) — and the
/// pass window runs again for the slots it had left.
#[event_cpi]
#[derive(Accounts)]
pub struct OverturnChallenge<'info> {
    pub escrow: OpenEscrow<'info>,
    /// Any token account of the wrongly accused party (anyone can create one): the
    /// attesting verifier, or the provider of an unaudited pass.
    #[account(mut, dup)] // may be the buyer's own account (one key, two roles)
    pub defender_token: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mut, address = escrow.job.treasury @ MarketError::WrongTreasury)]
    pub treasury: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(constraint = escrow.job.accuser == Some(challenger.operator.authority) @ MarketError::WrongOperator)]
    pub challenger: StakedParty<'info>,
    pub stake: StakeAccounts<'info>,
    /// CHECK: the instructions sysvar, pinned by address so it cannot be spoofed.
    #[account(address = solana_sdk_ids::sysvar::instructions::ID)]
    pub instructions_sysvar: UncheckedAccount<'info>,
}

impl OverturnChallenge<'_> {
    fn validate(&self) -> Result<()> {
        self.escrow.require_payee(
            &self.defender_token,
            self.escrow.job.verifier.or(self.escrow.job.provider),
        )?;
        self.escrow.job.require_state(JobState::PassChallenged)?;
        require_committee_sitting(&self.escrow.job)
    }
}

/// Specification:
/// - a strict majority of the committee signed "overturn" for this instance, round and
///   evidence;
/// - `verifier_bond` left the challenger's stake; the treasury holds its share more, the
///   attesting verifier (the provider, for an unaudited pass) the rest; for a chunk called
///   unavailable, `min(verifier_bond, miss penalty)` left it, all to the treasury, and
///   the rest of the bond is unlocked; the vault still holds `verifier_fee`;
/// - the job is Passed again until this slot plus the window slots left at the challenge.
#[access_control(ctx.accounts.validate())]
pub fn process_overturn_challenge(ctx: Context<OverturnChallenge>) -> Result<()> {
    let slot = Clock::get()?.slot;
    let accounts = &ctx.accounts;
    let escrow = &accounts.escrow;
    let job = &escrow.job;
    let job_key = job.key();
    let decision = Decision::require(&job_key, job, &accounts.instructions_sysvar, false)?;
    let bond = job.challenger_bond();
    let (forfeit, split) = SlashSplit::overturned(job, bond)?;
    accounts.stake.slash(
        &accounts.challenger.operator,
        &accounts.challenger.vault,
        &escrow.vault,
        &escrow.mint,
        &escrow.token_program,
        forfeit,
    )?;
    accounts
        .stake
        .unlock(&accounts.challenger.operator, bond - forfeit)?;
    escrow.pay(&accounts.treasury, split.treasury)?;
    escrow.pay(&accounts.defender_token, split.victim)?;

    let challenger = accounts.challenger.operator.authority;
    let job = &mut ctx.accounts.escrow.job;
    let window_end_slot = job.reopen_pass(slot)?;
    emit_cpi!(ContestResolved {
        job: job_key,
        upheld: false,
        votes_uphold: decision.uphold,
        votes_overturn: decision.overturn,
    });
    let changed = job.transition(job_key, JobState::Passed, slot)?;
    emit_cpi!(changed);
    emit_cpi!(PassWindowReopened {
        job: job_key,
        challenger,
        challenger_slashed: forfeit,
        window_end_slot,
    });
    Ok(())
}
