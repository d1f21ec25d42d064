use anchor_lang::prelude::*;
use assay_protocol::attestation::fault_evidence_hash;

use crate::errors::MarketError;
use crate::events::FaultReported;
use crate::state::{Job, JobState};

/// What the verifier shows for a faulty sampled chunk.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub enum FaultEvidence {
    /// The provider's committed leaf for the chunk (proven against the root on chain) and
    /// the sha256 of the output the verifier recomputed, which does not match it.
    Mismatch {
        provider_leaf: [u8; 32],
        proof: Vec<[u8; 32]>,
        recomputed_output_hash: [u8; 32],
    },
    /// The provider did not serve the chunk's output and proof in time.
    Unavailable,
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct ReportFaultArgs {
    /// A chunk of the drawn sample.
    pub chunk_index: u32,
    pub evidence: FaultEvidence,
}

/// The assigned verifier reports a sampled chunk as wrong or unavailable. The provider
/// may then concede or contest before the dispute window ends.
#[event_cpi]
#[derive(Accounts)]
pub struct ReportFault<'info> {
    pub verifier: Signer<'info>,
    #[account(
        mut,
        constraint = job.verifier == Some(verifier.key()) @ MarketError::NotAssignedVerifier,
    )]
    pub job: Box<Account<'info, Job>>,
}

impl ReportFault<'_> {
    fn validate(&self, args: &ReportFaultArgs) -> Result<()> {
        let job = &self.job;
        job.require_state(JobState::Challenged)?;
        require!(
            Clock::get()?.slot <= job.step_deadline_slot,
            MarketError::DeadlinePassed
        );
        match &args.evidence {
            FaultEvidence::Mismatch {
                provider_leaf,
                proof,
                ..
            } => job.require_sampled_leaf(args.chunk_index, provider_leaf, proof)?,
            FaultEvidence::Unavailable => require!(
                assay_protocol::is_sampled(
                    &job.seed,
                    job.n_chunks,
                    u32::from(job.samples),
                    args.chunk_index
                ),
                MarketError::ChunkNotSampled
            ),
        }
        Ok(())
    }
}

#[access_control(ctx.accounts.validate(&args))]
pub fn process_report_fault(ctx: Context<ReportFault>, args: ReportFaultArgs) -> Result<()> {
    let slot = Clock::get()?.slot;
    let job_key = ctx.accounts.job.key();
    let verifier = ctx.accounts.verifier.key();
    let (leaf, recomputed, data_unavailable) = match &args.evidence {
        FaultEvidence::Mismatch {
            provider_leaf,
            recomputed_output_hash,
            ..
        } => (*provider_leaf, *recomputed_output_hash, false),
        FaultEvidence::Unavailable => ([0; 32], [0; 32], true),
    };
    let evidence_hash = fault_evidence_hash(
        &job_key.to_bytes(),
        ctx.accounts.job.instance,
        args.chunk_index,
        &leaf,
        &recomputed,
    );
    let job = &mut ctx.accounts.job;
    job.accuser = Some(verifier);
    job.fault_index = args.chunk_index;
    job.fault_evidence = evidence_hash;
    job.fault_unavailable = data_unavailable;
    job.step_deadline_slot = slot
        .checked_add(job.params.dispute_window_slots)
        .ok_or(MarketError::Overflow)?;
    let changed = job.transition(job_key, JobState::Disputed, slot)?;
    emit_cpi!(changed);
    emit_cpi!(FaultReported {
        job: job_key,
        verifier,
        chunk_index: args.chunk_index,
        data_unavailable,
        evidence_hash,
    });
    Ok(())
}
