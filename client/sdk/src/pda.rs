//! Program-derived addresses. Seeds come from the programs' own constants.

use anchor_lang::prelude::Pubkey;
use assay_market::constants::{
    JOB_SEED, JOB_VAULT_SEED, MARKET_AUTHORITY_SEED, MARKET_CONFIG_SEED, TREASURY_SEED,
};
use assay_stake::constants::{OPERATOR_SEED, REGISTRY_SEED, STAKE_CONFIG_SEED, STAKE_VAULT_SEED};

fn stake_pda(seeds: &[&[u8]]) -> Pubkey {
    Pubkey::find_program_address(seeds, &assay_stake::ID).0
}

fn market_pda(seeds: &[&[u8]]) -> Pubkey {
    Pubkey::find_program_address(seeds, &assay_market::ID).0
}

pub fn stake_config() -> Pubkey {
    stake_pda(&[STAKE_CONFIG_SEED])
}

pub fn verifier_registry() -> Pubkey {
    stake_pda(&[REGISTRY_SEED])
}

/// The operator account of `authority`.
pub fn operator(authority: &Pubkey) -> Pubkey {
    stake_pda(&[OPERATOR_SEED, authority.as_ref()])
}

/// The stake vault of an operator account (not of its authority).
pub fn stake_vault(operator: &Pubkey) -> Pubkey {
    stake_pda(&[STAKE_VAULT_SEED, operator.as_ref()])
}

pub fn market_config() -> Pubkey {
    market_pda(&[MARKET_CONFIG_SEED])
}

/// The treasury vault: protocol fees and slash shares accrue here.
pub fn treasury() -> Pubkey {
    market_pda(&[TREASURY_SEED])
}

pub fn market_authority() -> Pubkey {
    market_pda(&[MARKET_AUTHORITY_SEED])
}

pub fn job(buyer: &Pubkey, job_id: u64) -> Pubkey {
    market_pda(&[JOB_SEED, buyer.as_ref(), &job_id.to_le_bytes()])
}

pub fn job_vault(job: &Pubkey) -> Pubkey {
    market_pda(&[JOB_VAULT_SEED, job.as_ref()])
}

/// The associated token account of `owner` for `mint` under `token_program`.
pub fn token_account(owner: &Pubkey, mint: &Pubkey, token_program: &Pubkey) -> Pubkey {
    anchor_spl::associated_token::get_associated_token_address_with_program_id(
        owner,
        mint,
        token_program,
    )
}
