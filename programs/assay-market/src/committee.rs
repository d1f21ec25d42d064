//! A committee's decision: the ed25519-signed votes verified just before the current
//! instruction, tallied to a strict majority, and whether the committee still sits.
//! Used by `resolve_contest` (a contested fault) and by both outcomes of a pass challenge.

use anchor_lang::prelude::*;
use assay_protocol::Verdict;

use crate::ed25519::{attestations_before_current, SignedAttestation};
use crate::errors::MarketError;
use crate::state::Job;

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
