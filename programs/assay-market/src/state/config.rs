use anchor_lang::prelude::*;

use crate::constants::{
    BPS_DENOMINATOR, MAX_COMMITTEE, MAX_PASS_WINDOW_SLOTS, MAX_SAMPLES, MAX_VERIFIER_ROUNDS,
};
use crate::errors::MarketError;

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
    /// Part of the bond slashed when a verifier misses its window, base units.
    pub verifier_miss_penalty: u64,
    /// Slots between commit and the slot whose hash seeds the challenge.
    pub challenge_delay_slots: u64,
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
    pub fn validate(&self) -> Result<()> {
        let bps = BPS_DENOMINATOR;
        require!(
            u64::from(self.verifier_fee_bps) + u64::from(self.protocol_fee_bps) <= bps,
            MarketError::FeesTooHigh
        );
        require!(
            u64::from(self.finder_fee_bps) + u64::from(self.treasury_slash_bps) <= bps,
            MarketError::FeesTooHigh
        );
        require!(
            self.verifier_miss_penalty <= self.verifier_bond,
            MarketError::InvalidConfig
        );
        require!(
            (1..=MAX_VERIFIER_ROUNDS).contains(&self.max_verifier_rounds),
            MarketError::InvalidConfig
        );
        require!(
            (1..=MAX_COMMITTEE as u8).contains(&self.committee_size),
            MarketError::InvalidConfig
        );
        require!(
            (1..=MAX_SAMPLES).contains(&self.min_samples),
            MarketError::InvalidConfig
        );
        require!(
            self.challenge_delay_slots >= 1
                && self.verdict_window_slots >= 1
                && self.dispute_window_slots >= 1
                && self.vote_window_slots >= 1
                && (1..=MAX_PASS_WINDOW_SLOTS).contains(&self.pass_window_slots),
            MarketError::InvalidConfig
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
