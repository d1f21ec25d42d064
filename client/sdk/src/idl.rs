//! What the programs' IDLs say about error codes and instructions, for messages and logs.

use std::sync::OnceLock;

use anchor_lang::prelude::Pubkey;
use serde::Deserialize;

/// One `#[error_code]` variant of a program.
#[derive(Debug, Clone, Deserialize)]
pub struct ProgramError {
    pub code: u32,
    pub name: String,
    pub msg: String,
}

/// One instruction of a program: its name and 8-byte discriminator.
#[derive(Debug, Clone, Deserialize)]
pub struct ProgramInstruction {
    pub name: String,
    pub discriminator: Vec<u8>,
}

#[derive(Deserialize, Default)]
struct Idl {
    errors: Vec<ProgramError>,
    instructions: Vec<ProgramInstruction>,
}

fn idl(program: &Pubkey) -> Option<&'static Idl> {
    static MARKET: OnceLock<Idl> = OnceLock::new();
    static STAKE: OnceLock<Idl> = OnceLock::new();
    // The IDLs are generated from the programs and checked by tests/tests/idl.rs.
    let parse = |text: &str| serde_json::from_str::<Idl>(text).unwrap_or_default();
    if *program == assay_market::ID {
        Some(MARKET.get_or_init(|| parse(include_str!("../../../idl/assay_market.json"))))
    } else if *program == assay_stake::ID {
        Some(STAKE.get_or_init(|| parse(include_str!("../../../idl/assay_stake.json"))))
    } else {
        None
    }
}

/// The error `program` defines under `code`, if any.
pub fn program_error(program: &Pubkey, code: u32) -> Option<&'static ProgramError> {
    idl(program)?.errors.iter().find(|e| e.code == code)
}

/// The name of `program`'s instruction whose data is `data`, if any.
pub fn instruction_name(program: &Pubkey, data: &[u8]) -> Option<&'static str> {
    idl(program)?
        .instructions
        .iter()
        .find(|ix| data.starts_with(&ix.discriminator))
        .map(|ix| ix.name.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use anchor_lang::Discriminator;

    #[test]
    fn both_idls_name_their_errors() {
        let first = program_error(&assay_market::ID, 6000).expect("market 6000");
        assert_eq!(first.name, "Overflow");
        let stake = program_error(&assay_stake::ID, 6000).expect("stake 6000");
        assert_eq!(stake.name, "ZeroAmount");
        assert!(program_error(&Pubkey::default(), 6000).is_none());
        let post = assay_market::instruction::PostJob::DISCRIMINATOR;
        assert_eq!(instruction_name(&assay_market::ID, post), Some("post_job"));
    }
}
