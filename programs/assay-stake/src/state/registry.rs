use anchor_lang::prelude::*;
use assay_protocol::capability::{Capabilities, NEED_CLASSES};
use assay_protocol::needtree::{self, NeedWeights, BLOCK};
use assay_protocol::sumtree::{self, Weights};

use crate::constants::MAX_VERIFIERS;
use crate::state::Operator;

/// One verifier's slot, as read off chain ([`VerifierRegistry::entries`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VerifierEntry {
    /// Its slot in the registry (fixed while it holds weight).
    pub slot: usize,
    /// The slot's binding tag: the Operator whose `registry_slot` and `registry_tag` are
    /// `slot` and this holds it ([`VerifierRegistry::holds`]).
    pub tag: u32,
    /// Weight in every draw of the registry's `epoch`, base units.
    pub weight: u64,
    /// Weight from the next epoch on, base units.
    pub next_weight: u64,
    /// The capabilities its next weight counts for (read off the need trees; 0 when it
    /// has no next weight).
    pub next_capabilities: Capabilities,
}

/// The draw weights of one epoch: each slot's stake and capabilities, and per job need
/// the Fenwick tree of the stake each block of [`BLOCK`] slots holds for that need
/// ([`assay_protocol::needtree`]).
#[zero_copy]
#[repr(C)]
pub struct EpochWeights {
    /// Each slot's weight, base units (0: no weight).
    pub stake: [u64; 10240],
    /// The capabilities the slot's weight counts for (0 when it has none).
    pub capabilities: [u8; 10240],
    /// Per job need, the Fenwick tree of block sums of the weights that need covers.
    pub need_blocks: [[u64; 320]; 8],
}

impl EpochWeights {
    /// The weights a draw for a job needing `need` picks from (`None` for a need with
    /// undefined bits).
    pub fn for_need(&self, need: Capabilities) -> Option<NeedWeights<'_>> {
        let blocks = self.need_blocks.get(usize::from(need))?;
        Some(NeedWeights::new(
            &self.stake,
            &self.capabilities,
            need,
            blocks,
        ))
    }

    fn set(&mut self, slot: usize, stake: u64, capabilities: Capabilities) {
        let capabilities = if stake > 0 { capabilities } else { 0 };
        needtree::set(
            &mut self.stake,
            &mut self.capabilities,
            &mut self.need_blocks,
            slot,
            stake,
            capabilities,
        );
    }
}

/// Every verifier with weight in the current or the next draw epoch, in up to
/// [`MAX_VERIFIERS`] slots. PDA `["verifier-registry"]`, zero-copy, grown to full size by
/// `grow_registry` after `initialize`. The market reads it to draw verifiers and
/// committees by stake.
///
/// Weights live in [`EpochWeights`]: a stake change updates a slot and O(log n) block
/// nodes per need, and a weighted draw reads O(log n) nodes and one block of [`BLOCK`]
/// slots whatever the number of verifiers. A job's draw picks, by stake, only among the
/// verifiers whose capabilities cover its need ([`capability::NEED_CLASSES`] block trees;
/// need 0 covers every verifier).
///
/// Draw epochs are `epoch_slots` long (epoch = slot / epoch_slots), like Solana's stake
/// activation: a stake change (deposit, unstake, lock, slash, registration, a new
/// minimum) writes the slot's next weight and reaches the draws only when the next epoch
/// begins. Invariants, which make the weights of an epoch fixed before any slot hash of
/// that epoch exists:
/// - during an epoch `now` never changes, and a slot is reused by another verifier only
///   when it holds no weight now or next (it is not *busy*);
/// - the first write in a later epoch rolls: `now = next`, `busy_blocks =
///   next_busy_blocks`. A reader that finds the registry not yet rolled reads `next`,
///   which is what the roll will write ([`weights_at`](Self::weights_at)).
#[account(zero_copy)]
#[repr(C)]
pub struct VerifierRegistry {
    /// Slots per draw epoch, fixed at initialization.
    pub epoch_slots: u64,
    /// The epoch whose weights `now` holds.
    pub epoch: u64,
    pub bump: u8,
    pub reserved: [u8; 7],
    /// Each slot's binding tag: bumped (never to 0) whenever a verifier takes the slot,
    /// and copied into its Operator account, so the slot names exactly one Operator —
    /// the one whose `registry_slot` and `registry_tag` match (0: never used). A draw
    /// names a slot; whoever cranks it passes that Operator, and the market checks it
    /// with [`holds`](Self::holds). (Keys are not stored: 4 bytes a slot, not 32.)
    pub tags: [u32; 10240],
    /// The weights of the draws of `epoch`.
    pub now: EpochWeights,
    /// The weights from the next epoch on.
    pub next: EpochWeights,
    /// Count tree over blocks: how many of each block's slots are busy (weight now or next).
    pub busy_blocks: [u32; 320],
    /// Count tree over blocks: how many of each block's slots hold next weight (what
    /// `busy_blocks` becomes at the roll).
    pub next_busy_blocks: [u32; 320],
}

const _: () = assert!(
    MAX_VERIFIERS == 10240 && NEED_CLASSES == 8 && MAX_VERIFIERS == 320 * BLOCK,
    "the registry's array lengths are literals (for the IDL); keep them in step"
);

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
        // 112 KiB: through the memcpy syscall (a few hundred units), not a byte loop.
        use anchor_lang::solana_program::program_memory::sol_memcpy;
        let (now, next) = (&mut self.now, &self.next);
        // SAFETY: two distinct fields of one struct never overlap; both are the same size.
        unsafe {
            sol_memcpy(
                bytemuck::bytes_of_mut(now),
                bytemuck::bytes_of(next),
                core::mem::size_of::<EpochWeights>(),
            )
        };
        self.busy_blocks = self.next_busy_blocks;
        self.epoch = epoch;
    }

    /// The slot bound to `operator`, if it still is (a slot left without weight can be
    /// taken by another verifier, which bumps its tag).
    pub fn slot_of(&self, operator: &Operator) -> Option<usize> {
        let slot = usize::try_from(operator.registry_slot).ok()?;
        let tag = *self.tags.get(slot)?;
        (tag != 0 && tag == operator.registry_tag).then_some(slot)
    }

    /// Whether `operator` is the verifier bound to `slot` (the one a draw of `slot` names).
    pub fn holds(&self, operator: &Operator, slot: usize) -> bool {
        self.slot_of(operator) == Some(slot)
    }

    /// Whether `slot` holds weight now or next (another verifier may not take it).
    pub fn busy(&self, slot: usize) -> bool {
        self.now.stake[slot] > 0 || self.next.stake[slot] > 0
    }

    /// The first slot that is not busy, if any: O(log n) over the block counts, then one
    /// block.
    fn first_free(&self) -> Option<usize> {
        let block = sumtree::first_not_full(&self.busy_blocks, BLOCK as u32)?;
        (block * BLOCK..(block + 1) * BLOCK).find(|&slot| !self.busy(slot))
    }

    /// How many slots are busy.
    pub fn busy_count(&self) -> u32 {
        sumtree::count(&self.busy_blocks)
    }

    /// Records `operator`'s stake (at `slot`) and capabilities for the next epoch: a
    /// verifier with weight holds a slot whose next weight is that stake in every need
    /// its capabilities cover (0 in the others); anyone else's slot gets next weight
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
            None => match self.first_free() {
                Some(free) => {
                    let tag = self.tags[free].wrapping_add(1).max(1);
                    self.tags[free] = tag;
                    operator.registry_slot = free as u32;
                    operator.registry_tag = tag;
                    free
                }
                None => return false,
            },
        };
        let (was_busy, had_next) = (self.busy(at), self.next.stake[at] > 0);
        self.next.set(at, next, operator.capabilities);
        let block = at / BLOCK;
        if had_next != (next > 0) {
            sumtree::count_step(&mut self.next_busy_blocks, block, next > 0);
        }
        if was_busy != self.busy(at) {
            sumtree::count_step(&mut self.busy_blocks, block, !was_busy);
        }
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

    /// The weights of the draws of `epoch` for a job that needs `need` (only the
    /// verifiers whose capabilities cover it weigh); `None` for an epoch before the
    /// registry's (its weights are gone) or a need with undefined bits.
    pub fn weights_at(&self, epoch: u64, need: Capabilities) -> Option<NeedWeights<'_>> {
        use core::cmp::Ordering;
        match epoch.cmp(&self.epoch) {
            Ordering::Less => None,
            Ordering::Equal => self.now.for_need(need),
            // Not rolled yet: nothing was written since `self.epoch`, so the roll will
            // make every weight its next weight.
            Ordering::Greater => self.next.for_need(need),
        }
    }

    /// Stake that can run a job needing `need`: the total weight of its tree now and from
    /// the next epoch on, base units.
    pub fn capable_weight(&self, need: Capabilities) -> (u64, u64) {
        let total = |weights: &EpochWeights| weights.for_need(need).map_or(0, |w| w.total());
        (total(&self.now), total(&self.next))
    }

    /// Every slot with weight now or next, in slot order (reads every slot: off chain).
    /// Which key holds a slot is in the Operator accounts
    /// ([`holders`](Self::holders)).
    pub fn entries(&self) -> Vec<VerifierEntry> {
        (0..MAX_VERIFIERS)
            .filter_map(|slot| self.entry_at(slot))
            .collect()
    }

    /// `operator`'s entry, if it has one (off chain).
    pub fn entry(&self, operator: &Operator) -> Option<VerifierEntry> {
        self.entry_at(self.slot_of(operator)?)
    }

    /// The entry of `slot`, if it is busy.
    fn entry_at(&self, slot: usize) -> Option<VerifierEntry> {
        self.busy(slot).then(|| VerifierEntry {
            slot,
            tag: self.tags[slot],
            weight: self.now.stake[slot],
            next_weight: self.next.stake[slot],
            next_capabilities: self.next.capabilities[slot],
        })
    }

    /// The authority holding each slot, among `operators` (off chain: every Operator
    /// account, e.g. from `getProgramAccounts`); operators whose slot was taken since, or
    /// that never held one, are left out.
    pub fn holders<'a>(
        &self,
        operators: impl IntoIterator<Item = &'a Operator>,
    ) -> std::collections::BTreeMap<usize, Pubkey> {
        operators
            .into_iter()
            .filter_map(|operator| Some((self.slot_of(operator)?, operator.authority)))
            .collect()
    }
}
