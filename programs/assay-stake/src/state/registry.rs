use anchor_lang::prelude::*;

use crate::constants::MAX_VERIFIERS;
use crate::state::Operator;

/// One verifier's weight in the draws of the current epoch and of the next.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub struct VerifierEntry {
    /// The operator's authority (the key that signs verdicts and votes).
    pub authority: Pubkey,
    /// Weight in every draw of the registry's `epoch`, base units. Frozen when that epoch
    /// began: nothing done during the epoch changes it.
    pub weight: u64,
    /// Weight from the next epoch on: the verifier's available stake at its last stake
    /// change, or 0 when that was below `min_verifier_stake`.
    pub next_weight: u64,
}

/// Every verifier with weight in the current or the next draw epoch. PDA
/// `["verifier-registry"]`. The market reads it to draw verifiers and committees by stake.
///
/// Draw epochs are `epoch_slots` long (epoch = slot / epoch_slots), like Solana's stake
/// activation: a stake change (deposit, unstake, lock, slash, registration, a new
/// minimum) writes `next_weight` and reaches the draws only when the next epoch begins.
/// Invariants, which make the weights of an epoch fixed before any slot hash of that
/// epoch exists:
/// - during an epoch no entry's `weight` changes and no entry with `weight > 0` moves or
///   leaves (entries with weight 0 are appended or removed in order, which no weighted
///   draw can see);
/// - the first write in a later epoch rolls: `weight = next_weight`, zero entries leave
///   (order kept). A reader that finds the registry not yet rolled reads `next_weight`,
///   which is what the roll will write ([`weights_at`](Self::weights_at)).
#[account]
#[derive(InitSpace)]
pub struct VerifierRegistry {
    #[max_len(MAX_VERIFIERS)]
    pub entries: Vec<VerifierEntry>,
    /// Slots per draw epoch, fixed at initialization.
    pub epoch_slots: u64,
    /// The epoch whose weights `entries[..].weight` hold.
    pub epoch: u64,
    pub bump: u8,
}

impl VerifierRegistry {
    pub const SIZE: usize = 8 + Self::INIT_SPACE;

    /// The draw epoch `slot` belongs to.
    pub fn epoch_of(&self, slot: u64) -> u64 {
        slot / self.epoch_slots.max(1)
    }

    /// First slot of `epoch`.
    pub fn epoch_start(&self, epoch: u64) -> u64 {
        epoch.saturating_mul(self.epoch_slots.max(1))
    }

    /// The weight `operator` has in draws: its available stake when that is at least
    /// `min_verifier_stake` (and not zero), else 0.
    pub fn weight_of(operator: &Operator, min_verifier_stake: u64) -> u64 {
        match operator.available() {
            available if available >= min_verifier_stake && available > 0 => available,
            _ => 0,
        }
    }

    /// Starts `epoch` if it is later than the registry's: each entry's next weight becomes
    /// its weight and entries left with none are removed (order kept).
    pub fn roll(&mut self, epoch: u64) {
        if epoch <= self.epoch {
            return;
        }
        for entry in &mut self.entries {
            entry.weight = entry.next_weight;
        }
        self.entries.retain(|e| e.weight > 0);
        self.epoch = epoch;
    }

    /// Records `operator`'s stake (at `slot`) for the next epoch: a verifier with weight
    /// has an entry whose `next_weight` is that stake, anyone else has `next_weight` 0.
    /// Only staked verifiers take slots, so registrations without stake cannot fill the
    /// registry. Returns false when the verifier qualifies but every slot is taken (it
    /// stays out).
    pub fn sync(&mut self, operator: &Operator, min_verifier_stake: u64, slot: u64) -> bool {
        self.roll(self.epoch_of(slot));
        let next_weight = if operator.is_verifier() {
            Self::weight_of(operator, min_verifier_stake)
        } else {
            0
        };
        let at = self
            .entries
            .iter()
            .position(|e| e.authority == operator.authority);
        match at {
            Some(i) if next_weight == 0 && self.entries[i].weight == 0 => {
                // Order-preserving: a weight-0 entry leaving moves no weighted entry.
                self.entries.remove(i);
            }
            Some(i) => self.entries[i].next_weight = next_weight,
            None if next_weight == 0 => {}
            None => {
                if self.entries.len() >= MAX_VERIFIERS {
                    return false;
                }
                self.entries.push(VerifierEntry {
                    authority: operator.authority,
                    weight: 0,
                    next_weight,
                });
            }
        }
        true
    }

    /// `authority`'s entry, if it has one.
    pub fn entry(&self, authority: &Pubkey) -> Option<&VerifierEntry> {
        self.entries.iter().find(|e| e.authority == *authority)
    }

    /// The weights of every entry in the draws of `epoch`, in entry order; `None` for an
    /// epoch before the registry's (its weights are gone).
    pub fn weights_at(&self, epoch: u64) -> Option<Vec<u64>> {
        use core::cmp::Ordering;
        match epoch.cmp(&self.epoch) {
            Ordering::Less => None,
            Ordering::Equal => Some(self.entries.iter().map(|e| e.weight).collect()),
            // Not rolled yet: nothing was written since `self.epoch`, so the roll will
            // make every weight its next weight.
            Ordering::Greater => Some(self.entries.iter().map(|e| e.next_weight).collect()),
        }
    }

    /// Weights in entry order for a draw in `epoch`: `excluded` authorities and entries
    /// lighter than `min_weight` count as zero. `None` for an epoch before the registry's.
    pub fn draw_weights(
        &self,
        epoch: u64,
        excluded: &[Pubkey],
        min_weight: u64,
    ) -> Option<Vec<u64>> {
        let mut weights = self.weights_at(epoch)?;
        for (weight, entry) in weights.iter_mut().zip(&self.entries) {
            if excluded.contains(&entry.authority) || *weight < min_weight {
                *weight = 0;
            }
        }
        Some(weights)
    }
}
