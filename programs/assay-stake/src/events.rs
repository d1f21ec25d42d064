//! One event per state change; amounts in token base units, slots as slot numbers.
use anchor_lang::prelude::*;

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StakeConfigInitialized {
    pub admin: Pubkey,
    pub mint: Pubkey,
    pub unstake_cooldown_slots: u64,
    pub min_verifier_stake: u64,
    pub epoch_slots: u64,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StakeConfigUpdated {
    pub unstake_cooldown_slots: u64,
    pub min_verifier_stake: u64,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorRegistered {
    pub operator: Pubkey,
    pub authority: Pubkey,
    pub roles: u8,
    pub capabilities: u8,
}

/// An operator declared what its adapter can run (`assay_protocol::capability` bits),
/// counted in the draws from the next draw epoch on.
#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapabilitiesSet {
    pub operator: Pubkey,
    pub authority: Pubkey,
    pub capabilities: u8,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StakeDeposited {
    pub operator: Pubkey,
    pub amount: u64,
    pub deposited: u64,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnstakeRequested {
    pub operator: Pubkey,
    pub amount: u64,
    pub ready_slot: u64,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StakeWithdrawn {
    pub operator: Pubkey,
    /// The unstake request paid out, base units.
    pub amount: u64,
    /// Unsolicited tokens found in the vault and paid out with it, base units.
    pub residue: u64,
    pub deposited: u64,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StakeLocked {
    pub operator: Pubkey,
    pub amount: u64,
    pub locked: u64,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StakeUnlocked {
    pub operator: Pubkey,
    pub amount: u64,
    pub locked: u64,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StakeSlashed {
    pub operator: Pubkey,
    pub amount: u64,
    pub destination: Pubkey,
    pub deposited: u64,
}

/// A verifier's registry entry was re-read against the current minimum.
#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierSynced {
    pub authority: Pubkey,
    /// Its weight from the next draw epoch on (0: none).
    pub weight: u64,
    /// Entries in the registry after the sync.
    pub entries: u32,
}
