//! A batch of items: the buyer's inputs, read from NumPy's `.npy` format.

use npyz::{DType, NpyFile, TypeStr, WriterBuilder};

/// Why a `.npy` batch could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error("not a readable .npy file: {0}")]
    Npy(String),
    #[error(
        "the .npy holds {found}; items must be little-endian float32 (numpy: x.astype(np.float32))"
    )]
    DType { found: String },
    #[error("the .npy is in Fortran order; save it C-ordered (np.ascontiguousarray)")]
    FortranOrder,
    #[error("the .npy has shape {0:?}; a batch needs at least one item and a batch axis first")]
    Empty(Vec<u64>),
}

/// `items()` items of `item_shape` f32 values each, row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    pub item_shape: Vec<usize>,
    pub values: Vec<f32>,
}

impl Batch {
    /// Number of items.
    pub fn items(&self) -> usize {
        let per = self.item_shape.iter().product::<usize>().max(1);
        self.values.len() / per
    }

    /// Reads a C-ordered little-endian float32 `.npy` whose first axis is the batch.
    pub fn from_npy(bytes: &[u8]) -> Result<Batch, BatchError> {
        let npy = NpyFile::new(bytes).map_err(|e| BatchError::Npy(e.to_string()))?;
        let shape = npy.shape().to_vec();
        if npy.order() == npyz::Order::Fortran {
            return Err(BatchError::FortranOrder);
        }
        let dtype = npy.dtype();
        let f32_le: TypeStr = "<f4".parse().expect("a valid type string");
        if dtype != DType::Plain(f32_le) {
            return Err(BatchError::DType {
                found: dtype.descr(),
            });
        }
        if shape.len() < 2 || shape[0] == 0 {
            return Err(BatchError::Empty(shape));
        }
        let values = npy
            .into_vec::<f32>()
            .map_err(|e| BatchError::Npy(e.to_string()))?;
        Ok(Batch {
            item_shape: shape[1..].iter().map(|&d| d as usize).collect(),
            values,
        })
    }
}

/// Reads integer labels (`int64` or `int32`, one axis) from a `.npy`.
pub fn labels_from_npy(bytes: &[u8]) -> Result<Vec<i64>, BatchError> {
    let npy = NpyFile::new(bytes).map_err(|e| BatchError::Npy(e.to_string()))?;
    let descr = npy.dtype().descr();
    match descr.as_str() {
        "'<i8'" => npy.into_vec::<i64>(),
        "'<i4'" => npy
            .into_vec::<i32>()
            .map(|v| v.into_iter().map(i64::from).collect()),
        _ => return Err(BatchError::DType { found: descr }),
    }
    .map_err(|e| BatchError::Npy(e.to_string()))
}

/// `values` as a little-endian float32 `.npy` of `shape`.
pub fn npy_f32(shape: &[u64], values: &[f32]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut writer = npyz::WriteOptions::new()
        .default_dtype()
        .shape(shape)
        .writer(&mut out)
        .begin_nd()
        .expect("writing to a Vec cannot fail");
    writer
        .extend(values.iter().copied())
        .expect("writing to a Vec cannot fail");
    writer.finish().expect("writing to a Vec cannot fail");
    out
}
