use anchor_lang::prelude::*;

use crate::constants::{ROLE_PROVIDER, ROLE_VERIFIER};
use crate::errors::StakeError;

/// A staked operator. PDA `["operator", authority]`; its tokens sit in the vault PDA
/// `["stake-vault", operator]`, owned by this account.
///
/// Invariant: `locked + unstaking <= deposited`, and `deposited` equals the vault balance.
#[account]
#[derive(InitSpace)]
pub struct Operator {
    /// The key that signs for this operator (and its committee votes).
    pub authority: Pubkey,
    /// `ROLE_PROVIDER | ROLE_VERIFIER` bits.
    pub roles: u8,
    /// Tokens in the vault, base units.
    pub deposited: u64,
    /// Tokens held as job collateral or verifier bond by the market.
    pub locked: u64,
    /// Tokens requested for withdrawal, released at `unstake_ready_slot`.
    pub unstaking: u64,
    pub unstake_ready_slot: u64,
    /// Lifetime tokens slashed, base units.
    pub slashed_total: u64,
    pub bump: u8,
    pub vault_bump: u8,
    /// The registry slot this verifier was last given (`u32::MAX`: none). It is still
    /// its own only while the slot's binding tag is `registry_tag`: a slot left without
    /// weight can be taken by another verifier, which bumps the tag.
    pub registry_slot: u32,
    /// The binding tag its slot had when it took it ([`VerifierRegistry::tags`]; 0: none).
    ///
    /// [`VerifierRegistry::tags`]: crate::state::VerifierRegistry::tags
    pub registry_tag: u32,
    /// What its GPU adapter can run (`assay_protocol::capability` bits): the draws count
    /// its weight only for jobs whose needs these cover. Declared by the operator; one
    /// that claims more than it has misses the windows of jobs it cannot run and pays the
    /// miss penalty.
    pub capabilities: u8,
}

impl Operator {
    pub const SIZE: usize = 8 + Self::INIT_SPACE;

    pub fn is_provider(&self) -> bool {
        self.roles & ROLE_PROVIDER != 0
    }

    pub fn is_verifier(&self) -> bool {
        self.roles & ROLE_VERIFIER != 0
    }

    /// Stake that is neither locked nor on its way out.
    pub fn available(&self) -> u64 {
        self.deposited
            .saturating_sub(self.locked)
            .saturating_sub(self.unstaking)
    }

    pub fn lock(&mut self, amount: u64) -> Result<()> {
        require!(
            amount <= self.available(),
            StakeError::InsufficientAvailableStake
        );
        self.locked = self
            .locked
            .checked_add(amount)
            .ok_or(StakeError::Overflow)?;
        Ok(())
    }

    /// Stake not locked by the market: available plus the pending unstake.
    pub fn unlocked(&self) -> u64 {
        self.deposited.saturating_sub(self.locked)
    }

    /// Locks `amount` from available stake and, for what that lacks, from the pending
    /// unstake (which shrinks by as much): a verifier's bond for a draw of the epoch its
    /// stake weighs in, so an unstake request after the draw was armed cannot dodge it.
    pub fn lock_reclaiming(&mut self, amount: u64) -> Result<()> {
        require!(
            amount <= self.unlocked(),
            StakeError::InsufficientAvailableStake
        );
        let reclaimed = amount.saturating_sub(self.available());
        self.unstaking -= reclaimed;
        self.locked = self
            .locked
            .checked_add(amount)
            .ok_or(StakeError::Overflow)?;
        Ok(())
    }

    pub fn unlock(&mut self, amount: u64) -> Result<()> {
        self.locked = self
            .locked
            .checked_sub(amount)
            .ok_or(StakeError::InsufficientLockedStake)?;
        Ok(())
    }

    /// Removes `amount` from locked stake (the caller moves the tokens).
    pub fn slash(&mut self, amount: u64) -> Result<()> {
        self.unlock(amount)?;
        self.deposited = self
            .deposited
            .checked_sub(amount)
            .ok_or(StakeError::Overflow)?;
        self.slashed_total = self
            .slashed_total
            .checked_add(amount)
            .ok_or(StakeError::Overflow)?;
        Ok(())
    }
}
