use anchor_lang::prelude::*;
use assay_protocol::capability::{self, Capabilities, NEED_CLASSES};
use assay_protocol::sumtree;

use crate::constants::MAX_VERIFIERS;
use crate::state::Operator;

/// One verifier's slot, as read off chain ([`VerifierRegistry::entries`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VerifierEntry {
    /// The operator's authority (the key that signs verdicts and votes).
    pub authority: Pubkey,
    /// Its slot in the registry (fixed while it holds weight).
    pub slot: usize,
    /// Weight in every draw of the registry's `epoch`, base units.
    pub weight: u64,
    /// Weight from the next epoch on, base units.
    pub next_weight: u64,
    /// The capabilities its next weight counts for (read off the need trees; 0 when it
    /// has no next weight).
    pub next_capabilities: Capabilities,
}

/// Every verifier with weight in the current or the next draw epoch, in up to
/// [`MAX_VERIFIERS`] slots. PDA `["verifier-registry"]`, zero-copy: 573,472 bytes, grown
/// to full size by `grow_registry` after `initialize`. The market reads it to draw
/// verifiers and committees by stake.
///
/// Weights live in Fenwick sum trees ([`assay_protocol::sumtree`]), so a stake change
/// updates O(log n) nodes and a weighted draw reads O(log n) nodes whatever the number of
/// verifiers. There is one tree per job need ([`capability::NEED_CLASSES`]): tree `need`
/// holds a verifier's weight where its registered capabilities cover `need`, else 0, so
/// a job's draw picks, by stake, only among the verifiers that can run it. Tree 0 (no
/// need) holds every verifier.
///
/// Draw epochs are `epoch_slots` long (epoch = slot / epoch_slots), like Solana's stake
/// activation: a stake change (deposit, unstake, lock, slash, registration, a new
/// minimum) writes the slot's next weight and reaches the draws only when the next epoch
/// begins. Invariants, which make the weights of an epoch fixed before any slot hash of
/// that epoch exists:
/// - during an epoch `weights` never changes, and a slot is reused by another verifier
///   only when it holds no weight now or next (`busy` unset);
/// - the first write in a later epoch rolls: `weights = next_weights`,
///   `busy = next_busy`. A reader that finds the registry not yet rolled reads
///   `next_weights`, which is what the roll will write ([`weights_at`](Self::weights_at)).
#[account(zero_copy)]
#[repr(C)]
pub struct VerifierRegistry {
    /// Slots per draw epoch, fixed at initialization.
    pub epoch_slots: u64,
    /// The epoch whose weights `weights` holds.
    pub epoch: u64,
    pub bump: u8,
    pub reserved: [u8; 7],
    /// The authority bound to each slot (zero: never used).
    pub authorities: [[u8; 32]; 10240],
    /// Per job need, the sum tree of each slot's weight in the draws of `epoch`.
    pub weights: [[u64; 10240]; 8],
    /// Per job need, the sum tree of each slot's weight from the next epoch on.
    pub next_weights: [[u64; 10240]; 8],
    /// Count tree: set where a slot holds weight now or next (it cannot be reused).
    pub busy: [u32; 10240],
    /// Count tree: set where a slot holds next weight (what `busy` becomes at the roll).
    pub next_busy: [u32; 10240],
}

const _: () = assert!(MAX_VERIFIERS == 10240 && NEED_CLASSES == 8);

impl VerifierRegistry {
    /// Allocated bytes, discriminator included.
    pub const SIZE: usize = 8 + core::mem::size_of::<Self>();

    /// An empty registry (off chain: tests and tools; on chain it is created zeroed and
    /// grown by `grow_registry`).
    #[cfg(not(target_os = "solana"))]
    pub fn empty(epoch_slots: u64) -> Box<Self> {
        let mut registry: Box<Self> = bytemuck::zeroed_box();
        registry.epoch_slots = epoch_slots;
        registry
    }

    /// The draw epoch length recorded in the registry account `info` (its header, set at
    /// `initialize`), readable before `grow_registry` has taken the account to full size.
    /// The caller pins the address by seeds; this checks the owner and discriminator.
    pub fn epoch_slots_of(info: &AccountInfo) -> Result<u64> {
        require_keys_eq!(
            *info.owner,
            crate::ID,
            ErrorCode::AccountOwnedByWrongProgram
        );
        let data = info.try_borrow_data()?;
        require!(
            data.starts_with(Self::DISCRIMINATOR),
            ErrorCode::AccountDiscriminatorMismatch
        );
        let at = Self::DISCRIMINATOR.len();
        let bytes = data
            .get(at..at + 8)
            .ok_or(ErrorCode::AccountDidNotDeserialize)?;
        Ok(u64::from_le_bytes(bytes.try_into().expect("8 bytes")))
    }

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

    /// Starts `epoch` if it is later than the registry's: the next weights become the
    /// weights, and slots without next weight become reusable.
    pub fn roll(&mut self, epoch: u64) {
        if epoch <= self.epoch {
            return;
        }
        // 640 KiB: through the memcpy syscall (about 2,600 units), not a byte loop.
        use anchor_lang::solana_program::program_memory::sol_memcpy;
        let (weights, next) = (&mut self.weights, &self.next_weights);
        let len = core::mem::size_of_val(next);
        // SAFETY: two distinct fields of one struct never overlap; both are `len` bytes.
        unsafe {
            sol_memcpy(
                bytemuck::bytes_of_mut(weights),
                bytemuck::bytes_of(next),
                len,
            )
        };
        let (busy, next_busy) = (&mut self.busy, &self.next_busy);
        let len = core::mem::size_of_val(next_busy);
        // SAFETY: as above.
        unsafe {
            sol_memcpy(
                bytemuck::bytes_of_mut(busy),
                bytemuck::bytes_of(next_busy),
                len,
            )
        };
        self.epoch = epoch;
    }

    /// The slot bound to `operator`, if it still is (a slot left without weight can be
    /// taken by another verifier).
    pub fn slot_of(&self, operator: &Operator) -> Option<usize> {
        let slot = usize::try_from(operator.registry_slot).ok()?;
        (self.authorities.get(slot)? == &operator.authority.to_bytes()).then_some(slot)
    }

    /// Records `operator`'s stake (at `slot`) and capabilities for the next epoch: a
    /// verifier with weight holds a slot whose next weight is that stake in every need
    /// tree its capabilities cover (0 in the others); anyone else's slot gets next weight
    /// 0. Only staked verifiers take slots, so registrations without stake cannot fill
    /// the registry. Returns false when the verifier qualifies but every slot holds weight
    /// (it stays out).
    pub fn sync(&mut self, operator: &mut Operator, min_verifier_stake: u64, slot: u64) -> bool {
        self.roll(self.epoch_of(slot));
        let next = if operator.is_verifier() {
            Self::weight_of(operator, min_verifier_stake)
        } else {
            0
        };
        let at = match self.slot_of(operator) {
            Some(at) => at,
            None if next == 0 => return true,
            None => match sumtree::first_unset(&self.busy) {
                Some(free) => {
                    self.authorities[free] = operator.authority.to_bytes();
                    operator.registry_slot = free as u32;
                    free
                }
                None => return false,
            },
        };
        for (need, tree) in self.next_weights.iter_mut().enumerate() {
            let covered = capability::covers(operator.capabilities, need as Capabilities);
            sumtree::set(tree, at, if covered { next } else { 0 });
        }
        sumtree::set_flag(&mut self.next_busy, at, next > 0);
        let weighted_now = sumtree::value(&self.weights[0], at) > 0;
        sumtree::set_flag(&mut self.busy, at, weighted_now || next > 0);
        true
    }

    /// [`sync`](Self::sync) for a stake change the market signs: `registry` is required
    /// for a verifier (its weight changes, `RegistryRequired`), and may be absent for a
    /// provider-only operator, which never holds a slot (roles are fixed at registration)
    /// — so the market's stake CPIs for providers do not carry the registry, whose size
    /// each CPI pays for in compute units.
    pub fn sync_stake_change(
        registry: Option<&AccountLoader<Self>>,
        operator: &mut Operator,
        min_verifier_stake: u64,
    ) -> Result<()> {
        match registry {
            Some(registry) => {
                registry
                    .load_mut()?
                    .sync(operator, min_verifier_stake, Clock::get()?.slot);
            }
            None => require!(
                !operator.is_verifier(),
                crate::errors::StakeError::RegistryRequired
            ),
        }
        Ok(())
    }

    /// The weight tree of the draws of `epoch` for a job that needs `need` (only the
    /// verifiers whose capabilities cover it weigh); `None` for an epoch before the
    /// registry's (its weights are gone) or a need with undefined bits.
    pub fn weights_at(&self, epoch: u64, need: Capabilities) -> Option<&[u64]> {
        use core::cmp::Ordering;
        let need = usize::from(need);
        match epoch.cmp(&self.epoch) {
            Ordering::Less => None,
            Ordering::Equal => self.weights.get(need).map(|t| &t[..]),
            // Not rolled yet: nothing was written since `self.epoch`, so the roll will
            // make every weight its next weight.
            Ordering::Greater => self.next_weights.get(need).map(|t| &t[..]),
        }
    }

    /// Stake that can run a job needing `need`: the total weight of its tree now and from
    /// the next epoch on, base units.
    pub fn capable_weight(&self, need: Capabilities) -> (u64, u64) {
        let total = |trees: &[[u64; MAX_VERIFIERS]; NEED_CLASSES]| {
            trees
                .get(usize::from(need))
                .map_or(0, |t| sumtree::total(t))
        };
        (total(&self.weights), total(&self.next_weights))
    }

    /// The authority bound to `slot`.
    pub fn authority(&self, slot: usize) -> Pubkey {
        Pubkey::new_from_array(self.authorities[slot])
    }

    /// Every slot with weight now or next, in slot order (reads every slot: off chain).
    pub fn entries(&self) -> Vec<VerifierEntry> {
        (0..MAX_VERIFIERS)
            .filter(|&slot| sumtree::flag(&self.busy, slot) || sumtree::flag(&self.next_busy, slot))
            .map(|slot| VerifierEntry {
                authority: self.authority(slot),
                slot,
                weight: sumtree::value(&self.weights[0], slot),
                next_weight: sumtree::value(&self.next_weights[0], slot),
                next_capabilities: capability::NAMES
                    .iter()
                    .filter(|(bit, _)| {
                        sumtree::value(&self.next_weights[usize::from(*bit)], slot) > 0
                    })
                    .fold(0, |caps, (bit, _)| caps | bit),
            })
            .collect()
    }

    /// `authority`'s entry, if it has one (reads every slot: off chain).
    pub fn entry(&self, authority: &Pubkey) -> Option<VerifierEntry> {
        self.entries()
            .into_iter()
            .find(|e| e.authority == *authority)
    }
}
