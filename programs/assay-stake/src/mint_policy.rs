//! Which payment mints the programs accept.
//!
//! Escrow and stake books record amounts and assume a transfer of `n` moves exactly `n`,
//! that only the programs' PDAs can move custody, and that the mint outlives every vault.
//! SPL Token mints satisfy that. Token-2022 mints are accepted only when every extension
//! they carry leaves it true; each rejected extension is named with the reason:
//!
//! | extension | why it is rejected |
//! |---|---|
//! | TransferFeeConfig | the vault receives less than the recorded price; exits fail |
//! | TransferHook | an outside program runs on every transfer and can refuse exits |
//! | PermanentDelegate | the delegate can move escrow and stake out of the vaults |
//! | NonTransferable | escrow could never leave the vault |
//! | ConfidentialTransfer*, ConfidentialMintBurn | balances the books cannot see |
//! | DefaultAccountState = Frozen | new vaults would start frozen |
//! | MintCloseAuthority | the mint can be closed and re-created under other rules |
//! | Pausable | a pause authority could halt every exit at once |
//! | anything not listed below | unknown rules are not accepted |
//!
//! Accepted: metadata and group pointers and their data, InterestBearingConfig (changes
//! only the displayed amount), DefaultAccountState = Initialized. A mint's freeze
//! authority (USDC has one) is accepted as a trust assumption: it can freeze any vault
//! and so stop the exits that touch it (docs/protocol.md, threat model).

use anchor_lang::prelude::*;
use anchor_spl::token_2022::spl_token_2022::extension::default_account_state::DefaultAccountState;
use anchor_spl::token_2022::spl_token_2022::extension::{
    BaseStateWithExtensions, ExtensionType, StateWithExtensions,
};
use anchor_spl::token_2022::spl_token_2022::state::{AccountState, Mint as MintState};

use crate::errors::StakeError;

/// Token-2022 mint extensions that leave transfers exact and custody with the vault owner.
pub const ACCEPTED_EXTENSIONS: &[ExtensionType] = &[
    ExtensionType::MetadataPointer,
    ExtensionType::TokenMetadata,
    ExtensionType::GroupPointer,
    ExtensionType::TokenGroup,
    ExtensionType::GroupMemberPointer,
    ExtensionType::TokenGroupMember,
    ExtensionType::InterestBearingConfig,
    ExtensionType::DefaultAccountState,
];

/// Fails with `UnsupportedMint` unless `mint` is an SPL Token mint or a Token-2022 mint
/// whose extensions are all accepted (and whose default account state is not frozen).
pub fn check_payment_mint(mint: &AccountInfo) -> Result<()> {
    if *mint.owner == anchor_spl::token::ID {
        return Ok(());
    }
    require_keys_eq!(
        *mint.owner,
        anchor_spl::token_2022::ID,
        StakeError::UnsupportedMint
    );
    let data = mint.try_borrow_data()?;
    let state = StateWithExtensions::<MintState>::unpack(&data)
        .map_err(|_| error!(StakeError::UnsupportedMint))?;
    let extensions = state
        .get_extension_types()
        .map_err(|_| error!(StakeError::UnsupportedMint))?;
    for extension in extensions {
        require!(
            ACCEPTED_EXTENSIONS.contains(&extension),
            StakeError::UnsupportedMint
        );
    }
    if let Ok(default_state) = state.get_extension::<DefaultAccountState>() {
        require!(
            default_state.state == AccountState::Initialized as u8,
            StakeError::UnsupportedMint
        );
    }
    Ok(())
}
