//! assay-market: per-job escrow and the job state machine of DESIGN.md — post, claim,
//! commit, sampled challenge, verdicts, disputes with committee votes, and slashing.
#![allow(unexpected_cfgs)]

use anchor_lang::prelude::*;

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

    pub fn initialize_config(ctx: Context<InitializeConfig>, args: ConfigArgs) -> Result<()> {
        instructions::initialize_config::process_initialize_config(ctx, args)
    }

    pub fn update_config(ctx: Context<UpdateConfig>, args: ConfigArgs) -> Result<()> {
        instructions::update_config::process_update_config(ctx, args)
    }

    pub fn withdraw_treasury(
        ctx: Context<WithdrawTreasury>,
        args: WithdrawTreasuryArgs,
    ) -> Result<()> {
        instructions::withdraw_treasury::process_withdraw_treasury(ctx, args)
    }

    pub fn post_job(ctx: Context<PostJob>, args: PostJobArgs) -> Result<()> {
        instructions::post_job::process_post_job(ctx, args)
    }

    pub fn cancel_job(ctx: Context<CancelJob>) -> Result<()> {
        instructions::cancel_job::process_cancel_job(ctx)
    }

    pub fn claim_job(ctx: Context<ClaimJob>) -> Result<()> {
        instructions::claim_job::process_claim_job(ctx)
    }

    pub fn commit_result(ctx: Context<CommitResult>, args: CommitResultArgs) -> Result<()> {
        instructions::commit_result::process_commit_result(ctx, args)
    }

    pub fn draw_challenge(ctx: Context<DrawChallenge>) -> Result<()> {
        instructions::draw_challenge::process_draw_challenge(ctx)
    }

    pub fn attest_pass(ctx: Context<AttestPass>) -> Result<()> {
        instructions::attest_pass::process_attest_pass(ctx)
    }

    pub fn close_pass(ctx: Context<ClosePass>) -> Result<()> {
        instructions::close_pass::process_close_pass(ctx)
    }

    pub fn challenge_pass(ctx: Context<ChallengePass>, args: ChallengePassArgs) -> Result<()> {
        instructions::challenge_pass::process_challenge_pass(ctx, args)
    }

    pub fn uphold_challenge(ctx: Context<UpholdChallenge>) -> Result<()> {
        instructions::uphold_challenge::process_uphold_challenge(ctx)
    }

    pub fn overturn_challenge(ctx: Context<OverturnChallenge>) -> Result<()> {
        instructions::overturn_challenge::process_overturn_challenge(ctx)
    }

    pub fn void_challenge(ctx: Context<VoidChallenge>) -> Result<()> {
        instructions::void_challenge::process_void_challenge(ctx)
    }

    pub fn report_fault(ctx: Context<ReportFault>, args: ReportFaultArgs) -> Result<()> {
        instructions::report_fault::process_report_fault(ctx, args)
    }

    pub fn advance_round(ctx: Context<AdvanceRound>) -> Result<()> {
        instructions::advance_round::process_advance_round(ctx)
    }

    pub fn finalize(ctx: Context<Finalize>) -> Result<()> {
        instructions::finalize::process_finalize(ctx)
    }

    pub fn concede_fault(ctx: Context<ConcedeFault>) -> Result<()> {
        instructions::concede_fault::process_concede_fault(ctx)
    }

    pub fn contest_fault(ctx: Context<ContestFault>) -> Result<()> {
        instructions::contest_fault::process_contest_fault(ctx)
    }

    pub fn draw_committee(ctx: Context<DrawCommittee>) -> Result<()> {
        instructions::draw_committee::process_draw_committee(ctx)
    }

    pub fn lapse_draw(ctx: Context<LapseDraw>) -> Result<()> {
        instructions::lapse_draw::process_lapse_draw(ctx)
    }

    pub fn resolve_contest(ctx: Context<ResolveContest>) -> Result<()> {
        instructions::resolve_contest::process_resolve_contest(ctx)
    }

    pub fn void_contest(ctx: Context<VoidContest>) -> Result<()> {
        instructions::void_contest::process_void_contest(ctx)
    }

    pub fn expire_job(ctx: Context<ExpireJob>) -> Result<()> {
        instructions::expire_job::process_expire_job(ctx)
    }
}
