use anchor_lang::prelude::*;

use crate::constants::{OPERATOR_SEED, REGISTRY, STAKE_CONFIG};
use crate::errors::StakeError;
use crate::events::VerifierSynced;
use crate::state::{Operator, StakeConfig, VerifierRegistry};

/// Anyone: re-reads one operator's stake against the current `min_verifier_stake` for the
/// next draw epoch. An entry below the minimum (say, after the admin raised it) gets next
/// weight 0 and leaves when the next epoch begins; a verifier that qualifies joins (with
/// weight from the next epoch) if a slot is free.
#[event_cpi]
#[derive(Accounts)]
pub struct SyncVerifier<'info> {
    #[account(address = STAKE_CONFIG)]
    pub config: Box<Account<'info, StakeConfig>>,
    #[account(mut, address = REGISTRY)]
    pub registry: AccountLoader<'info, VerifierRegistry>,
    #[account(mut, seeds = [OPERATOR_SEED, operator.authority.as_ref()], bump = operator.bump)]
    pub operator: Box<Account<'info, Operator>>,
}

/// Specification:
/// - the registry has rolled to the current epoch (no weight of this epoch changed);
/// - the operator's next weight is its available stake if it is a verifier at or above the
///   current minimum (and not zero), else 0; it holds an entry iff either weight is not 0;
/// - fails with `RegistryFull` only when it qualifies and all slots hold other verifiers.
pub fn process_sync_verifier(ctx: Context<SyncVerifier>) -> Result<()> {
    let min = ctx.accounts.config.min_verifier_stake;
    let operator = &mut ctx.accounts.operator;
    let mut registry = ctx.accounts.registry.load_mut()?;
    require!(
        registry.sync(operator, min, Clock::get()?.slot),
        StakeError::RegistryFull
    );
    let weight = registry
        .slot_of(operator)
        .map_or(0, |slot| registry.next.stake[slot]);
    let entries = registry.busy_count();
    drop(registry);
    emit_cpi!(VerifierSynced {
        authority: operator.authority,
        weight,
        entries,
    });
    Ok(())
}
