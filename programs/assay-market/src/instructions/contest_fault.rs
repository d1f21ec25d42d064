use anchor_lang::prelude::*;
use assay_stake::constants::REGISTRY;
use assay_stake::state::VerifierRegistry;

use crate::errors::MarketError;
use crate::events::FaultContested;
use crate::state::{excluded_slots, has_judges, operators_in, Job, JobState};

/// The provider contests the fault within the dispute window. The committee will be drawn
/// by stake (never the provider or the accuser) from the hash of a seed slot armed here —
/// randomness nobody knows yet — by `draw_committee`, and then has the vote window.
#[event_cpi]
#[derive(Accounts)]
pub struct ContestFault<'info> {
    pub provider: Signer<'info>,
    #[account(
        mut,
        constraint = job.provider == Some(provider.key()) @ MarketError::NotProvider,
    )]
    pub job: Box<Account<'info, Job>>,
    /// Remaining accounts: the Operator accounts of the provider and the accuser.
    #[account(address = REGISTRY)]
    pub registry: AccountLoader<'info, VerifierRegistry>,
}

impl ContestFault<'_> {
    fn validate(&self) -> Result<()> {
        self.job.require_state(JobState::Disputed)?;
        require!(
            Clock::get()?.slot <= self.job.step_deadline_slot,
            MarketError::DeadlinePassed
        );
        Ok(())
    }
}

/// Specification:
/// - the job is Contested with no committee yet and a seed slot after this slot;
/// - the vote deadline is `vote_window_slots` after the seed slot (re-armed draws move
///   it), so a contest nobody draws can be voided.
#[access_control(ctx.accounts.validate())]
pub fn process_contest_fault(ctx: Context<ContestFault>) -> Result<()> {
    let slot = Clock::get()?.slot;
    let job_key = ctx.accounts.job.key();
    {
        // A contest needs someone to judge it: with nobody eligible in this epoch the
        // provider concedes (or the dispute window passes) instead.
        let registry = ctx.accounts.registry.load()?;
        let job = &ctx.accounts.job;
        let excluded = excluded_slots(
            &registry,
            &job.committee_draw_excludes(),
            &operators_in(ctx.remaining_accounts),
        )?;
        require!(
            has_judges(job, &registry, &excluded, slot),
            MarketError::NoCommittee
        );
    }
    let job = &mut ctx.accounts.job;
    let seed_slot = job.arm_committee(slot)?;
    let deadline_slot = job.step_deadline_slot;
    let changed = job.transition(job_key, JobState::Contested, slot)?;
    emit_cpi!(changed);
    emit_cpi!(FaultContested {
        job: job_key,
        seed_slot,
        deadline_slot,
    });
    Ok(())
}
