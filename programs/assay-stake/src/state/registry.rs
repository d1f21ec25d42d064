use anchor_lang::prelude::*;

use crate::constants::MAX_VERIFIERS;
use crate::errors::StakeError;
use crate::state::Operator;

/// One verifier's weight in the draw.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub struct VerifierEntry {
    /// The operator's authority (the key that signs verdicts and votes).
    pub authority: Pubkey,
    /// Available stake in base units if at least `min_verifier_stake`, else 0.
    pub weight: u64,
}

/// Every registered verifier, in registration order. PDA `["verifier-registry"]`.
/// The market reads it to draw verifiers and committees by stake.
#[account]
#[derive(InitSpace)]
pub struct VerifierRegistry {
    #[max_len(MAX_VERIFIERS)]
    pub entries: Vec<VerifierEntry>,
    pub bump: u8,
}

impl VerifierRegistry {
    pub const SIZE: usize = 8 + Self::INIT_SPACE;

    pub fn add(&mut self, authority: Pubkey) -> Result<()> {
        require!(self.entries.len() < MAX_VERIFIERS, StakeError::RegistryFull);
        self.entries.push(VerifierEntry {
            authority,
            weight: 0,
        });
        Ok(())
    }

    /// Refreshes the weight of `operator` after any change to its stake.
    /// Operators that are not verifiers have no entry and are left alone.
    pub fn sync(&mut self, operator: &Operator, min_verifier_stake: u64) {
        let weight = match operator.available() {
            available if available >= min_verifier_stake && available > 0 => available,
            _ => 0,
        };
        if let Some(entry) = self
            .entries
            .iter_mut()
            .find(|e| e.authority == operator.authority)
        {
            entry.weight = weight;
        }
    }

    /// Weights in entry order, with `excluded` authorities set to zero.
    pub fn weights_excluding(&self, excluded: &[Pubkey]) -> Vec<u64> {
        self.entries
            .iter()
            .map(|e| {
                if excluded.contains(&e.authority) {
                    0
                } else {
                    e.weight
                }
            })
            .collect()
    }
}
