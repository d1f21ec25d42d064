//! A committee's decision: the ed25519-signed votes verified just before the current
//! instruction, tallied to a strict majority, and whether the committee still sits.
//! Used by `resolve_contest` (a contested fault) and by both outcomes of a pass challenge.

use anchor_lang::prelude::*;
use assay_protocol::{AttestationMessage, Verdict, ATTESTATION_VERDICT_AT};

use crate::constants::MAX_COMMITTEE;
use crate::ed25519::{ed25519_instruction_before_current, signed_messages, SignedMessage};
use crate::errors::MarketError;
use crate::state::Job;

/// A vote's member is a bit of a `u8`.
const _: () = assert!(MAX_COMMITTEE <= 8);

/// Counts committee votes: `(uphold, overturn)`. Every attestation must be for this
/// program, job instance, round and evidence, signed by a distinct committee member.
///
/// The signed bytes are compared with the one message each verdict would be (they differ
/// only in the verdict byte) rather than parsed: a mismatch anywhere is `AttestationMismatch`,
/// as is a verdict other than uphold or overturn.
pub fn tally_votes(job_key: &Pubkey, job: &Job, votes: &[SignedMessage]) -> Result<(u8, u8)> {
    let expected = AttestationMessage {
        program_id: crate::ID.to_bytes(),
        job: job_key.to_bytes(),
        instance: job.instance,
        contest: job.contests,
        verdict: Verdict::UpholdFault,
        evidence_hash: job.fault_evidence,
    }
    .to_bytes();
    const V: usize = ATTESTATION_VERDICT_AT;
    // Bit i: committee member i has voted.
    let mut voted = 0u8;
    let (mut uphold, mut overturn) = (0u8, 0u8);
    for vote in votes {
        let m = vote.message;
        require!(
            m[..V] == expected[..V] && m[V + 1..] == expected[V + 1..],
            MarketError::AttestationMismatch
        );
        let member = job
            .committee
            .iter()
            .position(|key| key.as_array() == vote.signer)
            .ok_or(MarketError::NotACommitteeMember)?;
        require!(voted & (1 << member) == 0, MarketError::DuplicateVote);
        voted |= 1 << member;
        match Verdict::from_u8(m[V]) {
            Some(Verdict::UpholdFault) => uphold += 1,
            Some(Verdict::OverturnFault) => overturn += 1,
            _ => return err!(MarketError::AttestationMismatch),
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
        let data = ed25519_instruction_before_current(instructions_sysvar)?;
        let (uphold, overturn) = tally_votes(job_key, job, &signed_messages(&data)?)?;
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
