use anchor_lang::prelude::*;

use crate::constants::{OPERATOR_SEED, REGISTRY, STAKE_CONFIG};
use crate::errors::StakeError;
use crate::events::CapabilitiesSet;
use crate::state::{Operator, StakeConfig, VerifierRegistry};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct SetCapabilitiesArgs {
    /// `assay_protocol::capability` bits the operator's GPU adapter can run.
    pub capabilities: u8,
}

/// The operator's authority: declares what its adapter can run (after a driver or
/// hardware change). Like a stake change, it reaches the draws when the next draw epoch
/// begins, so it cannot steer a draw whose seed is already public.
#[event_cpi]
#[derive(Accounts)]
pub struct SetCapabilities<'info> {
    pub authority: Signer<'info>,
    #[account(address = STAKE_CONFIG)]
    pub config: Box<Account<'info, StakeConfig>>,
    #[account(mut, address = REGISTRY)]
    pub registry: AccountLoader<'info, VerifierRegistry>,
    #[account(mut, seeds = [OPERATOR_SEED, authority.key().as_ref()], bump = operator.bump, has_one = authority)]
    pub operator: Box<Account<'info, Operator>>,
}

impl SetCapabilities<'_> {
    fn validate(&self, args: &SetCapabilitiesArgs) -> Result<()> {
        require!(
            assay_protocol::capability::is_known(args.capabilities),
            StakeError::UnknownCapability
        );
        Ok(())
    }
}

/// Specification:
/// - the operator's capabilities are `args.capabilities`;
/// - the registry has rolled to the current epoch and, from the next epoch on, the
///   operator's weight counts in exactly the need trees its capabilities cover; the
///   current epoch's weights are unchanged.
#[access_control(ctx.accounts.validate(&args))]
pub fn process_set_capabilities(
    ctx: Context<SetCapabilities>,
    args: SetCapabilitiesArgs,
) -> Result<()> {
    let min = ctx.accounts.config.min_verifier_stake;
    let operator = &mut ctx.accounts.operator;
    operator.capabilities = args.capabilities;
    // A verifier that cannot take a slot (registry full) still records its capabilities.
    ctx.accounts
        .registry
        .load_mut()?
        .sync(operator, min, Clock::get()?.slot);
    emit_cpi!(CapabilitiesSet {
        operator: operator.key(),
        authority: operator.authority,
        capabilities: args.capabilities,
    });
    Ok(())
}
