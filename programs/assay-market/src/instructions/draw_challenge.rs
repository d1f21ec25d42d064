use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};
use assay_stake::state::Operator;

use crate::errors::MarketError;
use crate::events::{ChallengeDrawn, DrawRearmed, VerifierForfeited};
use crate::stake_accounts::*;
use crate::state::{excluded_slots, operators_in, DrawSeed, Job, JobState};

/// Anyone, within the draw window after the seed slot: draw the current round's verifier
/// (and, from the same seed, the sample) and lock its bond. With no eligible verifier the
/// job can be finalized at once. After the window the draw lapses (`lapse_draw`).
#[event_cpi]
#[derive(Accounts)]
pub struct DrawChallenge<'info> {
    #[account(mut)]
    pub job: Box<Account<'info, Job>>,
    /// CHECK: the SlotHashes sysvar, pinned by address so it cannot be spoofed.
    #[account(address = solana_sdk_ids::sysvar::slot_hashes::ID)]
    pub slot_hashes: UncheckedAccount<'info>,
    /// The Operator account holding the registry slot the draw picks (absent when none is
    /// eligible): the registry names a slot and its binding tag, the Operator its key.
    /// Remaining accounts: the Operator accounts of the provider and of every earlier
    /// verifier of the job.
    #[account(mut)]
    pub verifier_operator: Option<Box<Account<'info, Operator>>>,
    /// The drawn verifier's stake vault (its seeds are checked by the stake program's
    /// slash), the job's treasury, and the mint and token program: where a verifier that
    /// forfeits pays its penalty (the SDK gives them whenever a verifier is drawn).
    #[account(mut)]
    pub verifier_vault: Option<Box<InterfaceAccount<'info, TokenAccount>>>,
    #[account(mut, address = job.treasury @ MarketError::WrongTreasury)]
    pub treasury: Option<Box<InterfaceAccount<'info, TokenAccount>>>,
    pub mint: Option<Box<InterfaceAccount<'info, Mint>>>,
    pub token_program: Option<Interface<'info, TokenInterface>>,
    pub stake: StakeAccounts<'info>,
}

impl DrawChallenge<'_> {
    fn validate(&self) -> Result<()> {
        let job = &self.job;
        job.require_state(JobState::Committed)?;
        let slot = Clock::get()?.slot;
        require!(slot > job.seed_slot, MarketError::SeedSlotNotReached);
        require!(slot <= job.draw_deadline_slot, MarketError::DrawLapsed);
        Ok(())
    }
}

/// What becomes of the verifier the draw picked.
enum Bonding {
    /// Its bond is locked (from available stake, then from its pending unstake).
    Bonded,
    /// Passed over, paying `penalty`.
    Forfeited { penalty: u64 },
}

/// Specification:
/// - the outcome is a function of the job, the hash of the first slot at or after the
///   seed slot and the registry weights of the seed slot's draw epoch (fixed when it
///   began): every crank in the draw window makes the same draw, and none after it;
/// - the provider's and earlier verifiers' slots are excluded, read from their Operator
///   accounts (remaining accounts; `MissingOperator` without one);
/// - a drawn verifier whose stake not locked by the market (its pending unstake included)
///   covers the bond is locked and has the verdict window (Challenged);
/// - one whose epoch weight is below the bond is passed over at no cost; one whose
///   weight covers the bond but whose unlocked stake does not (it locked or lost stake
///   since) pays the miss penalty (or all it has unlocked, if less) to the treasury and is
///   passed over; then the next round is armed, or, with no rounds left, the job is left
///   with no verifier (finalize opens an unaudited pass window);
/// - with nobody eligible the job is Challenged with no verifier and may finalize.
#[access_control(ctx.accounts.validate())]
pub fn process_draw_challenge(ctx: Context<DrawChallenge>) -> Result<()> {
    let slot = Clock::get()?.slot;
    let job_key = ctx.accounts.job.key();
    let registry = ctx.accounts.stake.registry.load()?;
    let decision = {
        let data = ctx.accounts.slot_hashes.try_borrow_data()?;
        ctx.accounts.job.draw_seed(&data, slot)
    };
    let slot_hash = match decision {
        DrawSeed::Ready(hash) => hash,
        DrawSeed::Wait => return err!(MarketError::SlotHashUnavailable),
        DrawSeed::Lapsed => return err!(MarketError::DrawLapsed),
    };
    let job = &mut ctx.accounts.job;
    job.seed = assay_protocol::challenge_seed(&job_key.to_bytes(), &slot_hash, &job.result_root);
    job.draw_deadline_slot = 0;
    let round = job.round;
    let excluded = excluded_slots(
        &registry,
        &job.verifier_draw_excludes(),
        &operators_in(ctx.remaining_accounts),
    )?;
    let drawn = match job.draw_verifier(&registry, job.draw_epoch(), &excluded) {
        Some((slot, weight)) => {
            // The slot names one Operator: the one holding its binding tag.
            let operator = ctx
                .accounts
                .verifier_operator
                .as_deref()
                .ok_or(MarketError::WrongOperator)?;
            require!(registry.holds(operator, slot), MarketError::WrongOperator);
            Some((operator.authority, weight))
        }
        None => None,
    };
    // The stake CPIs below write the registry: release it first.
    drop(registry);
    let mut assigned = drawn.map(|(authority, _)| authority);
    if let Some((authority, weight)) = drawn {
        let accounts = &ctx.accounts;
        let operator = accounts
            .verifier_operator
            .as_deref()
            .ok_or(MarketError::WrongOperator)?;
        let bond = accounts.job.verifier_bond;
        let bonding = if weight < bond {
            Bonding::Forfeited { penalty: 0 }
        } else if operator.unlocked() >= bond {
            accounts.stake.lock_reclaiming(operator, bond)?;
            Bonding::Bonded
        } else {
            let penalty = accounts
                .job
                .params
                .verifier_miss_penalty
                .min(operator.unlocked());
            let missing = || error!(MarketError::WrongOperator);
            accounts.stake.lock_reclaiming(operator, penalty)?;
            accounts.stake.slash(
                operator,
                accounts.verifier_vault.as_deref().ok_or_else(missing)?,
                accounts.treasury.as_deref().ok_or_else(missing)?,
                accounts.mint.as_deref().ok_or_else(missing)?,
                accounts.token_program.as_ref().ok_or_else(missing)?,
                penalty,
            )?;
            Bonding::Forfeited { penalty }
        };
        if let Bonding::Forfeited { penalty } = bonding {
            let job = &mut ctx.accounts.job;
            job.past_verifiers.push(authority);
            emit_cpi!(VerifierForfeited {
                job: job_key,
                verifier: authority,
                round,
                penalty,
            });
            if job.rounds_remain() {
                let next = round.checked_add(1).ok_or(MarketError::Overflow)?;
                job.round = next;
                let seed_slot = job.arm(slot)?;
                emit_cpi!(DrawRearmed {
                    job: job_key,
                    round: next,
                    seed_slot,
                    draw_deadline_slot: job.draw_deadline_slot,
                });
                return Ok(());
            }
            assigned = None;
        }
    }
    let job = &mut ctx.accounts.job;
    job.verifier = assigned;
    job.step_deadline_slot = match assigned {
        Some(_) => slot
            .checked_add(job.params.verdict_window_slots)
            .ok_or(MarketError::Overflow)?,
        None => slot,
    };
    let deadline_slot = job.step_deadline_slot;
    let changed = job.transition(job_key, JobState::Challenged, slot)?;
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
