use anchor_lang::prelude::*;

use crate::constants::{OPERATOR_SEED, REGISTRY_SEED, STAKE_CONFIG_SEED};
use crate::errors::StakeError;
use crate::events::VerifierSynced;
use crate::state::{Operator, StakeConfig, VerifierRegistry};

/// Anyone: re-reads one operator's stake against the current `min_verifier_stake`. An
/// entry below the minimum (say, after the admin raised it) leaves the registry; a
/// verifier that qualifies joins if a slot is free.
#[event_cpi]
#[derive(Accounts)]
pub struct SyncVerifier<'info> {
    #[account(seeds = [STAKE_CONFIG_SEED], bump = config.bump)]
    pub config: Box<Account<'info, StakeConfig>>,
    #[account(mut, seeds = [REGISTRY_SEED], bump = registry.bump)]
    pub registry: Box<Account<'info, VerifierRegistry>>,
    #[account(seeds = [OPERATOR_SEED, operator.authority.as_ref()], bump = operator.bump)]
    pub operator: Box<Account<'info, Operator>>,
}

/// Specification:
/// - the operator has an entry iff it is a verifier whose available stake is at least the
///   current minimum (and not zero), and then the entry's weight is that stake;
/// - fails with `RegistryFull` only when it qualifies and all slots hold other verifiers.
pub fn process_sync_verifier(ctx: Context<SyncVerifier>) -> Result<()> {
    let min = ctx.accounts.config.min_verifier_stake;
    let operator = &ctx.accounts.operator;
    require!(
        ctx.accounts.registry.sync(operator, min),
        StakeError::RegistryFull
    );
    emit_cpi!(VerifierSynced {
        authority: operator.authority,
        weight: ctx
            .accounts
            .registry
            .entry_weight(&operator.authority)
            .unwrap_or(0),
        entries: ctx.accounts.registry.entries.len() as u32,
    });
    Ok(())
}
