//! Events, emitted through `emit_cpi!` so they are readable from inner instructions on any
//! cluster and in the native test bank. Amounts are token base units, times are slots.
use anchor_lang::prelude::*;

use crate::state::{JobState, MarketParams};

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigChanged {
    pub admin: Pubkey,
    pub treasury: Pubkey,
    pub params: MarketParams,
}

/// Emitted on every job state transition.
#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobStateChanged {
    pub job: Pubkey,
    pub from: Option<JobState>,
    pub to: JobState,
    pub slot: u64,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobPosted {
    pub job: Pubkey,
    pub buyer: Pubkey,
    pub job_id: u64,
    pub price: u64,
    pub collateral: u64,
    pub n_chunks: u32,
    pub samples: u8,
    pub manifest_hash: [u8; 32],
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobClaimed {
    pub job: Pubkey,
    pub provider: Pubkey,
    pub commit_deadline_slot: u64,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultCommitted {
    pub job: Pubkey,
    pub provider: Pubkey,
    pub result_root: [u8; 32],
    pub seed_slot: u64,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChallengeDrawn {
    pub job: Pubkey,
    pub seed: [u8; 32],
    pub round: u8,
    pub verifier: Option<Pubkey>,
    pub deadline_slot: u64,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultReported {
    pub job: Pubkey,
    pub verifier: Pubkey,
    pub chunk_index: u32,
    pub data_unavailable: bool,
    pub evidence_hash: [u8; 32],
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierMissedWindow {
    pub job: Pubkey,
    pub verifier: Pubkey,
    pub round: u8,
    pub penalty: u64,
}

/// The provider contested; the committee is drawn from the hash of `seed_slot`.
#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultContested {
    pub job: Pubkey,
    pub seed_slot: u64,
    pub deadline_slot: u64,
}

/// The contest committee was drawn from its own seed; it votes until `deadline_slot`
/// (empty: nobody was eligible, and the contest can be voided at once).
#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitteeDrawn {
    pub job: Pubkey,
    pub seed: [u8; 32],
    pub committee: Vec<Pubkey>,
    pub deadline_slot: u64,
}

/// A pending draw (a round's verifier, or the committee) was armed again: its draw epoch
/// ended or its seed slot's hash left SlotHashes before anyone cranked it.
#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrawRearmed {
    pub job: Pubkey,
    pub round: u8,
    pub seed_slot: u64,
}

/// The verifier drawn for `round` could not cover the bond (its available stake fell
/// after the epoch's weights were fixed); it is passed over and, if rounds remain, the
/// next round is armed.
#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierForfeited {
    pub job: Pubkey,
    pub verifier: Pubkey,
    pub round: u8,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContestResolved {
    pub job: Pubkey,
    pub upheld: bool,
    pub votes_uphold: u8,
    pub votes_overturn: u8,
}

/// A verifier attested a pass: the provider and the treasury were paid now; the pass can
/// be challenged until `window_end_slot`.
#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassRecorded {
    pub job: Pubkey,
    pub verifier: Pubkey,
    pub provider_paid: u64,
    pub treasury_paid: u64,
    pub window_end_slot: u64,
}

/// An operator challenged a pass with a sampled chunk; the committee is drawn from the
/// hash of `seed_slot` and votes on the evidence (round `round`).
#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassChallenged {
    pub job: Pubkey,
    pub challenger: Pubkey,
    pub round: u8,
    pub chunk_index: u32,
    pub evidence_hash: [u8; 32],
    pub seed_slot: u64,
    pub deadline_slot: u64,
}

/// A challenge of a pass ended without closing the job (overturned: the challenger's
/// bond slashed; voided: no majority, nobody slashed); the pass window runs again until
/// `window_end_slot`.
#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassWindowReopened {
    pub job: Pubkey,
    pub challenger: Pubkey,
    pub challenger_slashed: u64,
    pub window_end_slot: u64,
}

/// Final money movement of a job over its whole life (a pass's payments included);
/// `buyer_refund` includes nothing of the rent. `verifier_paid` is the attesting
/// verifier's fee, or the finder share of whoever showed the fault (the accusing
/// verifier, or the operator that challenged a pass).
#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobClosed {
    pub job: Pubkey,
    pub state: JobState,
    pub provider_paid: u64,
    pub verifier_paid: u64,
    pub treasury_paid: u64,
    pub buyer_refund: u64,
    pub provider_slashed: u64,
    pub verifier_slashed: u64,
    /// Tokens found in the vault beyond every recorded amount (someone sent them unasked),
    /// paid to the buyer with `buyer_refund`.
    pub residue: u64,
}

/// Why a job settled without any verifier's verdict.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnauditedReason {
    /// No eligible verifier was left to draw: every one able to run the job was the
    /// provider, an earlier round's verifier, gone from the registry, or short of the bond.
    NoEligibleVerifier,
    /// Verifiers were drawn but the last round's let its window pass.
    EveryRoundMissed,
}

/// The job settled with no audit: the provider is paid (it did the work), and the buyer
/// gets the verifier fee back (`verifier_fee_refunded`, base units, part of
/// `JobClosed::buyer_refund`). Emitted with the job's `JobClosed`.
#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettledUnaudited {
    pub job: Pubkey,
    pub reason: UnauditedReason,
    pub verifier_fee_refunded: u64,
}

/// The admin moved protocol revenue out of the treasury vault.
#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreasuryWithdrawn {
    pub destination: Pubkey,
    pub amount: u64,
}
