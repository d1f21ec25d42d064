use anchor_lang::prelude::*;

use crate::constants::{
    BPS_DENOMINATOR, MAX_COMMITTEE, MAX_PASS_WINDOW_SLOTS, MAX_SAMPLES, MAX_STEP_WINDOW_SLOTS,
    MAX_VERIFIER_ROUNDS,
};
use crate::errors::MarketError;
use assay_protocol::MAX_DRAW_WINDOW_SLOTS;

/// Protocol parameters chosen by the admin. New jobs snapshot them at `post_job`, so a
/// change never alters a job already posted. PDA `["market-config"]`.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq, InitSpace)]
pub struct MarketParams {
    /// Share of the price paid to the verifier that attests, bps.
    pub verifier_fee_bps: u16,
    /// Share of the price paid to the treasury on settlement, bps.
    pub protocol_fee_bps: u16,
    /// Share of slashed provider collateral paid to the reporting verifier, bps.
    pub finder_fee_bps: u16,
    /// Share of any slashed stake paid to the treasury, bps; the rest compensates the
    /// wronged party (buyer, or provider when a verifier's fault report is overturned).
    pub treasury_slash_bps: u16,
    /// Stake locked from a verifier while it is assigned, base units.
    pub verifier_bond: u64,
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

/// `amount × bps / 10_000`, rounded down, without overflow.
pub fn bps_of(amount: u64, bps: u16) -> Result<u64> {
    let share = u128::from(amount)
        .checked_mul(u128::from(bps))
        .ok_or(MarketError::Overflow)?
        / u128::from(BPS_DENOMINATOR);
    u64::try_from(share).map_err(|_| error!(MarketError::Overflow))
}
