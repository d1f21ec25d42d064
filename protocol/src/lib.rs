//! The one implementation of Assay's shared protocol rules.
//!
//! Both on-chain programs and every off-chain component (GPU engine, verifier, client)
//! use this crate, so a leaf, a proof, a sample or a verifier draw can never be computed
//! two different ways. It is `no_std`-friendly in spirit: no allocation-heavy or
//! floating-point code runs on chain, and hashing goes through `solana-sha256-hasher`,
//! which uses the `sol_sha256` syscall on SBF and `sha2` everywhere else.

/// Longest `output_uri` a job commits, bytes: the market's account space for it and the
/// bound on what a provider's publication may name (its index hash and mirror URL).
pub const MAX_OUTPUT_URI_LEN: usize = 200;

pub mod attestation;
pub mod capability;
pub mod draw;
pub mod merkle;
pub mod needtree;
pub mod sumtree;

pub use attestation::{
    fault_evidence_hash, AttestationMessage, Verdict, ATTESTATION_MESSAGE_LEN,
    ATTESTATION_VERDICT_AT,
};
pub use draw::{
    challenge_seed, committee as draw_committee, committee, committee_seed, is_sampled,
    pick_distinct, sample_indices, seed_slot_hash, verifier_for_round, weighted_pick, SeedHash,
    MAX_DRAW_WINDOW_SLOTS,
};
pub use merkle::{leaf_hash, node_hash, proof_len, verify_proof, MerkleTree, ProofError};

/// A sha256 digest.
pub type Hash = [u8; 32];

/// sha256 over the concatenation of `parts`.
pub fn hashv(parts: &[&[u8]]) -> Hash {
    solana_sha256_hasher::hashv(parts).to_bytes()
}

/// Domain tags: every hash the protocol defines starts with one, so no value of one kind
/// can be replayed as another.
pub mod domain {
    pub const LEAF: &[u8] = b"assay.leaf.v1";
    pub const NODE: &[u8] = b"assay.node.v1";
    pub const SEED: &[u8] = b"assay.seed.v1";
    pub const SAMPLE: &[u8] = b"assay.sample.v1";
    pub const VERIFIER: &[u8] = b"assay.verifier.v1";
    pub const COMMITTEE: &[u8] = b"assay.committee.v1";
    pub const COMMITTEE_SEED: &[u8] = b"assay.committee-seed.v1";
    pub const EVIDENCE: &[u8] = b"assay.evidence.v2";
    /// Exactly 16 bytes: the attestation message has a fixed layout.
    pub const ATTESTATION: &[u8; 16] = b"assay.attest.v3\0";
}

/// The guard each program states once, in its own crate (whose features the `cfg` reads):
/// a program build with its entrypoint (what `anchor build` deploys) must name its
/// deployer — `ASSAY_DEPLOYER=<base58 key>`, or the `dev-deployer` feature for a local build
/// that accepts the public development key — or it does not compile. `$program` names the
/// crate in the message (`scripts/sbf/check-deployer.sh` checks both refuse).
#[macro_export]
macro_rules! require_deployer {
    ($program:literal) => {
        #[cfg(all(
            not(feature = "no-entrypoint"),
            not(feature = "dev-deployer"),
            not(feature = "idl-build")
        ))]
        const _: () = assert!(
            option_env!("ASSAY_DEPLOYER").is_some(),
            concat!(
                "set ASSAY_DEPLOYER=<base58 public key of the key that will initialize the \
                 programs> to build ",
                $program,
                " for deployment (or build with --features dev-deployer for a local chain \
                 that accepts the public development key; never deploy that build)"
            )
        );
    };
}
