use anchor_lang::prelude::*;
use assay_stake::state::Operator;

use crate::constants::JOB_SEED;
use crate::errors::MarketError;
use crate::events::{ChallengeDrawn, DrawRearmed, VerifierForfeited};
use crate::stake_accounts::*;
use crate::state::{excluded_slots, DrawSeed, Job, JobState};

/// Anyone, once the seed slot has passed: draw the current round's verifier (and, from
/// the same seed, the sample) and lock its bond; or re-arm the draw when its epoch ended
/// or its seed slot's hash is gone. With no eligible verifier the job can be finalized at
/// once.
#[event_cpi]
#[derive(Accounts)]
pub struct DrawChallenge<'info> {
    #[account(mut, seeds = [JOB_SEED, job.buyer.as_ref(), &job.job_id.to_le_bytes()], bump = job.bump)]
    pub job: Box<Account<'info, Job>>,
    /// CHECK: the SlotHashes sysvar, pinned by address so it cannot be spoofed.
    #[account(address = solana_sdk_ids::sysvar::slot_hashes::ID)]
    pub slot_hashes: UncheckedAccount<'info>,
    /// The operator account of the verifier the draw picks (absent when none is eligible
    /// or the draw re-arms). Remaining accounts: the Operator accounts of the provider and
    /// of every earlier verifier of the job.
    #[account(mut)]
    pub verifier_operator: Option<Box<Account<'info, Operator>>>,
    pub stake: StakeAccounts<'info>,
}

impl DrawChallenge<'_> {
    fn validate(&self) -> Result<()> {
        self.job.require_state(JobState::Committed)?;
        require!(
            Clock::get()?.slot > self.job.seed_slot,
            MarketError::SeedSlotNotReached
        );
        Ok(())
    }
}

/// Specification:
/// - the outcome is a function of the job, the seed slot's hash and the registry weights
///   of the epoch the draw was armed in: a draw cranked in a later epoch, or after the
///   seed slot's hash left SlotHashes, re-arms (`DrawRearmed`, state stays Committed);
/// - the provider's and earlier verifiers' slots are excluded, read from their Operator
///   accounts (remaining accounts; `MissingOperator` without one);
/// - a drawn verifier whose epoch weight and available stake cover the bond is locked and
///   has the verdict window (Challenged); one that cannot is passed over for good
///   (`VerifierForfeited`) and the next round is armed, or, with no rounds left, the job is
///   left with no verifier;
/// - with nobody eligible the job is Challenged with no verifier and may finalize.
#[access_control(ctx.accounts.validate())]
pub fn process_draw_challenge(ctx: Context<DrawChallenge>) -> Result<()> {
    let slot = Clock::get()?.slot;
    let job_key = ctx.accounts.job.key();
    let registry = ctx.accounts.stake.registry.load()?;
    let decision = {
        let data = ctx.accounts.slot_hashes.try_borrow_data()?;
        ctx.accounts.job.draw_seed(&data, &registry, slot)
    };
    let job = &mut ctx.accounts.job;
    let slot_hash = match decision {
        DrawSeed::Ready(hash) => hash,
        DrawSeed::Wait => return err!(MarketError::SlotHashUnavailable),
        DrawSeed::Rearm => {
            let seed_slot = job.arm(slot)?;
            emit_cpi!(DrawRearmed {
                job: job_key,
                round: job.round,
                seed_slot,
            });
            return Ok(());
        }
    };
    job.seed = assay_protocol::challenge_seed(&job_key.to_bytes(), &slot_hash, &job.result_root);
    let round = job.round;
    let excluded = excluded_slots(
        &registry,
        &job.verifier_draw_excludes(),
        ctx.remaining_accounts,
    )?;
    let drawn = job.draw_verifier(&registry, registry.epoch_of(slot), &excluded);
    // The stake CPI below writes the registry: release it first.
    drop(registry);
    let mut assigned = drawn.map(|(authority, _)| authority);
    if let Some((authority, weight)) = drawn {
        let operator = ctx
            .accounts
            .verifier_operator
            .as_deref()
            .ok_or(MarketError::WrongOperator)?;
        require_keys_eq!(operator.authority, authority, MarketError::WrongOperator);
        let bond = job.params.verifier_bond;
        if weight < bond || operator.available() < bond {
            job.past_verifiers.push(authority);
            emit_cpi!(VerifierForfeited {
                job: job_key,
                verifier: authority,
                round,
            });
            let next = round.checked_add(1).ok_or(MarketError::Overflow)?;
            if next < job.params.max_verifier_rounds {
                job.round = next;
                let seed_slot = job.arm(slot)?;
                emit_cpi!(DrawRearmed {
                    job: job_key,
                    round: next,
                    seed_slot,
                });
                return Ok(());
            }
            assigned = None;
        } else {
            ctx.accounts.stake.lock(
                ctx.bumps.stake.market_authority,
                operator,
                job.params.verifier_bond,
            )?;
        }
    }
    job.verifier = assigned;
    job.step_deadline_slot = match assigned {
        Some(_) => slot
            .checked_add(job.params.verdict_window_slots)
            .ok_or(MarketError::Overflow)?,
        None => slot,
    };
    let deadline_slot = job.step_deadline_slot;
    let changed = job.transition(job_key, JobState::Challenged, slot);
    emit_cpi!(changed);
    emit_cpi!(ChallengeDrawn {
        job: job_key,
        seed: job.seed,
        round,
        verifier: assigned,
        deadline_slot,
    });
    Ok(())
}
