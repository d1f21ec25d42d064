pub mod deposit;
pub mod grow_registry;
pub mod initialize;
pub mod lock_stake;
pub mod register_operator;
pub mod request_unstake;
pub mod set_capabilities;
pub mod slash_stake;
pub mod sync_verifier;
pub mod update_config;
pub mod withdraw;

pub use deposit::*;
pub use grow_registry::*;
pub use initialize::*;
pub use lock_stake::*;
pub use register_operator::*;
pub use request_unstake::*;
pub use set_capabilities::*;
pub use slash_stake::*;
pub use sync_verifier::*;
pub use update_config::*;
pub use withdraw::*;

use anchor_lang::prelude::*;
use anchor_spl::token_interface::{self, Mint, TokenAccount, TokenInterface, TransferChecked};

use crate::constants::OPERATOR_SEED;
use crate::state::Operator;

/// Moves `amount` out of an operator's vault, signed by the operator PDA.
pub(crate) fn transfer_from_vault<'info>(
    operator: &Account<'info, Operator>,
    vault: &InterfaceAccount<'info, TokenAccount>,
    destination: &InterfaceAccount<'info, TokenAccount>,
    mint: &InterfaceAccount<'info, Mint>,
    token_program: &Interface<'info, TokenInterface>,
    amount: u64,
) -> Result<()> {
    let seeds: &[&[u8]] = &[
        OPERATOR_SEED,
        operator.authority.as_ref(),
        std::slice::from_ref(&operator.bump),
    ];
    token_interface::transfer_checked(
        CpiContext::new_with_signer(
            token_program.key(),
            TransferChecked {
                from: vault.to_account_info(),
                mint: mint.to_account_info(),
                to: destination.to_account_info(),
                authority: operator.to_account_info(),
            },
            &[seeds],
        ),
        amount,
        mint.decimals,
    )
}
