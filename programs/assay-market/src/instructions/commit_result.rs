use anchor_lang::prelude::*;

use crate::constants::MAX_OUTPUT_URI_LEN;
use crate::errors::MarketError;
use crate::events::ResultCommitted;
use crate::state::{Job, JobState};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct CommitResultArgs {
    /// Merkle root of the chunk leaves (`assay_protocol::leaf_hash`).
    pub result_root: [u8; 32],
    /// Where the outputs and proofs are served (blob store URL or prefix).
    pub output_uri: String,
}

/// The provider commits its result. The challenge seed comes from a slot hash after this
/// commit, so the provider cannot know which chunks will be checked.
#[event_cpi]
#[derive(Accounts)]
pub struct CommitResult<'info> {
    pub provider: Signer<'info>,
    #[account(
        mut,
        constraint = job.provider == Some(provider.key()) @ MarketError::NotProvider,
    )]
    pub job: Box<Account<'info, Job>>,
}

impl CommitResult<'_> {
    fn validate(&self, args: &CommitResultArgs) -> Result<()> {
        self.job.require_state(JobState::Claimed)?;
        require!(
            Clock::get()?.slot <= self.job.commit_deadline_slot,
            MarketError::DeadlinePassed
        );
        require!(
            args.output_uri.len() <= MAX_OUTPUT_URI_LEN,
            MarketError::OutputUriTooLong
        );
        Ok(())
    }
}

#[access_control(ctx.accounts.validate(&args))]
pub fn process_commit_result(ctx: Context<CommitResult>, args: CommitResultArgs) -> Result<()> {
    let slot = Clock::get()?.slot;
    let job_key = ctx.accounts.job.key();
    let job = &mut ctx.accounts.job;
    job.result_root = args.result_root;
    job.output_uri = args.output_uri;
    let seed_slot = job.arm(slot)?;
    let changed = job.transition(job_key, JobState::Committed, slot)?;
    emit_cpi!(changed);
    emit_cpi!(ResultCommitted {
        job: job_key,
        provider: ctx.accounts.provider.key(),
        result_root: args.result_root,
        seed_slot,
    });
    Ok(())
}
