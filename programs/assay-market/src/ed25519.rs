//! Reading committee votes verified by the Ed25519 precompile through instruction
//! introspection.
//!
//! The transaction carries an Ed25519 program instruction immediately before the market
//! instruction. The runtime has already verified every signature in it (or the whole
//! transaction failed). We re-read that instruction from the instructions sysvar, whose
//! address the caller's account constraint pins, and accept an entry only if its
//! signature, public key and message all live inside that same Ed25519 instruction
//! (instruction index `u16::MAX`): offsets pointing at any other instruction would let a
//! signature over one message vouch for different bytes.

use anchor_lang::prelude::*;
use assay_protocol::ATTESTATION_MESSAGE_LEN;
use solana_instructions_sysvar::{load_current_index_checked, load_instruction_at_checked};

use crate::errors::MarketError;

/// Bytes of the Ed25519 instruction header (signature count + padding).
const HEADER_LEN: usize = 2;
/// Bytes of one signature's offsets record.
const OFFSETS_LEN: usize = 14;
const PUBKEY_LEN: usize = 32;
const SIGNATURE_LEN: usize = 64;
/// "This instruction" in the precompile's instruction-index fields.
const THIS_INSTRUCTION: u16 = u16::MAX;

/// One verified signature, borrowed from the Ed25519 instruction's data: who signed
/// which attestation-sized message (its contents are the caller's to check).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignedMessage<'a> {
    pub signer: &'a [u8; PUBKEY_LEN],
    pub message: &'a [u8; ATTESTATION_MESSAGE_LEN],
}

/// The data of the Ed25519 instruction just before the current one (the signatures in it
/// are verified; [`signed_messages`] reads them).
pub fn ed25519_instruction_before_current(instructions_sysvar: &AccountInfo) -> Result<Vec<u8>> {
    let current = load_current_index_checked(instructions_sysvar)?;
    require!(current > 0, MarketError::MissingEd25519Instruction);
    let previous = load_instruction_at_checked(usize::from(current - 1), instructions_sysvar)?;
    require_keys_eq!(
        previous.program_id,
        solana_sdk_ids::ed25519_program::ID,
        MarketError::MissingEd25519Instruction
    );
    Ok(previous.data)
}

fn read_u16(data: &[u8], at: usize) -> Result<u16> {
    let bytes = data
        .get(at..at + 2)
        .ok_or(MarketError::MalformedEd25519Instruction)?;
    Ok(u16::from_le_bytes([bytes[0], bytes[1]]))
}

fn array<const N: usize>(data: &[u8], offset: u16) -> Result<&[u8; N]> {
    let start = usize::from(offset);
    data.get(start..start + N)
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| error!(MarketError::MalformedEd25519Instruction))
}

/// Reads the Ed25519 precompile's instruction data: each signature's signer and message,
/// all three parts inside this instruction, every message attestation-sized.
pub fn signed_messages(data: &[u8]) -> Result<Vec<SignedMessage<'_>>> {
    let count = usize::from(
        *data
            .first()
            .ok_or(MarketError::MalformedEd25519Instruction)?,
    );
    require!(count > 0, MarketError::MalformedEd25519Instruction);
    require!(
        data.len() >= HEADER_LEN + count * OFFSETS_LEN,
        MarketError::MalformedEd25519Instruction
    );
    (0..count)
        .map(|i| {
            let at = HEADER_LEN + i * OFFSETS_LEN;
            let signature_offset = read_u16(data, at)?;
            let signature_ix = read_u16(data, at + 2)?;
            let pubkey_offset = read_u16(data, at + 4)?;
            let pubkey_ix = read_u16(data, at + 6)?;
            let message_offset = read_u16(data, at + 8)?;
            let message_len = read_u16(data, at + 10)?;
            let message_ix = read_u16(data, at + 12)?;
            require!(
                signature_ix == THIS_INSTRUCTION
                    && pubkey_ix == THIS_INSTRUCTION
                    && message_ix == THIS_INSTRUCTION,
                MarketError::MalformedEd25519Instruction
            );
            require!(
                usize::from(message_len) == ATTESTATION_MESSAGE_LEN,
                MarketError::AttestationMismatch
            );
            array::<SIGNATURE_LEN>(data, signature_offset)?;
            Ok(SignedMessage {
                signer: array(data, pubkey_offset)?,
                message: array(data, message_offset)?,
            })
        })
        .collect()
}
