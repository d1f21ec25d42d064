//! Output element types and the WGSL scalars each one is written as.

use super::*;

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
    pub(super) fn wgsl(self) -> naga::Scalar {
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
    pub(super) fn check_kernel_output(
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
pub(super) fn wgsl_scalar_name(scalar: naga::Scalar) -> String {
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
