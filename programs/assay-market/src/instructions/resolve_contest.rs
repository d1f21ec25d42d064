use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenAccount;
use assay_protocol::Verdict;
use assay_stake::constants::{OPERATOR_SEED, STAKE_VAULT_SEED};
use assay_stake::state::Operator;

use crate::ed25519::{attestations_before_current, SignedAttestation};
use crate::errors::MarketError;
use crate::escrow::*;
use crate::events::{ContestResolved, JobClosed};
use crate::instructions::concede_fault::slash_provider_and_refund;
use crate::stake_accounts::*;
use crate::state::{Job, JobState};

/// Anyone (a relayer) submits the committee's ed25519-signed votes, verified by the
/// Ed25519 instruction just before this one. A strict majority of the committee decides:
/// uphold → the provider is slashed as in `concede_fault`; overturn → the accusing
/// verifier's bond is slashed (to the provider and treasury) and the provider is paid — or,
/// for a chunk reported unavailable, only the miss penalty (what staying silent costs),
/// all to the treasury: unavailability cannot be disproven after the fact
/// (`SlashSplit::overturned`).
#[event_cpi]
#[derive(Accounts)]
pub struct ResolveContest<'info> {
    pub escrow: TerminalEscrow<'info>,
    #[account(
        mut,
        dup, // may be the buyer's own account: one key may hold two roles
        token::mint = escrow.mint,
        token::token_program = escrow.token_program,
        constraint = escrow.job.provider == Some(provider_token.owner) @ MarketError::WrongAccountOwner,
    )]
    pub provider_token: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(
        mut,
        dup, // may be the buyer's own account: one key may hold two roles
        token::mint = escrow.mint,
        token::token_program = escrow.token_program,
        constraint = escrow.job.accuser == Some(accuser_token.owner) @ MarketError::WrongAccountOwner,
    )]
    pub accuser_token: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mut, address = escrow.job.treasury @ MarketError::WrongTreasury)]
    pub treasury: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(
        mut,
        seeds = [OPERATOR_SEED, provider_operator.authority.as_ref()],
        bump = provider_operator.bump,
        seeds::program = assay_stake::ID,
        constraint = escrow.job.provider == Some(provider_operator.authority) @ MarketError::WrongOperator,
    )]
    pub provider_operator: Box<Account<'info, Operator>>,
    #[account(
        mut,
        seeds = [STAKE_VAULT_SEED, provider_operator.key().as_ref()],
        bump = provider_operator.vault_bump,
        seeds::program = assay_stake::ID,
    )]
    pub provider_operator_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(
        mut,
        seeds = [OPERATOR_SEED, accuser_operator.authority.as_ref()],
        bump = accuser_operator.bump,
        seeds::program = assay_stake::ID,
        constraint = escrow.job.accuser == Some(accuser_operator.authority) @ MarketError::WrongOperator,
    )]
    pub accuser_operator: Box<Account<'info, Operator>>,
    #[account(
        mut,
        seeds = [STAKE_VAULT_SEED, accuser_operator.key().as_ref()],
        bump = accuser_operator.vault_bump,
        seeds::program = assay_stake::ID,
    )]
    pub accuser_operator_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    pub stake: StakeAccounts<'info>,
    /// CHECK: the instructions sysvar, pinned by address so it cannot be spoofed.
    #[account(address = solana_sdk_ids::sysvar::instructions::ID)]
    pub instructions_sysvar: UncheckedAccount<'info>,
}

/// Counts committee votes: `(uphold, overturn)`. Every attestation must be for this
/// program, job instance, round and evidence, signed by a distinct committee member.
pub fn tally_votes(job_key: &Pubkey, job: &Job, votes: &[SignedAttestation]) -> Result<(u8, u8)> {
    let mut voted: Vec<Pubkey> = Vec::with_capacity(votes.len());
    let (mut uphold, mut overturn) = (0u8, 0u8);
    for vote in votes {
        let m = &vote.message;
        require!(
            m.program_id == crate::ID.to_bytes()
                && m.job == job_key.to_bytes()
                && m.instance == job.instance
                && m.contest == job.contests
                && m.evidence_hash == job.fault_evidence,
            MarketError::AttestationMismatch
        );
        require!(
            job.committee.contains(&vote.signer),
            MarketError::NotACommitteeMember
        );
        require!(!voted.contains(&vote.signer), MarketError::DuplicateVote);
        voted.push(vote.signer);
        match m.verdict {
            Verdict::UpholdFault => uphold += 1,
            Verdict::OverturnFault => overturn += 1,
            Verdict::Pass | Verdict::Fault => return err!(MarketError::AttestationMismatch),
        }
    }
    Ok((uphold, overturn))
}

/// What a committee decided, from the votes verified by the Ed25519 instruction before
/// the current one: a strict majority of the committee either way (`NoQuorum` otherwise).
pub struct Decision {
    pub upheld: bool,
    pub uphold: u8,
    pub overturn: u8,
}

impl Decision {
    pub fn of_votes(
        job_key: &Pubkey,
        job: &Job,
        instructions_sysvar: &AccountInfo,
    ) -> Result<Self> {
        let votes = attestations_before_current(instructions_sysvar)?;
        let (uphold, overturn) = tally_votes(job_key, job, &votes)?;
        let majority = job.committee.len() / 2 + 1;
        let upheld = usize::from(uphold) >= majority;
        require!(
            upheld || usize::from(overturn) >= majority,
            MarketError::NoQuorum
        );
        Ok(Self {
            upheld,
            uphold,
            overturn,
        })
    }

    /// `Decision::of_votes`, required to be `upheld` (`OtherOutcome` when the majority
    /// decided the other way).
    pub fn require(
        job_key: &Pubkey,
        job: &Job,
        instructions_sysvar: &AccountInfo,
        upheld: bool,
    ) -> Result<Self> {
        let decision = Self::of_votes(job_key, job, instructions_sysvar)?;
        require!(decision.upheld == upheld, MarketError::OtherOutcome);
        Ok(decision)
    }
}

/// The committee can still vote: drawn, and within its window.
pub fn require_committee_sitting(job: &Job) -> Result<()> {
    require!(!job.committee.is_empty(), MarketError::CommitteeNotDrawn);
    require!(
        Clock::get()?.slot <= job.step_deadline_slot,
        MarketError::DeadlinePassed
    );
    Ok(())
}

impl ResolveContest<'_> {
    fn validate(&self) -> Result<()> {
        self.escrow.job.require_state(JobState::Contested)?;
        require_committee_sitting(&self.escrow.job)
    }
}

#[access_control(ctx.accounts.validate())]
pub fn process_resolve_contest(ctx: Context<ResolveContest>) -> Result<()> {
    let slot = Clock::get()?.slot;
    let bump = ctx.bumps.stake.market_authority;
    let accounts = &ctx.accounts;
    let job = &accounts.escrow.job;
    let job_key = job.key();
    let Decision {
        upheld,
        uphold,
        overturn,
    } = Decision::of_votes(&job_key, job, &accounts.instructions_sysvar)?;

    let escrow = &accounts.escrow;
    let bond = job.verifier_bond;
    let (state, payout, provider_slashed, verifier_slashed) = if upheld {
        let payout = slash_provider_and_refund(
            escrow,
            &accounts.stake,
            bump,
            &accounts.provider_operator,
            &accounts.provider_operator_vault,
            Some(&accounts.accuser_token),
            &accounts.treasury,
        )?;
        accounts
            .stake
            .unlock(bump, &accounts.accuser_operator, bond)?;
        (JobState::Slashed, payout, job.collateral, 0)
    } else {
        let (forfeit, split) = SlashSplit::overturned(job, bond)?;
        accounts.stake.slash(
            bump,
            &accounts.accuser_operator,
            &accounts.accuser_operator_vault,
            &accounts.escrow.vault,
            &accounts.escrow.mint,
            &accounts.escrow.token_program,
            forfeit,
        )?;
        accounts
            .stake
            .unlock(bump, &accounts.accuser_operator, bond - forfeit)?;
        let mut payout = Payout::settle(job, false)?;
        payout.provider = payout
            .provider
            .checked_add(split.victim)
            .ok_or(MarketError::Overflow)?;
        payout.treasury = payout
            .treasury
            .checked_add(split.treasury)
            .ok_or(MarketError::Overflow)?;
        escrow.pay(&accounts.provider_token, payout.provider)?;
        escrow.pay(&accounts.escrow.buyer_token, payout.buyer)?;
        escrow.pay(&accounts.treasury, payout.treasury)?;
        accounts
            .stake
            .unlock(bump, &accounts.provider_operator, job.collateral)?;
        (JobState::Settled, payout, 0, forfeit)
    };
    let residue = escrow.close()?;

    emit_cpi!(ContestResolved {
        job: job_key,
        upheld,
        votes_uphold: uphold,
        votes_overturn: overturn,
    });
    let changed = ctx.accounts.escrow.job.transition(job_key, state, slot)?;
    emit_cpi!(changed);
    emit_cpi!(JobClosed {
        job: job_key,
        state,
        provider_paid: payout.provider,
        verifier_paid: payout.verifier,
        treasury_paid: payout.treasury,
        buyer_refund: payout.buyer,
        provider_slashed,
        verifier_slashed,
        residue,
    });
    Ok(())
}
