use anchor_lang::prelude::*;
use assay_protocol::sumtree::Weights;

use crate::constants::{MAX_COMMITTEE, MAX_OUTPUT_URI_LEN, MAX_PROOF_LEN, MAX_VERIFIER_ROUNDS};
use crate::errors::MarketError;
use crate::state::MarketParams;
use assay_protocol::SeedHash;
use assay_stake::state::{Operator, VerifierRegistry};

/// Where a job is in its life (docs/protocol.md "Life of a job"). Every non-terminal state has an
/// exit that needs no admin; terminal states close the job and its vault.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum JobState {
    /// Escrow funded, waiting for a provider. Exits: claim, cancel, expire.
    Open,
    /// A provider locked collateral and is computing. Exits: commit_result, expire.
    Claimed,
    /// Root committed; the round's draw is armed. Exits: draw_challenge within the draw
    /// window, lapse_draw after it.
    Committed,
    /// Sample and verifier drawn. Exits: attest_pass, report_fault, advance_round, finalize.
    Challenged,
    /// The verifier attested a pass and the provider is paid; until the pass window ends
    /// the provider's collateral, the verifier's bond and its fee stay in escrow, and any
    /// staked operator may challenge the pass. Exits: challenge_pass, close_pass.
    Passed,
    /// An operator challenged the pass with a sampled chunk it shows is wrong; a committee
    /// is drawn (draw_committee) and votes. Exits: uphold_challenge (to Slashed),
    /// overturn_challenge and void_challenge (back to Passed for the window's rest),
    /// lapse_draw (to Slashed) when nobody drew the committee in its window.
    PassChallenged,
    /// A verifier reported a fault. Exits: concede_fault (provider, or anyone after the
    /// dispute window), contest_fault.
    Disputed,
    /// The provider contested; a committee is drawn (draw_committee, from its own seed
    /// slot) and votes. Exits: resolve_contest, void_contest, lapse_draw (to Slashed) when
    /// nobody drew the committee in its window.
    Contested,
    /// Terminal: provider paid.
    Settled,
    /// Terminal: provider's collateral slashed, buyer refunded (a proven fault, or a draw
    /// that lapsed).
    Slashed,
    /// Terminal: buyer cancelled before any claim.
    Cancelled,
    /// Terminal: a deadline passed with no claim or no commit.
    Expired,
    /// Terminal: the committee did not reach a majority in time; buyer refunded, nobody slashed.
    Voided,
}

impl JobState {
    /// Every state, in declaration order.
    pub const ALL: [JobState; 13] = [
        Self::Open,
        Self::Claimed,
        Self::Committed,
        Self::Challenged,
        Self::Passed,
        Self::PassChallenged,
        Self::Disputed,
        Self::Contested,
        Self::Settled,
        Self::Slashed,
        Self::Cancelled,
        Self::Expired,
        Self::Voided,
    ];

    /// The lifecycle's edges: the states a job in this one may move to (one definition;
    /// [`Job::transition`] refuses any other). Terminal states have none.
    pub fn exits(self) -> &'static [JobState] {
        use JobState::*;
        match self {
            Open => &[Claimed, Cancelled, Expired],
            Claimed => &[Committed, Expired],
            // draw_challenge; lapse_draw.
            Committed => &[Challenged, Slashed],
            // attest_pass or finalize; report_fault; advance_round.
            Challenged => &[Passed, Disputed, Committed],
            // challenge_pass; close_pass.
            Passed => &[PassChallenged, Settled],
            // overturn_challenge or void_challenge; uphold_challenge or lapse_draw.
            PassChallenged => &[Passed, Slashed],
            // concede_fault; contest_fault.
            Disputed => &[Slashed, Contested],
            // resolve_contest (either way), lapse_draw; void_contest.
            Contested => &[Slashed, Settled, Voided],
            Settled | Slashed | Cancelled | Expired | Voided => &[],
        }
    }

    pub fn is_terminal(self) -> bool {
        self.exits().is_empty()
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
    /// Buyer-chosen id, unique per buyer among open jobs.
    pub job_id: u64,
    /// This life of the job's address: the slot it was posted in. A job closed and
    /// re-posted with the same id lands in a later slot, so its votes and fault evidence
    /// (which bind the instance) never count for another life.
    pub instance: u64,
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
    /// `assay_protocol::capability` bits the manifest requires of an adapter: every draw
    /// for this job (verifier rounds, committees) picks only verifiers that cover them.
    pub needs: u8,
    /// Escrowed payment.
    pub price: u64,
    /// Provider stake locked while the job runs.
    pub collateral: u64,
    /// Part of `price` paid to the attesting verifier.
    pub verifier_fee: u64,
    /// Part of `price` paid to the treasury.
    pub protocol_fee: u64,
    /// Stake locked from each verifier drawn for this job (`JobTerms::verifier_bond`); a
    /// challenger of its pass locks the market's base `params.verifier_bond`.
    pub verifier_bond: u64,
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
    /// The hash of the first slot at or after this one seeds the pending draw (the
    /// current round's verifier, or the committee). Armed `challenge_delay_slots` after
    /// the slot that armed it.
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
    /// The verifier that reported the fault, or the operator challenging a pass.
    pub accuser: Option<Pubkey>,
    pub fault_index: u32,
    /// `assay_protocol::fault_evidence_hash` of the reported fault.
    pub fault_evidence: [u8; 32],
    /// The reported fault is a chunk the verifier could not obtain (not a wrong one). Such
    /// a report cannot be proven false after the fact: overturned, it costs the accuser
    /// the miss penalty (what silence costs), not its bond.
    pub fault_unavailable: bool,
    /// Slots of the pass window left when the pass was challenged: an overturned or
    /// voided challenge gives them back, so a challenge can delay the window's end but
    /// never shorten it.
    pub pass_window_left_slots: u64,
    /// Authorities drawn to vote on a contest (empty until `draw_committee`).
    #[max_len(MAX_COMMITTEE)]
    pub committee: Vec<Pubkey>,
    /// The stake program's draw epoch length (fixed there forever), read at posting: every
    /// draw window of this job fits in one epoch of this length.
    pub epoch_slots: u64,
    /// Contests so far (each contested fault and each challenge of a pass is one; wraps):
    /// committee votes bind the number of the contest they decide.
    pub contests: u32,
    /// Last slot the pending draw (a round's verifier, or a committee) may be made in; 0
    /// when no draw is pending. After it the draw lapses (`lapse_draw`).
    pub draw_deadline_slot: u64,
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

    pub fn verifier_key(&self) -> Result<Pubkey> {
        self.verifier
            .ok_or_else(|| error!(MarketError::WrongJobState))
    }

    /// `leaf` is the provider's committed leaf for `index`, a chunk of the drawn sample:
    /// `ChunkNotSampled`, `ProofTooLong` or `InvalidMerkleProof` otherwise.
    pub fn require_sampled_leaf(
        &self,
        index: u32,
        leaf: &[u8; 32],
        proof: &[[u8; 32]],
    ) -> Result<()> {
        require!(
            assay_protocol::is_sampled(&self.seed, self.n_chunks, u32::from(self.samples), index),
            MarketError::ChunkNotSampled
        );
        require!(proof.len() <= MAX_PROOF_LEN, MarketError::ProofTooLong);
        assay_protocol::verify_proof(&self.result_root, leaf, index, self.n_chunks, proof)
            .map_err(|_| error!(MarketError::InvalidMerkleProof))
    }

    /// Whether a round after the current one may still be drawn (`advance_round`), or the
    /// current round is the last (`finalize`).
    /// Stake a challenger of this job's pass locks: the market's base bond (the bond of a
    /// drawn verifier, `verifier_bond`, scales with its fee; a challenger earns no fee).
    /// Whether an upheld challenge of this pass still pays the attesting verifier its fee
    /// and unlocks its bond: the challenge called a chunk unavailable, which the verifier
    /// read when it attested — keeping the output served afterwards is the provider's duty.
    pub fn verifier_keeps_fee(&self) -> bool {
        self.verifier.is_some() && self.fault_unavailable
    }

    /// For a passed job's chunk called unavailable (`challenge_availability`, committee
    /// drawn): the slot from which honest committee members look for the chunk, the
    /// second half of their vote window — so a provider has the first half to serve it
    /// again, and a chunk that is served by then is voted available. `None` otherwise.
    /// (Off-chain policy, kept beside the lifecycle so every client agrees on it.)
    pub fn availability_looked_at_from(&self) -> Option<u64> {
        (self.state == JobState::PassChallenged
            && self.fault_unavailable
            && !self.committee.is_empty())
        .then(|| {
            self.step_deadline_slot
                .saturating_sub(self.params.vote_window_slots / 2)
        })
    }

    pub fn challenger_bond(&self) -> u64 {
        self.params.verifier_bond
    }

    /// Stake the job's accuser has locked: a challenger's bond while its challenge of the
    /// pass is pending (PassChallenged), else the job's verifier bond (the accuser of a
    /// contested fault is the job's drawn verifier).
    pub fn accuser_bond(&self) -> u64 {
        if self.state == JobState::PassChallenged {
            self.challenger_bond()
        } else {
            self.verifier_bond
        }
    }

    pub fn rounds_remain(&self) -> bool {
        u16::from(self.round) + 1 < u16::from(self.params.max_verifier_rounds)
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
    /// Moves to `to` and returns the event that records it; an edge the lifecycle does not
    /// have ([`JobState::exits`]) is refused with `IllegalTransition`.
    pub fn transition(
        &mut self,
        job: Pubkey,
        to: JobState,
        slot: u64,
    ) -> Result<crate::events::JobStateChanged> {
        let from = self.state;
        require!(from.exits().contains(&to), MarketError::IllegalTransition);
        self.state = to;
        Ok(crate::events::JobStateChanged {
            job,
            from: Some(from),
            to,
            slot,
        })
    }
}

impl Job {
    /// Arms a draw at `slot`: its seed is the hash of the first slot at or after
    /// `slot + challenge_delay_slots`, unknown to anyone at `slot`, and it must be made
    /// within `draw_window_slots` after that seed slot. When that window would cross a draw
    /// epoch boundary, the seed slot moves to the next epoch's first slot, so the whole
    /// window lies in one epoch and every crank in it reads the same epoch's weights.
    /// Returns the seed slot.
    pub fn arm(&mut self, slot: u64) -> Result<u64> {
        let epoch = self.epoch_slots.max(1);
        let window = self.params.draw_window_slots;
        let mut seed_slot = slot
            .checked_add(self.params.challenge_delay_slots)
            .ok_or(MarketError::Overflow)?;
        let window_end = seed_slot.checked_add(window).ok_or(MarketError::Overflow)?;
        if seed_slot / epoch != window_end / epoch {
            seed_slot = window_end / epoch * epoch;
        }
        self.seed_slot = seed_slot;
        self.draw_deadline_slot = seed_slot.checked_add(window).ok_or(MarketError::Overflow)?;
        Ok(seed_slot)
    }

    /// Whether a draw is armed and not yet made (or lapsed).
    pub fn draw_pending(&self) -> bool {
        self.draw_deadline_slot != 0
    }

    /// The draw epoch whose weights the pending draw reads: the seed slot's, which is
    /// also every slot's of its window. Those weights were fixed when the epoch began,
    /// before the seed slot's hash existed.
    pub fn draw_epoch(&self) -> u64 {
        self.seed_slot / self.epoch_slots.max(1)
    }

    /// What a crank at `slot` of the pending draw finds: its seed (the same at every slot
    /// of the draw window), no hash yet, or a lapsed draw. The outcome is a function of the
    /// job, that hash and the weights of [`draw_epoch`](Self::draw_epoch), so whoever
    /// cranks, whenever, cannot choose it; past the window the draw is never made, and
    /// `lapse_draw` ends the job.
    pub fn draw_seed(&self, slot_hashes: &[u8], slot: u64) -> DrawSeed {
        if slot > self.draw_deadline_slot {
            return DrawSeed::Lapsed;
        }
        // The draw's own rule (`SeedSlotNotReached`): a crank in the seed slot waits even
        // where SlotHashes already lists that slot (a local validator may), so a
        // prediction never says Ready for a crank the program refuses.
        if slot <= self.seed_slot {
            return DrawSeed::Wait;
        }
        match assay_protocol::seed_slot_hash(slot_hashes, self.seed_slot) {
            SeedHash::Known(hash) => DrawSeed::Ready(hash),
            SeedHash::Pending => DrawSeed::Wait,
            // Within the window the hash is always held (`MAX_DRAW_WINDOW_SLOTS`).
            SeedHash::Gone => DrawSeed::Lapsed,
        }
    }

    /// Draws the verifier of the current round by the registry weights of `epoch` among
    /// the verifiers whose capabilities cover the job's needs, with
    /// the `excluded` slots (the provider's and every earlier verifier's, from
    /// [`excluded_slots`]) weighing 0; returns its registry slot and its weight (the
    /// Operator holding the slot names the verifier: [`VerifierRegistry::holds`]). A pure
    /// function of the seed, the round and the epoch's weights, so neither the cranker nor
    /// a stake change after arming can choose it. The caller passes over a verifier whose
    /// weight is below the job's bond.
    pub fn draw_verifier(
        &self,
        registry: &VerifierRegistry,
        epoch: u64,
        excluded: &[usize],
    ) -> Option<(usize, u64)> {
        let weights = registry.weights_at(epoch, self.needs)?;
        let slot =
            assay_protocol::draw::verifier_in_tree(&self.seed, self.round, &weights, excluded)?;
        Some((slot, weights.value(slot)))
    }

    /// Draws the contest committee from `seed` by the registry weights of `epoch` among
    /// the verifiers whose capabilities cover the job's needs, with
    /// the `excluded` slots (the provider's and the accuser's) weighing 0: the seats'
    /// registry slots, in seat order ([`seat_authorities`] names them).
    pub fn draw_committee(
        &self,
        registry: &VerifierRegistry,
        epoch: u64,
        seed: &[u8; 32],
        excluded: &[usize],
    ) -> Vec<usize> {
        let Some(weights) = registry.weights_at(epoch, self.needs) else {
            return Vec::new();
        };
        let size = usize::from(self.params.committee_size);
        assay_protocol::draw::committee_in_tree(seed, size, &weights, excluded)
    }

    /// Whose registry slots a verifier draw excludes: the provider and every earlier
    /// verifier of this job.
    pub fn verifier_draw_excludes(&self) -> Vec<Pubkey> {
        self.provider
            .into_iter()
            .chain(self.past_verifiers.iter().copied())
            .collect()
    }

    /// Whose registry slots the committee draw excludes: the provider, the round's
    /// verifier and the accuser (for a contested fault the verifier is the accuser; for a
    /// challenged pass, the verifier that attested it and the challenger).
    pub fn committee_draw_excludes(&self) -> Vec<Pubkey> {
        let mut parties: Vec<Pubkey> = self.provider.into_iter().chain(self.verifier).collect();
        parties.extend(self.accuser.filter(|accuser| !parties.contains(accuser)));
        parties
    }

    /// Opens contest number `contests + 1` (a contested fault or a challenged pass) and
    /// arms its committee draw at `slot`: the committee is empty until `draw_committee`,
    /// and until then the step deadline is the draw's. Returns the seed slot.
    pub fn arm_committee(&mut self, slot: u64) -> Result<u64> {
        self.contests = self.contests.wrapping_add(1);
        self.committee = Vec::new();
        let seed_slot = self.arm(slot)?;
        self.step_deadline_slot = self.draw_deadline_slot;
        Ok(seed_slot)
    }
}

impl Job {
    /// Ends a failed challenge of the pass (overturned or voided): the challenger is no
    /// longer the accuser, the committee is dismissed, and the pass window runs again for
    /// the slots it had left when challenged. Returns the new window end.
    pub fn reopen_pass(&mut self, slot: u64) -> Result<u64> {
        self.accuser = None;
        self.committee = Vec::new();
        self.step_deadline_slot = slot
            .checked_add(self.pass_window_left_slots)
            .ok_or(MarketError::Overflow)?;
        self.pass_window_left_slots = 0;
        Ok(self.step_deadline_slot)
    }

    /// The operator challenging the pass.
    pub fn accuser_key(&self) -> Result<Pubkey> {
        self.accuser
            .ok_or_else(|| error!(MarketError::WrongJobState))
    }
}

/// The Operator accounts among `infos` (an instruction's remaining accounts): those the
/// stake program owns that deserialize as one; anything else is skipped.
pub fn operators_in(infos: &[AccountInfo]) -> Vec<Operator> {
    infos
        .iter()
        .filter(|info| info.owner == &assay_stake::ID)
        .filter_map(|info| {
            let data = info.try_borrow_data().ok()?;
            Operator::try_deserialize(&mut &data[..]).ok()
        })
        .collect()
}

/// The registry slots held by `authorities`, read from their Operator accounts among
/// `operators` (the instruction's remaining accounts, [`operators_in`]). Every
/// authority's Operator must be given (`MissingOperator`): an operator account is the
/// only place that names its slot, so a cranker cannot hide an excluded verifier's weight
/// by leaving it out.
pub fn excluded_slots(
    registry: &VerifierRegistry,
    authorities: &[Pubkey],
    operators: &[Operator],
) -> Result<Vec<usize>> {
    let mut slots = Vec::with_capacity(authorities.len());
    for authority in authorities {
        let operator = operators
            .iter()
            .find(|operator| operator.authority == *authority)
            .ok_or(MarketError::MissingOperator)?;
        slots.extend(registry.slot_of(operator));
    }
    Ok(slots)
}

/// The authorities of the verifiers holding `seats` (registry slots), read from their
/// Operator accounts among `operators` (the instruction's remaining accounts,
/// [`operators_in`]): the one Operator whose slot and binding tag match each seat
/// ([`VerifierRegistry::holds`]), so a cranker can name nobody else. `MissingOperator`
/// when a seat's Operator is not given.
pub fn seat_authorities(
    registry: &VerifierRegistry,
    seats: &[usize],
    operators: &[Operator],
) -> Result<Vec<Pubkey>> {
    seats
        .iter()
        .map(|&seat| {
            operators
                .iter()
                .find(|operator| registry.holds(operator, seat))
                .map(|operator| operator.authority)
                .ok_or_else(|| error!(MarketError::MissingOperator))
        })
        .collect()
}

/// Whether anyone may judge a contest of `job` armed at `slot`: some registry slot outside
/// `excluded` whose capabilities cover the job's needs has weight in `slot`'s draw epoch.
pub fn has_judges(job: &Job, registry: &VerifierRegistry, excluded: &[usize], slot: u64) -> bool {
    registry
        .weights_at(registry.epoch_of(slot), job.needs)
        .is_some_and(|weights| {
            assay_protocol::sumtree::pick(b"", &[0; 32], 0, &weights, excluded).is_some()
        })
}

/// A permissionless instruction (anyone may send it) that moves a job on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crank {
    ExpireJob,
    DrawChallenge,
    DrawCommittee,
    LapseDraw,
    AdvanceRound,
    Finalize,
    ConcedeFault,
    VoidContest,
    VoidChallenge,
    ClosePass,
}

impl Crank {
    /// The instruction's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::ExpireJob => "expire_job",
            Self::DrawChallenge => "draw_challenge",
            Self::DrawCommittee => "draw_committee",
            Self::LapseDraw => "lapse_draw",
            Self::AdvanceRound => "advance_round",
            Self::Finalize => "finalize",
            Self::ConcedeFault => "concede_fault",
            Self::VoidContest => "void_contest",
            Self::VoidChallenge => "void_challenge",
            Self::ClosePass => "close_pass",
        }
    }
}

impl Job {
    /// The crank table: the permissionless instruction due on this job at `slot`, if any
    /// (a draw may still find no slot hash yet, and wait). One definition, asked by the
    /// verifier daemon, the CLI and the tests' drivers; the instructions' own rules are
    /// the same conditions.
    pub fn due(&self, slot: u64) -> Option<Crank> {
        let past = |deadline: u64| slot > deadline;
        let draw = |made: Crank| {
            if past(self.draw_deadline_slot) {
                Some(Crank::LapseDraw)
            } else {
                past(self.seed_slot).then_some(made)
            }
        };
        match self.state {
            JobState::Open if past(self.claim_deadline_slot) => Some(Crank::ExpireJob),
            JobState::Claimed if past(self.commit_deadline_slot) => Some(Crank::ExpireJob),
            JobState::Committed if self.draw_pending() => draw(Crank::DrawChallenge),
            JobState::Challenged if past(self.step_deadline_slot) => {
                if self.verifier.is_some() && self.rounds_remain() {
                    Some(Crank::AdvanceRound)
                } else {
                    Some(Crank::Finalize)
                }
            }
            JobState::Disputed if past(self.step_deadline_slot) => Some(Crank::ConcedeFault),
            JobState::Contested | JobState::PassChallenged if self.draw_pending() => {
                draw(Crank::DrawCommittee)
            }
            JobState::Contested if past(self.step_deadline_slot) => Some(Crank::VoidContest),
            JobState::PassChallenged if past(self.step_deadline_slot) => Some(Crank::VoidChallenge),
            JobState::Passed if past(self.step_deadline_slot) => Some(Crank::ClosePass),
            _ => None,
        }
    }
}

/// See [`Job::draw_seed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DrawSeed {
    /// Draw now from this slot hash.
    Ready([u8; 32]),
    /// The seed slot's hash does not exist yet.
    Wait,
    /// The draw window passed without the draw: `lapse_draw` ends the job.
    Lapsed,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The states reachable from `start` along [`JobState::exits`].
    fn reachable(start: JobState) -> Vec<JobState> {
        let mut seen = vec![start];
        let mut next = 0;
        while next < seen.len() {
            for &to in seen[next].exits() {
                if !seen.contains(&to) {
                    seen.push(to);
                }
            }
            next += 1;
        }
        seen
    }

    #[test]
    fn a_draw_waits_in_its_seed_slot_even_where_slot_hashes_lists_it() {
        let mut job = Job::deserialize(&mut &[0u8; 8192][..]).expect("a zeroed job decodes");
        (job.seed_slot, job.draw_deadline_slot) = (100, 200);
        // SlotHashes with one entry, slot 100 (newest first: count, then slot and hash).
        let mut sysvar = 1u64.to_le_bytes().to_vec();
        sysvar.extend(100u64.to_le_bytes());
        sysvar.extend([7u8; 32]);
        assert_eq!(job.draw_seed(&sysvar, 100), DrawSeed::Wait);
        assert_eq!(job.draw_seed(&sysvar, 101), DrawSeed::Ready([7; 32]));
        assert_eq!(job.draw_seed(&sysvar, 201), DrawSeed::Lapsed);
    }

    #[test]
    fn every_state_is_reachable_from_open() {
        let from_open = reachable(JobState::Open);
        for state in JobState::ALL {
            assert!(from_open.contains(&state), "{state:?} is unreachable");
        }
    }

    #[test]
    fn no_job_is_stranded_every_state_reaches_an_end() {
        for state in JobState::ALL {
            assert!(
                reachable(state).iter().any(|s| s.is_terminal()),
                "{state:?} never ends"
            );
        }
        let terminal: Vec<_> = JobState::ALL
            .into_iter()
            .filter(|s| s.is_terminal())
            .collect();
        use JobState::*;
        assert_eq!(terminal, [Settled, Slashed, Cancelled, Expired, Voided]);
    }

    #[test]
    fn transition_takes_each_edge_of_the_lifecycle_and_refuses_every_other() {
        let mut job = Job::deserialize(&mut &[0u8; 8192][..]).expect("a zeroed job decodes");
        let key = Pubkey::new_unique();
        for from in JobState::ALL {
            for to in JobState::ALL {
                job.state = from;
                let moved = job.transition(key, to, 7);
                if from.exits().contains(&to) {
                    let event = moved.expect("a lifecycle edge");
                    assert_eq!((event.from, event.to, event.slot), (Some(from), to, 7));
                    assert_eq!(job.state, to);
                } else {
                    assert!(moved.is_err(), "{from:?} → {to:?} was taken");
                    assert_eq!(job.state, from, "a refused edge leaves the state");
                }
            }
        }
    }
}
