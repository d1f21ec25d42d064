use anchor_lang::prelude::*;
use assay_stake::constants::REGISTRY;
use assay_stake::state::VerifierRegistry;

use crate::errors::MarketError;
use crate::events::CommitteeDrawn;
use crate::state::{excluded_slots, operators_in, seat_authorities, DrawSeed, Job, JobState};

/// Anyone, within the draw window after a contest's (a contested fault's or a challenged
/// pass's) seed slot: draw its committee from that slot's hash. After the window the draw
/// lapses (`lapse_draw`).
#[event_cpi]
#[derive(Accounts)]
pub struct DrawCommittee<'info> {
    #[account(mut)]
    pub job: Box<Account<'info, Job>>,
    /// CHECK: the SlotHashes sysvar, pinned by address so it cannot be spoofed.
    #[account(address = solana_sdk_ids::sysvar::slot_hashes::ID)]
    pub slot_hashes: UncheckedAccount<'info>,
    /// Remaining accounts: the Operator accounts of the provider, the verifier and the
    /// accuser, then those holding the seats the draw picks (the registry names slots,
    /// an Operator its key; the SDK predicts them).
    #[account(address = REGISTRY)]
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
        require!(self.job.draw_pending(), MarketError::CommitteeAlreadyDrawn);
        let slot = Clock::get()?.slot;
        require!(slot > self.job.seed_slot, MarketError::SeedSlotNotReached);
        require!(slot <= self.job.draw_deadline_slot, MarketError::DrawLapsed);
        Ok(())
    }
}

/// Specification:
/// - the committee is a function of the job, the contest's seed slot hash, the fault
///   evidence and the registry weights of the seed slot's draw epoch (fixed when it
///   began): every crank in the draw window draws the same committee, and none after it;
/// - each seat is the authority of the Operator holding the drawn slot's binding tag
///   (`MissingOperator` unless the cranker passes it), so the cranker names nobody;
/// - a drawn committee has `vote_window_slots` from now; an empty one (nobody eligible)
///   leaves the contest to be voided.
#[access_control(ctx.accounts.validate())]
pub fn process_draw_committee(ctx: Context<DrawCommittee>) -> Result<()> {
    let slot = Clock::get()?.slot;
    let job_key = ctx.accounts.job.key();
    let registry = ctx.accounts.registry.load()?;
    let decision = {
        let data = ctx.accounts.slot_hashes.try_borrow_data()?;
        ctx.accounts.job.draw_seed(&data, slot)
    };
    let job = &mut ctx.accounts.job;
    let window = job.params.vote_window_slots;
    let slot_hash = match decision {
        DrawSeed::Ready(hash) => hash,
        DrawSeed::Wait => return err!(MarketError::SlotHashUnavailable),
        DrawSeed::Lapsed => return err!(MarketError::DrawLapsed),
    };
    job.draw_deadline_slot = 0;
    let seed = assay_protocol::committee_seed(&job_key.to_bytes(), &slot_hash, &job.fault_evidence);
    let operators = operators_in(ctx.remaining_accounts);
    let excluded = excluded_slots(&registry, &job.committee_draw_excludes(), &operators)?;
    let seats = job.draw_committee(&registry, job.draw_epoch(), &seed, &excluded);
    let committee = seat_authorities(&registry, &seats, &operators)?;
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
