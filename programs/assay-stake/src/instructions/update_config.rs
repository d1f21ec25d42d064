use anchor_lang::prelude::*;

use crate::constants::{MAX_UNSTAKE_COOLDOWN_SLOTS, REGISTRY, STAKE_CONFIG};
use crate::errors::StakeError;
use crate::events::StakeConfigUpdated;
use crate::state::{StakeConfig, VerifierRegistry};

/// The tunable fields of the config (the draw epoch length is fixed at initialization:
/// changing it would renumber epochs under armed draws).
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct UpdateConfigArgs {
    /// Slots between an unstake request and its withdrawal.
    pub unstake_cooldown_slots: u64,
    /// Least available stake (base units) a verifier needs to be drawn; applies from
    /// the next draw epoch to every verifier synced since.
    pub min_verifier_stake: u64,
}

/// The admin tunes parameters; no instruction lets it touch an operator's tokens.
#[event_cpi]
#[derive(Accounts)]
pub struct UpdateConfig<'info> {
    pub admin: Signer<'info>,
    #[account(mut, address = STAKE_CONFIG, has_one = admin @ StakeError::NotAdmin)]
    pub config: Box<Account<'info, StakeConfig>>,
    /// Read for the draw epoch length the cooldown must cover.
    #[account(address = REGISTRY)]
    pub registry: AccountLoader<'info, VerifierRegistry>,
}

impl UpdateConfig<'_> {
    fn validate(&self, args: &UpdateConfigArgs) -> Result<()> {
        require!(
            args.unstake_cooldown_slots <= MAX_UNSTAKE_COOLDOWN_SLOTS,
            StakeError::CooldownTooLong
        );
        require!(
            args.unstake_cooldown_slots >= self.registry.load()?.epoch_slots,
            StakeError::CooldownShorterThanEpoch
        );
        Ok(())
    }
}

impl crate::instructions::InitializeArgs {
    /// The fields of these settings an admin may later change.
    pub fn tunables(&self) -> UpdateConfigArgs {
        UpdateConfigArgs {
            unstake_cooldown_slots: self.unstake_cooldown_slots,
            min_verifier_stake: self.min_verifier_stake,
        }
    }
}

#[access_control(ctx.accounts.validate(&args))]
pub fn process_update_config(ctx: Context<UpdateConfig>, args: UpdateConfigArgs) -> Result<()> {
    let config = &mut ctx.accounts.config;
    config.unstake_cooldown_slots = args.unstake_cooldown_slots;
    config.min_verifier_stake = args.min_verifier_stake;
    emit_cpi!(StakeConfigUpdated {
        unstake_cooldown_slots: args.unstake_cooldown_slots,
        min_verifier_stake: args.min_verifier_stake,
    });
    Ok(())
}
