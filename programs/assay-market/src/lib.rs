//! assay-market: per-job escrow and the job state machine of docs/protocol.md — post, claim,
//! commit, sampled challenge, verdicts, disputes with committee votes, and slashing.
#![allow(unexpected_cfgs)]

use anchor_lang::prelude::*;

pub mod committee;
pub mod constants;
pub mod ed25519;
pub mod errors;
pub mod escrow;
pub mod events;
pub mod instructions;
pub mod pass_parties;
pub mod stake_accounts;
pub mod state;

pub use escrow::*;
use instructions::*;
pub use pass_parties::*;
pub use stake_accounts::*;

declare_id!("HSiQBrB45HYJckuWVQUAHojZ7CNpdJdataqKnGNksAju");

#[program]
pub mod assay_market {
    use super::*;

    /// Creates the market config and treasury vault (the build's deployer only), with the
    /// protocol parameters.
    pub fn initialize_config(ctx: Context<InitializeConfig>, args: ConfigArgs) -> Result<()> {
        instructions::initialize_config::process_initialize_config(ctx, args)
    }

    /// Changes the protocol parameters (admin only); each parameter rule has its named
    /// error, and running jobs keep the terms fixed at their post.
    pub fn update_config(ctx: Context<UpdateConfig>, args: ConfigArgs) -> Result<()> {
        instructions::update_config::process_update_config(ctx, args)
    }

    /// Pays tokens from the treasury vault (admin only).
    pub fn withdraw_treasury(
        ctx: Context<WithdrawTreasury>,
        args: WithdrawTreasuryArgs,
    ) -> Result<()> {
        instructions::withdraw_treasury::process_withdraw_treasury(ctx, args)
    }

    /// Escrows a job's price and fixes its terms (verifier fee, bond, collateral floor);
    /// refused when no staked verifier could audit it. Open.
    pub fn post_job(ctx: Context<PostJob>, args: PostJobArgs) -> Result<()> {
        instructions::post_job::process_post_job(ctx, args)
    }

    /// The buyer takes back an unclaimed job's escrow. Open → Cancelled.
    pub fn cancel_job(ctx: Context<CancelJob>) -> Result<()> {
        instructions::cancel_job::process_cancel_job(ctx)
    }

    /// A provider locks its collateral and takes the job. Open → Claimed.
    pub fn claim_job(ctx: Context<ClaimJob>) -> Result<()> {
        instructions::claim_job::process_claim_job(ctx)
    }

    /// The provider commits the outputs' Merkle root and URI; the round's draw is armed.
    /// Claimed → Committed.
    pub fn commit_result(ctx: Context<CommitResult>, args: CommitResultArgs) -> Result<()> {
        instructions::commit_result::process_commit_result(ctx, args)
    }

    /// Anyone, within the draw window: draws the sample and the verifier from the armed
    /// seed slot's hash and locks its bond. Committed → Challenged.
    pub fn draw_challenge(ctx: Context<DrawChallenge>) -> Result<()> {
        instructions::draw_challenge::process_draw_challenge(ctx)
    }

    /// The drawn verifier attests the sample passed; the provider is paid and the pass
    /// window opens. Challenged → Passed.
    pub fn attest_pass(ctx: Context<AttestPass>) -> Result<()> {
        instructions::attest_pass::process_attest_pass(ctx)
    }

    /// Anyone, after the pass window: pays the verifier's fee and unlocks both stakes.
    /// Passed → Settled.
    pub fn close_pass(ctx: Context<ClosePass>) -> Result<()> {
        instructions::close_pass::process_close_pass(ctx)
    }

    /// A staked operator (not a party) challenges a passed job's sampled chunk within the
    /// pass window; a committee is armed. Passed → PassChallenged.
    pub fn challenge_pass(ctx: Context<ChallengePass>, args: ChallengePassArgs) -> Result<()> {
        instructions::challenge_pass::process_challenge_pass(ctx, args)
    }

    /// A staked operator (not a party; the buyer with a stake, or a fisherman) calls any
    /// chunk of a passed job unavailable within the pass window; a committee is armed to
    /// check it. Passed → PassChallenged.
    pub fn challenge_availability(
        ctx: Context<ChallengePass>,
        args: ChallengeAvailabilityArgs,
    ) -> Result<()> {
        instructions::challenge_availability::process_challenge_availability(ctx, args)
    }

    /// Relays a committee majority upholding a pass challenge: provider and verifier
    /// slashed. PassChallenged → Slashed.
    pub fn uphold_challenge(ctx: Context<UpholdChallenge>) -> Result<()> {
        instructions::uphold_challenge::process_uphold_challenge(ctx)
    }

    /// Relays a committee majority overturning a pass challenge: the challenger's bond
    /// slashed, the window reopened. PassChallenged → Passed.
    pub fn overturn_challenge(ctx: Context<OverturnChallenge>) -> Result<()> {
        instructions::overturn_challenge::process_overturn_challenge(ctx)
    }

    /// Anyone, after the vote window without a majority: the challenge is dropped and the
    /// window reopened. PassChallenged → Passed.
    pub fn void_challenge(ctx: Context<VoidChallenge>) -> Result<()> {
        instructions::void_challenge::process_void_challenge(ctx)
    }

    /// The drawn verifier reports a sampled chunk wrong (proven leaf, differing
    /// recomputation) or unavailable. Challenged → Disputed.
    pub fn report_fault(ctx: Context<ReportFault>, args: ReportFaultArgs) -> Result<()> {
        instructions::report_fault::process_report_fault(ctx, args)
    }

    /// Anyone, after a verdict window passed unanswered: penalizes the silent verifier and
    /// arms the next round. Challenged → Committed.
    pub fn advance_round(ctx: Context<AdvanceRound>) -> Result<()> {
        instructions::advance_round::process_advance_round(ctx)
    }

    /// Anyone, when no verifier is left: pays the provider and opens a pass window with no
    /// verifier. Challenged → Passed.
    pub fn finalize(ctx: Context<Finalize>) -> Result<()> {
        instructions::finalize::process_finalize(ctx)
    }

    /// The provider, or anyone after the dispute window: the provider is slashed and the
    /// buyer refunded. Disputed → Slashed.
    pub fn concede_fault(ctx: Context<ConcedeFault>) -> Result<()> {
        instructions::concede_fault::process_concede_fault(ctx)
    }

    /// The provider contests a reported fault; a committee is armed. Disputed → Contested.
    pub fn contest_fault(ctx: Context<ContestFault>) -> Result<()> {
        instructions::contest_fault::process_contest_fault(ctx)
    }

    /// Anyone, within the draw window: draws a contest's or challenge's committee from its
    /// seed slot's hash.
    pub fn draw_committee(ctx: Context<DrawCommittee>) -> Result<()> {
        instructions::draw_committee::process_draw_committee(ctx)
    }

    /// Anyone, after a draw window passed undrawn: ends the job with every party's worst
    /// outcome (the provider slashed).
    pub fn lapse_draw(ctx: Context<LapseDraw>) -> Result<()> {
        instructions::lapse_draw::process_lapse_draw(ctx)
    }

    /// Relays a committee majority on a contested fault: upheld, the provider is slashed;
    /// overturned, the accuser pays its bond (the miss penalty for a chunk reported
    /// unavailable) and the provider is paid. Contested → Slashed or Settled.
    pub fn resolve_contest(ctx: Context<ResolveContest>) -> Result<()> {
        instructions::resolve_contest::process_resolve_contest(ctx)
    }

    /// Anyone, after the vote window without a majority: buyer refunded, nobody slashed but
    /// the provider's miss penalty. Contested → Voided.
    pub fn void_contest(ctx: Context<VoidContest>) -> Result<()> {
        instructions::void_contest::process_void_contest(ctx)
    }

    /// Anyone, after the claim or commit deadline: refunds the buyer (a no-show provider's
    /// collateral slashed). Open/Claimed → Expired.
    pub fn expire_job(ctx: Context<ExpireJob>) -> Result<()> {
        instructions::expire_job::process_expire_job(ctx)
    }
}
