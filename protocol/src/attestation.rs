//! The message a verifier or committee member signs with ed25519.
//!
//! Layout (fixed, 125 bytes):
//! `ATTESTATION (16) ‖ program id (32) ‖ job (32) ‖ instance (8, LE) ‖ contest (4, LE) ‖ verdict (1) ‖ evidence hash (32)`.
//! Binding the program id, job, instance and contest means a signature can never be
//! replayed on another deployment, another job, another life of the same job address (a
//! job closed and re-posted with the same id gets a new instance) or another contest of
//! the same job (each contested fault and each challenge of a pass is numbered:
//! `Job::contests`).

use crate::{domain, hashv, Hash};

/// Length of [`AttestationMessage::to_bytes`].
pub const ATTESTATION_MESSAGE_LEN: usize = 16 + 32 + 32 + 8 + 4 + 1 + 32;
/// Where the verdict byte sits in [`AttestationMessage::to_bytes`]: the bytes around it
/// are the same for every verdict on one contest.
pub const ATTESTATION_VERDICT_AT: usize = 16 + 32 + 32 + 8 + 4;

/// What the signer asserts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Verdict {
    /// The sampled chunks match the commitment and recompute within the job's rule.
    Pass = 1,
    /// A sampled chunk is wrong or was not served.
    Fault = 2,
    /// Committee vote: the reported fault stands (provider slashed).
    UpholdFault = 3,
    /// Committee vote: the reported fault is wrong (accusing verifier slashed).
    OverturnFault = 4,
}

impl Verdict {
    pub fn from_u8(value: u8) -> Option<Self> {
        match value {
            1 => Some(Self::Pass),
            2 => Some(Self::Fault),
            3 => Some(Self::UpholdFault),
            4 => Some(Self::OverturnFault),
            _ => None,
        }
    }
}

/// A domain-separated statement about one contest of one job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttestationMessage {
    pub program_id: [u8; 32],
    pub job: [u8; 32],
    /// The job's instance: the slot it was posted in (`Job::instance`).
    pub instance: u64,
    /// Which contest of the instance the vote decides (`Job::contests` when it was armed).
    pub contest: u32,
    pub verdict: Verdict,
    pub evidence_hash: Hash,
}

impl AttestationMessage {
    pub fn to_bytes(&self) -> [u8; ATTESTATION_MESSAGE_LEN] {
        let mut out = [0u8; ATTESTATION_MESSAGE_LEN];
        out[..16].copy_from_slice(domain::ATTESTATION);
        out[16..48].copy_from_slice(&self.program_id);
        out[48..80].copy_from_slice(&self.job);
        out[80..88].copy_from_slice(&self.instance.to_le_bytes());
        out[88..92].copy_from_slice(&self.contest.to_le_bytes());
        out[ATTESTATION_VERDICT_AT] = self.verdict as u8;
        out[ATTESTATION_VERDICT_AT + 1..].copy_from_slice(&self.evidence_hash);
        out
    }

    /// Parses the fixed layout; `None` for a wrong length, domain or verdict byte.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != ATTESTATION_MESSAGE_LEN || &bytes[..16] != domain::ATTESTATION {
            return None;
        }
        Some(Self {
            program_id: bytes[16..48].try_into().ok()?,
            job: bytes[48..80].try_into().ok()?,
            instance: u64::from_le_bytes(bytes[80..88].try_into().ok()?),
            contest: u32::from_le_bytes(bytes[88..92].try_into().ok()?),
            verdict: Verdict::from_u8(bytes[ATTESTATION_VERDICT_AT])?,
            evidence_hash: bytes[ATTESTATION_VERDICT_AT + 1..].try_into().ok()?,
        })
    }
}

/// Evidence for a fault on chunk `index` of one job instance: binds the provider's
/// committed leaf to the hash of the output the verifier recomputed (all-zero when the
/// provider served nothing).
pub fn fault_evidence_hash(
    job: &[u8; 32],
    instance: u64,
    index: u32,
    provider_leaf: &Hash,
    recomputed_output_hash: &Hash,
) -> Hash {
    hashv(&[
        domain::EVIDENCE,
        job,
        &instance.to_le_bytes(),
        &index.to_le_bytes(),
        provider_leaf,
        recomputed_output_hash,
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_round_trips_and_rejects_garbage() {
        let msg = AttestationMessage {
            program_id: [1; 32],
            job: [2; 32],
            instance: 77,
            contest: 0x0102_0304,
            verdict: Verdict::UpholdFault,
            evidence_hash: [4; 32],
        };
        let bytes = msg.to_bytes();
        assert_eq!(AttestationMessage::from_bytes(&bytes), Some(msg));
        assert_eq!(AttestationMessage::from_bytes(&bytes[1..]), None);
        let mut bad_verdict = bytes;
        bad_verdict[ATTESTATION_VERDICT_AT] = 9;
        assert_eq!(AttestationMessage::from_bytes(&bad_verdict), None);
        let mut bad_domain = bytes;
        bad_domain[0] ^= 1;
        assert_eq!(AttestationMessage::from_bytes(&bad_domain), None);
    }
}
