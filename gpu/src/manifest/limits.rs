//! What a job needs of a device: optional features, limits above the WebGPU defaults,
//! and the check of a device against them.

use super::*;

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
    pub(super) fn naga(self) -> naga::valid::Capabilities {
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

impl JobManifest {
    /// Every device limit the job needs: declared in `requires.limits` or implied by the
    /// workgroup size, grid, bindings and buffer sizes.
    pub fn limit_needs(&self) -> Vec<LimitNeed> {
        let wg = self.workgroup_size.map(u64::from);
        let biggest_input = self.inputs.iter().map(|i| i.len).max().unwrap_or(0);
        let biggest_scratch = self.scratch.iter().map(|s| s.len).max().unwrap_or(0);
        let most_workgroups = self
            .output_dispatches()
            .iter()
            .flat_map(|d| d.workgroups)
            .max()
            .unwrap_or(0);
        let values = [
            wg[0],
            wg[1],
            wg[2],
            wg[0].saturating_mul(wg[1]).saturating_mul(wg[2]),
            most_workgroups.into(),
            self.chunk_bytes().max(biggest_input).max(biggest_scratch),
            biggest_input.max(biggest_scratch),
            (self.inputs.len() + self.scratch.len()) as u64 + 1,
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
}
