//! Where the tests and benches find Python with `onnx` and `onnxruntime`.

use std::path::{Path, PathBuf};

/// `ASSAY_ONNX_PYTHON`, else the virtualenv scripts/install-deps.sh makes
/// (`~/.cache/assay-onnx`), else `python3`.
pub fn onnx_python() -> PathBuf {
    if let Some(p) = std::env::var_os("ASSAY_ONNX_PYTHON") {
        return p.into();
    }
    let venv =
        Path::new(&std::env::var("HOME").unwrap_or_default()).join(".cache/assay-onnx/bin/python3");
    if venv.exists() {
        venv
    } else {
        "python3".into()
    }
}

/// A script under the repository's `scripts/onnx/`.
pub fn onnx_script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../scripts/onnx")
        .join(name)
}
