//! Input blobs checked against the manifest, and the bundle of a manifest with the
//! kernel and inputs it names.

use super::*;

impl JobManifest {
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
