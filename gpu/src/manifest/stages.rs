//! Multi-stage chunks (manifest version 3): a chunk may take several dispatches in order,
//! passing intermediate results through per-chunk scratch buffers, and still yields one
//! output slice, one Merkle leaf.
//!
//! A chunk runs `kernel.entry_point` over `grid.workgroups_per_chunk` workgroups, then
//! each of `stages` in order over its own workgroups; every dispatch sees what the ones
//! before it wrote. Scratch buffers are `var<storage, read_write>` bindings that exist
//! only for the chunk: zeroed before its first dispatch, bound at a per-chunk offset (a
//! chunk can neither see another chunk's scratch nor leave anything for it), so a chunk
//! recomputed alone gives what it gave in a batch. With a scale entry point, the float
//! rule's scale pass runs the same sequence of the stages' `scale_entry_point`s.
//!
//! Version 2 manifests (one dispatch, no scratch) encode exactly as before, so their
//! hashes do not change; version 3 appends the stages and scratch buffers.

use borsh::io::{Read, Result as IoResult, Write};

use super::*;

/// The manifest version of a multi-stage chunk.
pub const STAGED_MANIFEST_VERSION: u16 = 3;

/// Most scratch buffers a manifest may declare: each is bound at a dynamic offset, and
/// WebGPU guarantees 4 dynamic storage buffers per pipeline layout, one of them the output.
pub const MAX_SCRATCH_BUFFERS: usize = 3;

/// Most dispatches a chunk may take (the first and every stage).
pub const MAX_DISPATCHES_PER_CHUNK: usize = 64;

/// A further dispatch of every chunk.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
#[serde(deny_unknown_fields)]
pub struct StageSpec {
    /// Compute entry point of this stage (same source, same bindings).
    pub entry_point: String,
    /// Its counterpart in the float rule's scale pass; present exactly when the rule
    /// names a `scale_entry_point`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_entry_point: Option<String>,
    /// Workgroups dispatched, `[x, y, z]`, each `>= 1`.
    pub workgroups: [u32; 3],
}

/// A per-chunk scratch buffer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
#[serde(deny_unknown_fields)]
pub struct ScratchBinding {
    /// `@binding(n)` in `@group(0)`; `>= 2` and not an input's.
    pub binding: u32,
    /// Bytes per chunk (a non-zero multiple of 4).
    pub len: u64,
}

/// One dispatch of a chunk: an entry point and its workgroups.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dispatch<'a> {
    pub entry_point: &'a str,
    pub workgroups: [u32; 3],
}

impl JobManifest {
    /// The dispatches of a chunk's output pass, in order.
    pub fn output_dispatches(&self) -> Vec<Dispatch<'_>> {
        let first = Dispatch {
            entry_point: &self.kernel.entry_point,
            workgroups: self.grid.workgroups_per_chunk,
        };
        let rest = self.stages.iter().map(|s| Dispatch {
            entry_point: &s.entry_point,
            workgroups: s.workgroups,
        });
        std::iter::once(first).chain(rest).collect()
    }

    /// The dispatches of a chunk's scale pass, in order; None without a scale entry point.
    /// (Valid manifests only: every stage then names its scale entry point.)
    pub fn scale_dispatches(&self) -> Option<Vec<Dispatch<'_>>> {
        let CompareRule::Float {
            scale_entry_point: Some(first),
            ..
        } = &self.compare
        else {
            return None;
        };
        let mut out = vec![Dispatch {
            entry_point: first,
            workgroups: self.grid.workgroups_per_chunk,
        }];
        for stage in &self.stages {
            out.push(Dispatch {
                entry_point: stage.scale_entry_point.as_deref()?,
                workgroups: stage.workgroups,
            });
        }
        Some(out)
    }

    /// The rules of stages and scratch buffers (part of [`Self::validate`]).
    pub(super) fn validate_stages(&self) -> Result<(), ManifestError> {
        let staged = !self.stages.is_empty() || !self.scratch.is_empty();
        match self.version {
            MANIFEST_VERSION if staged => return Err(ManifestError::StagesNeedVersion3),
            STAGED_MANIFEST_VERSION if !staged => return Err(ManifestError::Version3WithoutStages),
            MANIFEST_VERSION | STAGED_MANIFEST_VERSION => {}
            found => return Err(ManifestError::UnsupportedVersion { found }),
        }
        if self.stages.len() + 1 > MAX_DISPATCHES_PER_CHUNK {
            return Err(ManifestError::TooManyStages {
                dispatches: self.stages.len() + 1,
                max: MAX_DISPATCHES_PER_CHUNK,
            });
        }
        let scaled = matches!(
            self.compare,
            CompareRule::Float {
                scale_entry_point: Some(_),
                ..
            }
        );
        for stage in &self.stages {
            if stage.workgroups.contains(&0) {
                return Err(ManifestError::ZeroDimension);
            }
            if stage.scale_entry_point.is_some() != scaled {
                return Err(ManifestError::StageScaleMismatch {
                    stage: stage.entry_point.clone(),
                });
            }
        }
        if self.scratch.len() > MAX_SCRATCH_BUFFERS {
            return Err(ManifestError::TooManyScratchBuffers {
                count: self.scratch.len(),
                max: MAX_SCRATCH_BUFFERS,
            });
        }
        for (i, scratch) in self.scratch.iter().enumerate() {
            if scratch.binding < FIRST_INPUT_BINDING {
                return Err(ManifestError::ReservedBinding(scratch.binding));
            }
            let taken = self.inputs.iter().any(|i| i.binding == scratch.binding)
                || self.scratch[..i]
                    .iter()
                    .any(|s| s.binding == scratch.binding);
            if taken {
                return Err(ManifestError::DuplicateBinding(scratch.binding));
            }
            if scratch.len == 0 || scratch.len % 4 != 0 {
                return Err(ManifestError::BadInputLength {
                    binding: scratch.binding,
                    len: scratch.len,
                });
            }
        }
        Ok(())
    }
}

// The canonical encoding: version 2's fields as they always were, then (version 3 only)
// the stages and scratch buffers.
impl BorshSerialize for JobManifest {
    fn serialize<W: Write>(&self, w: &mut W) -> IoResult<()> {
        BorshSerialize::serialize(&self.version, w)?;
        BorshSerialize::serialize(&self.kernel, w)?;
        BorshSerialize::serialize(&self.workgroup_size, w)?;
        BorshSerialize::serialize(&self.grid, w)?;
        BorshSerialize::serialize(&self.inputs, w)?;
        BorshSerialize::serialize(&self.output, w)?;
        BorshSerialize::serialize(&self.compare, w)?;
        BorshSerialize::serialize(&self.requires, w)?;
        if self.version >= STAGED_MANIFEST_VERSION {
            BorshSerialize::serialize(&self.stages, w)?;
            BorshSerialize::serialize(&self.scratch, w)?;
        }
        Ok(())
    }
}

impl BorshDeserialize for JobManifest {
    fn deserialize_reader<R: Read>(r: &mut R) -> IoResult<Self> {
        let version = u16::deserialize_reader(r)?;
        let mut manifest = JobManifest {
            version,
            kernel: BorshDeserialize::deserialize_reader(r)?,
            workgroup_size: BorshDeserialize::deserialize_reader(r)?,
            grid: BorshDeserialize::deserialize_reader(r)?,
            inputs: BorshDeserialize::deserialize_reader(r)?,
            output: BorshDeserialize::deserialize_reader(r)?,
            compare: BorshDeserialize::deserialize_reader(r)?,
            requires: BorshDeserialize::deserialize_reader(r)?,
            stages: vec![],
            scratch: vec![],
        };
        if version >= STAGED_MANIFEST_VERSION {
            manifest.stages = BorshDeserialize::deserialize_reader(r)?;
            manifest.scratch = BorshDeserialize::deserialize_reader(r)?;
        }
        Ok(manifest)
    }
}
