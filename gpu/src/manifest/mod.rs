//! The job manifest: everything a provider and a verifier must agree on to run a job.
//!
//! The manifest names the kernel and every input blob by sha256, so a manifest plus a
//! content-addressed [`crate::BlobStore`] fully determines the job. Its canonical
//! encoding is borsh; [`JobManifest::manifest_hash`] (sha256 of those bytes) is what the
//! on-chain job account stores. JSON (serde, unknown fields rejected) is the human form.
//!
//! # Kernel ABI (every kernel, built-in or not)
//!
//! All resources live in `@group(0)`:
//! - `@binding(0)`: `var<uniform> chunk: Chunk` with `struct Chunk { index: u32, count: u32,
//!   pad0: u32, pad1: u32 }` — the chunk being computed and the job's chunk count.
//! - `@binding(1)`: `var<storage, read_write>` — **this chunk's own output slice only**
//!   (`elements_per_chunk` elements of `output.element`: 4 bytes, 2 for f16). The executor binds it at a per-chunk offset,
//!   so a chunk can neither see nor write another chunk's output.
//! - `@binding(2..)`: `var<storage, read>` — the input blobs, as listed in the manifest.
//!
//! - `@binding(n)` for each scratch buffer (version 3): `var<storage, read_write>`, this
//!   chunk's own and zeroed before it.
//!
//! One chunk = one dispatch of `workgroups_per_chunk` workgroups, then (version 3) each
//! stage's dispatch in order ([`stages`]). Chunk `i` depends only on the inputs and
//! `chunk.index`, so any chunk can be recomputed alone.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::Hash;

mod bundle;
mod elements;
mod kernel;
mod limits;
pub mod stages;

pub use bundle::JobBundle;
use elements::wgsl_scalar_name;
pub use elements::ElementType;
pub use limits::{
    device_limit, Feature, LimitNeed, LimitRequirements, Requirements, EXTENDED_LIMITS,
};
pub use stages::{
    Dispatch, ScratchBinding, StageSpec, MAX_SCRATCH_BUFFERS, STAGED_MANIFEST_VERSION,
};

/// The manifest version of a one-dispatch chunk (2: `requires` joined the canonical
/// encoding). A chunk of several dispatches is [`STAGED_MANIFEST_VERSION`]; this crate
/// writes and accepts both.
pub const MANIFEST_VERSION: u16 = 2;
/// Binding number of the per-chunk uniform.
pub const CHUNK_UNIFORM_BINDING: u32 = 0;
/// Binding number of the chunk's output slice.
pub const OUTPUT_BINDING: u32 = 1;
/// Lowest binding number an input may use.
pub const FIRST_INPUT_BINDING: u32 = 2;

/// A sha256 digest, written as 64 lowercase hex characters in JSON and as 32 raw bytes
/// in borsh.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, BorshSerialize, BorshDeserialize)]
pub struct Digest(pub Hash);

impl Digest {
    /// sha256 of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Digest(assay_protocol::hashv(&[bytes]))
    }
    /// Lowercase hex form.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
    /// Parses 64 hex characters.
    pub fn from_hex(s: &str) -> Option<Self> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).ok()?;
        Some(Digest(out))
    }
}

impl std::fmt::Debug for Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.to_hex())
    }
}
impl std::fmt::Display for Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.to_hex())
    }
}

impl Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}
impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <String as Deserialize>::deserialize(d)?;
        Digest::from_hex(&s).ok_or_else(|| serde::de::Error::custom("expected 64 hex characters"))
    }
}

/// The kernel: WGSL source identified by its sha256, and the entry point to run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
#[serde(deny_unknown_fields)]
pub struct KernelSpec {
    /// sha256 of the UTF-8 WGSL source.
    pub sha256: Digest,
    /// Compute entry point that produces a chunk's output.
    pub entry_point: String,
}

/// How the job is split. Chunk `i` (`0 <= i < chunks`) is one dispatch of
/// `workgroups_per_chunk` workgroups.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
#[serde(deny_unknown_fields)]
pub struct ChunkGrid {
    /// Number of chunks (= Merkle leaves). Must be in `1..=u32::MAX`; it is a `u64` so an
    /// oversized request is representable and rejected with a clear error.
    pub chunks: u64,
    /// Workgroups dispatched per chunk, `[x, y, z]`, each `>= 1`.
    pub workgroups_per_chunk: [u32; 3],
}

/// One input blob bound to the kernel.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
#[serde(deny_unknown_fields)]
pub struct InputBinding {
    /// `@binding(n)` in `@group(0)`; must be `>= 2`.
    pub binding: u32,
    /// sha256 of the blob's bytes.
    pub sha256: Digest,
    /// Length in bytes (a non-zero multiple of 4).
    pub len: u64,
}

/// Shape of each chunk's output slice.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputSpec {
    pub element: ElementType,
    /// Elements (not bytes) per chunk, `>= 1`.
    pub elements_per_chunk: u32,
}

impl OutputSpec {
    /// Bytes per chunk output slice.
    pub fn chunk_bytes(&self) -> u64 {
        u64::from(self.elements_per_chunk) * self.element.size()
    }
}

/// How a recomputed chunk is compared with the provider's.
///
/// `Float` accepts element `e` when `|got_e − ref_e| <= max_abs + max_rel · scale_e`, where
/// `scale_e` is element `e` of the output of `scale_entry_point` (run by the verifier on
/// the same chunk; for matmul it computes `(|A|·|B|)ij`), or 0 when there is none. NaN or
/// infinity on either side is accepted only if both sides have identical bits.
/// See `docs/verification.md` for the proof of the matmul bound.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
#[serde(tag = "rule", rename_all = "snake_case", deny_unknown_fields)]
pub enum CompareRule {
    /// Byte-for-byte equality.
    Exact,
    /// Tolerance comparison of f32 or f16 elements.
    Float {
        /// Absolute floor (same unit as the output elements), finite and `>= 0`.
        max_abs: f32,
        /// Factor on the per-element scale, finite and `>= 0`.
        max_rel: f32,
        /// Entry point (same source, same bindings) computing the per-element scale.
        scale_entry_point: Option<String>,
    },
}

/// A job manifest (version 2, or 3 with stages; the canonical borsh encoding is written
/// out in [`stages`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobManifest {
    /// [`MANIFEST_VERSION`], or [`STAGED_MANIFEST_VERSION`] exactly when there are stages
    /// or scratch buffers.
    pub version: u16,
    pub kernel: KernelSpec,
    /// `@workgroup_size` the kernel declares, `[x, y, z]`.
    pub workgroup_size: [u32; 3],
    pub grid: ChunkGrid,
    /// Inputs, in binding order.
    pub inputs: Vec<InputBinding>,
    pub output: OutputSpec,
    pub compare: CompareRule,
    /// Features and limits the kernel needs beyond a default WebGPU device (none: any
    /// conformant adapter can run it).
    #[serde(default, skip_serializing_if = "Requirements::is_empty")]
    pub requires: Requirements,
    /// Dispatches of every chunk after the first, in order (version 3).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stages: Vec<StageSpec>,
    /// Per-chunk scratch buffers, zeroed before each chunk (version 3).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scratch: Vec<ScratchBinding>,
}

/// Why a manifest, its kernel or its inputs were rejected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ManifestError {
    #[error("manifest JSON is malformed or has unknown fields: {0}")]
    Json(String),
    #[error("manifest borsh bytes are malformed: {0}")]
    Borsh(String),
    #[error(
        "unsupported manifest version {found} (this engine reads 2, and 3 for multi-stage \
         chunks): set \"version\": 2 in the manifest (3 with stages) and re-seal it with \
         `assay job seal` (the manifest hash changes with it)"
    )]
    UnsupportedVersion { found: u16 },
    #[error("stages or scratch buffers need \"version\": 3 (version 2 is one dispatch per chunk)")]
    StagesNeedVersion3,
    #[error("a version 3 manifest must declare stages or scratch buffers; write version 2")]
    Version3WithoutStages,
    #[error("a chunk of {dispatches} dispatches is more than the {max} allowed")]
    TooManyStages { dispatches: usize, max: usize },
    #[error("stage `{stage}`: a stage names a scale_entry_point exactly when the float rule does")]
    StageScaleMismatch { stage: String },
    #[error("{count} scratch buffers is more than the {max} a pipeline can bind per chunk")]
    TooManyScratchBuffers { count: usize, max: usize },
    #[error("empty job: chunk count is 0")]
    EmptyJob,
    #[error("chunk count {0} exceeds u32::MAX")]
    TooManyChunks(u64),
    #[error("output slice must have at least one element")]
    EmptyOutput,
    #[error("total output {0} bytes overflows u64")]
    OutputTooLarge(u128),
    #[error("workgroup size and workgroups per chunk must be >= 1 in every dimension")]
    ZeroDimension,
    #[error(
        "binding {0} is reserved (0 = chunk uniform, 1 = output) or below the first input binding"
    )]
    ReservedBinding(u32),
    #[error("binding {0} is listed twice")]
    DuplicateBinding(u32),
    #[error("input at binding {binding} has length {len}; it must be a non-zero multiple of 4")]
    BadInputLength { binding: u32, len: u64 },
    #[error("float bound must be finite and non-negative (max_abs {max_abs}, max_rel {max_rel})")]
    BadFloatBound { max_abs: f32, max_rel: f32 },
    #[error("float comparison needs an f32 or f16 output")]
    FloatRuleOnIntegerOutput,
    #[error("an f16 output needs \"shader-f16\" in requires.features (adapters without it cannot run the kernel)")]
    F16WithoutShaderF16,
    #[error("an f16 output needs an even elements_per_chunk (chunk slices are copied in 4-byte units), not {0}")]
    OddF16Chunk(u32),
    #[error("kernel source hash {actual} does not match the manifest's {expected}")]
    KernelHashMismatch { expected: Digest, actual: Digest },
    #[error(
        "input at binding {binding}: blob hash {actual} does not match the manifest's {expected}"
    )]
    InputHashMismatch {
        binding: u32,
        expected: Digest,
        actual: Digest,
    },
    #[error("input at binding {binding}: blob is {actual} bytes, manifest says {expected}")]
    InputLengthMismatch {
        binding: u32,
        expected: u64,
        actual: u64,
    },
    #[error("manifest lists {expected} inputs but {actual} blobs were supplied")]
    InputCountMismatch { expected: usize, actual: usize },
    #[error("kernel does not parse as WGSL:\n{0}")]
    KernelParse(String),
    #[error("kernel fails validation:\n{0}")]
    KernelInvalid(String),
    #[error("kernel has no compute entry point named `{0}`")]
    MissingEntryPoint(String),
    #[error(
        "kernel entry point `{entry}` has @workgroup_size {kernel:?}, manifest says {manifest:?}"
    )]
    WorkgroupSizeMismatch {
        entry: String,
        kernel: [u32; 3],
        manifest: [u32; 3],
    },
    #[error("manifest binds an input at @binding({0}) but the kernel declares no such read-only storage binding")]
    BindingNotInKernel(u32),
    #[error(
        "kernel declares @group({group}) @binding({binding}) which the manifest does not provide"
    )]
    KernelBindingNotInManifest { group: u32, binding: u32 },
    #[error(
        "the kernel's output @binding(1) holds {kernel} elements but the manifest's output.element \
         is {manifest:?}: declare `array<{}>` in the kernel or set output.element to match, and \
         re-seal (the comparison rule reads the output as output.element)",
        wgsl_scalar_name(manifest.wgsl())
    )]
    OutputTypeMismatch {
        manifest: ElementType,
        kernel: String,
    },
    #[error("kernel resource @binding({binding}) has the wrong kind: expected {expected}")]
    WrongBindingKind {
        binding: u32,
        expected: &'static str,
    },
    #[error("{what} = {value} exceeds the device limit {limit}")]
    ExceedsDeviceLimit {
        what: &'static str,
        value: u64,
        limit: u64,
    },
    #[error(
        "{what} = {value} is beyond what the protocol lets a job need ({max}): no verifier \
         is required to offer it, so nobody could be counted on to audit the job"
    )]
    ImpossibleLimit {
        what: &'static str,
        value: u64,
        max: u64,
    },
    #[error("requires.features lists \"{0}\" twice")]
    DuplicateFeature(&'static str),
    #[error(
        "this adapter ({adapter}) lacks the \"{feature}\" feature the manifest requires; \
         run it on an adapter that has it"
    )]
    AdapterLacksFeature {
        feature: &'static str,
        adapter: String,
    },
    #[error(
        "the kernel declares {used} bytes of workgroup memory but the manifest allows {allowed}; \
         set requires.limits.max_compute_workgroup_storage_size to at least {used}"
    )]
    UndeclaredWorkgroupStorage { used: u64, allowed: u64 },
}

impl JobManifest {
    /// Parses the JSON form; unknown fields anywhere are an error.
    pub fn from_json(json: &str) -> Result<Self, ManifestError> {
        serde_json::from_str(json).map_err(|e| ManifestError::Json(e.to_string()))
    }

    /// Pretty JSON form.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("manifest types always serialize to JSON")
    }

    /// Canonical bytes (borsh). Fails only for NaN bounds, which validation rejects.
    pub fn canonical_bytes(&self) -> Result<Vec<u8>, ManifestError> {
        borsh::to_vec(self).map_err(|e| ManifestError::Borsh(e.to_string()))
    }

    /// Decodes canonical bytes; trailing bytes are an error.
    pub fn from_canonical_bytes(bytes: &[u8]) -> Result<Self, ManifestError> {
        borsh::from_slice(bytes).map_err(|e| ManifestError::Borsh(e.to_string()))
    }

    /// The hash binding the inputs on chain (the job's `input_root`): sha256 over the
    /// inputs' sha256s, in binding order.
    pub fn input_root(&self) -> Hash {
        let hashes: Vec<&[u8]> = self.inputs.iter().map(|i| i.sha256.0.as_slice()).collect();
        assay_protocol::hashv(&hashes)
    }

    /// sha256 of the canonical borsh bytes: the value the on-chain job stores.
    pub fn manifest_hash(&self) -> Result<Hash, ManifestError> {
        Ok(assay_protocol::hashv(&[&self.canonical_bytes()?]))
    }

    /// Number of chunks as `u32` (valid only after [`Self::validate`]).
    pub fn n_chunks(&self) -> u32 {
        u32::try_from(self.grid.chunks).unwrap_or(u32::MAX)
    }

    /// Bytes of one chunk's output slice.
    pub fn chunk_bytes(&self) -> u64 {
        self.output.chunk_bytes()
    }

    /// Checks everything that needs neither the kernel, the inputs nor a device.
    pub fn validate(&self) -> Result<(), ManifestError> {
        self.validate_stages()?;
        if self.grid.chunks == 0 {
            return Err(ManifestError::EmptyJob);
        }
        if self.grid.chunks > u64::from(u32::MAX) {
            return Err(ManifestError::TooManyChunks(self.grid.chunks));
        }
        if self.output.elements_per_chunk == 0 {
            return Err(ManifestError::EmptyOutput);
        }
        let total = u128::from(self.grid.chunks) * u128::from(self.chunk_bytes());
        if total > u128::from(u64::MAX) {
            return Err(ManifestError::OutputTooLarge(total));
        }
        if self.workgroup_size.contains(&0) || self.grid.workgroups_per_chunk.contains(&0) {
            return Err(ManifestError::ZeroDimension);
        }
        let mut seen = Vec::new();
        for input in &self.inputs {
            if input.binding < FIRST_INPUT_BINDING {
                return Err(ManifestError::ReservedBinding(input.binding));
            }
            if seen.contains(&input.binding) {
                return Err(ManifestError::DuplicateBinding(input.binding));
            }
            seen.push(input.binding);
            if input.len == 0 || input.len % 4 != 0 {
                return Err(ManifestError::BadInputLength {
                    binding: input.binding,
                    len: input.len,
                });
            }
        }
        if let CompareRule::Float {
            max_abs, max_rel, ..
        } = &self.compare
        {
            let ok = |v: f32| v.is_finite() && v >= 0.0;
            if !ok(*max_abs) || !ok(*max_rel) {
                return Err(ManifestError::BadFloatBound {
                    max_abs: *max_abs,
                    max_rel: *max_rel,
                });
            }
            if !self.output.element.is_float() {
                return Err(ManifestError::FloatRuleOnIntegerOutput);
            }
        }
        if self.output.element == ElementType::F16 {
            if !self.requires.features.contains(&Feature::ShaderF16) {
                return Err(ManifestError::F16WithoutShaderF16);
            }
            if !self.output.elements_per_chunk.is_multiple_of(2) {
                return Err(ManifestError::OddF16Chunk(self.output.elements_per_chunk));
            }
        }
        for (i, feature) in self.requires.features.iter().enumerate() {
            if self.requires.features[..i].contains(feature) {
                return Err(ManifestError::DuplicateFeature(feature.name()));
            }
        }
        for need in self.limit_needs() {
            if need.value > need.extended {
                return Err(ManifestError::ImpossibleLimit {
                    what: need.name,
                    value: need.value,
                    max: need.extended,
                });
            }
        }
        Ok(())
    }
}
