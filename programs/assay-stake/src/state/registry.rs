use anchor_lang::prelude::*;

use crate::constants::MAX_VERIFIERS;
use crate::state::Operator;

/// One verifier's weight in the draw.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub struct VerifierEntry {
    /// The operator's authority (the key that signs verdicts and votes).
    pub authority: Pubkey,
    /// Available stake in base units, at least `min_verifier_stake` when written.
    pub weight: u64,
}

/// Every verifier whose available stake meets the minimum (at its last stake change). PDA `["verifier-registry"]`.
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

    /// The weight `operator` has in draws: its available stake when that is at least
    /// `min_verifier_stake` (and not zero), else 0.
    pub fn weight_of(operator: &Operator, min_verifier_stake: u64) -> u64 {
        match operator.available() {
            available if available >= min_verifier_stake && available > 0 => available,
            _ => 0,
        }
    }

    /// Brings `operator`'s entry in line with its stake: a verifier with weight has an
    /// entry holding that weight, anyone else has none. Only staked verifiers hold
    /// slots, so registrations without stake cannot fill the registry. Returns false
    /// when the verifier qualifies but every slot is taken (it stays out).
    ///
    /// Removal swaps the last entry into the freed slot: entry order carries no meaning
    /// beyond the draw made from it at that moment.
    pub fn sync(&mut self, operator: &Operator, min_verifier_stake: u64) -> bool {
        let weight = if operator.is_verifier() {
            Self::weight_of(operator, min_verifier_stake)
        } else {
            0
        };
        let at = self
            .entries
            .iter()
            .position(|e| e.authority == operator.authority);
        match (at, weight) {
            (Some(i), 0) => {
                self.entries.swap_remove(i);
            }
            (Some(i), weight) => self.entries[i].weight = weight,
            (None, 0) => {}
            (None, weight) => {
                if self.entries.len() >= MAX_VERIFIERS {
                    return false;
                }
                self.entries.push(VerifierEntry {
                    authority: operator.authority,
                    weight,
                });
            }
        }
        true
    }

    /// The weight of `authority`'s entry, if it has one.
    pub fn entry_weight(&self, authority: &Pubkey) -> Option<u64> {
        self.entries
            .iter()
            .find(|e| e.authority == *authority)
            .map(|e| e.weight)
    }

    /// Weights in entry order for a draw: `excluded` authorities and entries lighter than
    /// `min_weight` count as zero. Callers pass the larger of the stake program's current
    /// minimum and the bond they will lock, so the drawn verifier can always be locked
    /// whatever either admin changed since the entry was written.
    pub fn draw_weights(&self, excluded: &[Pubkey], min_weight: u64) -> Vec<u64> {
        self.entries
            .iter()
            .map(|e| {
                if excluded.contains(&e.authority) || e.weight < min_weight {
                    0
                } else {
                    e.weight
                }
            })
            .collect()
    }
}
