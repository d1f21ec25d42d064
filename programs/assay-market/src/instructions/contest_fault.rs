use anchor_lang::prelude::*;
use assay_stake::constants::REGISTRY_SEED;
use assay_stake::state::VerifierRegistry;

use crate::constants::JOB_SEED;
use crate::errors::MarketError;
use crate::events::FaultContested;
use crate::state::{Job, JobState};

/// The provider contests the fault within the dispute window. The committee will be drawn
/// by stake (never the provider or the accuser) from the hash of a seed slot armed here —
/// randomness nobody knows yet — by `draw_committee`, and then has the vote window.
#[event_cpi]
#[derive(Accounts)]
pub struct ContestFault<'info> {
    pub provider: Signer<'info>,
    #[account(
        mut,
        seeds = [JOB_SEED, job.buyer.as_ref(), &job.job_id.to_le_bytes()],
        bump = job.bump,
        constraint = job.provider == Some(provider.key()) @ MarketError::NotProvider,
    )]
    pub job: Box<Account<'info, Job>>,
    #[account(seeds = [REGISTRY_SEED], bump = registry.bump, seeds::program = assay_stake::ID)]
    pub registry: Box<Account<'info, VerifierRegistry>>,
}

impl ContestFault<'_> {
    fn validate(&self) -> Result<()> {
        self.job.require_state(JobState::Disputed)?;
        require!(
            Clock::get()?.slot <= self.job.step_deadline_slot,
            MarketError::DeadlinePassed
        );
        // A contest needs someone to judge it: with nobody eligible in this epoch the
        // provider concedes (or the dispute window passes) instead.
        let job = &self.job;
        let slot = Clock::get()?.slot;
        let excluded: Vec<Pubkey> = job.provider.into_iter().chain(job.accuser).collect();
        let judges = self
            .registry
            .draw_weights(self.registry.epoch_of(slot), &excluded, 0)
            .is_some_and(|weights| weights.iter().any(|&w| w > 0));
        require!(judges, MarketError::NoCommittee);
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
    let job = &mut ctx.accounts.job;
    job.committee = Vec::new();
    let seed_slot = job.arm(slot)?;
    job.step_deadline_slot = seed_slot
        .checked_add(job.params.vote_window_slots)
        .ok_or(MarketError::Overflow)?;
    let deadline_slot = job.step_deadline_slot;
    let changed = job.transition(job_key, JobState::Contested, slot);
    emit_cpi!(changed);
    emit_cpi!(FaultContested {
        job: job_key,
        seed_slot,
        deadline_slot,
    });
    Ok(())
}
