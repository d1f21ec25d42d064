use anchor_lang::prelude::*;

use crate::constants::{MAX_COMMITTEE, MAX_OUTPUT_URI_LEN, MAX_VERIFIER_ROUNDS};
use crate::errors::MarketError;
use crate::state::MarketParams;

/// Where a job is in its life (DESIGN.md "Life of a job"). Every non-terminal state has an
/// exit that needs no admin; terminal states close the job and its vault.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum JobState {
    /// Escrow funded, waiting for a provider. Exits: claim, cancel, expire.
    Open,
    /// A provider locked collateral and is computing. Exits: commit_result, expire.
    Claimed,
    /// Root committed; waiting for the seed slot. Exit: draw_challenge.
    Committed,
    /// Sample and verifier drawn. Exits: attest_pass, report_fault, advance_round, finalize.
    Challenged,
    /// A verifier reported a fault. Exits: concede_fault (provider, or anyone after the
    /// dispute window), contest_fault.
    Disputed,
    /// The provider contested; a committee votes. Exits: resolve_contest, void_contest.
    Contested,
    /// Terminal: provider paid.
    Settled,
    /// Terminal: provider's collateral slashed, buyer refunded.
    Slashed,
    /// Terminal: buyer cancelled before any claim.
    Cancelled,
    /// Terminal: a deadline passed with no claim or no commit.
    Expired,
    /// Terminal: the committee did not reach a majority in time; buyer refunded, nobody slashed.
    Voided,
}

impl JobState {
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Settled | Self::Slashed | Self::Cancelled | Self::Expired | Self::Voided
        )
    }
}

/// `exact`: output bytes must match. `float`: element-wise tolerance whose exact bound is
/// part of the manifest (bound by `manifest_hash`).
pub const COMPARISON_EXACT: u8 = 0;
pub const COMPARISON_FLOAT: u8 = 1;

/// One job. PDA `["job", buyer, job_id as u64 LE]`; its escrow is the token account PDA
/// `["job-vault", job]` whose authority is the job itself.
///
/// Amounts are token base units, times are slot numbers.
#[account]
#[derive(InitSpace)]
pub struct Job {
    pub buyer: Pubkey,
    /// Buyer-chosen id, unique per buyer.
    pub job_id: u64,
    pub state: JobState,
    /// sha256 of the canonical job manifest (kernel, bindings, grid, comparison rule).
    pub manifest_hash: [u8; 32],
    /// sha256 Merkle root (or content hash) of the input blobs.
    pub input_root: [u8; 32],
    /// Chunks in the job; leaf `i` of the result commits chunk `i`.
    pub n_chunks: u32,
    /// Chunks the verifier re-executes (k).
    pub samples: u8,
    /// `COMPARISON_EXACT` or `COMPARISON_FLOAT`.
    pub comparison_rule: u8,
    /// Escrowed payment.
    pub price: u64,
    /// Provider stake locked while the job runs.
    pub collateral: u64,
    /// Part of `price` paid to the attesting verifier.
    pub verifier_fee: u64,
    /// Part of `price` paid to the treasury.
    pub protocol_fee: u64,
    /// Protocol parameters as they were at posting.
    pub params: MarketParams,
    /// Treasury token account as it was at posting.
    pub treasury: Pubkey,
    /// Last slot a provider may claim.
    pub claim_deadline_slot: u64,
    /// Slots a provider has, from its claim, to commit.
    pub execution_window_slots: u64,
    /// Last slot the provider may commit (set at claim).
    pub commit_deadline_slot: u64,
    /// The provider operator's authority.
    pub provider: Option<Pubkey>,
    pub result_root: [u8; 32],
    #[max_len(MAX_OUTPUT_URI_LEN)]
    pub output_uri: String,
    /// The hash of the first slot at or after this one seeds the challenge.
    pub seed_slot: u64,
    pub seed: [u8; 32],
    /// Verifier round, from 0.
    pub round: u8,
    /// Authority of the verifier assigned to `round`, if any was eligible.
    pub verifier: Option<Pubkey>,
    /// Verifiers of earlier rounds (never drawn again for this job).
    #[max_len(MAX_VERIFIER_ROUNDS)]
    pub past_verifiers: Vec<Pubkey>,
    /// Last slot of the current step's window (verdict, dispute or vote).
    pub step_deadline_slot: u64,
    /// The verifier that reported the fault.
    pub accuser: Option<Pubkey>,
    pub fault_index: u32,
    /// `assay_protocol::fault_evidence_hash` of the reported fault.
    pub fault_evidence: [u8; 32],
    /// Authorities drawn to vote on a contest.
    #[max_len(MAX_COMMITTEE)]
    pub committee: Vec<Pubkey>,
    pub bump: u8,
    pub vault_bump: u8,
}

impl Job {
    pub const SIZE: usize = 8 + Self::INIT_SPACE;

    pub fn require_state(&self, expected: JobState) -> Result<()> {
        require!(self.state == expected, MarketError::WrongJobState);
        Ok(())
    }

    pub fn provider_key(&self) -> Result<Pubkey> {
        self.provider
            .ok_or_else(|| error!(MarketError::WrongJobState))
    }

    /// What the provider receives on settlement.
    pub fn provider_payout(&self) -> Result<u64> {
        self.price
            .checked_sub(self.verifier_fee)
            .and_then(|rest| rest.checked_sub(self.protocol_fee))
            .ok_or_else(|| error!(MarketError::Overflow))
    }

    /// Signer seeds of the job PDA (it owns the vault).
    pub fn with_signer_seeds<R>(&self, f: impl FnOnce(&[&[&[u8]]]) -> R) -> R {
        let job_id = self.job_id.to_le_bytes();
        let bump = [self.bump];
        let seeds: &[&[u8]] = &[
            crate::constants::JOB_SEED,
            self.buyer.as_ref(),
            &job_id,
            &bump,
        ];
        f(&[seeds])
    }
}

impl Job {
    /// Moves to `to` and returns the event that records it.
    pub fn transition(
        &mut self,
        job: Pubkey,
        to: JobState,
        slot: u64,
    ) -> crate::events::JobStateChanged {
        let from = self.state;
        self.state = to;
        crate::events::JobStateChanged {
            job,
            from: Some(from),
            to,
            slot,
        }
    }
}

impl Job {
    /// The least registry weight a verifier of this job may have: the stake program's
    /// current minimum or this job's bond, whichever is larger. Read when the draw is
    /// made, so no parameter change by either admin can yield a verifier whose bond lock
    /// fails (which would leave the job with no exit).
    pub fn verifier_floor(&self, min_verifier_stake: u64) -> u64 {
        min_verifier_stake.max(self.params.verifier_bond)
    }

    /// Draws the verifier of the current round from the registry by stake, excluding the
    /// provider, every earlier verifier of this job, and entries below
    /// [`verifier_floor`](Self::verifier_floor). A pure function of the seed, the registry
    /// and the stake minimum, so the cranker cannot choose it.
    pub fn draw_verifier(
        &self,
        registry: &assay_stake::state::VerifierRegistry,
        min_verifier_stake: u64,
    ) -> Option<Pubkey> {
        let mut excluded = self.past_verifiers.clone();
        excluded.extend(self.provider);
        let weights = registry.draw_weights(&excluded, self.verifier_floor(min_verifier_stake));
        assay_protocol::draw::verifier_for_round(&self.seed, self.round, &weights)
            .map(|i| registry.entries[i].authority)
    }
}
