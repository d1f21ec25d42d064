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

/// The draw of verifier round `round` was armed (after a missed or forfeited round): it
/// is made from the hash of `seed_slot` by a crank up to `draw_deadline_slot`, and lapses
/// after.
#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrawRearmed {
    pub job: Pubkey,
    pub round: u8,
    pub seed_slot: u64,
    pub draw_deadline_slot: u64,
}

/// The verifier drawn for `round` could not be bonded and is passed over; if rounds
/// remain, the next round is armed. Its epoch weight below the bond costs it nothing
/// (that weight was fixed before the draw); stake it locked or lost since costs it
/// `penalty` (the miss penalty, or all it had unlocked if less), as a missed round does.
#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierForfeited {
    pub job: Pubkey,
    pub verifier: Pubkey,
    pub round: u8,
    pub penalty: u64,
}

/// Nobody made the pending draw within its window (`from` says which: Committed, a
/// verifier round; Contested or PassChallenged, a committee). Every party of the draw got
/// its worst outcome of it: the provider's collateral, the accuser's bond and (for a
/// challenged pass) the attesting verifier's bond are slashed; the buyer is refunded and
/// takes the slashed stake but the treasury's share. Emitted with the job's `JobClosed`.
#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrawLapsed {
    pub job: Pubkey,
    pub from: JobState,
    pub provider_slashed: u64,
    pub accuser_slashed: u64,
    pub verifier_slashed: u64,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContestResolved {
    pub job: Pubkey,
    pub upheld: bool,
    pub votes_uphold: u8,
    pub votes_overturn: u8,
}

/// A verifier attested a pass, or (`verifier` none) the job was finalized with no verdict
/// (an unaudited pass): the provider and the treasury were paid now; the pass can be
/// challenged until `window_end_slot`, the provider's collateral at stake.
#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassRecorded {
    pub job: Pubkey,
    pub verifier: Option<Pubkey>,
    pub provider_paid: u64,
    pub treasury_paid: u64,
    pub window_end_slot: u64,
}

/// An operator challenged a pass with a sampled chunk; the committee is drawn from the
/// hash of `seed_slot` (drawn by a crank up to `deadline_slot`) and votes on the
/// evidence (contest number `contest`).
#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassChallenged {
    pub job: Pubkey,
    pub challenger: Pubkey,
    pub contest: u32,
    pub chunk_index: u32,
    /// The chunk is called unavailable (`challenge_availability`), not wrong.
    pub data_unavailable: bool,
    pub evidence_hash: [u8; 32],
    pub seed_slot: u64,
    pub deadline_slot: u64,
}

/// A challenge of a pass ended without closing the job (overturned: the challenger's
/// bond slashed; voided: no majority, the challenger pays the miss penalty); the pass
/// window runs again until `window_end_slot`.
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
    /// No verifier was ever drawn: every one able to run the job was the provider, gone
    /// from the registry, or short of the bond.
    NoEligibleVerifier,
    /// Verifiers were drawn, but none gave a verdict (each missed its window or forfeited).
    EveryRoundMissed,
}

/// The job settled with no audit: `finalize` paid the provider and opened a pass window
/// with no verifier, in which anyone could challenge it; the window ended unchallenged.
/// The buyer gets the verifier fee back (`verifier_fee_refunded`, base units, part of
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
