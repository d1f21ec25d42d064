//! The publication format: what a provider serves for a committed job, beside the blob
//! store it is served from.
//!
//! A provider publishes every chunk output as its own blob plus a [`ResultIndex`] naming
//! them and listing every Merkle leaf; the job's on-chain `output_uri` is
//! `sha256:<hex of the index blob>`, optionally `@` the URL of the provider's own mirror
//! ([`Sources`] tries it when a blob is missing or corrupt in the reader's store).

use assay_protocol::MAX_OUTPUT_URI_LEN;
use borsh::{BorshDeserialize, BorshSerialize};

use crate::{BlobError, BlobStore, ChunkOutputs, Commitment, Hash};

/// `output_uri` = this prefix, the hex sha256 of the [`ResultIndex`] blob, and optionally
/// `@` and the URL of the provider's own mirror of every blob it published
/// (`sha256:<64 hex>@https://host/path`): readers try their own store first and the
/// mirror when a blob there is missing or corrupt.
pub const OUTPUT_URI_PREFIX: &str = "sha256:";

/// The longest mirror URL that fits the market's `output_uri` (prefix, 64 hex, `@`).
pub const MAX_MIRROR_URL_LEN: usize = MAX_OUTPUT_URI_LEN - OUTPUT_URI_PREFIX.len() - 64 - 1;

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
    #[error("output location {0:?} is not sha256:<64 hex>[@<http(s) mirror URL>]")]
    BadUri(String),
    #[error("mirror URL {url:?}: {reason}")]
    BadMirror { url: String, reason: String },
    #[error("blob {blob} is not served: {tried}")]
    Unserved { blob: String, tried: String },
    /// The reader's own store failed in transport (not "not found", not corrupt) and no
    /// mirror served the blob: the reader's problem, never evidence against a provider.
    #[error("own blob store unreachable reading {blob}: {tried}")]
    OwnStoreDown { blob: String, tried: String },
    #[error("result index is malformed: {0}")]
    BadIndex(String),
    #[error("the result index belongs to another job")]
    OtherJob,
    #[error("the published leaves do not match the committed root: the provider's outputs are not what it committed")]
    RootMismatch,
    #[error("chunk {index} is unavailable: {source}")]
    ChunkUnserved {
        index: usize,
        source: Box<ServeError>,
    },
    #[error("chunk {index} does not match its committed leaf")]
    LeafMismatch { index: usize },
    #[error(transparent)]
    Blob(#[from] BlobError),
}

impl ResultIndex {
    pub const VERSION: u8 = 1;

    /// Parses `sha256:<hex>[@<mirror>]` into the index blob's hash and the mirror URL.
    pub fn locate(output_uri: &str) -> Result<(Hash, Option<&str>), ServeError> {
        let bad = || ServeError::BadUri(output_uri.to_string());
        let rest = output_uri.strip_prefix(OUTPUT_URI_PREFIX).ok_or_else(bad)?;
        let (hex_part, mirror) = match rest.split_once('@') {
            Some((hex_part, mirror)) => (hex_part, Some(mirror)),
            None => (rest, None),
        };
        let hash = hex::decode(hex_part)
            .ok()
            .and_then(|bytes| Hash::try_from(bytes).ok())
            .ok_or_else(bad)?;
        Ok((hash, mirror))
    }

    /// Fetches and decodes the index named by `output_uri` from `sources`.
    pub fn fetch(sources: &Sources, output_uri: &str) -> Result<Self, ServeError> {
        let (hash, _) = Self::locate(output_uri)?;
        let bytes = sources.get(&hash)?;
        let index =
            Self::try_from_slice(&bytes).map_err(|e| ServeError::BadIndex(e.to_string()))?;
        if index.version != Self::VERSION || index.chunks.len() != index.leaves.len() {
            return Err(ServeError::BadIndex("version or lengths".into()));
        }
        Ok(index)
    }
}

/// What a buyer receives: every chunk output of `job` published under `output_uri`, in
/// order and concatenated, each checked against its leaf and the leaves against the
/// committed `root`; `on_chunk` hears each chunk as it is checked (for progress).
pub fn fetch_checked_outputs(
    sources: &Sources,
    output_uri: &str,
    job: &[u8; 32],
    root: &[u8; 32],
    mut on_chunk: impl FnMut(usize),
) -> Result<Vec<u8>, ServeError> {
    let index = ResultIndex::fetch(sources, output_uri)?;
    if index.job != *job {
        return Err(ServeError::OtherJob);
    }
    let tree = assay_protocol::MerkleTree::from_leaves(index.leaves.clone())
        .ok_or_else(|| ServeError::BadIndex("no chunks".into()))?;
    if tree.root() != *root {
        return Err(ServeError::RootMismatch);
    }
    let mut out = Vec::new();
    for (index, (chunk_hash, leaf)) in index.chunks.iter().zip(&index.leaves).enumerate() {
        let bytes = sources
            .get(chunk_hash)
            .map_err(|e| ServeError::ChunkUnserved {
                index,
                source: Box::new(e),
            })?;
        if assay_protocol::leaf_hash(job, index as u32, &bytes) != *leaf {
            return Err(ServeError::LeafMismatch { index });
        }
        out.extend_from_slice(&bytes);
        on_chunk(index);
    }
    Ok(out)
}

/// Where a reader looks for a job's published blobs: its own store, then the provider's
/// mirror that the job's `output_uri` names. Every blob is hash-checked, so a source can
/// withhold a blob but never substitute one; a blob is "unserved" only once every source
/// failed to give it.
pub struct Sources<'a> {
    own: &'a BlobStore,
    /// The mirror's URL and the store opened on it (or why it could not be).
    mirror: Option<(String, Result<BlobStore, BlobError>)>,
}

impl<'a> Sources<'a> {
    /// `own` alone.
    pub fn own(own: &'a BlobStore) -> Self {
        Self { own, mirror: None }
    }

    /// `own`, then the mirror `output_uri` names (a malformed mirror URL is reported when
    /// a blob is missing from `own`, not before: the job's own copy may be enough).
    pub fn for_output(own: &'a BlobStore, output_uri: &str) -> Self {
        let mirror = ResultIndex::locate(output_uri)
            .ok()
            .and_then(|(_, mirror)| mirror)
            .map(|url| (url.to_string(), BlobStore::open_mirror(url)));
        Self { own, mirror }
    }

    /// The blob keyed `hash`, from the first source that serves it intact.
    pub fn get(&self, hash: &Hash) -> Result<Vec<u8>, ServeError> {
        let own_error = match self.own.get(hash) {
            Ok(bytes) => return Ok(bytes),
            Err(e) => e,
        };
        let mut tried = format!("own store: {own_error}");
        match &self.mirror {
            None => tried.push_str("; the provider named no mirror"),
            Some((url, Err(e))) => tried.push_str(&format!("; mirror {url}: {e}")),
            Some((url, Ok(mirror))) => match mirror.get(hash) {
                Ok(bytes) => {
                    tracing::info!(blob = %hex::encode(hash), %url, reason = %own_error, "blob read from the provider's mirror");
                    return Ok(bytes);
                }
                Err(e) => tried.push_str(&format!("; mirror {url}: {e}")),
            },
        }
        let blob = hex::encode(hash);
        Err(match own_error {
            BlobError::Io(_) => ServeError::OwnStoreDown { blob, tried },
            _ => ServeError::Unserved { blob, tried },
        })
    }
}

/// A provider's own copy of what it publishes: `store` is where it writes, `url` the
/// `http(s)://` address at which anyone reads the same `blobs/<hex>` layout.
pub struct Mirror {
    pub store: BlobStore,
    pub url: String,
}

impl Mirror {
    /// Checks `url` can be named in an `output_uri` and read as a mirror.
    pub fn new(store: BlobStore, url: String) -> Result<Self, ServeError> {
        let bad = |reason: String| ServeError::BadMirror {
            url: url.clone(),
            reason,
        };
        if url.len() > MAX_MIRROR_URL_LEN {
            return Err(bad(format!(
                "{} bytes; at most {MAX_MIRROR_URL_LEN} fit the on-chain output_uri",
                url.len()
            )));
        }
        if url.contains('@') {
            return Err(bad(
                "must not contain '@' (it separates the mirror in output_uri)".into(),
            ));
        }
        BlobStore::open_mirror(&url).map_err(|e| bad(e.to_string()))?;
        Ok(Self { store, url })
    }
}

/// Publishes a provider's outputs (exactly as committed) in `store` and, if given, its
/// `mirror`, and returns the `output_uri` (naming the mirror).
pub fn publish(
    store: &BlobStore,
    mirror: Option<&Mirror>,
    job: &[u8; 32],
    outputs: &ChunkOutputs,
    commitment: &Commitment,
) -> Result<String, ServeError> {
    let put = |bytes: &[u8]| -> Result<Hash, ServeError> {
        let hash = store.put(bytes)?;
        if let Some(mirror) = mirror {
            mirror.store.put(bytes)?;
        }
        Ok(hash)
    };
    let chunks = outputs
        .iter()
        .map(|(_, bytes)| put(bytes))
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
        job: *job,
        chunks,
        leaves,
    };
    let bytes = borsh::to_vec(&index).map_err(|e| ServeError::BadIndex(e.to_string()))?;
    let hash = put(&bytes)?;
    let mirror = mirror.map(|m| format!("@{}", m.url)).unwrap_or_default();
    Ok(format!("{OUTPUT_URI_PREFIX}{}{mirror}", hex::encode(hash)))
}
