//! Token-2022 mints carrying each extension, for the mint-policy tests and attacks.

use anchor_lang::prelude::Pubkey;
use anchor_spl::token_2022::spl_token_2022 as spl;
use assay_client::Chain;
use assay_testkit::embedded::{ChainError, LocalChain};
use solana_sdk::instruction::Instruction;
use solana_sdk::signature::{Keypair, Signer};

/// A Token-2022 mint extension and whether the programs accept a mint carrying it.
pub struct MintCase {
    pub name: &'static str,
    pub extensions: Vec<spl::extension::ExtensionType>,
    pub init: fn(&Pubkey, &Pubkey) -> Vec<Instruction>,
    pub accepted: bool,
}

pub fn mint_cases() -> Vec<MintCase> {
    use spl::extension::ExtensionType as E;
    vec![
        MintCase {
            name: "no extension",
            extensions: vec![],
            init: |_, _| vec![],
            accepted: true,
        },
        MintCase {
            name: "TransferFeeConfig",
            extensions: vec![E::TransferFeeConfig],
            init: |mint, auth| {
                vec![
                    spl::extension::transfer_fee::instruction::initialize_transfer_fee_config(
                        &anchor_spl::token_2022::ID,
                        mint,
                        Some(auth),
                        Some(auth),
                        100,
                        u64::MAX,
                    )
                    .unwrap(),
                ]
            },
            accepted: false,
        },
        MintCase {
            name: "TransferHook",
            extensions: vec![E::TransferHook],
            init: |mint, auth| {
                vec![spl::extension::transfer_hook::instruction::initialize(
                    &anchor_spl::token_2022::ID,
                    mint,
                    Some(*auth),
                    Some(assay_market::ID),
                )
                .unwrap()]
            },
            accepted: false,
        },
        MintCase {
            name: "PermanentDelegate",
            extensions: vec![E::PermanentDelegate],
            init: |mint, auth| {
                vec![spl::instruction::initialize_permanent_delegate(
                    &anchor_spl::token_2022::ID,
                    mint,
                    auth,
                )
                .unwrap()]
            },
            accepted: false,
        },
        MintCase {
            name: "NonTransferable",
            extensions: vec![E::NonTransferable],
            init: |mint, _| {
                vec![spl::instruction::initialize_non_transferable_mint(
                    &anchor_spl::token_2022::ID,
                    mint,
                )
                .unwrap()]
            },
            accepted: false,
        },
        MintCase {
            name: "ConfidentialTransferMint",
            extensions: vec![E::ConfidentialTransferMint],
            init: |mint, auth| {
                vec![
                    spl::extension::confidential_transfer::instruction::initialize_mint(
                        &anchor_spl::token_2022::ID,
                        mint,
                        Some(*auth),
                        true,
                        None,
                    )
                    .unwrap(),
                ]
            },
            accepted: false,
        },
        MintCase {
            name: "DefaultAccountState = Frozen",
            extensions: vec![E::DefaultAccountState],
            init: |mint, _| {
                vec![spl::extension::default_account_state::instruction::initialize_default_account_state(
                    &anchor_spl::token_2022::ID, mint, &spl::state::AccountState::Frozen,
                )
                .unwrap()]
            },
            accepted: false,
        },
        MintCase {
            name: "MintCloseAuthority",
            extensions: vec![E::MintCloseAuthority],
            init: |mint, auth| {
                vec![spl::instruction::initialize_mint_close_authority(
                    &anchor_spl::token_2022::ID,
                    mint,
                    Some(auth),
                )
                .unwrap()]
            },
            accepted: false,
        },
        MintCase {
            name: "Pausable",
            extensions: vec![E::Pausable],
            init: |mint, auth| {
                vec![spl::extension::pausable::instruction::initialize(
                    &anchor_spl::token_2022::ID,
                    mint,
                    auth,
                )
                .unwrap()]
            },
            accepted: false,
        },
        MintCase {
            name: "DefaultAccountState = Initialized",
            extensions: vec![E::DefaultAccountState],
            init: |mint, _| {
                vec![spl::extension::default_account_state::instruction::initialize_default_account_state(
                    &anchor_spl::token_2022::ID, mint, &spl::state::AccountState::Initialized,
                )
                .unwrap()]
            },
            accepted: true,
        },
        every_accepted_extension(),
    ]
}

/// Creates a Token-2022 mint carrying `case`'s extensions, the chain's admin as mint and
/// freeze authority.
pub async fn create_extension_mint(
    chain: &mut LocalChain,
    case: &MintCase,
) -> Result<Pubkey, ChainError> {
    let t22 = anchor_spl::token_2022::ID;
    let mint = Keypair::new();
    let admin = chain.admin.insecure_clone();
    let len = spl::extension::ExtensionType::try_calculate_account_len::<spl::state::Mint>(
        &case.extensions,
    )
    .unwrap();
    let rent = chain.rent_exempt_minimum(len).await?;
    let mut ixs = vec![
        anchor_lang::solana_program::system_instruction::create_account(
            &admin.pubkey(),
            &mint.pubkey(),
            rent,
            len as u64,
            &t22,
        ),
    ];
    ixs.extend((case.init)(&mint.pubkey(), &admin.pubkey()));
    ixs.push(
        spl::instruction::initialize_mint2(
            &t22,
            &mint.pubkey(),
            &admin.pubkey(),
            Some(&admin.pubkey()),
            6,
        )
        .unwrap(),
    );
    chain.send(&ixs, &[&admin, &mint]).await?;
    Ok(mint.pubkey())
}

/// A mint carrying every kind of extension the policy accepts at once.
pub fn every_accepted_extension() -> MintCase {
    use spl::extension::ExtensionType as E;
    MintCase {
        name: "MetadataPointer + InterestBearingConfig + DefaultAccountState = Initialized",
        extensions: vec![
            E::MetadataPointer,
            E::InterestBearingConfig,
            E::DefaultAccountState,
        ],
        init: |mint, auth| {
            let t22 = anchor_spl::token_2022::ID;
            vec![
                spl::extension::metadata_pointer::instruction::initialize(
                    &t22,
                    mint,
                    Some(*auth),
                    Some(*mint),
                )
                .unwrap(),
                spl::extension::interest_bearing_mint::instruction::initialize(
                    &t22,
                    mint,
                    Some(*auth),
                    500,
                )
                .unwrap(),
                spl::extension::default_account_state::instruction::initialize_default_account_state(
                    &t22,
                    mint,
                    &spl::state::AccountState::Initialized,
                )
                .unwrap(),
            ]
        },
        accepted: true,
    }
}
