//! Committee votes: signing, publishing, collecting, and relaying them.
//!
//! A committee member signs the 125-byte [`AttestationMessage`] with its ed25519 key and
//! publishes a [`VoteRecord`] twice in the blob store every participant already shares:
//! as a content-addressed blob (its durable copy, named in the member's journal) and on
//! the [`VoteBoard`], the record at the deterministic name
//! `votes/<job>/<instance>/<contest>/<member>.vote`, so any daemon can list the votes of a
//! job without knowing their hashes in advance. No shared filesystem: the store may be a
//! directory, an S3 bucket or any object store. Records are self-authenticating: a reader
//! checks the signature, the committee seat and the message before counting one, so a
//! corrupt or forged record is simply ignored (and its member's daemon writes its own
//! record again on its next tick).

use std::sync::Arc;

use anchor_lang::prelude::Pubkey;
use assay_client::ix::{signed_vote_instruction, SignedVote};
use assay_gpu::{BlobError, BlobStore};
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
    /// The contest's number (`Job::contests`): votes of one challenge never count in
    /// another.
    pub contest: u32,
    /// `true`: UpholdFault; `false`: OverturnFault.
    pub uphold: bool,
    pub member: [u8; 32],
    pub evidence_hash: [u8; 32],
    pub signature: [u8; 64],
}

impl VoteRecord {
    pub const VERSION: u8 = 3;

    /// The attestation this record claims to sign.
    pub fn message(&self) -> AttestationMessage {
        AttestationMessage {
            program_id: assay_market::ID.to_bytes(),
            job: self.job,
            instance: self.instance,
            contest: self.contest,
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
            contest: job.contests,
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
            && self.contest == job.contests
            && self.evidence_hash == job.fault_evidence
            && job.committee.contains(&Pubkey::new_from_array(self.member))
            && self.signature_valid()
    }
}

/// Published votes, kept in the shared blob store under `votes/`.
#[derive(Debug, Clone)]
pub struct VoteBoard {
    store: Arc<BlobStore>,
}

impl VoteBoard {
    pub fn new(store: Arc<BlobStore>) -> Self {
        Self { store }
    }

    /// Writes `record` at its deterministic name (replacing what is there).
    pub fn publish(&self, record: &VoteRecord) -> Result<(), BlobError> {
        let job = Pubkey::new_from_array(record.job).to_string();
        let member = format!("{}.vote", Pubkey::new_from_array(record.member));
        let (instance, contest) = (record.instance.to_string(), record.contest.to_string());
        let bytes = borsh::to_vec(record).expect("vote serializes");
        self.store
            .put_record(&["votes", &job, &instance, &contest, &member], &bytes)
    }

    /// Every decodable record published for (job, instance, contest), sorted by member.
    pub fn records(
        &self,
        job: &Pubkey,
        instance: u64,
        contest: u32,
    ) -> Result<Vec<VoteRecord>, BlobError> {
        let (job, instance, contest) = (job.to_string(), instance.to_string(), contest.to_string());
        let mut out: Vec<VoteRecord> = self
            .store
            .records(&["votes", &job, &instance, &contest])?
            .iter()
            .filter_map(|bytes| VoteRecord::try_from_slice(bytes).ok())
            .collect();
        out.sort_by_key(|r| r.member);
        Ok(out)
    }
}

/// The votes that decide the contest of `job`, if the valid ones published reach a strict
/// majority of the committee for one verdict: `(uphold, votes)`, exactly a majority of
/// them.
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
        // Exactly a majority: more votes decide nothing more and only make the relayed
        // transaction larger.
        let side: Vec<VoteRecord> = valid
            .iter()
            .filter(|r| r.uphold == uphold)
            .take(majority)
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
