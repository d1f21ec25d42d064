#![allow(dead_code)]
use std::sync::OnceLock;

use assay_gpu::{Gpu, GpuOptions};

/// Points the Vulkan loader at Mesa lavapipe when the caller has not chosen a driver, so
/// tests run the same on a GPU-less CI box (apt: mesa-vulkan-drivers libvulkan1).
pub fn software_vulkan_env() {
    if std::env::var_os("VK_ICD_FILENAMES").is_none()
        && std::env::var_os("VK_DRIVER_FILES").is_none()
    {
        let lvp = "/usr/share/vulkan/icd.d/lvp_icd.x86_64.json";
        if std::path::Path::new(lvp).exists() && std::env::var_os("ASSAY_GPU_ANY_DRIVER").is_none()
        {
            std::env::set_var("VK_ICD_FILENAMES", lvp);
        }
    }
    if std::env::var_os("NODEVICE_SELECT").is_none() {
        std::env::set_var("NODEVICE_SELECT", "1");
    }
}

pub fn open_gpu(options: GpuOptions) -> Gpu {
    software_vulkan_env();
    match Gpu::with_options(options) {
        Ok(g) => g,
        Err(e) => panic!("these tests need a GPU adapter (lavapipe is enough): {e}"),
    }
}

/// One shared device for the whole test binary.
pub fn gpu() -> &'static Gpu {
    static GPU: OnceLock<Gpu> = OnceLock::new();
    GPU.get_or_init(|| open_gpu(GpuOptions::default()))
}

pub const JOB_KEY: [u8; 32] = [7u8; 32];

/// The shortest of `n` timed runs of `f`, and the last run's value (benches).
pub fn best_of<T>(n: usize, mut f: impl FnMut() -> T) -> (std::time::Duration, T) {
    let mut best = std::time::Duration::MAX;
    let mut last = None;
    for _ in 0..n {
        let t = std::time::Instant::now();
        let v = f();
        best = best.min(t.elapsed());
        last = Some(v);
    }
    (best, last.expect("n >= 1"))
}
