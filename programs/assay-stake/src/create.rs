//! Creating program-owned accounts at addresses someone may already have sent lamports to.
//!
//! Anyone can transfer lamports to any address, PDAs included, before the program creates
//! an account there. Anchor 1.2's `init` funds such an address through System's
//! `CreateAccountAllowPrefund`, which Agave 3.1 runtimes reject, so a single lamport would
//! block the account forever. These helpers top the balance up to rent exemption, then
//! allocate and assign — three instructions every runtime has — and keep the donation in
//! the account (it is returned with the rent when the account is closed).

use anchor_lang::prelude::*;
use anchor_lang::system_program::{self, Allocate, Assign, CreateAccount, Transfer};
use anchor_spl::token_interface::{self, InitializeAccount3};

/// Bytes of an SPL token account without extensions. The programs accept only mints
/// whose accounts need no extension (see [`crate::mint_policy`]), under either program.
pub const TOKEN_ACCOUNT_LEN: usize = 165;

/// Creates `target` (a PDA of the calling program, signed by `seeds`) with `space` bytes,
/// owned by `owner`, rent paid by `payer`; works whatever lamports `target` already holds.
pub fn create_account<'info>(
    payer: &AccountInfo<'info>,
    target: &AccountInfo<'info>,
    system: &AccountInfo<'info>,
    owner: &Pubkey,
    space: usize,
    seeds: &[&[u8]],
) -> Result<()> {
    let rent = Rent::get()?.minimum_balance(space);
    let signer = &[seeds];
    let held = target.lamports();
    if held == 0 {
        let accounts = CreateAccount {
            from: payer.clone(),
            to: target.clone(),
        };
        return system_program::create_account(
            CpiContext::new_with_signer(system.key(), accounts, signer),
            rent,
            space as u64,
            owner,
        );
    }
    let shortfall = rent.saturating_sub(held);
    if shortfall > 0 {
        let accounts = Transfer {
            from: payer.clone(),
            to: target.clone(),
        };
        system_program::transfer(CpiContext::new(system.key(), accounts), shortfall)?;
    }
    let allocate = Allocate {
        account_to_allocate: target.clone(),
    };
    system_program::allocate(
        CpiContext::new_with_signer(system.key(), allocate, signer),
        space as u64,
    )?;
    let assign = Assign {
        account_to_assign: target.clone(),
    };
    system_program::assign(
        CpiContext::new_with_signer(system.key(), assign, signer),
        owner,
    )
}

/// Creates `target` as a token account of `mint` whose authority is `authority`, under
/// `token_program`, with [`create_account`]'s tolerance of pre-funded addresses.
#[allow(clippy::too_many_arguments)]
pub fn create_token_account<'info>(
    payer: &AccountInfo<'info>,
    target: &AccountInfo<'info>,
    system: &AccountInfo<'info>,
    mint: &AccountInfo<'info>,
    authority: &AccountInfo<'info>,
    token_program: &AccountInfo<'info>,
    seeds: &[&[u8]],
) -> Result<()> {
    create_account(
        payer,
        target,
        system,
        token_program.key,
        TOKEN_ACCOUNT_LEN,
        seeds,
    )?;
    let accounts = InitializeAccount3 {
        account: target.clone(),
        mint: mint.clone(),
        authority: authority.clone(),
    };
    token_interface::initialize_account3(CpiContext::new(token_program.key(), accounts))
}

/// Writes `value` (discriminator first) into a freshly created account's data.
pub fn write_account<T: AccountSerialize>(target: &AccountInfo, value: &T) -> Result<()> {
    let mut data = target.try_borrow_mut_data()?;
    let mut cursor: &mut [u8] = &mut data;
    value.try_serialize(&mut cursor)
}
