#!/usr/bin/env bash
# Installs what a fresh Debian/Ubuntu machine lacks to build and run Assay:
# Mesa's software Vulkan (lavapipe) so wgpu has an adapter when no GPU is present, and
# moto's S3 server for the S3 backend's tests.
# Rust itself comes from rustup (https://rustup.rs); everything else is a crate.
set -euo pipefail

need_vulkan() { ! ls /usr/share/vulkan/icd.d/lvp_icd.*.json >/dev/null 2>&1 || ! ldconfig -p | grep -q libvulkan.so.1; }

if need_vulkan; then
  echo "installing Mesa lavapipe (software Vulkan) and the Vulkan loader"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends mesa-vulkan-drivers libvulkan1
fi
# moto's S3-compatible server (PyPI), which the S3 backend's tests start and stop
# (verifier/tests/s3_store.rs); kept in its own virtualenv.
MOTO_HOME=${ASSAY_MOTO_HOME:-$HOME/.cache/assay-moto}
if [ ! -x "$MOTO_HOME/bin/moto_server" ]; then
  command -v python3 >/dev/null || { echo "python3 not found: install it (moto's S3 server runs on it)" >&2; exit 1; }
  echo "installing moto's S3 server into $MOTO_HOME"
  python3 -m venv "$MOTO_HOME"
  "$MOTO_HOME/bin/pip" install -q "moto[server]==5.2.5"
fi
# The model compiler's conformance run (the `onnx` package's backend node tests) and the
# digits models' training script (scikit-learn's bundled data, ONNX Runtime's reference):
# PyPI packages in their own virtualenv, pinned to the versions measured.
ONNX_HOME=${ASSAY_ONNX_HOME:-$HOME/.cache/assay-onnx}
if [ ! -x "$ONNX_HOME/bin/python3" ] || ! "$ONNX_HOME/bin/python3" -c "import onnx, numpy" 2>/dev/null; then
  command -v python3 >/dev/null || { echo "python3 not found: install it (the ONNX conformance run uses it)" >&2; exit 1; }
  echo "installing onnx, onnxruntime, numpy and scikit-learn into $ONNX_HOME"
  python3 -m venv "$ONNX_HOME"
  "$ONNX_HOME/bin/pip" install -q "onnx==1.23.2" "numpy==2.4.6" "onnxruntime==1.32.0" "scikit-learn==1.9.1"
fi
# The TypeScript clients and their suite (clients/ts): npm packages from the committed
# lockfile.
command -v npm >/dev/null || { echo "npm not found: install Node.js 20+ (the TypeScript suite runs on it)" >&2; exit 1; }
(cd clients/ts && npm ci --no-audit --no-fund --loglevel=error)
command -v cargo >/dev/null || { echo "cargo not found: install Rust from https://rustup.rs" >&2; exit 1; }
echo "dependencies present"
