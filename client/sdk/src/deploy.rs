//! Setting up a deployment on any [`Chain`]: the payment mint and both programs'
//! configs, as the embedded bank and `assay localnet` (Surfpool) both do.
//!
//! The programs themselves must already be loaded at their addresses; everything here is
//! ordinary transactions signed by the admin (the development deployer on local chains).

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::entrypoint::MAX_PERMITTED_DATA_INCREASE;
use assay_stake::state::VerifierRegistry;
use solana_sdk::instruction::Instruction;
use solana_sdk::program_pack::Pack;
use solana_sdk::signature::{Keypair, Signer};

use crate::chain::{Chain, ChainError};
use crate::embedded::LocalSetup;
use crate::ix::Deployment;

/// `grow_registry` instructions per transaction (each adds 10 KiB).
const GROW_STEPS_PER_TRANSACTION: usize = 14;

/// Creates and initializes `mint` under `token_program`, with `admin` as mint and freeze
/// authority (as the issuer of USDC holds both). `admin` pays the rent.
pub async fn create_mint<C: Chain + ?Sized>(
    chain: &mut C,
    admin: &Keypair,
    mint: &Keypair,
    token_program: Pubkey,
    decimals: u8,
) -> Result<(), ChainError> {
    let mint_len = anchor_spl::token::spl_token::state::Mint::LEN;
    let create = anchor_lang::solana_program::system_instruction::create_account(
        &admin.pubkey(),
        &mint.pubkey(),
        solana_sdk::rent::Rent::default().minimum_balance(mint_len),
        mint_len as u64,
        &token_program,
    );
    let init = anchor_spl::token_2022::spl_token_2022::instruction::initialize_mint2(
        &token_program,
        &mint.pubkey(),
        &admin.pubkey(),
        Some(&admin.pubkey()),
        decimals,
    )
    .map_err(|e| ChainError::Client(e.to_string()))?;
    chain.send(&[create, init], &[admin, mint]).await.map(drop)
}

/// Mints `amount` (base units) of an `admin`-controlled `mint` to `owner`'s associated
/// token account, creating the account if needed.
pub async fn mint_tokens<C: Chain + ?Sized>(
    chain: &mut C,
    admin: &Keypair,
    mint: &Pubkey,
    token_program: &Pubkey,
    owner: &Pubkey,
    amount: u64,
) -> Result<(), ChainError> {
    let other = Deployment {
        mint: *mint,
        token_program: *token_program,
        treasury: Pubkey::default(),
    };
    let ixs = other.mint_to(&admin.pubkey(), owner, amount);
    chain.send(&ixs, &[admin]).await.map(drop)
}

/// Initializes both programs with `setup`'s parameters, signed by `admin` (which must be
/// the programs' deployer): the stake config, the verifier registry grown to full size,
/// and the market config (which creates the treasury vault).
pub async fn initialize_programs<C: Chain + ?Sized>(
    chain: &mut C,
    admin: &Keypair,
    setup: &LocalSetup,
) -> Result<(), ChainError> {
    let d = chain.deployment();
    chain
        .send(
            &[d.stake_initialize(&admin.pubkey(), setup.stake.clone())],
            &[admin],
        )
        .await?;
    // The registry is created at 10 KiB and grown to full size, 10 KiB per instruction.
    let steps = VerifierRegistry::SIZE.div_ceil(MAX_PERMITTED_DATA_INCREASE) - 1;
    let grow: Vec<Instruction> = (0..steps)
        .map(|_| d.grow_registry(&admin.pubkey()))
        .collect();
    for batch in grow.chunks(GROW_STEPS_PER_TRANSACTION) {
        chain.send(batch, &[admin]).await?;
    }
    chain
        .send(
            &[d.initialize_config(&admin.pubkey(), setup.market.clone())],
            &[admin],
        )
        .await?;
    Ok(())
}
