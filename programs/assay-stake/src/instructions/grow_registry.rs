use anchor_lang::prelude::*;
use anchor_lang::solana_program::entrypoint::MAX_PERMITTED_DATA_INCREASE;
use anchor_lang::system_program::{transfer, Transfer};

use crate::constants::REGISTRY_SEED;
use crate::errors::StakeError;
use crate::state::VerifierRegistry;

/// Anyone, paying the rent: grows the verifier registry by up to 10 KiB (the most an
/// instruction may add to an account) toward its full size. `initialize` creates the
/// first 10 KiB; about 56 of these (several per transaction) complete it, and every
/// instruction that reads the registry fails until then.
#[derive(Accounts)]
pub struct GrowRegistry<'info> {
    #[account(mut)]
    pub payer: Signer<'info>,
    /// CHECK: this program's registry PDA, not loadable until full size; seeds and owner
    /// pin it.
    #[account(mut, seeds = [REGISTRY_SEED], bump, owner = crate::ID)]
    pub registry: UncheckedAccount<'info>,
    pub system_program: Program<'info, System>,
}

impl GrowRegistry<'_> {
    fn validate(&self) -> Result<()> {
        require!(
            self.registry.data_len() < VerifierRegistry::SIZE,
            StakeError::RegistryComplete
        );
        Ok(())
    }
}

/// Specification:
/// - the registry is `MAX_PERMITTED_DATA_INCREASE` bytes longer (at most its full size),
///   rent-exempt, and the new bytes are zero (empty slots).
#[access_control(ctx.accounts.validate())]
pub fn process_grow_registry(ctx: Context<GrowRegistry>) -> Result<()> {
    let registry = ctx.accounts.registry.to_account_info();
    let len = (registry.data_len() + MAX_PERMITTED_DATA_INCREASE).min(VerifierRegistry::SIZE);
    let short = Rent::get()?
        .minimum_balance(len)
        .saturating_sub(registry.lamports());
    if short > 0 {
        transfer(
            CpiContext::new(
                ctx.accounts.system_program.key(),
                Transfer {
                    from: ctx.accounts.payer.to_account_info(),
                    to: registry.clone(),
                },
            ),
            short,
        )?;
    }
    registry.resize(len)?;
    Ok(())
}
