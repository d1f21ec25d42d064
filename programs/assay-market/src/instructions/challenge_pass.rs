use anchor_lang::prelude::*;
use assay_protocol::attestation::fault_evidence_hash;
use assay_stake::state::Operator;

use crate::errors::MarketError;
use crate::events::PassChallenged;
use crate::stake_accounts::*;
use crate::state::{excluded_slots, has_judges, operators_in, Job, JobState};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct ChallengePassArgs {
    /// A chunk of the sample the attesting verifier had to re-execute.
    pub chunk_index: u32,
    /// The provider's committed leaf for the chunk, proven against the root on chain.
    pub provider_leaf: [u8; 32],
    pub proof: Vec<[u8; 32]>,
    /// The leaf of the chunk's output as the challenger recomputed it.
    pub recomputed_output_hash: [u8; 32],
}

/// Any staked operator other than the job's provider and its verifier challenges a pass
/// within its window: it shows a sampled chunk's committed leaf and the hash of its
/// recomputation, and locks a verifier bond of its own. A committee, drawn from a seed
/// slot armed here, decides as in a contest.
#[event_cpi]
#[derive(Accounts)]
pub struct ChallengePass<'info> {
    pub challenger: Signer<'info>,
    #[account(mut)]
    pub job: Box<Account<'info, Job>>,
    #[account(
        mut,
        constraint = challenger_operator.authority == challenger.key() @ MarketError::WrongOperator,
    )]
    pub challenger_operator: Box<Account<'info, Operator>>,
    /// Remaining accounts: the Operator accounts of the provider and the verifier.
    pub stake: StakeAccounts<'info>,
}

impl ChallengePass<'_> {
    /// The rules every challenge of a pass shares: within the window, not by a party.
    pub(crate) fn validate_window(&self) -> Result<()> {
        let job = &self.job;
        job.require_state(JobState::Passed)?;
        require!(
            Clock::get()?.slot <= job.step_deadline_slot,
            MarketError::DeadlinePassed
        );
        let challenger = Some(self.challenger.key());
        require!(
            job.provider != challenger && job.verifier != challenger,
            MarketError::ChallengerIsAParty
        );
        Ok(())
    }

    fn validate(&self, args: &ChallengePassArgs) -> Result<()> {
        self.validate_window()?;
        self.job
            .require_sampled_leaf(args.chunk_index, &args.provider_leaf, &args.proof)
    }
}

/// Specification:
/// - the challenger has `verifier_bond` more stake locked;
/// - the job is PassChallenged as a new contest (`contests` + 1, wrapping: no number of
///   earlier challenges can block this one), with the evidence bound to this instance, no
///   committee yet, and a committee draw armed after this slot; the committee excludes
///   the provider, the verifier (if the pass had one) and the challenger;
/// - the slots left of the pass window are kept, to be given back if the challenge fails.
#[access_control(ctx.accounts.validate(&args))]
pub fn process_challenge_pass(ctx: Context<ChallengePass>, args: ChallengePassArgs) -> Result<()> {
    open_pass_challenge(
        ctx,
        args.chunk_index,
        &args.provider_leaf,
        &args.recomputed_output_hash,
        false,
    )
}

/// Opens a challenge of the pass against chunk `chunk_index` (shared by `challenge_pass`
/// and `challenge_availability`). A chunk called unavailable has all-zero leaf and
/// recomputation in its evidence hash, as in `report_fault`.
pub(crate) fn open_pass_challenge(
    ctx: Context<ChallengePass>,
    chunk_index: u32,
    provider_leaf: &[u8; 32],
    recomputed: &[u8; 32],
    data_unavailable: bool,
) -> Result<()> {
    let slot = Clock::get()?.slot;
    let job_key = ctx.accounts.job.key();
    let challenger = ctx.accounts.challenger.key();
    {
        let job = &mut ctx.accounts.job;
        job.accuser = Some(challenger);
        job.pass_window_left_slots = job.step_deadline_slot - slot;
        job.fault_index = chunk_index;
        job.fault_unavailable = data_unavailable;
        job.fault_evidence = fault_evidence_hash(
            &job_key.to_bytes(),
            job.instance,
            chunk_index,
            provider_leaf,
            recomputed,
        );
    }
    {
        // Judged by someone other than the three parties, or not at all.
        let registry = ctx.accounts.stake.registry.load()?;
        let job = &ctx.accounts.job;
        let parties: Vec<Pubkey> = job.provider.into_iter().chain(job.verifier).collect();
        let mut excluded =
            excluded_slots(&registry, &parties, &operators_in(ctx.remaining_accounts))?;
        excluded.extend(registry.slot_of(&ctx.accounts.challenger_operator));
        require!(
            has_judges(job, &registry, &excluded, slot),
            MarketError::NoCommittee
        );
    }
    ctx.accounts.stake.lock(
        &ctx.accounts.challenger_operator,
        ctx.accounts.job.challenger_bond(),
    )?;

    let job = &mut ctx.accounts.job;
    let seed_slot = job.arm_committee(slot)?;
    let changed = job.transition(job_key, JobState::PassChallenged, slot)?;
    emit_cpi!(changed);
    emit_cpi!(PassChallenged {
        job: job_key,
        challenger,
        contest: job.contests,
        chunk_index,
        data_unavailable,
        evidence_hash: job.fault_evidence,
        seed_slot,
        deadline_slot: job.step_deadline_slot,
    });
    Ok(())
}
