use anchor_lang::prelude::*;

use crate::constants::{
    BPS_DENOMINATOR, MAX_COLLATERAL_BPS, MAX_COMMITTEE, MAX_PASS_WINDOW_SLOTS, MAX_SAMPLES,
    MAX_STEP_WINDOW_SLOTS, MAX_VERIFIER_ROUNDS, MIN_BOND_FEE_MULTIPLE, MIN_COLLATERAL_FLOOR_BPS,
    MIN_SAMPLE_FEE_BPS,
};
use crate::errors::MarketError;
use assay_protocol::MAX_DRAW_WINDOW_SLOTS;

/// Protocol parameters chosen by the admin. New jobs snapshot them at `post_job`, so a
/// change never alters a job already posted. PDA `["market-config"]`.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq, InitSpace)]
pub struct MarketParams {
    /// Share of the price paid to the verifier that attests, bps: the base of its fee.
    pub verifier_fee_bps: u16,
    /// What the verifier is paid per sampled fraction of the job, bps of the price: a job
    /// of `n` chunks sampling `k` adds `price · k/n · sample_fee_bps/10⁴` to the verifier
    /// fee, so the fee grows with the re-execution it buys. At 10,000 a sampled chunk
    /// pays what a chunk costs the buyer, which covers re-executing it whenever compute is
    /// at most 80 % of the price (docs/economics.md).
    pub sample_fee_bps: u16,
    /// The least verifier fee of any job, base units (an audit's fixed costs: fetching,
    /// preparing, two transactions).
    pub min_verifier_fee: u64,
    /// Share of the price paid to the treasury on settlement, bps.
    pub protocol_fee_bps: u16,
    /// Share of slashed provider collateral paid to the reporting verifier, bps.
    pub finder_fee_bps: u16,
    /// Share of any slashed stake paid to the treasury, bps; the rest compensates the
    /// wronged party (buyer, or provider when a verifier's fault report is overturned).
    pub treasury_slash_bps: u16,
    /// Stake locked from a verifier while it is assigned, base units: the least bond of any
    /// job (a job's bond is the larger of this and `bond_fee_multiple` times its verifier
    /// fee), and the bond a challenger of a pass locks.
    pub verifier_bond: u64,
    /// A job's verifier bond as a multiple of its verifier fee: what a blind pass risks
    /// grows with what re-executing costs, so laziness loses at the canary rate the
    /// economics choose (docs/economics.md).
    pub bond_fee_multiple: u16,
    /// The least collateral of a job, bps of its price: a fully faked job whose verifier
    /// is lazy or bribed loses more to the fishermen than it saves.
    pub min_collateral_bps: u32,
    /// Slashed from whoever leaves a step it owes undone, base units: a verifier that
    /// misses its verdict window or forfeits its draw, a challenger whose challenge ends
    /// void, a provider whose contest ends void.
    pub verifier_miss_penalty: u64,
    /// Slots between the slot that arms a draw and the slot whose hash seeds it.
    pub challenge_delay_slots: u64,
    /// Slots after its seed slot in which a draw must be cranked (at most
    /// `assay_protocol::MAX_DRAW_WINDOW_SLOTS`, and shorter than a draw epoch): within
    /// them every crank makes the same draw; after them the draw lapses (`lapse_draw`),
    /// giving every party of the draw its worst outcome.
    pub draw_window_slots: u64,
    /// Slots an assigned verifier has to submit a verdict.
    pub verdict_window_slots: u64,
    /// Slots a provider has to concede or contest a fault.
    pub dispute_window_slots: u64,
    /// Slots a committee has to vote on a contest.
    pub vote_window_slots: u64,
    /// Slots after `attest_pass` in which any staked operator may challenge the pass; the
    /// provider's collateral, the verifier's bond and its fee stay in escrow until then.
    pub pass_window_slots: u64,
    /// Verifier rounds before optimistic finalization.
    pub max_verifier_rounds: u8,
    /// Seats in a contest committee.
    pub committee_size: u8,
    /// Least sample count a job may ask for.
    pub min_samples: u8,
}

impl MarketParams {
    /// The rules every parameter set must meet, under a stake program whose draw epochs
    /// are `epoch_slots` long: each names the way a job could otherwise be stranded or an
    /// exit made free (docs/protocol.md, "Parameters").
    pub fn validate(&self, epoch_slots: u64) -> Result<()> {
        let bps = BPS_DENOMINATOR;
        require!(
            u64::from(self.verifier_fee_bps) + u64::from(self.protocol_fee_bps) <= bps,
            MarketError::FeesTooHigh
        );
        require!(
            u64::from(self.finder_fee_bps) + u64::from(self.treasury_slash_bps) <= bps,
            MarketError::FeesTooHigh
        );
        // The economic floors: below them auditing, diligence or honesty stops paying.
        require!(
            self.sample_fee_bps >= MIN_SAMPLE_FEE_BPS,
            MarketError::SampleFeeBelowFloor
        );
        require!(
            self.bond_fee_multiple >= MIN_BOND_FEE_MULTIPLE,
            MarketError::BondMultipleBelowFloor
        );
        require!(
            self.min_collateral_bps >= MIN_COLLATERAL_FLOOR_BPS,
            MarketError::CollateralFloorBelowMinimum
        );
        require!(
            self.min_collateral_bps <= MAX_COLLATERAL_BPS,
            MarketError::InvalidCollateralFloor
        );
        // A zero bond or penalty makes missing, forfeiting and voiding free.
        require!(self.verifier_bond > 0, MarketError::ZeroBond);
        require!(self.verifier_miss_penalty > 0, MarketError::ZeroPenalty);
        require!(
            self.verifier_miss_penalty <= self.verifier_bond,
            MarketError::PenaltyAboveBond
        );
        require!(
            (1..=MAX_VERIFIER_ROUNDS).contains(&self.max_verifier_rounds),
            MarketError::InvalidRoundCount
        );
        require!(
            (1..=MAX_COMMITTEE as u8).contains(&self.committee_size),
            MarketError::InvalidCommitteeSize
        );
        require!(
            (1..=MAX_SAMPLES).contains(&self.min_samples),
            MarketError::InvalidMinSamples
        );
        let step = 1..=MAX_STEP_WINDOW_SLOTS;
        require!(
            step.contains(&self.challenge_delay_slots)
                && step.contains(&self.verdict_window_slots)
                && step.contains(&self.dispute_window_slots)
                && step.contains(&self.vote_window_slots),
            MarketError::StepWindowOutOfRange
        );
        require!(
            (1..=MAX_PASS_WINDOW_SLOTS).contains(&self.pass_window_slots),
            MarketError::PassWindowOutOfRange
        );
        // The seed slot's hash must still be in SlotHashes at the window's last slot.
        require!(
            (1..=MAX_DRAW_WINDOW_SLOTS).contains(&self.draw_window_slots),
            MarketError::DrawWindowOutOfRange
        );
        // The whole window must fit in one draw epoch, so every crank in it reads the
        // weights of the same epoch.
        require!(
            self.draw_window_slots < epoch_slots,
            MarketError::DrawWindowNotShorterThanEpoch
        );
        Ok(())
    }
}

#[account]
#[derive(InitSpace)]
pub struct MarketConfig {
    /// May change `params` for future jobs and withdraw the treasury; can never move
    /// escrow or stake.
    pub admin: Pubkey,
    /// The payment mint (SPL Token or Token-2022); must equal the stake mint.
    pub mint: Pubkey,
    /// The treasury vault PDA `["treasury"]` (authority: this config): protocol fees and
    /// the treasury share of slashes accrue here, and only `withdraw_treasury` moves them.
    /// Program-owned, so no one can close it; only the mint's freeze authority can freeze it.
    pub treasury: Pubkey,
    pub params: MarketParams,
    /// Jobs posted so far (statistics only; job PDAs use a buyer-chosen id).
    pub jobs_posted: u64,
    pub bump: u8,
    pub treasury_bump: u8,
}

impl MarketConfig {
    pub const SIZE: usize = 8 + Self::INIT_SPACE;
}

/// What a job's terms make of the market's parameters, fixed at posting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobTerms {
    /// Paid to the attesting verifier: the base share, plus the sample share, at least
    /// the minimum fee.
    pub verifier_fee: u64,
    pub protocol_fee: u64,
    /// Locked from the drawn verifier: `max(verifier_bond, bond_fee_multiple × fee)`.
    pub verifier_bond: u64,
    /// The least collateral the job may ask for.
    pub min_collateral: u64,
}

impl JobTerms {
    /// The terms of a job of `n_chunks` sampling `samples` for `price` under `params`:
    /// `AuditUnaffordable` when the price cannot pay the verifier and the protocol fee.
    pub fn of(
        params: &MarketParams,
        price: u64,
        n_chunks: u32,
        samples: u8,
    ) -> core::result::Result<Self, MarketError> {
        let overflow = MarketError::Overflow;
        let share = |bps: u64| -> core::result::Result<u64, MarketError> {
            u64::try_from(u128::from(price) * u128::from(bps) / u128::from(BPS_DENOMINATOR))
                .map_err(|_| overflow)
        };
        let base = share(u64::from(params.verifier_fee_bps))?;
        let n = u128::from(n_chunks.max(1));
        let sampled = (u128::from(price) * u128::from(samples) * u128::from(params.sample_fee_bps))
            .div_ceil(n * u128::from(BPS_DENOMINATOR));
        let sampled = u64::try_from(sampled).map_err(|_| overflow)?;
        let verifier_fee = base
            .checked_add(sampled)
            .ok_or(overflow)?
            .max(params.min_verifier_fee);
        let protocol_fee = share(u64::from(params.protocol_fee_bps))?;
        if verifier_fee.checked_add(protocol_fee).ok_or(overflow)? > price {
            return Err(MarketError::AuditUnaffordable);
        }
        let verifier_bond = params.verifier_bond.max(
            verifier_fee
                .checked_mul(u64::from(params.bond_fee_multiple))
                .ok_or(overflow)?,
        );
        let min_collateral = u64::try_from(
            (u128::from(price) * u128::from(params.min_collateral_bps))
                .div_ceil(u128::from(BPS_DENOMINATOR)),
        )
        .map_err(|_| overflow)?;
        Ok(Self {
            verifier_fee,
            protocol_fee,
            verifier_bond,
            min_collateral,
        })
    }
}

/// `amount × bps / 10_000`, rounded down, without overflow.
pub fn bps_of(amount: u64, bps: u16) -> Result<u64> {
    let share = u128::from(amount)
        .checked_mul(u128::from(bps))
        .ok_or(MarketError::Overflow)?
        / u128::from(BPS_DENOMINATOR);
    u64::try_from(share).map_err(|_| error!(MarketError::Overflow))
}
