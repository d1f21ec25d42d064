//! Committee votes: signing, publishing, collecting, and relaying them.
//!
//! A committee member signs the 122-byte [`AttestationMessage`] with its ed25519 key and
//! publishes a [`VoteRecord`] twice: as a content-addressed blob in the shared
//! [`BlobStore`] (its durable copy) and on the [`VoteBoard`], a shared directory where
//! each record lives at the deterministic path `<job>/<instance>/<round>/<member>.vote`, so any
//! daemon can list the votes of a job without knowing their hashes in advance. Records
//! are self-authenticating: a reader checks the signature, the committee seat and the
//! message before counting one, so a corrupt or forged file is simply ignored.

use std::path::{Path, PathBuf};

use anchor_lang::prelude::Pubkey;
use assay_client::ix::{signed_vote_instruction, SignedVote};
use assay_market::state::Job;
use assay_protocol::{AttestationMessage, Verdict};
use borsh::{BorshDeserialize, BorshSerialize};
use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier as _, VerifyingKey};
use solana_sdk::instruction::Instruction;

/// One signed committee vote.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct VoteRecord {
    pub version: u8,
    pub job: [u8; 32],
    /// The job instance (its posting slot): votes of one life never count in another.
    pub instance: u64,
    pub round: u8,
    /// `true`: UpholdFault; `false`: OverturnFault.
    pub uphold: bool,
    pub member: [u8; 32],
    pub evidence_hash: [u8; 32],
    pub signature: [u8; 64],
}

impl VoteRecord {
    pub const VERSION: u8 = 2;

    /// The attestation this record claims to sign.
    pub fn message(&self) -> AttestationMessage {
        AttestationMessage {
            program_id: assay_market::ID.to_bytes(),
            job: self.job,
            instance: self.instance,
            round: self.round,
            verdict: if self.uphold {
                Verdict::UpholdFault
            } else {
                Verdict::OverturnFault
            },
            evidence_hash: self.evidence_hash,
        }
    }

    /// Signs the vote of `key` on the contest of `job`.
    pub fn sign(key: &SigningKey, job_key: &Pubkey, job: &Job, uphold: bool) -> Self {
        let mut record = Self {
            version: Self::VERSION,
            job: job_key.to_bytes(),
            instance: job.instance,
            round: job.round,
            uphold,
            member: key.verifying_key().to_bytes(),
            evidence_hash: job.fault_evidence,
            signature: [0; 64],
        };
        record.signature = key.sign(&record.message().to_bytes()).to_bytes();
        record
    }

    /// True when the signature is the member's over this record's message.
    pub fn signature_valid(&self) -> bool {
        let Ok(key) = VerifyingKey::from_bytes(&self.member) else {
            return false;
        };
        key.verify(
            &self.message().to_bytes(),
            &Signature::from_bytes(&self.signature),
        )
        .is_ok()
    }

    /// True when this vote counts for the current contest of `job`.
    pub fn counts_for(&self, job_key: &Pubkey, job: &Job) -> bool {
        self.version == Self::VERSION
            && self.job == job_key.to_bytes()
            && self.instance == job.instance
            && self.round == job.round
            && self.evidence_hash == job.fault_evidence
            && job.committee.contains(&Pubkey::new_from_array(self.member))
            && self.signature_valid()
    }
}

/// The shared directory of published votes.
#[derive(Debug, Clone)]
pub struct VoteBoard {
    dir: PathBuf,
}

impl VoteBoard {
    pub fn new(dir: impl AsRef<Path>) -> Self {
        Self {
            dir: dir.as_ref().to_path_buf(),
        }
    }

    fn round_dir(&self, job: &Pubkey, instance: u64, round: u8) -> PathBuf {
        self.dir
            .join(job.to_string())
            .join(instance.to_string())
            .join(round.to_string())
    }

    /// Writes `record` at its deterministic path (atomically: temp file + rename).
    pub fn publish(&self, record: &VoteRecord) -> std::io::Result<()> {
        let job = Pubkey::new_from_array(record.job);
        let dir = self.round_dir(&job, record.instance, record.round);
        std::fs::create_dir_all(&dir)?;
        let member = Pubkey::new_from_array(record.member).to_string();
        let tmp = dir.join(format!(".{member}.tmp"));
        std::fs::write(&tmp, borsh::to_vec(record).expect("vote serializes"))?;
        std::fs::rename(tmp, dir.join(format!("{member}.vote")))
    }

    /// Every readable record published for (job, instance, round); unreadable files are
    /// skipped.
    pub fn records(&self, job: &Pubkey, instance: u64, round: u8) -> Vec<VoteRecord> {
        let Ok(entries) = std::fs::read_dir(self.round_dir(job, instance, round)) else {
            return vec![];
        };
        let mut out: Vec<VoteRecord> = entries
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "vote"))
            .filter_map(|e| std::fs::read(e.path()).ok())
            .filter_map(|bytes| VoteRecord::try_from_slice(&bytes).ok())
            .collect();
        out.sort_by_key(|r| r.member);
        out
    }
}

/// The votes that decide the contest of `job`, if the valid ones published reach a strict
/// majority of the committee for one verdict: `(uphold, votes)`.
pub fn quorum(
    job_key: &Pubkey,
    job: &Job,
    records: &[VoteRecord],
) -> Option<(bool, Vec<VoteRecord>)> {
    let majority = job.committee.len() / 2 + 1;
    let mut seen = std::collections::BTreeSet::new();
    let valid: Vec<&VoteRecord> = records
        .iter()
        .filter(|r| r.counts_for(job_key, job) && seen.insert(r.member))
        .collect();
    [true, false].into_iter().find_map(|uphold| {
        let side: Vec<VoteRecord> = valid
            .iter()
            .filter(|r| r.uphold == uphold)
            .map(|r| (*r).clone())
            .collect();
        (side.len() >= majority).then_some((uphold, side))
    })
}

/// The Ed25519 program instruction carrying already-signed votes, in the layout
/// `resolve_contest` accepts (every offset inside this instruction, index `u16::MAX`):
/// the same bytes `assay_client::ix::vote_instruction` builds from the secret keys.
pub fn relay_instruction(votes: &[VoteRecord]) -> Instruction {
    let signed: Vec<SignedVote> = votes
        .iter()
        .map(|vote| SignedVote {
            member: vote.member,
            signature: vote.signature,
            message: vote.message(),
        })
        .collect();
    signed_vote_instruction(&signed)
}
