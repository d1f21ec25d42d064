use anchor_lang::prelude::*;
use assay_stake::constants::REGISTRY_SEED;
use assay_stake::state::VerifierRegistry;

use crate::constants::JOB_SEED;
use crate::errors::MarketError;
use crate::events::{CommitteeDrawn, DrawRearmed};
use crate::state::{excluded_slots, DrawSeed, Job, JobState};

/// Anyone, once a contest's (a contested fault's or a challenged pass's) seed slot has
/// passed: draw its committee from that slot's hash (or re-arm, as `draw_challenge` does).
#[event_cpi]
#[derive(Accounts)]
pub struct DrawCommittee<'info> {
    #[account(mut, seeds = [JOB_SEED, job.buyer.as_ref(), &job.job_id.to_le_bytes()], bump = job.bump)]
    pub job: Box<Account<'info, Job>>,
    /// CHECK: the SlotHashes sysvar, pinned by address so it cannot be spoofed.
    #[account(address = solana_sdk_ids::sysvar::slot_hashes::ID)]
    pub slot_hashes: UncheckedAccount<'info>,
    /// Remaining accounts: the Operator accounts of the provider, the verifier and the
    /// accuser.
    #[account(seeds = [REGISTRY_SEED], bump = registry.load()?.bump, seeds::program = assay_stake::ID)]
    pub registry: AccountLoader<'info, VerifierRegistry>,
}

impl DrawCommittee<'_> {
    fn validate(&self) -> Result<()> {
        require!(
            matches!(
                self.job.state,
                JobState::Contested | JobState::PassChallenged
            ),
            MarketError::WrongJobState
        );
        require!(
            self.job.committee.is_empty(),
            MarketError::CommitteeAlreadyDrawn
        );
        let slot = Clock::get()?.slot;
        require!(slot > self.job.seed_slot, MarketError::SeedSlotNotReached);
        // An empty committee set the deadline to its draw slot, so it is drawn once.
        require!(
            slot <= self.job.step_deadline_slot,
            MarketError::DeadlinePassed
        );
        Ok(())
    }
}

/// Specification:
/// - the committee is a function of the job, the contest's seed slot hash, the fault
///   evidence and the registry weights of the epoch the contest was armed in; nothing
///   done after `contest_fault` changes it (a later epoch or a lost hash re-arms and moves
///   the vote deadline to `vote_window_slots` after the new seed slot);
/// - a drawn committee has `vote_window_slots` from now; an empty one (nobody eligible)
///   leaves the contest to be voided.
#[access_control(ctx.accounts.validate())]
pub fn process_draw_committee(ctx: Context<DrawCommittee>) -> Result<()> {
    let slot = Clock::get()?.slot;
    let job_key = ctx.accounts.job.key();
    let registry = ctx.accounts.registry.load()?;
    let decision = {
        let data = ctx.accounts.slot_hashes.try_borrow_data()?;
        ctx.accounts.job.draw_seed(&data, &registry, slot)
    };
    let job = &mut ctx.accounts.job;
    let window = job.params.vote_window_slots;
    let slot_hash = match decision {
        DrawSeed::Ready(hash) => hash,
        DrawSeed::Wait => return err!(MarketError::SlotHashUnavailable),
        DrawSeed::Rearm => {
            let seed_slot = job.arm(slot)?;
            job.step_deadline_slot = seed_slot.checked_add(window).ok_or(MarketError::Overflow)?;
            emit_cpi!(DrawRearmed {
                job: job_key,
                round: job.round,
                seed_slot,
            });
            return Ok(());
        }
    };
    let seed = assay_protocol::committee_seed(&job_key.to_bytes(), &slot_hash, &job.fault_evidence);
    let excluded = excluded_slots(
        &registry,
        &job.committee_draw_excludes(),
        ctx.remaining_accounts,
    )?;
    let committee = job.draw_committee(&registry, registry.epoch_of(slot), &seed, &excluded);
    job.step_deadline_slot = if committee.is_empty() {
        slot
    } else {
        slot.checked_add(window).ok_or(MarketError::Overflow)?
    };
    job.committee = committee.clone();
    emit_cpi!(CommitteeDrawn {
        job: job_key,
        seed,
        committee,
        deadline_slot: job.step_deadline_slot,
    });
    Ok(())
}
