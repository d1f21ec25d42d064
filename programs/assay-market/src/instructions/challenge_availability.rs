use anchor_lang::prelude::*;

use crate::errors::MarketError;
use crate::instructions::challenge_pass::{open_pass_challenge, ChallengePass};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct ChallengeAvailabilityArgs {
    /// Any chunk of the job (sampled or not) whose committed output its challenger could
    /// not obtain.
    pub chunk_index: u32,
}

impl ChallengePass<'_> {
    fn validate_availability(&self, args: &ChallengeAvailabilityArgs) -> Result<()> {
        self.validate_window()?;
        require!(
            args.chunk_index < self.job.n_chunks,
            MarketError::ChunkOutOfRange
        );
        Ok(())
    }
}

/// A passed job's output must stay obtainable while the pass window runs (the retention
/// period, the provider's collateral at stake): any staked operator but the two parties
/// (the buyer, through a stake of its own, or a fisherman) calls a chunk unavailable.
/// The committee checks the chunk against its committed leaf from the store and the
/// provider's mirror.
///
/// Specification:
/// - as `challenge_pass` (bond locked, a new contest armed, the window's slots kept), with
///   the evidence naming chunk `chunk_index` unavailable (`fault_unavailable`);
/// - upheld (the committee could not obtain the chunk): the provider's collateral is
///   slashed for the buyer, the finder and the treasury; the verifier, whose sample the
///   loss is not, keeps its fee and bond (`uphold_challenge`);
/// - overturned (the chunk was served by then — possibly only because of the challenge,
///   which cannot be told apart): the challenger forfeits `min(bond, miss penalty)` to the
///   treasury alone, so a provider gains nothing by withholding until challenged
///   (`overturn_challenge`).
#[access_control(ctx.accounts.validate_availability(&args))]
pub fn process_challenge_availability(
    ctx: Context<ChallengePass>,
    args: ChallengeAvailabilityArgs,
) -> Result<()> {
    open_pass_challenge(ctx, args.chunk_index, &[0; 32], &[0; 32], true)
}
