//! The kernel checked against the manifest: its entry point, bindings, element types
//! and workgroup memory (naga, before any device sees it).

use super::*;

impl JobManifest {
    /// Checks the WGSL kernel against the manifest: its sha256, that it parses and
    /// validates (with the features the manifest requires), the entry points and
    /// workgroup size, every binding's kind and the output's element type, and the
    /// workgroup memory it declares.
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

        let dispatches = self.output_dispatches().into_iter();
        let entries: Vec<String> = dispatches
            .chain(self.scale_dispatches().into_iter().flatten())
            .map(|d| d.entry_point.to_owned())
            .collect();
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
                b if self.scratch.iter().any(|scratch| scratch.binding == b) => match var.space {
                    AddressSpace::Storage { access } if access.contains(StorageAccess::STORE) => {}
                    _ => {
                        return Err(ManifestError::WrongBindingKind {
                            binding: b,
                            expected: "var<storage, read_write>",
                        })
                    }
                },
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
        let listed = self.inputs.iter().map(|i| i.binding);
        for binding in listed.chain(self.scratch.iter().map(|s| s.binding)) {
            if !declared.contains(&binding) {
                return Err(ManifestError::BindingNotInKernel(binding));
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
