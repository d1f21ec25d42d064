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
//! One chunk = one dispatch of `workgroups_per_chunk` workgroups. Chunk `i` depends only
//! on the inputs and `chunk.index`, so any chunk can be recomputed alone.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::Hash;

/// The manifest version this crate writes and accepts (2: `requires` joined the
/// canonical encoding).
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

/// Element type of the output buffer, little-endian: 4 bytes each, or 2 for `f16`.
/// Integer outputs (`u32`, `i32`) compare exactly; `f32` and `f16` may use a float rule
/// (an `f16` element is widened exactly to f32 first). `f16` needs the adapter's
/// `shader-f16` feature, declared in `requires.features`. (New variants go last: the
/// manifest hash is over the Borsh encoding.)
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum ElementType {
    U32,
    F32,
    I32,
    F16,
}

impl ElementType {
    /// Bytes per element.
    pub fn size(self) -> u64 {
        match self {
            Self::F16 => 2,
            Self::U32 | Self::F32 | Self::I32 => 4,
        }
    }

    /// Whether a float comparison rule applies.
    pub fn is_float(self) -> bool {
        matches!(self, Self::F32 | Self::F16)
    }

    /// The WGSL scalar this element is.
    fn wgsl(self) -> naga::Scalar {
        match self {
            Self::U32 => naga::Scalar::U32,
            Self::I32 => naga::Scalar::I32,
            Self::F32 => naga::Scalar::F32,
            Self::F16 => naga::Scalar::F16,
        }
    }

    /// Checks that the kernel's output binding (type `ty` in `module`) holds elements of
    /// this type: `array<T>`, `array<vecN<T>>`, `array<atomic<T>>` (or a struct of such)
    /// with `T` this element's scalar. Anything else would be compared under a rule for
    /// other bits (an `i32` kernel sealed as `"u32"`, or as `"f32"` with a tolerance).
    fn check_kernel_output(
        self,
        module: &naga::Module,
        ty: naga::Handle<naga::Type>,
    ) -> Result<(), ManifestError> {
        let found = leaf_scalars(module, ty);
        if found.len() == 1 && found[0] == self.wgsl() {
            return Ok(());
        }
        let kernel = if found.is_empty() {
            "no scalar".to_string()
        } else {
            found
                .iter()
                .map(|s| wgsl_scalar_name(*s))
                .collect::<Vec<_>>()
                .join(" and ")
        };
        Err(ManifestError::OutputTypeMismatch {
            manifest: self,
            kernel,
        })
    }
}

/// A scalar's WGSL spelling (`u32`, `i32`, `f32`, `f16`, …).
fn wgsl_scalar_name(scalar: naga::Scalar) -> String {
    let prefix = match scalar.kind {
        naga::ScalarKind::Uint => "u",
        naga::ScalarKind::Sint => "i",
        naga::ScalarKind::Float => "f",
        naga::ScalarKind::Bool => return "bool".into(),
        naga::ScalarKind::AbstractInt | naga::ScalarKind::AbstractFloat => "abstract ",
    };
    format!("{prefix}{}", u32::from(scalar.width) * 8)
}

/// The distinct scalar types the type `ty` is built of (arrays, vectors, matrices, atomics
/// and struct members looked through).
fn leaf_scalars(module: &naga::Module, ty: naga::Handle<naga::Type>) -> Vec<naga::Scalar> {
    use naga::TypeInner as T;
    let mut found: Vec<naga::Scalar> = vec![];
    let mut add = |s: naga::Scalar| {
        if !found.contains(&s) {
            found.push(s);
        }
    };
    match &module.types[ty].inner {
        T::Scalar(s) | T::Atomic(s) => add(*s),
        T::Vector { scalar, .. } | T::Matrix { scalar, .. } => add(*scalar),
        T::Array { base, .. } => leaf_scalars(module, *base).into_iter().for_each(&mut add),
        T::Struct { members, .. } => members
            .iter()
            .flat_map(|m| leaf_scalars(module, m.ty))
            .for_each(&mut add),
        _ => {}
    }
    found
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

/// An optional WebGPU feature a kernel may use; named as in WebGPU.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    BorshSerialize,
    BorshDeserialize,
)]
pub enum Feature {
    /// `enable f16;` and the `f16` type.
    #[serde(rename = "shader-f16")]
    ShaderF16,
    /// Subgroup builtins (`subgroup_size`, `subgroup_invocation_id`) and operations.
    #[serde(rename = "subgroups")]
    Subgroups,
}

impl Feature {
    /// The protocol capability bit this feature needs.
    pub fn capability(self) -> assay_protocol::capability::Capabilities {
        match self {
            Feature::ShaderF16 => assay_protocol::capability::SHADER_F16,
            Feature::Subgroups => assay_protocol::capability::SUBGROUPS,
        }
    }

    /// The wgpu device feature.
    pub fn wgpu(self) -> wgpu::Features {
        match self {
            Feature::ShaderF16 => wgpu::Features::SHADER_F16,
            Feature::Subgroups => wgpu::Features::SUBGROUP,
        }
    }

    /// Its WebGPU name.
    pub fn name(self) -> &'static str {
        match self {
            Feature::ShaderF16 => "shader-f16",
            Feature::Subgroups => "subgroups",
        }
    }

    /// What naga must allow to validate a kernel that uses it.
    fn naga(self) -> naga::valid::Capabilities {
        use naga::valid::Capabilities as C;
        match self {
            Feature::ShaderF16 => C::SHADER_FLOAT16,
            Feature::Subgroups => C::SUBGROUP | C::SUBGROUP_BARRIER,
        }
    }
}

/// Device limits a kernel needs that the rest of the manifest does not imply (the
/// workgroup size, grid and buffer sizes imply their own). Absent means WebGPU's default.
#[derive(
    Clone, Debug, Default, PartialEq, Serialize, Deserialize, BorshSerialize, BorshDeserialize,
)]
#[serde(deny_unknown_fields)]
pub struct LimitRequirements {
    /// Bytes of `var<workgroup>` memory the kernel declares (WebGPU default 16,384).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_compute_workgroup_storage_size: Option<u32>,
}

impl LimitRequirements {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// What the kernel needs of an adapter beyond a conformant WebGPU device at default
/// limits. It reduces to the job's on-chain `needs` ([`JobManifest::needs`]), and only
/// verifiers whose registered capabilities cover those are drawn to audit it.
#[derive(
    Clone, Debug, Default, PartialEq, Serialize, Deserialize, BorshSerialize, BorshDeserialize,
)]
#[serde(deny_unknown_fields)]
pub struct Requirements {
    /// Optional features, each at most once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub features: Vec<Feature>,
    #[serde(default, skip_serializing_if = "LimitRequirements::is_empty")]
    pub limits: LimitRequirements,
}

impl Requirements {
    pub fn is_empty(&self) -> bool {
        self.features.is_empty() && self.limits.is_empty()
    }
}

/// One device limit a manifest needs: its wgpu name, the value needed, WebGPU's default
/// (any conformant adapter has it), and the protocol's extended tier (the most a job may
/// need: what mainstream desktop GPUs and lavapipe offer). A need above the default sets
/// the `extended-limits` capability bit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LimitNeed {
    pub name: &'static str,
    pub value: u64,
    pub default: u64,
    pub extended: u64,
}

impl LimitNeed {
    /// The device's value of this limit.
    pub fn of_device(&self, limits: &wgpu::Limits) -> u64 {
        device_limit(self.name, limits).unwrap_or(0)
    }
}

/// The extended tier, by limit (see [`LimitNeed`]); every other limit stays at WebGPU's
/// default.
pub const EXTENDED_LIMITS: [(&str, u64); 5] = [
    ("max_compute_workgroup_storage_size", 32_768),
    ("max_compute_invocations_per_workgroup", 1_024),
    ("max_compute_workgroup_size_x", 1_024),
    ("max_compute_workgroup_size_y", 1_024),
    ("max_storage_buffers_per_shader_stage", 16),
];

/// Reads one limit off a device's limits.
type ReadLimit = fn(&wgpu::Limits) -> u64;

/// Every limit a manifest can need, by wgpu name, with how to read it off a device, in
/// the order [`JobManifest::limit_needs`] lists them.
const LIMITS: [(&str, ReadLimit); 9] = [
    ("max_compute_workgroup_size_x", |l| {
        l.max_compute_workgroup_size_x.into()
    }),
    ("max_compute_workgroup_size_y", |l| {
        l.max_compute_workgroup_size_y.into()
    }),
    ("max_compute_workgroup_size_z", |l| {
        l.max_compute_workgroup_size_z.into()
    }),
    ("max_compute_invocations_per_workgroup", |l| {
        l.max_compute_invocations_per_workgroup.into()
    }),
    ("max_compute_workgroups_per_dimension", |l| {
        l.max_compute_workgroups_per_dimension.into()
    }),
    ("max_storage_buffer_binding_size", |l| {
        l.max_storage_buffer_binding_size
    }),
    ("max_buffer_size", |l| l.max_buffer_size),
    ("max_storage_buffers_per_shader_stage", |l| {
        l.max_storage_buffers_per_shader_stage.into()
    }),
    ("max_compute_workgroup_storage_size", |l| {
        l.max_compute_workgroup_storage_size.into()
    }),
];

/// The device's value of the limit named `name` (one of those a manifest can need).
pub fn device_limit(name: &str, limits: &wgpu::Limits) -> Option<u64> {
    LIMITS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, read)| read(limits))
}

/// A version-2 job manifest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
#[serde(deny_unknown_fields)]
pub struct JobManifest {
    /// Must equal [`MANIFEST_VERSION`].
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
}

/// Why a manifest, its kernel or its inputs were rejected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ManifestError {
    #[error("manifest JSON is malformed or has unknown fields: {0}")]
    Json(String),
    #[error("manifest borsh bytes are malformed: {0}")]
    Borsh(String),
    #[error(
        "unsupported manifest version {found} (this engine supports {supported}): set \"version\": \
         {supported} in the manifest and re-seal it with `assay job seal` (the manifest hash \
         changes with it)"
    )]
    UnsupportedVersion { found: u16, supported: u16 },
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
        if self.version != MANIFEST_VERSION {
            return Err(ManifestError::UnsupportedVersion {
                found: self.version,
                supported: MANIFEST_VERSION,
            });
        }
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

    /// Every device limit the job needs: declared in `requires.limits` or implied by the
    /// workgroup size, grid, bindings and buffer sizes.
    pub fn limit_needs(&self) -> Vec<LimitNeed> {
        let wg = self.workgroup_size.map(u64::from);
        let biggest_input = self.inputs.iter().map(|i| i.len).max().unwrap_or(0);
        let values = [
            wg[0],
            wg[1],
            wg[2],
            wg[0].saturating_mul(wg[1]).saturating_mul(wg[2]),
            self.grid
                .workgroups_per_chunk
                .iter()
                .copied()
                .max()
                .unwrap_or(0)
                .into(),
            self.chunk_bytes().max(biggest_input),
            biggest_input,
            self.inputs.len() as u64 + 1,
            self.requires
                .limits
                .max_compute_workgroup_storage_size
                .map_or(0, u64::from),
        ];
        let defaults = wgpu::Limits::default();
        LIMITS
            .iter()
            .zip(values)
            .map(|(&(name, device), value)| {
                let default = device(&defaults);
                let extended = EXTENDED_LIMITS
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map_or(default, |(_, v)| *v);
                LimitNeed {
                    name,
                    value,
                    default,
                    extended,
                }
            })
            .collect()
    }

    /// The job's on-chain `needs`: the capability bits of its features, plus
    /// `extended-limits` when some limit it needs is above WebGPU's default.
    pub fn needs(&self) -> assay_protocol::capability::Capabilities {
        let features = self
            .requires
            .features
            .iter()
            .fold(0, |bits, f| bits | f.capability());
        let extended = self.limit_needs().iter().any(|n| n.value > n.default);
        features
            | if extended {
                assay_protocol::capability::EXTENDED_LIMITS
            } else {
                0
            }
    }

    /// Whether a device with `features` and `limits` can run the job: every required
    /// feature present ([`ManifestError::AdapterLacksFeature`]) and every limit met
    /// ([`ManifestError::ExceedsDeviceLimit`]).
    pub fn validate_device(
        &self,
        adapter: &str,
        features: wgpu::Features,
        limits: &wgpu::Limits,
    ) -> Result<(), ManifestError> {
        if let Some(f) = self
            .requires
            .features
            .iter()
            .find(|f| !features.contains(f.wgpu()))
        {
            return Err(ManifestError::AdapterLacksFeature {
                feature: f.name(),
                adapter: adapter.into(),
            });
        }
        for need in self.limit_needs() {
            let limit = need.of_device(limits);
            if need.value > limit {
                return Err(ManifestError::ExceedsDeviceLimit {
                    what: need.name,
                    value: need.value,
                    limit,
                });
            }
        }
        Ok(())
    }

    /// Checks the manifest against device limits (see [`crate::Limits`]).
    pub fn validate_kernel(&self, kernel_source: &str) -> Result<(), ManifestError> {
        let actual = Digest::of(kernel_source.as_bytes());
        if actual != self.kernel.sha256 {
            return Err(ManifestError::KernelHashMismatch {
                expected: self.kernel.sha256,
                actual,
            });
        }
        let module = naga::front::wgsl::parse_str(kernel_source)
            .map_err(|e| ManifestError::KernelParse(e.emit_to_string(kernel_source)))?;
        // Only what the manifest declares: a kernel that uses f16 or subgroup operations
        // without requiring them fails here, not on a verifier that lacks them.
        let allowed = self
            .requires
            .features
            .iter()
            .fold(naga::valid::Capabilities::default(), |c, f| c | f.naga());
        naga::valid::Validator::new(naga::valid::ValidationFlags::all(), allowed)
            .validate(&module)
            .map_err(|e| {
                ManifestError::KernelInvalid(format!(
                    "{}\n(a kernel that uses f16 or subgroup operations must list \"shader-f16\" \
                     or \"subgroups\" in requires.features)",
                    e.emit_to_string(kernel_source)
                ))
            })?;
        let used = workgroup_storage_bytes(&module)
            .map_err(|e| ManifestError::KernelInvalid(e.to_string()))?;
        let allowed = self
            .requires
            .limits
            .max_compute_workgroup_storage_size
            .map_or(
                u64::from(wgpu::Limits::default().max_compute_workgroup_storage_size),
                u64::from,
            );
        if used > allowed {
            return Err(ManifestError::UndeclaredWorkgroupStorage { used, allowed });
        }

        let mut entries = vec![self.kernel.entry_point.clone()];
        if let CompareRule::Float {
            scale_entry_point: Some(s),
            ..
        } = &self.compare
        {
            entries.push(s.clone());
        }
        for name in entries {
            let ep = module
                .entry_points
                .iter()
                .find(|ep| ep.name == name && ep.stage == naga::ShaderStage::Compute)
                .ok_or_else(|| ManifestError::MissingEntryPoint(name.clone()))?;
            if ep.workgroup_size != self.workgroup_size {
                return Err(ManifestError::WorkgroupSizeMismatch {
                    entry: name,
                    kernel: ep.workgroup_size,
                    manifest: self.workgroup_size,
                });
            }
        }

        use naga::{AddressSpace, StorageAccess};
        let mut declared = Vec::new();
        for (_, var) in module.global_variables.iter() {
            let Some(rb) = &var.binding else { continue };
            if rb.group != 0 {
                return Err(ManifestError::KernelBindingNotInManifest {
                    group: rb.group,
                    binding: rb.binding,
                });
            }
            declared.push(rb.binding);
            match rb.binding {
                CHUNK_UNIFORM_BINDING => {
                    if var.space != AddressSpace::Uniform {
                        return Err(ManifestError::WrongBindingKind {
                            binding: rb.binding,
                            expected: "var<uniform>",
                        });
                    }
                }
                OUTPUT_BINDING => {
                    match var.space {
                        AddressSpace::Storage { access }
                            if access.contains(StorageAccess::STORE) => {}
                        _ => {
                            return Err(ManifestError::WrongBindingKind {
                                binding: rb.binding,
                                expected: "var<storage, read_write>",
                            })
                        }
                    }
                    self.output.element.check_kernel_output(&module, var.ty)?;
                }
                b => {
                    if !self.inputs.iter().any(|i| i.binding == b) {
                        return Err(ManifestError::KernelBindingNotInManifest {
                            group: 0,
                            binding: b,
                        });
                    }
                    match var.space {
                        AddressSpace::Storage { access }
                            if !access.contains(StorageAccess::STORE) => {}
                        _ => {
                            return Err(ManifestError::WrongBindingKind {
                                binding: b,
                                expected: "var<storage, read>",
                            })
                        }
                    }
                }
            }
        }
        for input in &self.inputs {
            if !declared.contains(&input.binding) {
                return Err(ManifestError::BindingNotInKernel(input.binding));
            }
        }
        Ok(())
    }

    /// Checks supplied input blobs against the manifest (count, length, sha256), before
    /// anything is uploaded or executed.
    pub fn validate_inputs(&self, inputs: &[Vec<u8>]) -> Result<(), ManifestError> {
        if inputs.len() != self.inputs.len() {
            return Err(ManifestError::InputCountMismatch {
                expected: self.inputs.len(),
                actual: inputs.len(),
            });
        }
        for (spec, blob) in self.inputs.iter().zip(inputs) {
            if blob.len() as u64 != spec.len {
                return Err(ManifestError::InputLengthMismatch {
                    binding: spec.binding,
                    expected: spec.len,
                    actual: blob.len() as u64,
                });
            }
            let actual = Digest::of(blob);
            if actual != spec.sha256 {
                return Err(ManifestError::InputHashMismatch {
                    binding: spec.binding,
                    expected: spec.sha256,
                    actual,
                });
            }
        }
        Ok(())
    }
}

/// Bytes of `var<workgroup>` memory `module` declares, each variable rounded up to 16
/// bytes as WebGPU counts them.
fn workgroup_storage_bytes(module: &naga::Module) -> Result<u64, naga::proc::LayoutError> {
    let mut layouter = naga::proc::Layouter::default();
    layouter.update(module.to_ctx())?;
    Ok(module
        .global_variables
        .iter()
        .filter(|(_, var)| var.space == naga::AddressSpace::WorkGroup)
        .map(|(_, var)| u64::from(layouter[var.ty].size).next_multiple_of(16))
        .sum())
}

/// A manifest together with the kernel source and input blobs it names.
#[derive(Clone, Debug)]
pub struct JobBundle {
    pub manifest: JobManifest,
    /// WGSL source; its sha256 is `manifest.kernel.sha256`.
    pub kernel_source: String,
    /// Input blobs in manifest order.
    pub inputs: Vec<Vec<u8>>,
}

impl JobBundle {
    /// Every check that needs no device: manifest, kernel (naga) and input hashes.
    pub fn validate(&self) -> Result<(), ManifestError> {
        self.manifest.validate()?;
        self.manifest.validate_kernel(&self.kernel_source)?;
        self.manifest.validate_inputs(&self.inputs)
    }

    /// Writes the kernel and every input to `store` (content-addressed).
    pub fn store(&self, store: &crate::BlobStore) -> Result<(), crate::BlobError> {
        store.put(self.kernel_source.as_bytes())?;
        for blob in &self.inputs {
            store.put(blob)?;
        }
        Ok(())
    }

    /// Fetches the kernel and inputs named by `manifest` from `store`; every blob's hash
    /// is verified on read.
    pub fn load(manifest: JobManifest, store: &crate::BlobStore) -> Result<Self, crate::Error> {
        let kernel = store.get(&manifest.kernel.sha256.0)?;
        let kernel_source = String::from_utf8(kernel)
            .map_err(|_| ManifestError::KernelParse("kernel blob is not UTF-8".into()))?;
        let inputs = manifest
            .inputs
            .iter()
            .map(|i| store.get(&i.sha256.0))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            manifest,
            kernel_source,
            inputs,
        })
    }
}
