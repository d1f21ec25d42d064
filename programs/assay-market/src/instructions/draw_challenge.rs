use anchor_lang::prelude::*;
use assay_stake::state::Operator;

use crate::constants::JOB_SEED;
use crate::errors::MarketError;
use crate::events::ChallengeDrawn;
use crate::stake_accounts::*;
use crate::state::{Job, JobState};

/// Bytes of one SlotHashes entry: slot (u64) + hash (32).
const SLOT_HASH_ENTRY_LEN: usize = 40;

/// Anyone, once the seed slot has passed: derive the seed from the first slot hash at or
/// after `seed_slot`, which fixes the sample and the round-0 verifier, and lock that
/// verifier's bond. With no eligible verifier the job can be finalized at once.
#[event_cpi]
#[derive(Accounts)]
pub struct DrawChallenge<'info> {
    #[account(mut, seeds = [JOB_SEED, job.buyer.as_ref(), &job.job_id.to_le_bytes()], bump = job.bump)]
    pub job: Box<Account<'info, Job>>,
    /// CHECK: the SlotHashes sysvar, pinned by address so it cannot be spoofed.
    #[account(address = solana_sdk_ids::sysvar::slot_hashes::ID)]
    pub slot_hashes: UncheckedAccount<'info>,
    /// The operator account of the verifier the draw picks (absent when none is eligible).
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

/// The hash of the oldest slot at or after `seed_slot` still in the sysvar (entries are
/// newest first). Never a slot before `seed_slot`, which the provider could have seen.
pub fn slot_hash_at_or_after(data: &[u8], seed_slot: u64) -> Result<[u8; 32]> {
    let count = data
        .get(..8)
        .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
        .ok_or(MarketError::SlotHashUnavailable)?;
    let mut best = None;
    for i in 0..usize::try_from(count).map_err(|_| MarketError::Overflow)? {
        let at = 8 + i * SLOT_HASH_ENTRY_LEN;
        let Some(entry) = data.get(at..at + SLOT_HASH_ENTRY_LEN) else {
            break;
        };
        let slot = u64::from_le_bytes(entry[..8].try_into().expect("8 bytes"));
        if slot < seed_slot {
            break;
        }
        best = Some(<[u8; 32]>::try_from(&entry[8..]).expect("32 bytes"));
    }
    best.ok_or_else(|| error!(MarketError::SlotHashUnavailable))
}

/// Checks the supplied operator is the one drawn and locks its bond.
pub fn assign_drawn_verifier<'info>(
    job: &mut Job,
    drawn: Option<Pubkey>,
    verifier_operator: Option<&Account<'info, Operator>>,
    stake: &StakeAccounts<'info>,
    market_authority_bump: u8,
    slot: u64,
) -> Result<()> {
    job.verifier = drawn;
    match drawn {
        Some(authority) => {
            let operator = verifier_operator.ok_or(MarketError::WrongOperator)?;
            require_keys_eq!(operator.authority, authority, MarketError::WrongOperator);
            stake.lock(market_authority_bump, operator, job.params.verifier_bond)?;
            job.step_deadline_slot = slot
                .checked_add(job.params.verdict_window_slots)
                .ok_or(MarketError::Overflow)?;
        }
        None => job.step_deadline_slot = slot,
    }
    Ok(())
}

#[access_control(ctx.accounts.validate())]
pub fn process_draw_challenge(ctx: Context<DrawChallenge>) -> Result<()> {
    let slot = Clock::get()?.slot;
    let job_key = ctx.accounts.job.key();
    let slot_hash = {
        let data = ctx.accounts.slot_hashes.try_borrow_data()?;
        slot_hash_at_or_after(&data, ctx.accounts.job.seed_slot)?
    };
    let job = &mut ctx.accounts.job;
    job.seed = assay_protocol::challenge_seed(&job_key.to_bytes(), &slot_hash, &job.result_root);
    job.round = 0;
    let drawn = ctx.accounts.stake.draw_verifier(job);
    assign_drawn_verifier(
        job,
        drawn,
        ctx.accounts.verifier_operator.as_deref(),
        &ctx.accounts.stake,
        ctx.bumps.stake.market_authority,
        slot,
    )?;
    let (seed, deadline_slot) = (job.seed, job.step_deadline_slot);
    let changed = job.transition(job_key, JobState::Challenged, slot);
    emit_cpi!(changed);
    emit_cpi!(ChallengeDrawn {
        job: job_key,
        seed,
        round: 0,
        verifier: drawn,
        deadline_slot,
    });
    Ok(())
}
