//! What a provider serves for a committed job.

use anchor_lang::prelude::Pubkey;
use assay_gpu::{BlobError, BlobStore, ChunkOutputs, Commitment, Hash};
use borsh::{BorshDeserialize, BorshSerialize};

/// `output_uri` = this prefix followed by the hex sha256 of the [`ResultIndex`] blob.
pub const OUTPUT_URI_PREFIX: &str = "sha256:";

/// Index of a published result: one blob per chunk output and every leaf of the tree.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ResultIndex {
    pub version: u8,
    /// The job account the leaves are bound to.
    pub job: [u8; 32],
    /// sha256 of chunk `i`'s output blob.
    pub chunks: Vec<Hash>,
    /// Leaf `i` (`assay_protocol::leaf_hash`); their tree's root is the committed root.
    pub leaves: Vec<Hash>,
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("output location {0:?} is not sha256:<hex>")]
    BadUri(String),
    #[error("result index is malformed: {0}")]
    BadIndex(String),
    #[error(transparent)]
    Blob(#[from] BlobError),
}

impl ResultIndex {
    pub const VERSION: u8 = 1;

    /// Parses `sha256:<hex>` into the index blob's hash.
    pub fn locate(output_uri: &str) -> Result<Hash, ServeError> {
        let hex_part = output_uri
            .strip_prefix(OUTPUT_URI_PREFIX)
            .ok_or_else(|| ServeError::BadUri(output_uri.to_string()))?;
        let bytes =
            hex::decode(hex_part).map_err(|_| ServeError::BadUri(output_uri.to_string()))?;
        bytes
            .try_into()
            .map_err(|_| ServeError::BadUri(output_uri.to_string()))
    }

    /// Fetches and decodes the index named by `output_uri`.
    pub fn fetch(store: &BlobStore, output_uri: &str) -> Result<Self, ServeError> {
        let bytes = store.get(&Self::locate(output_uri)?)?;
        let index =
            Self::try_from_slice(&bytes).map_err(|e| ServeError::BadIndex(e.to_string()))?;
        if index.version != Self::VERSION || index.chunks.len() != index.leaves.len() {
            return Err(ServeError::BadIndex("version or lengths".into()));
        }
        Ok(index)
    }
}

/// Publishes a provider's outputs (exactly as committed) and returns the `output_uri`.
pub fn publish(
    store: &BlobStore,
    job: &Pubkey,
    outputs: &ChunkOutputs,
    commitment: &Commitment,
) -> Result<String, ServeError> {
    let chunks = outputs
        .iter()
        .map(|(_, bytes)| store.put(bytes))
        .collect::<Result<Vec<_>, _>>()?;
    let leaves = (0..commitment.len())
        .map(|i| {
            commitment
                .leaf(i)
                .ok_or_else(|| ServeError::BadIndex(format!("no leaf {i}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let index = ResultIndex {
        version: ResultIndex::VERSION,
        job: job.to_bytes(),
        chunks,
        leaves,
    };
    let bytes = borsh::to_vec(&index).map_err(|e| ServeError::BadIndex(e.to_string()))?;
    let hash = store.put(&bytes)?;
    Ok(format!("{OUTPUT_URI_PREFIX}{}", hex::encode(hash)))
}
