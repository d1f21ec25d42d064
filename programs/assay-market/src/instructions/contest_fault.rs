use anchor_lang::prelude::*;
use assay_stake::constants::{REGISTRY_SEED, STAKE_CONFIG_SEED};
use assay_stake::state::{StakeConfig, VerifierRegistry};

use crate::constants::JOB_SEED;
use crate::errors::MarketError;
use crate::events::FaultContested;
use crate::state::{Job, JobState};

/// The provider contests the fault within the dispute window. A committee is drawn by
/// stake from the seed (never the provider or the accuser) and has the vote window to
/// sign its verdict.
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
    #[account(seeds = [STAKE_CONFIG_SEED], bump = stake_config.bump, seeds::program = assay_stake::ID)]
    pub stake_config: Box<Account<'info, StakeConfig>>,
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

#[access_control(ctx.accounts.validate())]
pub fn process_contest_fault(ctx: Context<ContestFault>) -> Result<()> {
    let slot = Clock::get()?.slot;
    let job_key = ctx.accounts.job.key();
    let registry = &ctx.accounts.registry;
    let job = &mut ctx.accounts.job;
    let excluded: Vec<Pubkey> = job.provider.into_iter().chain(job.accuser).collect();
    // Members need no bond, only the current minimum stake (entries written under an
    // older, lower minimum do not sit on committees).
    let weights = registry.draw_weights(&excluded, ctx.accounts.stake_config.min_verifier_stake);
    let committee: Vec<Pubkey> =
        assay_protocol::draw_committee(&job.seed, usize::from(job.params.committee_size), &weights)
            .into_iter()
            .map(|i| registry.entries[i].authority)
            .collect();
    require!(!committee.is_empty(), MarketError::NoCommittee);
    job.committee = committee.clone();
    job.step_deadline_slot = slot
        .checked_add(job.params.vote_window_slots)
        .ok_or(MarketError::Overflow)?;
    let deadline_slot = job.step_deadline_slot;
    let changed = job.transition(job_key, JobState::Contested, slot);
    emit_cpi!(changed);
    emit_cpi!(FaultContested {
        job: job_key,
        committee,
        deadline_slot,
    });
    Ok(())
}
